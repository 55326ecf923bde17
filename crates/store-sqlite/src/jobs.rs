//! Durable jobs on SQLite. Every write goes through the one writer connection, so a claim is a
//! single `UPDATE ... RETURNING` that no other claimer can interleave with.

use recert_domain::{Id, Job, JobOutcome, NewJob, Timestamp};
use recert_store::StoreError;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::db_err;
use crate::queries::{get_id, get_json, get_opt_ts, get_ts};

const COLUMNS: &str = "id, kind, payload, dedupe_key, state, attempts, max_attempts, run_at, \
     lease_owner, lease_until, last_error, created_at, updated_at, finished_at";

/// The due condition of a claim: of a kind the runner handles (`?4`, a JSON array), and queued
/// and due, or running on a lease that ran out.
const DUE: &str = "kind IN (SELECT value FROM json_each(?4))
     AND ((state = 'QUEUED' AND run_at <= ?2)
          OR (state = 'RUNNING' AND lease_until < ?2 AND attempts < max_attempts))";

fn job_from_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    let state: String = r.get(4)?;
    Ok(Job {
        id: get_id(r, 0)?,
        kind: r.get(1)?,
        payload: get_json(r, 2)?,
        dedupe_key: r.get(3)?,
        state: state.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
        })?,
        attempts: r.get(5)?,
        max_attempts: r.get(6)?,
        run_at: get_ts(r, 7)?,
        lease_owner: r.get(8)?,
        lease_until: get_opt_ts(r, 9)?,
        last_error: r.get(10)?,
        created_at: get_ts(r, 11)?,
        updated_at: get_ts(r, 12)?,
        finished_at: get_opt_ts(r, 13)?,
    })
}

pub(crate) fn enqueue(c: &Connection, job: &NewJob, at: Timestamp) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "INSERT INTO jobs (id, kind, payload, dedupe_key, state, attempts, max_attempts, run_at,
                created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'QUEUED', 0, ?5, ?6, ?7, ?7)
             ON CONFLICT (dedupe_key) DO NOTHING",
            params![
                job.id.to_string(),
                job.kind,
                job.payload.to_string(),
                job.dedupe_key,
                job.max_attempts.max(1),
                job.run_at.to_string(),
                at.to_string()
            ],
        )
        .map_err(db_err)?;
    Ok(n == 1)
}

pub(crate) fn claim(
    c: &Connection,
    owner: &str,
    kinds: &[String],
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<Job>, StoreError> {
    let kinds = serde_json::to_string(kinds).map_err(|e| StoreError::Database(e.to_string()))?;
    c.query_row(
        &format!(
            "UPDATE jobs SET state = 'RUNNING', lease_owner = ?1, lease_until = ?3,
                attempts = attempts + 1, updated_at = ?2
             WHERE id = (SELECT id FROM jobs WHERE {DUE} ORDER BY run_at, id LIMIT 1)
             RETURNING {COLUMNS}"
        ),
        params![owner, now.to_string(), lease_until.to_string(), kinds],
        job_from_row,
    )
    .optional()
    .map_err(db_err)
}

pub(crate) fn extend(
    c: &Connection,
    id: Id,
    owner: &str,
    attempt: u32,
    until: Timestamp,
) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE jobs SET lease_until = ?4
             WHERE id = ?1 AND lease_owner = ?2 AND attempts = ?3 AND state = 'RUNNING'",
            params![id.to_string(), owner, attempt, until.to_string()],
        )
        .map_err(db_err)?;
    Ok(n == 1)
}

/// Held by `owner` for attempt `attempt`: ?1 id, ?2 owner, ?3 attempt.
const HELD: &str = "WHERE id = ?1 AND lease_owner = ?2 AND attempts = ?3 AND state = 'RUNNING'";

pub(crate) fn finish(
    c: &Connection,
    id: Id,
    owner: &str,
    attempt: u32,
    outcome: &JobOutcome,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let (id, now) = (id.to_string(), now.to_string());
    let n = match outcome {
        JobOutcome::Succeeded => c.execute(
            &format!(
                "UPDATE jobs SET state = 'SUCCEEDED', finished_at = ?4, updated_at = ?4,
                    lease_owner = NULL, lease_until = NULL {HELD}"
            ),
            params![id, owner, attempt, now],
        ),
        JobOutcome::Retry { at, error } => c.execute(
            &format!(
                "UPDATE jobs SET
                    state = CASE WHEN attempts < max_attempts THEN 'QUEUED' ELSE 'FAILED' END,
                    finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE ?4 END,
                    run_at = ?5, last_error = ?6, updated_at = ?4,
                    lease_owner = NULL, lease_until = NULL {HELD}"
            ),
            params![id, owner, attempt, now, at.to_string(), error],
        ),
        JobOutcome::Failed { error } => c.execute(
            &format!(
                "UPDATE jobs SET state = 'FAILED', finished_at = ?4, updated_at = ?4,
                    last_error = ?5, lease_owner = NULL, lease_until = NULL {HELD}"
            ),
            params![id, owner, attempt, now, error],
        ),
    }
    .map_err(db_err)?;
    Ok(n == 1)
}

pub(crate) fn fail_abandoned(c: &Connection, now: Timestamp) -> Result<u64, StoreError> {
    let n = c
        .execute(
            "UPDATE jobs SET state = 'FAILED', finished_at = ?1, updated_at = ?1,
                last_error = 'abandoned: its worker stopped during the last allowed attempt',
                lease_owner = NULL, lease_until = NULL
             WHERE state = 'RUNNING' AND lease_until < ?1 AND attempts >= max_attempts",
            [now.to_string()],
        )
        .map_err(db_err)?;
    Ok(n as u64)
}

pub(crate) fn get(c: &Connection, id: Id) -> Result<Option<Job>, StoreError> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
        [id.to_string()],
        job_from_row,
    )
    .optional()
    .map_err(db_err)
}
