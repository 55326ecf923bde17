//! Plain SQL migrations compiled into the binary. An advisory lock makes several `recert serve`
//! processes starting at once apply each migration exactly once.

use recert_store::StoreError;
use sqlx::{AssertSqlSafe, PgPool, Row};

use crate::db_err;

/// (version, name, SQL). Never edit an applied migration: add a new one.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
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

/// Any constant works as long as only recert's migrations use it.
const LOCK_KEY: i64 = 0x7265_6365_7274; // "recert"

pub(crate) async fn run(pool: &PgPool) -> Result<Vec<String>, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let current: i64 = sqlx::query("SELECT coalesce(max(version), 0) FROM schema_migrations")
        .fetch_one(&mut *tx)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(db_err)?;
    let newest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if current > newest {
        return Err(StoreError::Migration(format!(
            "the database is at schema version {current}, newer than this recert knows ({newest}); \
             run a newer recert"
        )));
    }
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        sqlx::raw_sql(AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::Migration(format!("{name}: {e}")))?;
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(*name)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        applied.push((*name).to_owned());
    }
    tx.commit().await.map_err(db_err)?;
    Ok(applied)
}
