//! A database of schema 5 holding review items migrates: the items get the names their list
//! filters and sorts on.

use recert_store::Store;
use recert_store_conformance::{ITEMS_BEFORE_KEYS, items_before_keys_are_filled_in};
use recert_store_sqlite::{SqliteOptions, SqliteStore};

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

#[tokio::test]
async fn items_of_schema_5_get_their_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recert.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                applied_at TEXT NOT NULL)",
        )
        .unwrap();
        for (version, name, sql) in SCHEMA_5 {
            c.execute_batch(sql).unwrap();
            c.execute(
                "INSERT INTO schema_migrations VALUES (?1, ?2, '2026-01-01T00:00:00Z')",
                rusqlite::params![version, name],
            )
            .unwrap();
        }
        c.execute_batch(ITEMS_BEFORE_KEYS).unwrap();
    }
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let applied = store.migrate().await.unwrap();
    assert_eq!(applied.first().map(String::as_str), Some("0006_item_keys"));
    items_before_keys_are_filled_in(&store).await;
}
