//! Durable jobs on PostgreSQL. A claim locks the row it picks with `FOR UPDATE SKIP LOCKED`, so
//! workers in several processes never take the same job and never wait on each other.

use recert_domain::{Id, Job, JobOutcome, NewJob, Timestamp};
use recert_store::StoreError;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool, Row};

use crate::queries::{at, id, json, opt_at, opt_text, text};
use crate::{db_err, ts};

const COLUMNS: &str = "id, kind, payload::text AS payload, dedupe_key, state, attempts, \
     max_attempts, run_at, lease_owner, lease_until, last_error, created_at, updated_at, finished_at";

fn job_from_row(r: &PgRow) -> Result<Job, StoreError> {
    let count = |col: &str| -> Result<u32, StoreError> {
        r.try_get::<i32, _>(col)
            .map(|v| v.max(0) as u32)
            .map_err(db_err)
    };
    Ok(Job {
        id: id(r, "id", "jobs")?,
        kind: text(r, "kind")?,
        payload: json(r, "payload", "jobs")?,
        dedupe_key: opt_text(r, "dedupe_key")?,
        state: text(r, "state")?
            .parse()
            .map_err(|e| StoreError::corrupt("jobs", e))?,
        attempts: count("attempts")?,
        max_attempts: count("max_attempts")?,
        run_at: at(r, "run_at")?,
        lease_owner: opt_text(r, "lease_owner")?,
        lease_until: opt_at(r, "lease_until")?,
        last_error: opt_text(r, "last_error")?,
        created_at: at(r, "created_at")?,
        updated_at: at(r, "updated_at")?,
        finished_at: opt_at(r, "finished_at")?,
    })
}

pub(crate) async fn enqueue<'e>(
    ex: impl sqlx::PgExecutor<'e>,
    job: &NewJob,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "INSERT INTO jobs (id, kind, payload, dedupe_key, state, attempts, max_attempts, run_at,
            created_at, updated_at)
         VALUES ($1, $2, $3::jsonb, $4, 'QUEUED', 0, $5, $6, $7, $7)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(job.id.to_string())
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(&job.dedupe_key)
    .bind(job.max_attempts.max(1) as i32)
    .bind(ts(job.run_at))
    .bind(ts(now))
    .execute(ex)
    .await
    .map_err(db_err)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn claim(
    pool: &PgPool,
    owner: &str,
    kinds: &[String],
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<Job>, StoreError> {
    let sql = format!(
        "UPDATE jobs SET state = 'RUNNING', lease_owner = $1, lease_until = $3,
            attempts = attempts + 1, updated_at = $2
         WHERE id = (
            SELECT id FROM jobs
            WHERE kind = ANY($4)
              AND ((state = 'QUEUED' AND run_at <= $2)
                   OR (state = 'RUNNING' AND lease_until < $2 AND attempts < max_attempts))
            ORDER BY run_at, id
            LIMIT 1
            FOR UPDATE SKIP LOCKED)
         RETURNING {COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(owner)
        .bind(ts(now))
        .bind(ts(lease_until))
        .bind(kinds)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(job_from_row).transpose()
}

pub(crate) async fn extend(
    pool: &PgPool,
    job: Id,
    owner: &str,
    attempt: u32,
    until: Timestamp,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE jobs SET lease_until = $4
         WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'RUNNING'",
    )
    .bind(job.to_string())
    .bind(owner)
    .bind(attempt as i32)
    .bind(ts(until))
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(r.rows_affected() == 1)
}

/// Held by `owner` for attempt `attempt`: $1 id, $2 owner, $3 attempt.
const HELD: &str = "WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'RUNNING'";

pub(crate) async fn finish(
    pool: &PgPool,
    job: Id,
    owner: &str,
    attempt: u32,
    outcome: &JobOutcome,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let q = match outcome {
        JobOutcome::Succeeded => sqlx::query(AssertSqlSafe(format!(
            "UPDATE jobs SET state = 'SUCCEEDED', finished_at = $4, updated_at = $4,
                lease_owner = NULL, lease_until = NULL {HELD}"
        ))),
        JobOutcome::Retry { .. } => sqlx::query(AssertSqlSafe(format!(
            "UPDATE jobs SET
                state = CASE WHEN attempts < max_attempts THEN 'QUEUED' ELSE 'FAILED' END,
                finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE $4 END,
                run_at = $5, last_error = $6, updated_at = $4,
                lease_owner = NULL, lease_until = NULL {HELD}"
        ))),
        JobOutcome::Failed { .. } => sqlx::query(AssertSqlSafe(format!(
            "UPDATE jobs SET state = 'FAILED', finished_at = $4, updated_at = $4,
                last_error = $5, lease_owner = NULL, lease_until = NULL {HELD}"
        ))),
    }
    .bind(job.to_string())
    .bind(owner.to_owned())
    .bind(attempt as i32)
    .bind(ts(now));
    let q = match outcome {
        JobOutcome::Succeeded => q,
        JobOutcome::Retry { at, error } => q.bind(ts(*at)).bind(error.clone()),
        JobOutcome::Failed { error } => q.bind(error.clone()),
    };
    let r = q.execute(pool).await.map_err(db_err)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn fail_abandoned(pool: &PgPool, now: Timestamp) -> Result<u64, StoreError> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'FAILED', finished_at = $1, updated_at = $1,
            last_error = 'abandoned: its worker stopped during the last allowed attempt',
            lease_owner = NULL, lease_until = NULL
         WHERE state = 'RUNNING' AND lease_until < $1 AND attempts >= max_attempts",
    )
    .bind(ts(now))
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(r.rows_affected())
}

pub(crate) async fn get(pool: &PgPool, job: Id) -> Result<Option<Job>, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs WHERE id = $1"
    )))
    .bind(job.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(job_from_row).transpose()
}
