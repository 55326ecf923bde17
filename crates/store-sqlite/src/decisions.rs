//! Decisions and sign-off on SQLite. Every write runs on the one writer connection, so two
//! reviewers' batches never interleave; progress is recounted from the items, never adjusted
//! by increments, so it is exact whatever the order of calls.

use recert_domain::campaign::CertificationPhase;
use recert_domain::review::{DecideOutcome, DecisionWrite, SignOffOutcome};
use recert_domain::{Id, Timestamp};
use recert_store::StoreError;
use rusqlite::{Connection, OptionalExtension, params};

use crate::db_err;

pub(crate) fn phase(
    c: &Connection,
    cert: &str,
) -> Result<Option<(CertificationPhase, String)>, StoreError> {
    let row: Option<(String, String)> = c
        .query_row(
            "SELECT phase, campaign_id FROM certifications WHERE id = ?1",
            [cert],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    row.map(|(p, k)| {
        p.parse()
            .map(|p| (p, k))
            .map_err(|e: String| StoreError::corrupt("certifications", e))
    })
    .transpose()
}

/// Recounts a certification's totals and progress from its items: each identity summary's
/// items and decisions, and the certification's decisions and identities. Exact whatever moved
/// in or out (a reassignment moves items between certifications).
pub(crate) fn recount(c: &Connection, cert: &str, now: &str) -> Result<(), StoreError> {
    c.execute(
        "UPDATE certification_subjects SET items_total = x.n, items_decided = x.d
         FROM (SELECT subject_id, count(*) AS n, count(decision) AS d FROM review_items
               WHERE certification_id = ?1 GROUP BY subject_id) AS x
         WHERE certification_subjects.certification_id = ?1
           AND certification_subjects.subject_id = x.subject_id",
        [cert],
    )
    .map_err(db_err)?;
    c.execute(
        "UPDATE certifications SET
            (decisions_total, decisions_made) = (SELECT count(*), count(decision)
                FROM review_items WHERE certification_id = ?1),
            (identities_total, identities_completed) = (SELECT count(*),
                count(CASE WHEN items_decided = items_total THEN 1 END)
                FROM certification_subjects WHERE certification_id = ?1),
            modified_at = ?2
         WHERE id = ?1",
        params![cert, now],
    )
    .map_err(db_err)?;
    Ok(())
}

/// The actor JSON of `by` for the action log: the identity's id, email and name, or the API
/// client's id and name.
pub(crate) fn actor(c: &Connection, by: Id) -> Result<String, StoreError> {
    c.prepare_cached(
        "SELECT coalesce(
            (SELECT json_object('id', id, 'email', email, 'name', display_name)
             FROM identities WHERE id = ?1),
            json_object('id', ?1, 'email', NULL,
                'name', coalesce((SELECT name FROM api_clients WHERE id = ?1), ?1)))",
    )
    .map_err(db_err)?
    .query_row([by.to_string()], |r| r.get(0))
    .map_err(db_err)
}

pub(crate) fn decide(
    c: &mut Connection,
    cert: Id,
    decisions: &[DecisionWrite],
    by: Id,
    now: Timestamp,
) -> Result<DecideOutcome, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let cid = cert.to_string();
    let Some((p, _)) = phase(&tx, &cid)? else {
        return Ok(DecideOutcome::NoSuchCertification);
    };
    if p != CertificationPhase::Active {
        return Ok(DecideOutcome::NotActive(p));
    }
    let ts = now.to_string();
    let actor = actor(&tx, by)?;
    let (mut foreign, mut locked) = (Vec::new(), Vec::new());
    {
        let mut stmt = tx
            .prepare_cached(
                "UPDATE review_items SET decision = ?3, comments = ?4, proposed_end_date = ?5,
                    decided_by = ?6, decided_at = ?7, updated_at = ?7, updated_by = ?8,
                    fixed = CASE WHEN ?3 = 'REVOKE' THEN fixed ELSE 0 END
                 WHERE id = ?1 AND certification_id = ?2 AND signed_off = 0",
            )
            .map_err(db_err)?;
        for d in decisions {
            let n = stmt
                .execute(params![
                    d.item_id.to_string(),
                    cid,
                    d.decision.as_str(),
                    d.comments,
                    d.proposed_end_date.map(|t| t.to_string()),
                    by.to_string(),
                    ts,
                    actor
                ])
                .map_err(db_err)?;
            if n == 0 {
                let signed: Option<bool> = tx
                    .query_row(
                        "SELECT signed_off FROM review_items
                         WHERE id = ?1 AND certification_id = ?2",
                        params![d.item_id.to_string(), cid],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db_err)?;
                match signed {
                    Some(_) => locked.push(d.item_id),
                    None => foreign.push(d.item_id),
                }
            }
        }
    }
    // Dropping the transaction rolls every decision of the batch back.
    if !foreign.is_empty() {
        return Ok(DecideOutcome::ForeignItems(foreign));
    }
    if !locked.is_empty() {
        return Ok(DecideOutcome::LockedItems(locked));
    }
    recount(&tx, &cid, &ts)?;
    tx.commit().map_err(db_err)?;
    Ok(DecideOutcome::Written)
}

pub(crate) fn sign_off(
    c: &mut Connection,
    cert: Id,
    by: Id,
    now: Timestamp,
) -> Result<SignOffOutcome, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let cid = cert.to_string();
    let Some((p, campaign)) = phase(&tx, &cid)? else {
        return Ok(SignOffOutcome::NoSuchCertification);
    };
    if p != CertificationPhase::Active {
        return Ok(SignOffOutcome::NotActive(p));
    }
    let undecided: i64 = tx
        .query_row(
            "SELECT count(*) FROM review_items WHERE certification_id = ?1 AND decision IS NULL",
            [&cid],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    if undecided > 0 {
        return Ok(SignOffOutcome::Undecided(undecided));
    }
    let ts = now.to_string();
    tx.execute(
        "UPDATE review_items SET signed_off = 1, updated_at = ?2, updated_by = ?3
         WHERE certification_id = ?1 AND signed_off = 0",
        params![cid, ts, actor(&tx, by)?],
    )
    .map_err(db_err)?;
    let done = sign_certification(&tx, &cid, &campaign, by, now)?;
    tx.commit().map_err(db_err)?;
    Ok(SignOffOutcome::Signed {
        campaign_completed: done,
    })
}

/// Makes an ACTIVE certification whose rows are all signed off SIGNED: its REVOKEs go to
/// remediation, and its campaign completes (by `by`) with its last certification. Returns
/// whether the campaign completed.
pub(crate) fn sign_certification(
    tx: &Connection,
    cid: &str,
    campaign: &str,
    by: Id,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let ts = now.to_string();
    tx.execute(
        "UPDATE certifications SET phase = 'SIGNED', signed_at = ?2, modified_at = ?2
         WHERE id = ?1",
        params![cid, ts],
    )
    .map_err(db_err)?;
    crate::closing::open_remediations(tx, "certification_id = ?1", cid, now)?;
    let n = tx
        .execute(
            "UPDATE campaigns SET completed_certifications = (SELECT count(*) FROM certifications
                WHERE campaign_id = ?1 AND phase = 'SIGNED'), modified_at = ?2
             WHERE id = ?1",
            params![campaign, ts],
        )
        .map_err(db_err)?;
    Ok(n == 1
        && tx
            .execute(
                "UPDATE campaigns SET status = 'COMPLETED', completed_at = ?2, completed_by = ?3
                 WHERE id = ?1 AND status = 'ACTIVE'
                   AND completed_certifications = total_certifications",
                params![campaign, ts, by.to_string()],
            )
            .map_err(db_err)?
            == 1)
}
