//! Connecting: the pool every statement uses, and the connections of the batched point reads.

use recert_store::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::{PostgresStore, queries, reviews};

/// Tuning for the PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing.
    pub acquire_timeout: std::time::Duration,
    /// A generation of at least this many items re-reads the review tables' statistics
    /// (`ANALYZE`, a second or two at millions of items) once it has committed.
    pub analyze_after_items: u64,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 10,
            acquire_timeout: std::time::Duration::from_secs(10),
            analyze_after_items: 1_000,
        }
    }
}

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names. Does not migrate.
    pub async fn connect(url: &str, opts: PostgresOptions) -> Result<Self, StoreError> {
        let connect: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(opts.acquire_timeout)
            // No ping before every query: it doubled the round trips of each point read. A
            // connection the server closed fails its next query, which the pool then drops.
            .test_before_acquire(false)
            .connect_with(connect.clone())
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        // One batched read at a time per kind: the most requests per query, which on two cores
        // beat keeping a second server process busy (0.150 against 0.136 of the bare handler;
        // docs/BENCHMARKS.md).
        let in_flight = 1;
        let reads = point_read_pool(connect, 3 * in_flight, opts.acquire_timeout);
        Ok(PostgresStore {
            clients: queries::api_client_reads(&reads, in_flight),
            certifications: reviews::certification_reads(&reads, in_flight),
            client_certifications: reviews::client_certification_reads(&reads, in_flight),
            analyze_after_items: opts.analyze_after_items,
            pool,
            reads,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection; waits for those in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
        self.reads.close().await;
    }
}

/// The connections of the batched point reads (by primary key, the same few statements over
/// and over), apart from the pool every other statement uses: their statements are planned
/// once. Left to itself PostgreSQL re-planned the batched join at every execution (a plan for
/// the known number of keys is always estimated cheaper than one for any number), which cost
/// more than the join itself. The listings keep planning with their values: a plan made once
/// for any certification does not see how many items the one asked for has.
fn point_read_pool(
    connect: PgConnectOptions,
    connections: usize,
    acquire_timeout: std::time::Duration,
) -> PgPool {
    PgPoolOptions::new()
        .max_connections(connections as u32)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // Best effort: a PostgreSQL-compatible server without the setting plans as
                // it always does.
                if let Err(e) = sqlx::query("SET plan_cache_mode = force_generic_plan")
                    .execute(conn)
                    .await
                {
                    tracing::debug!(error = %e, "plan_cache_mode not set");
                }
                Ok(())
            })
        })
        .connect_lazy_with(connect)
}
