//! The store conformance suite on PostgreSQL, each test in a database of its own.

use recert_store_postgres::PostgresStore;
use recert_store_postgres::testing::TestDatabase;

async fn fresh() -> Option<(PostgresStore, TestDatabase)> {
    let db = TestDatabase::create().await?;
    let store = db.store().await;
    Some((store, db))
}

recert_store_conformance::conformance_tests!(fresh());

#[tokio::test]
async fn concurrent_migrations_apply_once() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let a = PostgresStore::connect(db.url(), Default::default())
        .await
        .unwrap();
    let b = PostgresStore::connect(db.url(), Default::default())
        .await
        .unwrap();
    use recert_store::Store;
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    let mut applied = ra.unwrap();
    applied.extend(rb.unwrap());
    let mut once = applied.clone();
    once.sort();
    once.dedup();
    assert_eq!(
        applied.len(),
        once.len(),
        "a migration applied twice: {applied:?}"
    );
    assert_eq!(applied.first().map(String::as_str), Some("0001_foundation"));
    assert!(a.migrate().await.unwrap().is_empty());
    a.close().await;
    b.close().await;
}

/// Two processes (two connection pools) on one database: every job goes to exactly one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_claim_each_job_once() {
    use recert_domain::{Duration, Id, NewJob, Timestamp};
    use recert_store::Store;
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let a = db.store().await;
    let b = PostgresStore::connect(db.url(), Default::default())
        .await
        .unwrap();
    let now = Timestamp::parse("2026-01-05T09:00:00.000Z").unwrap();
    let mut ids = Vec::new();
    for n in 0..60 {
        let job = NewJob {
            id: Id::generate(),
            kind: "test".into(),
            payload: serde_json::json!({ "n": n }),
            dedupe_key: None,
            max_attempts: 1,
            run_at: now,
        };
        a.enqueue_job(&job, now).await.unwrap();
        ids.push(job.id);
    }
    let lease = now.plus(Duration::minutes(5));
    let drain = |store: PostgresStore, name: &'static str| async move {
        let mut got = Vec::new();
        while let Some(j) = store
            .claim_job(name, &["test".to_owned()], now, lease)
            .await
            .unwrap()
        {
            got.push(j.id);
        }
        got
    };
    let (x, y) = tokio::join!(
        tokio::spawn(drain(a.clone(), "process-a")),
        tokio::spawn(drain(b.clone(), "process-b"))
    );
    let mut all = [x.unwrap(), y.unwrap()].concat();
    all.sort();
    ids.sort();
    assert_eq!(all, ids);
}
