//! Remediation on PostgreSQL: delivery bookkeeping, the receiver's report, and the
//! reconciliation an import runs (access gone: COMPLETED; access present: a completed one OPEN
//! again).

use recert_domain::review::{DeliveryResult, RemediationDetails, RemediationItem};
use recert_domain::{Id, Timestamp};
use recert_store::StoreError;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row};

use crate::queries::{at, id, opt_at, opt_id, opt_text, text};
use crate::{db_err, ts};

const COLUMNS: &str = "r.id, r.item_id, r.campaign_id, r.certification_id, r.identity_id, \
    r.access_type, r.access_id, r.account_id, r.status, r.attempts, r.last_error, r.created_at, \
    r.updated_at, r.completed_at";

fn item(r: &PgRow) -> Result<RemediationItem, StoreError> {
    let t = "remediation_items";
    Ok(RemediationItem {
        id: id(r, "id", t)?,
        item_id: id(r, "item_id", t)?,
        campaign_id: id(r, "campaign_id", t)?,
        certification_id: id(r, "certification_id", t)?,
        identity_id: id(r, "identity_id", t)?,
        access_type: text(r, "access_type")?,
        access_id: id(r, "access_id", t)?,
        account_id: opt_id(r, "account_id", t)?,
        status: text(r, "status")?,
        attempts: r.try_get("attempts").map_err(db_err)?,
        last_error: opt_text(r, "last_error")?,
        created: at(r, "created_at")?,
        updated: at(r, "updated_at")?,
        completed: opt_at(r, "completed_at")?,
    })
}

/// Remediation items with their details, chosen by `filter` (over `r`; `bind` binds its
/// parameters) and ordered by `order`.
async fn with_details(
    pool: &PgPool,
    filter: &str,
    order: &str,
    bind: impl FnOnce(
        sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<Vec<(RemediationItem, RemediationDetails)>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, k.name AS campaign_name, ce.reviewer_id, ce.reviewer_name,
            ce.reviewer_email, ci.display_name AS identity_name, ci.email AS identity_email,
            ca.name AS access_name, ca.source_id, ca.source_name,
            i.account_native_identity AS native_identity, i.account_name, i.comments, i.proposed_end_date, i.decided_at
         FROM remediation_items r
         LEFT JOIN campaigns k ON k.id = r.campaign_id
         LEFT JOIN certifications ce ON ce.id = r.certification_id
         LEFT JOIN review_items i ON i.id = r.item_id
         LEFT JOIN campaign_identities ci
            ON ci.campaign_id = r.campaign_id AND ci.identity_id = r.identity_id
         LEFT JOIN campaign_access ca ON ca.campaign_id = r.campaign_id
            AND ca.access_type = r.access_type AND ca.access_id = r.access_id
         WHERE {filter} ORDER BY {order}"
    );
    let rows = bind(sqlx::query(AssertSqlSafe(sql)))
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    let t = "remediation_items";
    rows.iter()
        .map(|r| {
            Ok((
                item(r)?,
                RemediationDetails {
                    campaign_name: opt_text(r, "campaign_name")?,
                    reviewer_id: opt_id(r, "reviewer_id", t)?,
                    reviewer_name: opt_text(r, "reviewer_name")?,
                    reviewer_email: opt_text(r, "reviewer_email")?,
                    identity_name: opt_text(r, "identity_name")?,
                    identity_email: opt_text(r, "identity_email")?,
                    access_name: opt_text(r, "access_name")?,
                    source_id: opt_id(r, "source_id", t)?,
                    source_name: opt_text(r, "source_name")?,
                    native_identity: opt_text(r, "native_identity")?,
                    account_name: opt_text(r, "account_name")?,
                    comments: opt_text(r, "comments")?,
                    proposed_end_date: opt_at(r, "proposed_end_date")?,
                    decided_at: opt_at(r, "decided_at")?,
                },
            ))
        })
        .collect()
}

/// The open items whose next attempt is due, soonest first.
pub(crate) async fn due(
    pool: &PgPool,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<(RemediationItem, RemediationDetails)>, StoreError> {
    with_details(
        pool,
        "r.status = 'OPEN' AND r.next_attempt_at <= $1",
        "r.next_attempt_at, r.id LIMIT $2",
        |q| q.bind(ts(now)).bind(i64::from(limit)),
    )
    .await
}

/// A campaign's items, oldest first.
pub(crate) async fn of_campaign(
    pool: &PgPool,
    campaign: Id,
) -> Result<Vec<(RemediationItem, RemediationDetails)>, StoreError> {
    with_details(pool, "r.campaign_id = $1", "r.id", |q| {
        q.bind(campaign.to_string())
    })
    .await
}

pub(crate) async fn record(
    pool: &PgPool,
    rid: Id,
    result: &DeliveryResult,
    now: Timestamp,
) -> Result<(), StoreError> {
    let (status, error, next, delivered) = match result {
        DeliveryResult::Delivered => ("IN_PROGRESS", None, None, Some(ts(now))),
        DeliveryResult::Retry { error, next } => {
            ("OPEN", Some(error.clone()), Some(ts(*next)), None)
        }
        DeliveryResult::Rejected { error } => ("FAILED", Some(error.clone()), None, None),
    };
    sqlx::query(
        "UPDATE remediation_items SET status = $2, last_error = $3, next_attempt_at = $4,
            delivered_at = coalesce($5, delivered_at), attempts = attempts + 1, updated_at = $6
         WHERE id = $1 AND status = 'OPEN'",
    )
    .bind(rid.to_string())
    .bind(status)
    .bind(error)
    .bind(next)
    .bind(delivered)
    .bind(ts(now))
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn get(pool: &PgPool, rid: Id) -> Result<Option<RemediationItem>, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM remediation_items r WHERE r.id = $1"
    )))
    .bind(rid.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(item).transpose()
}

pub(crate) async fn report(
    pool: &PgPool,
    rid: Id,
    status: &str,
    message: Option<&str>,
    external_ref: Option<&str>,
    now: Timestamp,
) -> Result<Option<RemediationItem>, StoreError> {
    sqlx::query(
        "UPDATE remediation_items SET status = $2, last_error = $3,
            external_ref = coalesce($4, external_ref), updated_at = $5,
            completed_at = CASE WHEN $2 = 'COMPLETED' THEN $5 ELSE completed_at END,
            next_attempt_at = NULL
         WHERE id = $1",
    )
    .bind(rid.to_string())
    .bind(status)
    .bind(message)
    .bind(external_ref)
    .bind(ts(now))
    .execute(pool)
    .await
    .map_err(db_err)?;
    get(pool, rid).await
}

/// After an import (inside its transaction): see the SQLite store's `reconcile`.
pub(crate) async fn reconcile(
    c: &mut PgConnection,
    when: time::OffsetDateTime,
    campaign: Option<&str>,
) -> Result<u64, StoreError> {
    let completed = sqlx::query(
        "UPDATE remediation_items r SET status = 'COMPLETED', completed_at = $1, updated_at = $1,
            next_attempt_at = NULL, last_error = NULL
         WHERE r.status IN ('OPEN', 'IN_PROGRESS', 'FAILED')
           AND ($2::text IS NULL OR r.campaign_id = $2) AND (
            (r.assignment_id IS NOT NULL AND EXISTS (SELECT 1 FROM assignments a
                WHERE a.id = r.assignment_id AND a.removed_at IS NOT NULL))
            OR (r.access_type = 'ACCOUNT' AND EXISTS (SELECT 1 FROM accounts ac
                WHERE ac.id = r.account_id AND ac.removed_at IS NOT NULL)))",
    )
    .bind(when)
    .bind(campaign)
    .execute(&mut *c)
    .await
    .map_err(db_err)?
    .rows_affected();
    let reopened = sqlx::query(
        "UPDATE remediation_items r SET status = 'OPEN', completed_at = NULL, attempts = 0,
            next_attempt_at = $1, updated_at = $1,
            last_error = 'the access is still present',
            assignment_id = cur.id
         FROM assignments old, assignments cur
         WHERE r.status = 'COMPLETED' AND old.id = r.assignment_id
           AND ($2::text IS NULL OR r.campaign_id = $2)
           AND cur.removed_at IS NULL AND cur.identity_id = old.identity_id
           AND cur.access_type = old.access_type AND cur.access_id = old.access_id
           AND coalesce(cur.account_id, '') = coalesce(old.account_id, '')",
    )
    .bind(when)
    .bind(campaign)
    .execute(&mut *c)
    .await
    .map_err(db_err)?
    .rows_affected();
    Ok(completed + reopened)
}

/// A campaign's remediation scan: see the SQLite store's `rescan`.
pub(crate) async fn rescan(pool: &PgPool, campaign: Id, now: Timestamp) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let k = campaign.to_string();
    let opened = crate::closing::open_remediations(
        &mut tx,
        "certification_id IN (SELECT id FROM certifications
            WHERE campaign_id = $1 AND phase = 'SIGNED')",
        &k,
        now,
    )
    .await?;
    let changed = reconcile(&mut tx, ts(now), Some(&k)).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(opened + changed)
}
