//! Closing campaigns on SQLite: completion by an administrator, expiry at the due date, and
//! the remediation items their REVOKE decisions open.

use recert_domain::campaign::{CampaignStatus, Decision};
use recert_domain::review::TaskType;
use recert_domain::{Id, Timestamp};
use recert_store::StoreError;
use recert_store::campaigns::id_prefix;
use rusqlite::{Connection, params};

use crate::campaigns::{campaign_status, finish_tasks};
use crate::db_err;
use crate::queries::get_id;

const IN_CAMPAIGN: &str =
    "certification_id IN (SELECT id FROM certifications WHERE campaign_id = ?1)";

/// Turns the REVOKE decisions of signed certifications into remediation items (once each).
/// `cert_condition` selects the items' certifications by `?1` = `arg`.
pub(crate) fn open_remediations(
    tx: &Connection,
    cert_condition: &str,
    arg: &str,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let n = tx
        .execute(
            &format!(
                "INSERT INTO remediation_items (id, item_id, campaign_id, certification_id,
                    identity_id, access_type, access_id, account_id, assignment_id, status,
                    next_attempt_at, created_at, updated_at)
                 SELECT ?2 || printf('%016x', row_number() OVER (ORDER BY ri.id)), ri.id,
                    ri.campaign_id, ri.certification_id, ri.subject_id, ri.access_type,
                    ri.access_id, ri.account_id, ri.assignment_id, 'OPEN', ?3, ?3, ?3
                 FROM review_items ri
                 WHERE {cert_condition} AND ri.decision = 'REVOKE' AND ri.fixed = 0
                 ON CONFLICT (item_id) DO NOTHING"
            ),
            params![arg, id_prefix(), now.to_string()],
        )
        .map_err(db_err)?;
    Ok(n as u64)
}

pub(crate) fn complete(
    c: &mut Connection,
    id: Id,
    decision: Decision,
    now: Timestamp,
) -> Result<Option<u64>, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    if campaign_status(&tx, id)? != Some(CampaignStatus::Completing) {
        return Ok(None);
    }
    let cid = id.to_string();
    let auto = close(
        &tx,
        &cid,
        Some((
            decision,
            "Decided automatically when the campaign was completed",
        )),
        now,
    )?;
    tx.execute(
        "UPDATE campaigns SET completed_by = coalesce((SELECT requested_by
            FROM certification_tasks WHERE target_id = ?1 AND type = 'COMPLETE_CAMPAIGN'
            ORDER BY created_at DESC LIMIT 1), 'System')
         WHERE id = ?1",
        [&cid],
    )
    .map_err(db_err)?;
    finish_tasks(&tx, id, TaskType::CompleteCampaign, now)?;
    tx.commit().map_err(db_err)?;
    Ok(Some(auto))
}

/// Completes an overdue ACTIVE campaign as EXPIRED, by the system.
pub(crate) fn expire(
    c: &mut Connection,
    id: Id,
    reject_note: Option<&str>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let cid = id.to_string();
    let overdue: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = ?1 AND status = 'ACTIVE'
                AND deadline IS NOT NULL AND deadline < ?2)",
            params![cid, now.to_string()],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    if !overdue {
        return Ok(false);
    }
    close(&tx, &cid, reject_note.map(|n| (Decision::Revoke, n)), now)?;
    tx.execute(
        "UPDATE campaigns SET completed_by = 'System', expired = 1 WHERE id = ?1",
        [&cid],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(true)
}

/// ACTIVE campaigns past their deadline, oldest deadline first.
pub(crate) fn overdue(c: &Connection, now: Timestamp, limit: u32) -> Result<Vec<Id>, StoreError> {
    let mut stmt = c
        .prepare(
            "SELECT id FROM campaigns WHERE status = 'ACTIVE' AND deadline IS NOT NULL
                AND deadline < ?1
             ORDER BY deadline, id LIMIT ?2",
        )
        .map_err(db_err)?;
    stmt.query_map(params![now.to_string(), limit], |r| get_id(r, 0))
        .map_err(db_err)?
        .collect::<Result<_, _>>()
        .map_err(db_err)
}

/// Closes a campaign by the system: undecided items get `auto` (decision and comment) when
/// given, every row and certification is signed off, REVOKEs go to remediation, and the
/// campaign is COMPLETED. Returns how many items were decided automatically.
fn close(
    tx: &Connection,
    cid: &str,
    auto: Option<(Decision, &str)>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let ts = now.to_string();
    let system = recert_domain::awf::SYSTEM_ACTOR;
    let decided = match auto {
        Some((decision, comment)) => tx
            .execute(
                &format!(
                    "UPDATE review_items SET decision = ?2, decided_at = ?3, decided_by = NULL,
                        comments = coalesce(comments, ?4), updated_at = ?3, updated_by = ?5
                     WHERE {IN_CAMPAIGN} AND decision IS NULL"
                ),
                params![cid, decision.as_str(), ts, comment, system],
            )
            .map_err(db_err)? as u64,
        None => 0,
    };
    tx.execute(
        &format!(
            "UPDATE review_items SET signed_off = 1, updated_at = ?2, updated_by = ?3
             WHERE {IN_CAMPAIGN} AND signed_off = 0"
        ),
        params![cid, ts, system],
    )
    .map_err(db_err)?;
    if auto.is_some() {
        tx.execute(
            &format!(
                "UPDATE certification_subjects SET items_decided = items_total
                 WHERE {IN_CAMPAIGN}"
            ),
            [cid],
        )
        .map_err(db_err)?;
        tx.execute(
            "UPDATE certifications SET decisions_made = decisions_total,
                identities_completed = identities_total
             WHERE campaign_id = ?1",
            [cid],
        )
        .map_err(db_err)?;
    }
    tx.execute(
        "UPDATE certifications SET phase = 'SIGNED', signed_at = coalesce(signed_at, ?2),
            modified_at = ?2
         WHERE campaign_id = ?1",
        params![cid, ts],
    )
    .map_err(db_err)?;
    open_remediations(tx, IN_CAMPAIGN, cid, now)?;
    tx.execute(
        "UPDATE campaigns SET status = 'COMPLETED', completed_at = ?2, modified_at = ?2,
            completed_certifications = total_certifications
         WHERE id = ?1",
        params![cid, ts],
    )
    .map_err(db_err)?;
    Ok(decided)
}
