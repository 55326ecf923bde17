//! How long generating a MANAGER campaign takes on SQLite: an organisation of 25,000 people
//! with 20 grants each (500,000 items), over a catalogue of 30,000 entitlements, 3,000 access
//! profiles and 1,000 roles, generated three times (the later campaigns add to a review_items
//! that already holds the earlier ones). A quick stand-in for `bench/generate.sh`; ignored by
//! default. Run with
//!
//! ```text
//! cargo test --release -p recert-store-sqlite --test generation_perf -- --ignored --nocapture
//! ```
//!
//! `RECERT_PERF_IDENTITIES` sets the number of people.

use std::time::Instant;

use recert_domain::Id;
use recert_store::Store;
use recert_store_conformance::manager_generation;
use recert_store_sqlite::{SqliteOptions, SqliteStore};

/// The organisation (`?1` people): a management tree ten wide, one account each, 16
/// entitlements, 2 access profiles and 2 roles each.
const ORGANISATION: &str = "
CREATE TEMP TABLE n (i INTEGER PRIMARY KEY);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < max(30000, ?1))
INSERT INTO temp.n SELECT i FROM s;
INSERT INTO identities (id, name, display_name, email, manager_id, active, lifecycle_state,
    attributes, created_at, updated_at)
SELECT '1d' || printf('%030x', i), 'user' || i, 'User ' || lower(hex(randomblob(4))),
    'user' || i || '@example.com', CASE WHEN i > 1 THEN '1d' || printf('%030x', (i - 2) / 10 + 1) END,
    1, 'active', '{}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
FROM temp.n WHERE i <= ?1;
INSERT INTO sources (id, name, source_type, owner_id, created_at, updated_at)
SELECT '2d' || printf('%030x', i), 'Source ' || i, 'AD', '1d' || printf('%030x', i),
    '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
FROM temp.n WHERE i <= 40;
INSERT INTO accounts (id, source_id, identity_id, native_identity, name, disabled, locked,
    created_at, updated_at)
SELECT '3d' || printf('%030x', i), '2d' || printf('%030x', 1), '1d' || printf('%030x', i),
    'CN=user' || i, 'user' || i, 0, 0, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
FROM temp.n WHERE i <= ?1;
INSERT INTO entitlements (id, source_id, name, attribute_name, attribute_value, privileged,
    created_at, updated_at)
SELECT '4d' || printf('%030x', i), '2d' || printf('%030x', 1 + i % 40),
    'Entitlement ' || lower(hex(randomblob(6))), 'memberOf', 'CN=' || i, i % 50 = 0,
    '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
FROM temp.n WHERE i <= 30000;
INSERT INTO access_profiles (id, source_id, name, created_at, updated_at)
SELECT '5d' || printf('%030x', i), '2d' || printf('%030x', 1 + i % 40),
    'Profile ' || lower(hex(randomblob(6))), '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
FROM temp.n WHERE i <= 3000;
INSERT INTO access_profile_entitlements (access_profile_id, entitlement_id)
SELECT '5d' || printf('%030x', i), '4d' || printf('%030x', 1 + (i * 7) % 30000)
FROM temp.n WHERE i <= 3000;
INSERT INTO roles (id, name, created_at, updated_at)
SELECT '6d' || printf('%030x', i), 'Role ' || lower(hex(randomblob(6))),
    '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
FROM temp.n WHERE i <= 1000;
INSERT INTO role_entitlements (role_id, entitlement_id)
SELECT '6d' || printf('%030x', i), '4d' || printf('%030x', 1 + (i * 13) % 30000)
FROM temp.n WHERE i <= 1000;
INSERT INTO assignments (id, identity_id, access_type, access_id, account_id, first_seen_at)
SELECT 'ad' || printf('%030x', p.i * 100 + k.i), '1d' || printf('%030x', p.i),
    CASE WHEN k.i <= 16 THEN 'ENTITLEMENT' WHEN k.i <= 18 THEN 'ACCESS_PROFILE' ELSE 'ROLE' END,
    CASE WHEN k.i <= 16 THEN '4d' || printf('%030x', 1 + (p.i * 37 + k.i * 1013) % 30000)
        WHEN k.i <= 18 THEN '5d' || printf('%030x', 1 + (p.i * 7 + k.i) % 3000)
        ELSE '6d' || printf('%030x', 1 + (p.i * 3 + k.i) % 1000) END,
    CASE WHEN k.i <= 18 THEN '3d' || printf('%030x', p.i) END, '2026-01-01T00:00:00Z'
FROM temp.n p, temp.n k WHERE p.i <= ?1 AND k.i <= 20;
DROP TABLE temp.n;
";

const CAMPAIGN: &str = "INSERT INTO campaigns (id, name, type, status, correlated_status,
    email_notification_enabled, auto_revoke_allowed, recommendations_enabled,
    sunset_comments_required, mandatory_comment_requirement, config, created_at, modified_at)
VALUES (?1, 'Perf', 'MANAGER', 'PENDING', 'CORRELATED', 0, 0, 0, 0, 'NO_DECISIONS', '{}',
    '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "generates three campaigns of half a million items"]
async fn generating_a_manager_campaign() {
    let people: i64 = std::env::var("RECERT_PERF_IDENTITIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(25_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("generation.db");
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    {
        let mut c = rusqlite::Connection::open(&path).unwrap();
        let tx = c.transaction().unwrap();
        for sql in ORGANISATION
            .split(";\n")
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let mut st = tx.prepare(sql).unwrap();
            if st.parameter_count() == 1 {
                st.execute([people]).unwrap();
            } else {
                st.execute([]).unwrap();
            }
        }
        tx.commit().unwrap();
        c.execute_batch("ANALYZE").unwrap();
    }
    for run in 0..3 {
        let campaign = Id::generate();
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute(CAMPAIGN, [campaign.to_string()]).unwrap();
        }
        let started = Instant::now();
        let report = store
            .generate_campaign(manager_generation(campaign))
            .await
            .unwrap()
            .expect("a PENDING campaign");
        eprintln!(
            "run {run}: {} items, {} certifications in {:?}",
            report.items,
            report.certifications,
            started.elapsed()
        );
    }
}
