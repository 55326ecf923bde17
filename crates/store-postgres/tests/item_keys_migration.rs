//! A database of schema 5 holding review items migrates: the items get the names their list
//! filters and sorts on.

use recert_store_conformance::{ITEMS_BEFORE_KEYS, items_before_keys_are_filled_in};
use recert_store_postgres::testing::TestDatabase;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

const SCHEMA_5: [(i64, &str, &str); 5] = [
    (
        1,
        "0001_foundation",
        include_str!("../migrations/0001_foundation.sql"),
    ),
    (
        2,
        "0002_signing_keys",
        include_str!("../migrations/0002_signing_keys.sql"),
    ),
    (3, "0003_jobs", include_str!("../migrations/0003_jobs.sql")),
    (
        4,
        "0004_campaigns",
        include_str!("../migrations/0004_campaigns.sql"),
    ),
    (
        5,
        "0005_reviews",
        include_str!("../migrations/0005_reviews.sql"),
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_of_schema_5_get_their_names() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    {
        let mut c = PgConnection::connect(db.url()).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .execute(&mut c)
        .await
        .unwrap();
        for (version, name, sql) in SCHEMA_5 {
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
                .bind(version)
                .bind(name)
                .execute(&mut c)
                .await
                .unwrap();
        }
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
