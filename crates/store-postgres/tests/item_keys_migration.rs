//! A database of schema 5 holding review items migrates: the items get the names their list
//! filters and sorts on.

use recert_store_conformance::{ITEMS_BEFORE_KEYS, items_before_keys_are_filled_in};
use recert_store_postgres::testing::TestDatabase;
use sqlx::{Connection, PgConnection, Row};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_of_schema_5_get_their_names() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    {
        db.migrate_to(5).await;
        let mut c = PgConnection::connect(db.url()).await.unwrap();
        sqlx::raw_sql(ITEMS_BEFORE_KEYS)
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    // Migrates what is missing.
    let store = db.store().await;
    let name: String = sqlx::query("SELECT name FROM schema_migrations WHERE version = 6")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "0006_item_keys");
    items_before_keys_are_filled_in(&store).await;
    store.close().await;
}
