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
    assert_eq!(
        applied,
        vec!["0001_foundation".to_owned(), "0002_signing_keys".to_owned()]
    );
    a.close().await;
    b.close().await;
}
