//! Throw-away databases for tests: each one is created on the server named by
//! `RECERT_TEST_DATABASE_URL` and dropped when its guard goes away.
//!
//! Without that variable the PostgreSQL tests skip with a loud notice, except under CI (`CI` set),
//! where a missing database is a failure.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::{PostgresOptions, PostgresStore};

pub const ENV: &str = "RECERT_TEST_DATABASE_URL";

/// A database created for one test; dropped (with any open connections) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

/// Replaces the database name (the path) of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestDatabase {
    /// Creates a fresh database, or returns `None` (after a loud notice) when
    /// `RECERT_TEST_DATABASE_URL` is not set outside CI.
    pub async fn create() -> Option<Self> {
        let Ok(admin_url) = std::env::var(ENV) else {
            if std::env::var_os("CI").is_some() {
                panic!("{ENV} is not set: CI must run the PostgreSQL suite");
            }
            eprintln!(
                "\n*** SKIPPED: PostgreSQL test (set {ENV}=postgres://postgres@127.0.0.1:5432/postgres to run it) ***\n"
            );
            return None;
        };
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "recert_test_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            &recert_domain::Id::generate().to_string()[20..]
        );
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {ENV}: {e}"));
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = conn.close().await;
        let url = with_database(&admin_url, &name);
        Some(TestDatabase {
            admin_url,
            name,
            url,
        })
    }

    /// Applies recert's migrations up to `version` only (recording them as `migrate` does), for
    /// tests of what a later migration does to data of an earlier schema.
    pub async fn migrate_to(&self, version: i64) {
        let mut c = PgConnection::connect(&self.url).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .execute(&mut c)
        .await
        .unwrap();
        for (v, name, sql) in crate::migrate::MIGRATIONS {
            if *v > version {
                break;
            }
            sqlx::raw_sql(AssertSqlSafe(*sql))
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
                .bind(v)
                .bind(*name)
                .execute(&mut c)
                .await
                .unwrap();
        }
        c.close().await.unwrap();
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A migrated store on this database.
    pub async fn store(&self) -> PostgresStore {
        let store = PostgresStore::connect(
            &self.url,
            PostgresOptions {
                max_connections: 5,
                ..Default::default()
            },
        )
        .await
        .expect("connect to the test database");
        recert_store::Store::migrate(&store)
            .await
            .expect("migrate the test database");
        store
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside any async context we can rely on, so use a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
