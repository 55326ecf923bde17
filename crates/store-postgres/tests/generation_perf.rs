//! Generation on PostgreSQL at size. `generating_a_manager_campaign` times a MANAGER campaign
//! over an organisation of 25,000 people with 20 grants each (500,000 items), over a catalogue
//! of 30,000 entitlements, 3,000 access profiles and 1,000 roles, generated three times (the
//! later campaigns add to a review_items that already holds the earlier ones): a quick stand-in
//! for `bench/generate.sh`, ignored by default. Run with
//!
//! ```text
//! RECERT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo test --release -p recert-store-postgres --test generation_perf -- --ignored --nocapture
//! ```
//!
//! `RECERT_PERF_IDENTITIES` sets the number of people. The other case, on a small organisation,
//! always runs: a large generation refreshes the statistics.

use std::time::Instant;

use recert_domain::Id;
use recert_domain::review::GenerationReport;
use recert_store::Store;
use recert_store_conformance::manager_generation;
use recert_store_postgres::testing::TestDatabase;
use recert_store_postgres::{PostgresOptions, PostgresStore};

/// The organisation (`{people}` people): a management tree ten wide, one account each, 16
/// entitlements, 2 access profiles and 2 roles each.
fn organisation(people: u32) -> String {
    format!(
        "
INSERT INTO identities (id, name, display_name, email, manager_id, active, lifecycle_state,
    attributes, created_at, updated_at)
SELECT '1d' || lpad(to_hex(i), 30, '0'), 'user' || i, 'User ' || left(md5(i::text), 8),
    'user' || i || '@example.com',
    CASE WHEN i > 1 THEN '1d' || lpad(to_hex((i - 2) / 10 + 1), 30, '0') END,
    TRUE, 'active', '{{}}', now(), now()
FROM generate_series(1, {people}) i;
INSERT INTO sources (id, name, source_type, owner_id, created_at, updated_at)
SELECT '2d' || lpad(to_hex(i), 30, '0'), 'Source ' || i, 'AD', '1d' || lpad(to_hex(i), 30, '0'),
    now(), now()
FROM generate_series(1, 40) i;
INSERT INTO accounts (id, source_id, identity_id, native_identity, name, disabled, locked,
    created_at, updated_at)
SELECT '3d' || lpad(to_hex(i), 30, '0'), '2d' || lpad(to_hex(1), 30, '0'),
    '1d' || lpad(to_hex(i), 30, '0'), 'CN=user' || i, 'user' || i, FALSE, FALSE, now(), now()
FROM generate_series(1, {people}) i;
INSERT INTO entitlements (id, source_id, name, attribute_name, attribute_value, privileged,
    created_at, updated_at)
SELECT '4d' || lpad(to_hex(i), 30, '0'), '2d' || lpad(to_hex(1 + i % 40), 30, '0'),
    'Entitlement ' || left(md5(i::text), 12), 'memberOf', 'CN=' || i, i % 50 = 0, now(), now()
FROM generate_series(1, 30000) i;
INSERT INTO access_profiles (id, source_id, name, created_at, updated_at)
SELECT '5d' || lpad(to_hex(i), 30, '0'), '2d' || lpad(to_hex(1 + i % 40), 30, '0'),
    'Profile ' || left(md5(i::text), 12), now(), now()
FROM generate_series(1, 3000) i;
INSERT INTO access_profile_entitlements (access_profile_id, entitlement_id)
SELECT '5d' || lpad(to_hex(i), 30, '0'), '4d' || lpad(to_hex(1 + (i * 7) % 30000), 30, '0')
FROM generate_series(1, 3000) i;
INSERT INTO roles (id, name, created_at, updated_at)
SELECT '6d' || lpad(to_hex(i), 30, '0'), 'Role ' || left(md5(i::text), 12), now(), now()
FROM generate_series(1, 1000) i;
INSERT INTO role_entitlements (role_id, entitlement_id)
SELECT '6d' || lpad(to_hex(i), 30, '0'), '4d' || lpad(to_hex(1 + (i * 13) % 30000), 30, '0')
FROM generate_series(1, 1000) i;
INSERT INTO assignments (id, identity_id, access_type, access_id, account_id, first_seen_at)
SELECT 'ad' || lpad(to_hex(p * 100 + k), 30, '0'), '1d' || lpad(to_hex(p), 30, '0'),
    CASE WHEN k <= 16 THEN 'ENTITLEMENT' WHEN k <= 18 THEN 'ACCESS_PROFILE' ELSE 'ROLE' END,
    CASE WHEN k <= 16 THEN '4d' || lpad(to_hex(1 + (p * 37 + k * 1013) % 30000), 30, '0')
        WHEN k <= 18 THEN '5d' || lpad(to_hex(1 + (p * 7 + k) % 3000), 30, '0')
        ELSE '6d' || lpad(to_hex(1 + (p * 3 + k) % 1000), 30, '0') END,
    CASE WHEN k <= 18 THEN '3d' || lpad(to_hex(p), 30, '0') END, now()
FROM generate_series(1, {people}) p, generate_series(1, 20) k;
"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "generates three campaigns of half a million items"]
async fn generating_a_manager_campaign() {
    let people: u32 = std::env::var("RECERT_PERF_IDENTITIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(25_000);
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = db.store().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(organisation(people)))
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::raw_sql("VACUUM ANALYZE")
        .execute(store.pool())
        .await
        .unwrap();
    for run in 0..3 {
        let campaign = pending_campaign(&store).await;
        let started = Instant::now();
        let report = generate_manager(&store, campaign).await;
        eprintln!(
            "run {run}: {} items, {} certifications in {:?}",
            report.items,
            report.certifications,
            started.elapsed()
        );
    }
    store.close().await;
}

/// A PENDING MANAGER campaign, as the API would have created it.
async fn pending_campaign(store: &PostgresStore) -> Id {
    let campaign = Id::generate();
    sqlx::query(
        "INSERT INTO campaigns (id, name, type, status, correlated_status,
            email_notification_enabled, auto_revoke_allowed, recommendations_enabled,
            sunset_comments_required, mandatory_comment_requirement, config, created_at,
            modified_at)
         VALUES ($1, 'Perf', 'MANAGER', 'PENDING', 'CORRELATED', FALSE, FALSE, FALSE, FALSE,
            'NO_DECISIONS', '{}', now(), now())",
    )
    .bind(campaign.to_string())
    .execute(store.pool())
    .await
    .unwrap();
    campaign
}

/// Generates a PENDING MANAGER campaign.
async fn generate_manager(store: &PostgresStore, campaign: Id) -> GenerationReport {
    store
        .generate_campaign(manager_generation(campaign))
        .await
        .unwrap()
        .expect("a PENDING campaign")
}

/// A database holding 300 people with 20 grants each (6,000 grants, minus the top person's
/// own), and a store on it; `None` without a test database.
async fn small_organisation() -> Option<(TestDatabase, PostgresStore)> {
    let db = TestDatabase::create().await?;
    let store = db.store().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(organisation(300)))
        .execute(store.pool())
        .await
        .unwrap();
    Some((db, store))
}

/// When review_items was last analyzed by hand (not by autovacuum).
async fn last_analyze(store: &PostgresStore) -> Option<String> {
    sqlx::query_scalar(
        "SELECT last_analyze::text FROM pg_stat_user_tables WHERE relname = 'review_items'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
}

/// A generation at least `analyze_after_items` large refreshes the review tables' statistics
/// once it has committed; a smaller one leaves them to autovacuum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_generation_refreshes_the_statistics() {
    let Some((db, store)) = small_organisation().await else {
        return;
    };
    let with_threshold = |items: u64| {
        PostgresStore::connect(
            db.url(),
            PostgresOptions {
                max_connections: 2,
                analyze_after_items: items,
                ..Default::default()
            },
        )
    };
    let small = with_threshold(1_000_000).await.unwrap();
    let report = generate_manager(&small, pending_campaign(&store).await).await;
    assert!(report.items > 5_000, "{report:?}");
    assert_eq!(last_analyze(&store).await, None, "under the threshold");
    let large = with_threshold(5_000).await.unwrap();
    generate_manager(&large, pending_campaign(&store).await).await;
    assert!(
        last_analyze(&store).await.is_some(),
        "analyzed after the generation"
    );
    store.close().await;
}

/// How often the index holding a certification's items in access name order has been read,
/// once every other connection to the database has ended (a backend reports its reads when it
/// ends).
async fn name_index_scans(url: &str) -> i64 {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    for _ in 0..100 {
        let others: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if others == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let n = sqlx::query_scalar(
        "SELECT idx_scan FROM pg_stat_user_indexes
         WHERE indexrelname = 'review_items_by_access_name'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    n
}

/// After a generation, a page sorted by access name is read from the index that holds a
/// certification's items in that order (migration 0009), stopping at the page's end, instead
/// of sorting every item of the certification: the order asks for nothing the index cannot
/// give (no NULLs-last term), and the generation refreshed the statistics the planner needs to
/// see that the certification is large.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_sorted_by_access_name_reads_the_name_index() {
    let Some((db, store)) = small_organisation().await else {
        return;
    };
    let campaign = pending_campaign(&store).await;
    let report = generate_manager(&store, campaign).await;
    assert!(report.items > 5_000, "{report:?}");
    let certification: String = sqlx::query_scalar(
        "SELECT id FROM certifications WHERE campaign_id = $1
         ORDER BY decisions_total DESC, id LIMIT 1",
    )
    .bind(campaign.to_string())
    .fetch_one(store.pool())
    .await
    .unwrap();
    store.close().await;
    let before = name_index_scans(db.url()).await;

    let store = db.store().await;
    let sorted = |descending| recert_store::ListQuery {
        filter: Some(recert_domain::filter::parse("completed eq false").unwrap()),
        sorters: vec![recert_domain::filter::Sorter {
            field: "access.name",
            descending,
        }],
        paging: recert_domain::filter::Paging {
            limit: 10,
            offset: 0,
            count: false,
        },
    };
    for descending in [false, true] {
        let page = store
            .access_review_items(certification.parse().unwrap(), None, &sorted(descending))
            .await
            .unwrap();
        let mut names: Vec<&str> = page.items.iter().map(|i| i.access_name.as_str()).collect();
        assert_eq!(names.len(), 10);
        if descending {
            names.reverse();
        }
        assert!(names.is_sorted(), "{names:?}");
    }
    store.close().await;
    let after = name_index_scans(db.url()).await;
    assert_eq!(
        after - before,
        2,
        "each page reads review_items_by_access_name once"
    );
}
