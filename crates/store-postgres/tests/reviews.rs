//! Moving items between reviewers while others decide and sign off, on PostgreSQL: no deadlock,
//! no lost item, and every counter exact afterwards.

use recert_domain::campaign::{CertificationPhase, Decision};
use recert_domain::certification::{ReassignKind, ReassignOutcome, ReassignRef};
use recert_domain::review::{DecisionWrite, SignOffOutcome};
use recert_domain::{Id, Timestamp};
use recert_store::{ListQuery, Store, StoreError};
use recert_store_postgres::PostgresStore;
use recert_store_postgres::testing::TestDatabase;

fn hex(kind: u32, n: u32) -> String {
    format!("{kind:08x}{:024x}", n)
}

fn id(kind: u32, n: u32) -> Id {
    Id::parse(&hex(kind, n)).unwrap()
}

const SUBJECTS: u32 = 12;
const ITEMS: u32 = 4;

/// An ACTIVE campaign: reviewer 1 reviews SUBJECTS people of ITEMS grants each (certification
/// 1), reviewer 2 one grant of one more person (certification 2); reviewer 3 reviews nothing.
async fn setup(store: &PostgresStore) {
    let pool = store.pool();
    let sql = format!(
        "INSERT INTO identities (id, name, display_name, active, created_at, updated_at)
            SELECT '{}' || lpad(to_hex(n), 24, '0'), 'p' || n, 'Person ' || n, TRUE, now(), now()
            FROM generate_series(1, 100) n;
         INSERT INTO campaigns (id, name, type, status, correlated_status,
            email_notification_enabled, auto_revoke_allowed, recommendations_enabled,
            sunset_comments_required, mandatory_comment_requirement, config,
            total_certifications, created_at, modified_at)
         VALUES ('{k}', 'Q1', 'MANAGER', 'ACTIVE', 'CORRELATED', FALSE, FALSE, FALSE, FALSE,
            'NO_DECISIONS', '{{}}', 2, now(), now());
         INSERT INTO certifications (id, campaign_id, name, reviewer_id, reviewer_name, phase,
            due, decisions_total, identities_total, created_at, modified_at)
         VALUES ('{c1}', '{k}', 'Q1 - Person 1', '{r1}', 'Person 1', 'ACTIVE', now(), {n}, {s},
                 now(), now()),
                ('{c2}', '{k}', 'Q1 - Person 2', '{r2}', 'Person 2', 'ACTIVE', now(), 1, 1,
                 now(), now());
         INSERT INTO certification_subjects (id, certification_id, subject_id, name, items_total)
            SELECT '{sp}' || lpad(to_hex(n), 24, '0'), CASE WHEN n = 99 THEN '{c2}' ELSE '{c1}' END,
                '{ip}' || lpad(to_hex(n), 24, '0'), 'Person ' || n,
                CASE WHEN n = 99 THEN 1 ELSE {ITEMS} END
            FROM (SELECT generate_series(10, 9 + {SUBJECTS}) UNION ALL SELECT 99) x (n);
         INSERT INTO review_items (id, certification_id, campaign_id, summary_id, subject_id,
            access_type, access_id, new_access)
            SELECT '{itp}' || lpad(to_hex(s * 100 + g), 24, '0'), c.certification_id, '{k}', c.id,
                c.subject_id, 'ENTITLEMENT', '{ap}' || lpad(to_hex(g), 24, '0'), FALSE
            FROM certification_subjects c, generate_series(10, 9 + {SUBJECTS}) s,
                generate_series(1, {ITEMS}) g
            WHERE c.subject_id = '{ip}' || lpad(to_hex(s), 24, '0')
            UNION ALL
            SELECT '{itp}' || lpad(to_hex(9901), 24, '0'), '{c2}', '{k}', '{sp}' || lpad(to_hex(99), 24, '0'),
                '{ip}' || lpad(to_hex(99), 24, '0'), 'ENTITLEMENT', '{ap}' || lpad(to_hex(1), 24, '0'), FALSE;",
        hex(1, 0).get(..8).unwrap(),
        k = hex(2, 1),
        c1 = hex(3, 1),
        c2 = hex(3, 2),
        r1 = hex(1, 1),
        r2 = hex(1, 2),
        n = SUBJECTS * ITEMS,
        s = SUBJECTS,
        sp = &hex(4, 0)[..8],
        ip = &hex(1, 0)[..8],
        itp = &hex(5, 0)[..8],
        ap = &hex(6, 0)[..8],
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await
        .unwrap();
}

fn all() -> ListQuery {
    ListQuery {
        filter: None,
        sorters: Vec::new(),
        paging: recert_domain::filter::Paging {
            limit: 250,
            offset: 0,
            count: false,
        },
    }
}

/// Decides every item of a certification and signs it off, until it is signed.
async fn sign(store: PostgresStore, cert: Id, now: Timestamp) -> Result<bool, StoreError> {
    for _ in 0..50 {
        let items = store.access_review_items(cert, None, &all()).await?.items;
        let writes: Vec<DecisionWrite> = items
            .iter()
            .map(|i| DecisionWrite {
                item_id: i.id,
                decision: Decision::Approve,
                comments: None,
                proposed_end_date: None,
            })
            .collect();
        store.decide(cert, &writes, id(1, 2), now).await?;
        match store.sign_off(cert, id(1, 2), now).await? {
            SignOffOutcome::Signed { .. } => return Ok(true),
            // Emptied by the moves, it was signed as it lost its last open row.
            SignOffOutcome::NotActive(CertificationPhase::Signed) => {
                return Ok(true);
            }
            SignOffOutcome::Undecided(_) => tokio::task::yield_now().await,
            other => panic!("sign-off: {other:?}"),
        }
    }
    Ok(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn items_move_while_others_decide_and_sign() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = db.store().await;
    setup(&store).await;
    let now = Timestamp::parse("2026-03-01T09:00:00.000Z").unwrap();
    let (c1, c2) = (id(3, 1), id(3, 2));
    let mover = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for s in 10..10 + SUBJECTS {
                let to = if s % 2 == 0 { id(1, 2) } else { id(1, 3) };
                let r = ReassignRef {
                    id: id(1, s),
                    kind: ReassignKind::IdentitySummary,
                };
                outcomes.push(
                    store
                        .reassign_items(c1, &[r], to, "on leave", id(1, 1), now)
                        .await?,
                );
            }
            Ok::<_, StoreError>(outcomes)
        })
    };
    let decider = {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..SUBJECTS {
                let items = store.access_review_items(c1, None, &all()).await?.items;
                let writes: Vec<DecisionWrite> = items
                    .iter()
                    .take(3)
                    .map(|i| DecisionWrite {
                        item_id: i.id,
                        decision: Decision::Revoke,
                        comments: Some("no".into()),
                        proposed_end_date: None,
                    })
                    .collect();
                store.decide(c1, &writes, id(1, 1), now).await?;
            }
            Ok::<_, StoreError>(())
        })
    };
    let signer = tokio::spawn(sign(store.clone(), c2, now));
    let outcomes = mover.await.unwrap().expect("no reassignment fails");
    decider.await.unwrap().expect("no decision fails");
    assert!(signer.await.unwrap().expect("no sign-off fails"));
    for o in &outcomes {
        assert!(
            matches!(
                o,
                ReassignOutcome::Moved {
                    items: ITEMS_U64,
                    ..
                }
            ),
            "{o:?}"
        );
    }

    // Every item is somewhere, once; every counter matches the items.
    let pool = store.pool();
    let (items,): (i64,) = sqlx::query_as("SELECT count(*) FROM review_items")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(items, i64::from(SUBJECTS * ITEMS + 1));
    let wrong: Vec<(String,)> = sqlx::query_as(
        "SELECT c.id FROM certifications c WHERE
            c.decisions_total <> (SELECT count(*) FROM review_items WHERE certification_id = c.id)
         OR c.decisions_made <> (SELECT count(decision) FROM review_items
                                 WHERE certification_id = c.id)
         OR c.identities_total <> (SELECT count(DISTINCT subject_id) FROM review_items
                                   WHERE certification_id = c.id)
         OR c.identities_total <> (SELECT count(*) FROM certification_subjects
                                   WHERE certification_id = c.id)
         OR EXISTS (SELECT 1 FROM certification_subjects s WHERE s.certification_id = c.id
                    AND (s.items_total, s.items_decided) <> (SELECT count(*), count(decision)
                        FROM review_items i WHERE i.summary_id = s.id))
         OR EXISTS (SELECT 1 FROM review_items i JOIN certification_subjects s
                    ON s.id = i.summary_id WHERE i.certification_id = c.id
                    AND (s.certification_id <> c.id OR s.subject_id <> i.subject_id))",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(wrong.is_empty(), "counters off in {wrong:?}");
    let (total, certs): (i64, i64) = sqlx::query_as(
        "SELECT k.total_certifications, (SELECT count(*) FROM certifications)
         FROM campaigns k",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(total, certs);
    // Reviewer 3 got one certification, however many moves went there.
    let (of3,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM certifications WHERE reviewer_id = $1")
            .bind(id(1, 3).to_string())
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(of3, 1);
    store.close().await;
}

const ITEMS_U64: u64 = ITEMS as u64;

/// A sign-off locks the campaign, then its certification; a move that creates a certification
/// updates the campaign too. Signing the source while its items move to new certifications
/// must end one way or the other, never in a deadlock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_source_signs_off_while_its_items_move() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = db.store().await;
    setup(&store).await;
    let now = Timestamp::parse("2026-03-01T09:00:00.000Z").unwrap();
    let c1 = id(3, 1);
    let mover = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for s in 10..10 + SUBJECTS {
                // A new reviewer each time: each move creates a certification.
                let r = ReassignRef {
                    id: id(1, s),
                    kind: ReassignKind::IdentitySummary,
                };
                outcomes.push(
                    store
                        .reassign_items(c1, &[r], id(1, 30 + s), "away", id(1, 1), now)
                        .await?,
                );
            }
            Ok::<_, StoreError>(outcomes)
        })
    };
    let signer = {
        let store = store.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(15)).await;
            sign(store, c1, now).await
        })
    };
    let outcomes = mover.await.unwrap().expect("no reassignment fails");
    assert!(signer.await.unwrap().expect("no sign-off fails"));
    let moved = outcomes
        .iter()
        .take_while(|o| matches!(o, ReassignOutcome::Moved { created: true, .. }))
        .count();
    assert!(
        outcomes[moved..]
            .iter()
            .all(|o| *o == ReassignOutcome::NotActive(CertificationPhase::Signed)),
        "{outcomes:?}"
    );
    let (total, certs): (i64, i64) = sqlx::query_as(
        "SELECT k.total_certifications, (SELECT count(*) FROM certifications)
         FROM campaigns k",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!((total, certs), (2 + moved as i64, 2 + moved as i64));
    store.close().await;
}
