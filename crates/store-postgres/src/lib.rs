//! The PostgreSQL store, for when one machine is not enough: several stateless `recert serve`
//! processes share one database. Queries are checked at run time (no database is needed to
//! build); bulk writes use `COPY`, the fastest load path measured on the project's machine.

mod copy;
mod import;
mod jobs;
mod migrate;
mod params;
mod queries;
mod state;
pub mod testing;

pub use params::bind_params;

use async_trait::async_trait;
use recert_domain::{
    ApiClient, AssignmentRecord, Id, Identity, Job, JobOutcome, NewJob, SigningKey, Timestamp,
};
use recert_store::{Counts, CurrentState, ImportPlan, ImportRun, Store, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// Tuning for the PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing.
    pub acquire_timeout: std::time::Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 10,
            acquire_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// A store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(ref d) => match d.code().as_deref() {
            // serialization_failure, deadlock_detected, unique_violation: a concurrent writer won
            Some("40001") | Some("40P01") | Some("23505") => StoreError::Conflict(d.to_string()),
            _ => StoreError::Database(e.to_string()),
        },
        other => StoreError::Database(other.to_string()),
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
            .connect_with(connect)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(PostgresStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection; waits for those in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) fn ts(t: Timestamp) -> time::OffsetDateTime {
    t.datetime()
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<Vec<String>, StoreError> {
        migrate::run(&self.pool).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db_err)
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        queries::counts(&self.pool).await
    }

    async fn current_state(&self, with_assignments: bool) -> Result<CurrentState, StoreError> {
        state::current_state(&self.pool, with_assignments).await
    }

    async fn apply_import(&self, plan: ImportPlan) -> Result<(), StoreError> {
        import::apply(&self.pool, &plan).await
    }

    async fn import_runs(&self, limit: u32) -> Result<Vec<ImportRun>, StoreError> {
        queries::import_runs(&self.pool, limit).await
    }

    async fn identity(&self, id: Id) -> Result<Option<Identity>, StoreError> {
        queries::identity(&self.pool, id).await
    }

    async fn assignment_history(
        &self,
        identity_id: Id,
    ) -> Result<Vec<AssignmentRecord>, StoreError> {
        queries::assignment_history(&self.pool, identity_id).await
    }

    async fn create_api_client(&self, client: &ApiClient) -> Result<(), StoreError> {
        queries::create_api_client(&self.pool, client).await
    }

    async fn api_client(&self, id: Id) -> Result<Option<ApiClient>, StoreError> {
        queries::api_client(&self.pool, id).await
    }

    async fn api_clients(&self) -> Result<Vec<ApiClient>, StoreError> {
        queries::api_clients(&self.pool).await
    }

    async fn revoke_api_client(&self, id: Id, at: Timestamp) -> Result<bool, StoreError> {
        queries::revoke_api_client(&self.pool, id, at).await
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        queries::signing_keys(&self.pool).await
    }

    async fn ensure_signing_key(&self, candidate: &SigningKey) -> Result<SigningKey, StoreError> {
        queries::ensure_signing_key(&self.pool, candidate).await
    }

    async fn rotate_signing_key(&self, new: &SigningKey) -> Result<(), StoreError> {
        queries::rotate_signing_key(&self.pool, new).await
    }

    async fn enqueue_job(&self, job: &NewJob, at: Timestamp) -> Result<bool, StoreError> {
        jobs::enqueue(&self.pool, job, at).await
    }

    async fn claim_job(
        &self,
        owner: &str,
        kinds: &[String],
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Job>, StoreError> {
        jobs::claim(&self.pool, owner, kinds, now, lease_until).await
    }

    async fn extend_job_lease(
        &self,
        id: Id,
        owner: &str,
        attempt: u32,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        jobs::extend(&self.pool, id, owner, attempt, until).await
    }

    async fn finish_job(
        &self,
        id: Id,
        owner: &str,
        attempt: u32,
        outcome: &JobOutcome,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        jobs::finish(&self.pool, id, owner, attempt, outcome, now).await
    }

    async fn fail_abandoned_jobs(&self, now: Timestamp) -> Result<u64, StoreError> {
        jobs::fail_abandoned(&self.pool, now).await
    }

    async fn job(&self, id: Id) -> Result<Option<Job>, StoreError> {
        jobs::get(&self.pool, id).await
    }
}
