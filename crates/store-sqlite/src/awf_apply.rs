//! One row's change on SQLite: the expected version checked, then reviewers, decision, notes,
//! sign-off and their consequences (moves, remediation, signing the certification, completing
//! the campaign), in one transaction on the writer connection.

use recert_domain::Id;
use recert_domain::awf::{
    NotificationStatus, RemediationGate, RowChange, RowDecision, RowOutcome, remediation_gate,
};
use recert_domain::certification::{ReassignKind, ReassignOutcome, ReassignRef};
use recert_store::StoreError;
use recert_store::awf::ROW_DECISION;
use rusqlite::{Connection, OptionalExtension, params};

use crate::db_err;
use crate::queries::{get_id, get_ts};

pub(crate) fn apply(c: &mut Connection, ch: &RowChange) -> Result<RowOutcome, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let item = ch.item_id.to_string();
    let now = ch.now.to_string();
    let seen = tx
        .query_row(
            &format!(
                "SELECT i.certification_id, {ROW_DECISION}, i.signed_off,
                    coalesce(i.updated_at, k.generated_at, k.created_at), c.phase, k.status,
                    c.campaign_id
                 FROM review_items i JOIN certifications c ON c.id = i.certification_id
                 JOIN campaigns k ON k.id = i.campaign_id
                 WHERE i.id = ?1 AND i.campaign_id = ?2"
            ),
            params![item, ch.campaign_id.to_string()],
            |r| {
                Ok((
                    get_id(r, 0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    get_ts(r, 3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            },
        )
        .optional()
        .map_err(db_err)?;
    let Some((cert, decision, signed, updated, phase, status, campaign)) = seen else {
        return Ok(RowOutcome::Changed);
    };
    let e = &ch.expect;
    if cert != e.certification_id
        || RowDecision::parse(&decision) != Some(e.decision)
        || signed != e.signed_off
        || updated != e.updated_at
    {
        return Ok(RowOutcome::Changed);
    }
    let actor = crate::decisions::actor(&tx, ch.by)?;
    let mut cert = cert;

    // An un-sign-off first: the rest of the change then applies to an open row.
    if ch.signed_off == Some(false) && signed {
        tx.execute(
            "UPDATE review_items SET signed_off = 0, updated_at = ?2, updated_by = ?3
             WHERE id = ?1",
            params![item, now, actor],
        )
        .map_err(db_err)?;
        if phase == "SIGNED" && status == "ACTIVE" {
            tx.execute(
                "UPDATE certifications SET phase = 'ACTIVE', signed_at = NULL, modified_at = ?2
                 WHERE id = ?1",
                params![cert.to_string(), now],
            )
            .map_err(db_err)?;
            tx.execute(
                "UPDATE campaigns SET completed_certifications = (SELECT count(*)
                    FROM certifications WHERE campaign_id = ?1 AND phase = 'SIGNED'),
                    modified_at = ?2
                 WHERE id = ?1",
                params![campaign, now],
            )
            .map_err(db_err)?;
        }
    }

    if let Some(r) = &ch.reviewers {
        let owner: String = tx
            .query_row(
                "SELECT reviewer_id FROM certifications WHERE id = ?1",
                [cert.to_string()],
                |row| row.get(0),
            )
            .map_err(db_err)?;
        let co = (!r.co_reviewers.is_empty())
            .then(|| serde_json::to_string(&r.co_reviewers))
            .transpose()
            .map_err(|e| StoreError::Database(e.to_string()))?;
        if owner != r.owner.to_string() {
            let refs = [ReassignRef {
                id: ch.item_id,
                kind: ReassignKind::Item,
            }];
            match crate::reassign::reassign_in(
                &tx,
                cert,
                &refs,
                r.owner,
                &r.reason,
                ch.by,
                co.as_deref(),
                ch.now,
            )? {
                ReassignOutcome::Moved {
                    to_certification, ..
                } => cert = to_certification,
                other => return Ok(RowOutcome::CannotMove(cannot_move(other, r.owner))),
            }
        }
        // Without a move the co-reviewers change here (a move set them with it).
        tx.execute(
            "UPDATE review_items SET co_reviewers = ?2, updated_at = ?3, updated_by = ?4
             WHERE id = ?1 AND co_reviewers IS NOT ?2",
            params![item, co, now, actor],
        )
        .map_err(db_err)?;
        tx.execute("DELETE FROM item_co_reviewers WHERE item_id = ?1", [&item])
            .map_err(db_err)?;
        for u in &r.co_reviewers {
            tx.execute(
                "INSERT OR IGNORE INTO item_co_reviewers (identity_id, campaign_id, item_id)
                 VALUES (?1, ?2, ?3)",
                params![u.id, campaign, item],
            )
            .map_err(db_err)?;
        }
    }

    if let Some(d) = ch.decision {
        let r: Option<(String, bool)> = tx
            .query_row(
                "SELECT status, delivered_at IS NOT NULL OR attempts > 0
                 FROM remediation_items WHERE item_id = ?1",
                [&item],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?;
        if let Some((status, started)) = r {
            match remediation_gate(&status, started, d) {
                RemediationGate::Keep => {}
                RemediationGate::Withdraw => {
                    tx.execute("DELETE FROM remediation_items WHERE item_id = ?1", [&item])
                        .map_err(db_err)?;
                }
                RemediationGate::Refuse(m) => return Ok(RowOutcome::Refused(m)),
            }
        }
    }
    let sign = ch.signed_off == Some(true);
    if ch.decision.is_some() || ch.notes.is_some() || sign || ch.notification_status.is_some() {
        let d = ch.decision;
        tx.execute(
            "UPDATE review_items SET
                decision = CASE WHEN ?2 THEN ?3 ELSE decision END,
                fixed = CASE WHEN ?2 THEN ?4 ELSE fixed END,
                decided_by = CASE WHEN ?2 THEN ?5 ELSE decided_by END,
                decided_at = CASE WHEN ?2 THEN ?6 ELSE decided_at END,
                proposed_end_date = CASE WHEN ?2 AND ?3 IS NOT 'REVOKE' THEN NULL
                    ELSE proposed_end_date END,
                comments = CASE WHEN ?7 THEN ?8 ELSE comments END,
                signed_off = CASE WHEN ?9 THEN 1 ELSE signed_off END,
                notification_status = coalesce(?10, notification_status),
                updated_at = ?6, updated_by = ?11
             WHERE id = ?1",
            params![
                item,
                d.is_some(),
                d.and_then(RowDecision::stored).map(|x| x.as_str()),
                d == Some(RowDecision::Fixed),
                d.and_then(RowDecision::stored).map(|_| ch.by.to_string()),
                now,
                ch.notes.is_some(),
                ch.notes.clone().flatten(),
                sign,
                ch.notification_status.map(NotificationStatus::as_str),
                actor
            ],
        )
        .map_err(db_err)?;
        if d == Some(RowDecision::Fixed) {
            // Done by hand: the remediation item (if any) is complete; the row is already
            // FIXED, so the log keeps the person's DECISION, not the system's.
            tx.execute(
                "UPDATE remediation_items SET status = 'COMPLETED', completed_at = ?2,
                    updated_at = ?2, external_ref = coalesce(external_ref, 'manual')
                 WHERE item_id = ?1 AND status <> 'COMPLETED'",
                params![item, now],
            )
            .map_err(db_err)?;
        }
        crate::decisions::recount(&tx, &cert.to_string(), &now)?;
    }

    if sign {
        let cid = cert.to_string();
        let (phase, open): (String, i64) = tx
            .query_row(
                "SELECT phase, (SELECT count(*) FROM review_items
                    WHERE certification_id = ?1 AND signed_off = 0)
                 FROM certifications WHERE id = ?1",
                [&cid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db_err)?;
        if phase == "ACTIVE" && open == 0 {
            crate::decisions::sign_certification(&tx, &cid, &campaign, ch.by, ch.now)?;
        } else if phase == "SIGNED" {
            crate::closing::open_remediations(&tx, "id = ?1", &item, ch.now)?;
        }
    }
    tx.commit().map_err(db_err)?;
    Ok(RowOutcome::Applied)
}

fn cannot_move(outcome: ReassignOutcome, to: Id) -> String {
    match outcome {
        ReassignOutcome::NotActive(p) => {
            format!("the row's certification is {p}; its rows cannot move to another reviewer")
        }
        ReassignOutcome::NoSuchReviewer => {
            format!("identity {to} is not an active identity and cannot review")
        }
        ReassignOutcome::SelfReview(_) => {
            format!("identity {to} would review their own access; nobody reviews themselves")
        }
        other => format!("the row cannot move to identity {to}: {other:?}"),
    }
}
