//! The store conformance suite on SQLite, each test in a file of its own.

use recert_store::Store;
use recert_store_sqlite::{SqliteOptions, SqliteStore};

async fn fresh() -> Option<(SqliteStore, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("recert.db"), SqliteOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    Some((store, dir))
}

recert_store_conformance::conformance_tests!(fresh());

#[tokio::test]
async fn creates_the_file_and_its_folder_on_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/data/recert.db");
    let store = SqliteStore::open_url(&format!("sqlite://{}", path.display()), Default::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert!(path.exists());
    let mode: String = {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(mode, "wal");
}

#[test]
fn parses_sqlite_urls() {
    use recert_store_sqlite::path_from_url;
    assert_eq!(
        path_from_url("sqlite://recert.db").unwrap().to_str(),
        Some("recert.db")
    );
    assert_eq!(
        path_from_url("sqlite:///var/lib/r.db").unwrap().to_str(),
        Some("/var/lib/r.db")
    );
    assert_eq!(
        path_from_url("sqlite:x.db?mode=rwc").unwrap().to_str(),
        Some("x.db")
    );
    assert!(path_from_url("postgres://x").is_none());
    assert!(path_from_url("sqlite://").is_none());
}

#[tokio::test]
async fn the_action_log_refuses_updates_and_deletes() {
    let (store, dir) = fresh().await.unwrap();
    drop(store);
    let c = rusqlite::Connection::open(dir.path().join("recert.db")).unwrap();
    c.execute(
        "INSERT INTO item_actions (item_id, campaign_id, at, actor, action, old_value, new_value)
         VALUES ('i', 'k', '2026-01-01T00:00:00.000Z', '{\"name\":\"System\"}', 'NOTES',
                 '\"a\"', '\"b\"')",
        [],
    )
    .unwrap();
    for sql in [
        "UPDATE item_actions SET new_value = '\"c\"'",
        "DELETE FROM item_actions",
    ] {
        let e = c.execute(sql, []).unwrap_err().to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    let n: i64 = c
        .query_row("SELECT count(*) FROM item_actions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}
