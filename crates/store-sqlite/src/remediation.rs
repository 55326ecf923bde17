//! Remediation on SQLite: delivery bookkeeping, the receiver's report, and the reconciliation an
//! import runs (access gone: COMPLETED; access back: OPEN again).

use recert_domain::review::{DeliveryResult, RemediationDetails, RemediationItem};
use recert_domain::{Id, Timestamp};
use recert_store::StoreError;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::db_err;
use crate::queries::{get_id, get_opt_id, get_opt_ts, get_ts};

const COLUMNS: &str = "r.id, r.item_id, r.campaign_id, r.certification_id, r.identity_id, \
    r.access_type, r.access_id, r.account_id, r.status, r.attempts, r.last_error, r.created_at, \
    r.updated_at, r.completed_at";

fn item(r: &Row<'_>) -> rusqlite::Result<RemediationItem> {
    Ok(RemediationItem {
        id: get_id(r, 0)?,
        item_id: get_id(r, 1)?,
        campaign_id: get_id(r, 2)?,
        certification_id: get_id(r, 3)?,
        identity_id: get_id(r, 4)?,
        access_type: r.get(5)?,
        access_id: get_id(r, 6)?,
        account_id: get_opt_id(r, 7)?,
        status: r.get(8)?,
        attempts: r.get(9)?,
        last_error: r.get(10)?,
        created: get_ts(r, 11)?,
        updated: get_ts(r, 12)?,
        completed: get_opt_ts(r, 13)?,
    })
}

/// Remediation items with their details, chosen by `filter` (over `r`) and ordered by `order`.
fn with_details(
    c: &Connection,
    filter: &str,
    order: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<(RemediationItem, RemediationDetails)>, StoreError> {
    let mut stmt = c
        .prepare(&format!(
            "SELECT {COLUMNS}, k.name, ce.reviewer_id, ce.reviewer_name, ce.reviewer_email,
                ci.display_name, ci.email, ca.name, ca.source_id, ca.source_name,
                i.account_native_identity, i.account_name, i.comments, i.proposed_end_date, i.decided_at
             FROM remediation_items r
             LEFT JOIN campaigns k ON k.id = r.campaign_id
             LEFT JOIN certifications ce ON ce.id = r.certification_id
             LEFT JOIN review_items i ON i.id = r.item_id
             LEFT JOIN campaign_identities ci
                ON ci.campaign_id = r.campaign_id AND ci.identity_id = r.identity_id
             LEFT JOIN campaign_access ca ON ca.campaign_id = r.campaign_id
                AND ca.access_type = r.access_type AND ca.access_id = r.access_id
             WHERE {filter} ORDER BY {order}"
        ))
        .map_err(db_err)?;
    stmt.query_map(params, |r| {
        Ok((
            item(r)?,
            RemediationDetails {
                campaign_name: r.get(14)?,
                reviewer_id: get_opt_id(r, 15)?,
                reviewer_name: r.get(16)?,
                reviewer_email: r.get(17)?,
                identity_name: r.get(18)?,
                identity_email: r.get(19)?,
                access_name: r.get(20)?,
                source_id: get_opt_id(r, 21)?,
                source_name: r.get(22)?,
                native_identity: r.get(23)?,
                account_name: r.get(24)?,
                comments: r.get(25)?,
                proposed_end_date: get_opt_ts(r, 26)?,
                decided_at: get_opt_ts(r, 27)?,
            },
        ))
    })
    .map_err(db_err)?
    .collect::<Result<Vec<_>, _>>()
    .map_err(db_err)
}

/// The open items whose next attempt is due, soonest first.
pub(crate) fn due(
    c: &Connection,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<(RemediationItem, RemediationDetails)>, StoreError> {
    with_details(
        c,
        "r.status = 'OPEN' AND r.next_attempt_at <= ?1",
        "r.next_attempt_at, r.id LIMIT ?2",
        params![now.to_string(), limit],
    )
}

/// A campaign's items, oldest first.
pub(crate) fn of_campaign(
    c: &Connection,
    campaign: Id,
) -> Result<Vec<(RemediationItem, RemediationDetails)>, StoreError> {
    with_details(c, "r.campaign_id = ?1", "r.id", [campaign.to_string()])
}

pub(crate) fn record(
    c: &Connection,
    id: Id,
    result: &DeliveryResult,
    now: Timestamp,
) -> Result<(), StoreError> {
    let (status, error, next, delivered) = match result {
        DeliveryResult::Delivered => ("IN_PROGRESS", None, None, Some(now.to_string())),
        DeliveryResult::Retry { error, next } => {
            ("OPEN", Some(error.as_str()), Some(next.to_string()), None)
        }
        DeliveryResult::Rejected { error } => ("FAILED", Some(error.as_str()), None, None),
    };
    c.execute(
        "UPDATE remediation_items SET status = ?2, last_error = ?3, next_attempt_at = ?4,
            delivered_at = coalesce(?5, delivered_at), attempts = attempts + 1, updated_at = ?6
         WHERE id = ?1 AND status = 'OPEN'",
        params![
            id.to_string(),
            status,
            error,
            next,
            delivered,
            now.to_string()
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn get(c: &Connection, id: Id) -> Result<Option<RemediationItem>, StoreError> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM remediation_items r WHERE r.id = ?1"),
        [id.to_string()],
        item,
    )
    .optional()
    .map_err(db_err)
}

pub(crate) fn report(
    c: &Connection,
    id: Id,
    status: &str,
    message: Option<&str>,
    external_ref: Option<&str>,
    now: Timestamp,
) -> Result<Option<RemediationItem>, StoreError> {
    c.execute(
        "UPDATE remediation_items SET status = ?2, last_error = ?3,
            external_ref = coalesce(?4, external_ref), updated_at = ?5,
            completed_at = CASE WHEN ?2 = 'COMPLETED' THEN ?5 ELSE completed_at END,
            next_attempt_at = NULL
         WHERE id = ?1",
        params![
            id.to_string(),
            status,
            message,
            external_ref,
            now.to_string()
        ],
    )
    .map_err(db_err)?;
    get(c, id)
}

/// After an import: a revoked grant that is gone completes its remediation; one still (or again)
/// present reopens a completed one, pointing at the grant's current record.
pub(crate) fn reconcile(
    c: &Connection,
    at: &str,
    campaign: Option<&str>,
) -> Result<u64, StoreError> {
    let completed = c
        .execute(
            "UPDATE remediation_items SET status = 'COMPLETED', completed_at = ?1, updated_at = ?1,
            next_attempt_at = NULL, last_error = NULL
         WHERE status IN ('OPEN', 'IN_PROGRESS', 'FAILED') AND (?2 IS NULL OR campaign_id = ?2)
           AND (
            (assignment_id IS NOT NULL AND EXISTS (SELECT 1 FROM assignments a
                WHERE a.id = remediation_items.assignment_id AND a.removed_at IS NOT NULL))
            OR (access_type = 'ACCOUNT' AND EXISTS (SELECT 1 FROM accounts ac
                WHERE ac.id = remediation_items.account_id AND ac.removed_at IS NOT NULL)))",
            params![at, campaign],
        )
        .map_err(db_err)?;
    let reopened = c
        .execute(
            "UPDATE remediation_items SET status = 'OPEN', completed_at = NULL, attempts = 0,
            next_attempt_at = ?1, updated_at = ?1,
            last_error = 'the access is still present',
            assignment_id = (SELECT a.id FROM assignments a JOIN assignments old
                ON old.id = remediation_items.assignment_id
                WHERE a.removed_at IS NULL AND a.identity_id = old.identity_id
                  AND a.access_type = old.access_type AND a.access_id = old.access_id
                  AND coalesce(a.account_id, '') = coalesce(old.account_id, ''))
         WHERE status = 'COMPLETED' AND assignment_id IS NOT NULL
           AND (?2 IS NULL OR campaign_id = ?2) AND EXISTS (
            SELECT 1 FROM assignments a JOIN assignments old
                ON old.id = remediation_items.assignment_id
            WHERE a.removed_at IS NULL AND a.identity_id = old.identity_id
              AND a.access_type = old.access_type AND a.access_id = old.access_id
              AND coalesce(a.account_id, '') = coalesce(old.account_id, ''))",
            params![at, campaign],
        )
        .map_err(db_err)?;
    Ok(completed as u64 + reopened as u64)
}

/// A campaign's remediation scan: every REVOKE of a signed certification has its item, and
/// the items agree with the current grants. Returns how many items it opened or changed.
pub(crate) fn rescan(c: &mut Connection, campaign: Id, now: Timestamp) -> Result<u64, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let k = campaign.to_string();
    let opened = crate::closing::open_remediations(
        &tx,
        "certification_id IN (SELECT id FROM certifications
            WHERE campaign_id = ?1 AND phase = 'SIGNED')",
        &k,
        now,
    )?;
    let changed = reconcile(&tx, &now.to_string(), Some(&k))?;
    tx.commit().map_err(db_err)?;
    Ok(opened + changed)
}
