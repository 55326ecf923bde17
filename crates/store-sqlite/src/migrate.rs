//! Plain SQL migrations compiled into the binary, applied in order, each in its own transaction.

use recert_store::StoreError;
use rusqlite::{Connection, OptionalExtension};

use crate::db_err;

/// (version, name, SQL). Never edit an applied migration: add a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
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
    (
        6,
        "0006_item_keys",
        include_str!("../migrations/0006_item_keys.sql"),
    ),
    (7, "0007_awf", include_str!("../migrations/0007_awf.sql")),
    (8, "0008_web", include_str!("../migrations/0008_web.sql")),
    (
        9,
        "0009_item_sort",
        include_str!("../migrations/0009_item_sort.sql"),
    ),
];

pub(crate) fn run(conn: &mut Connection) -> Result<Vec<String>, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )",
    )
    .map_err(db_err)?;
    let current: i64 = conn
        .query_row("SELECT max(version) FROM schema_migrations", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .optional()
        .map_err(db_err)?
        .flatten()
        .unwrap_or(0);
    let newest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if current > newest {
        return Err(StoreError::Migration(format!(
            "the database is at schema version {current}, newer than this recert knows ({newest}); \
             run a newer recert"
        )));
    }
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let tx = conn.transaction().map_err(db_err)?;
        tx.execute_batch(sql)
            .map_err(|e| StoreError::Migration(format!("{name}: {e}")))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at)
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            rusqlite::params![version, name],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        applied.push((*name).to_owned());
    }
    Ok(applied)
}
