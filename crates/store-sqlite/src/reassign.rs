//! Moving review items to another reviewer on SQLite (SailPoint's reassign and the Access
//! Workflows dialect's reviewers): all or nothing, the new reviewer's certification created when
//! needed, both certifications recounted.

use std::collections::BTreeSet;

use recert_domain::campaign::CertificationPhase;
use recert_domain::certification::{ReassignKind, ReassignOutcome, ReassignRef};
use recert_domain::{Id, Timestamp};
use recert_store::StoreError;
use rusqlite::{Connection, OptionalExtension, params};

use crate::db_err;

/// The source certification of a reassignment.
struct Source {
    campaign_id: String,
    name: String,
    reviewer_id: String,
    reviewer_name: String,
    reviewer_email: Option<String>,
    phase: String,
    due: Option<String>,
}

/// The item ids (in this certification) one reference names.
fn resolve(tx: &Connection, cert: &str, r: &ReassignRef) -> Result<Vec<String>, StoreError> {
    let sql = match r.kind {
        ReassignKind::Item => "SELECT id FROM review_items WHERE id = ?1 AND certification_id = ?2",
        ReassignKind::IdentitySummary => {
            "SELECT id FROM review_items WHERE certification_id = ?2 AND subject_id IN
                (SELECT subject_id FROM certification_subjects
                 WHERE certification_id = ?2 AND (id = ?1 OR subject_id = ?1))"
        }
        ReassignKind::TargetSummary => {
            "SELECT id FROM review_items WHERE certification_id = ?2 AND access_id = ?1"
        }
    };
    let mut stmt = tx.prepare_cached(sql).map_err(db_err)?;
    stmt.query_map(params![r.id.to_string(), cert], |row| row.get(0))
        .map_err(db_err)?
        .collect::<Result<Vec<String>, _>>()
        .map_err(db_err)
}

/// The name of a certification created for `to`: the source's name with its reviewer's name
/// replaced, or `<campaign> - <reviewer>` when the source's name does not hold it.
fn new_name(src: &Source, campaign_name: &str, to_name: &str) -> String {
    if !src.reviewer_name.is_empty() && src.name.contains(&src.reviewer_name) {
        src.name.replace(&src.reviewer_name, to_name)
    } else {
        format!("{campaign_name} - {to_name}")
    }
}

pub(crate) fn reassign_items(
    c: &mut Connection,
    cert: Id,
    refs: &[ReassignRef],
    to: Id,
    reason: &str,
    by: Id,
    now: Timestamp,
) -> Result<ReassignOutcome, StoreError> {
    // Every refusal returns before anything is written; dropping the transaction rolls back.
    let tx = c.transaction().map_err(db_err)?;
    let out = reassign_in(&tx, cert, refs, to, reason, by, None, now)?;
    if matches!(out, ReassignOutcome::Moved { .. }) {
        tx.commit().map_err(db_err)?;
    }
    Ok(out)
}

/// [`reassign_items`] inside a transaction the caller commits; a refusal writes nothing. The
/// moved items lose their decision and sign-off and get `co_reviewers` (JSON; `None`: none)
/// in the same change, so that a move is one REVIEWERS entry in their log.
#[allow(clippy::too_many_arguments)]
pub(crate) fn reassign_in(
    tx: &Connection,
    cert: Id,
    refs: &[ReassignRef],
    to: Id,
    reason: &str,
    by: Id,
    co_reviewers: Option<&str>,
    now: Timestamp,
) -> Result<ReassignOutcome, StoreError> {
    let cid = cert.to_string();
    let to_id = to.to_string();
    let ts = now.to_string();
    let src: Option<Source> = tx
        .query_row(
            "SELECT campaign_id, name, reviewer_id, reviewer_name, reviewer_email, phase, due
             FROM certifications WHERE id = ?1",
            [&cid],
            |r| {
                Ok(Source {
                    campaign_id: r.get(0)?,
                    name: r.get(1)?,
                    reviewer_id: r.get(2)?,
                    reviewer_name: r.get(3)?,
                    reviewer_email: r.get(4)?,
                    phase: r.get(5)?,
                    due: r.get(6)?,
                })
            },
        )
        .optional()
        .map_err(db_err)?;
    let Some(src) = src else {
        return Ok(ReassignOutcome::NoSuchCertification);
    };
    let phase: CertificationPhase = src
        .phase
        .parse()
        .map_err(|e: String| StoreError::corrupt("certifications", e))?;
    if phase != CertificationPhase::Active {
        return Ok(ReassignOutcome::NotActive(phase));
    }
    let reviewer: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT display_name, email FROM identities
             WHERE id = ?1 AND active = 1 AND removed_at IS NULL",
            [&to_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((to_name, to_email)) = reviewer else {
        return Ok(ReassignOutcome::NoSuchReviewer);
    };
    if src.reviewer_id == to_id {
        return Ok(ReassignOutcome::SameReviewer);
    }

    let mut items: BTreeSet<String> = BTreeSet::new();
    let mut unmatched = Vec::new();
    for r in refs {
        let found = resolve(tx, &cid, r)?;
        if found.is_empty() {
            unmatched.push(format!("{} {}", r.kind.as_str(), r.id));
        }
        items.extend(found);
    }
    if !unmatched.is_empty() {
        return Ok(ReassignOutcome::Unmatched(unmatched));
    }
    let ids = serde_json::to_string(&items).map_err(|e| StoreError::Database(e.to_string()))?;
    const MOVED: &str = "id IN (SELECT value FROM json_each(?1))";
    let own: bool = tx
        .query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM review_items WHERE {MOVED} AND subject_id = ?2)"
            ),
            params![ids, to_id],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    if own {
        return Ok(ReassignOutcome::SelfReview(vec![to]));
    }

    // The new reviewer's ACTIVE certification in the campaign, or a new one.
    let existing: Option<String> = tx
        .query_row(
            "SELECT id FROM certifications
             WHERE campaign_id = ?1 AND reviewer_id = ?2 AND phase = 'ACTIVE'
             ORDER BY created_at, id LIMIT 1",
            params![src.campaign_id, to_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    let created = existing.is_none();
    let target = match existing {
        Some(t) => t,
        None => {
            let campaign_name: String = tx
                .query_row(
                    "SELECT name FROM campaigns WHERE id = ?1",
                    [&src.campaign_id],
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            let t = Id::generate().to_string();
            tx.execute(
                "INSERT INTO certifications (id, campaign_id, name, reviewer_id, reviewer_name,
                    reviewer_email, phase, due, decisions_total, identities_total,
                    reassigned_from_id, reassigned_from_name, reassigned_from_reviewer_id,
                    reassigned_from_reviewer_name, reassigned_from_reviewer_email,
                    reassignment_comment, created_at, modified_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'ACTIVE', ?7, 0, 0, ?8, ?9, ?10, ?11, ?12, ?13,
                    ?14, ?14)",
                params![
                    t,
                    src.campaign_id,
                    new_name(&src, &campaign_name, &to_name),
                    to_id,
                    to_name,
                    to_email,
                    src.due,
                    cid,
                    src.name,
                    src.reviewer_id,
                    src.reviewer_name,
                    src.reviewer_email,
                    reason,
                    ts
                ],
            )
            .map_err(db_err)?;
            tx.execute(
                "UPDATE campaigns SET total_certifications = total_certifications + 1,
                    modified_at = ?2
                 WHERE id = ?1",
                params![src.campaign_id, ts],
            )
            .map_err(db_err)?;
            t
        }
    };

    // The moved items' identity summaries in the target, then the items themselves.
    let subjects: Vec<(String, String)> = {
        let mut stmt = tx
            .prepare(&format!(
                "SELECT DISTINCT s.subject_id, s.name FROM review_items i
                 JOIN certification_subjects s ON s.id = i.summary_id
                 WHERE i.{MOVED}"
            ))
            .map_err(db_err)?;
        stmt.query_map([&ids], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db_err)?
            .collect::<Result<_, _>>()
            .map_err(db_err)?
    };
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO certification_subjects (id, certification_id, subject_id, name,
                    items_total)
                 VALUES (?1, ?2, ?3, ?4, 0)
                 ON CONFLICT (certification_id, subject_id) DO NOTHING",
            )
            .map_err(db_err)?;
        for (subject, name) in &subjects {
            stmt.execute(params![Id::generate().to_string(), target, subject, name])
                .map_err(db_err)?;
        }
    }
    let moved = tx
        .execute(
            &format!(
                "UPDATE review_items SET certification_id = ?2,
                    summary_id = (SELECT s.id FROM certification_subjects s
                        WHERE s.certification_id = ?2 AND s.subject_id = review_items.subject_id),
                    subject_name = (SELECT s.name FROM certification_subjects s
                        WHERE s.certification_id = ?2 AND s.subject_id = review_items.subject_id),
                    decision = NULL, comments = NULL, proposed_end_date = NULL,
                    decided_by = NULL, decided_at = NULL, fixed = 0, signed_off = 0,
                    co_reviewers = ?5, updated_at = ?3, updated_by = ?4
                 WHERE {MOVED}"
            ),
            params![
                ids,
                target,
                ts,
                crate::decisions::actor(tx, by)?,
                co_reviewers
            ],
        )
        .map_err(db_err)? as u64;
    tx.execute(
        &format!("DELETE FROM item_co_reviewers WHERE item_{MOVED}"),
        [&ids],
    )
    .map_err(db_err)?;
    tx.execute(
        "DELETE FROM certification_subjects WHERE certification_id = ?1
           AND NOT EXISTS (SELECT 1 FROM review_items i WHERE i.certification_id = ?1
                           AND i.subject_id = certification_subjects.subject_id)",
        [&cid],
    )
    .map_err(db_err)?;
    crate::decisions::recount(tx, &cid, &ts)?;
    crate::decisions::recount(tx, &target, &ts)?;
    // A certification left with no row to sign off (all moved away, or the rest signed off
    // one by one) is done: it is signed, and may complete the campaign.
    let open: i64 = tx
        .query_row(
            "SELECT count(*) FROM review_items WHERE certification_id = ?1 AND signed_off = 0",
            [&cid],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    if open == 0 {
        crate::decisions::sign_certification(tx, &cid, &src.campaign_id, by, now)?;
    }
    Ok(ReassignOutcome::Moved {
        to_certification: Id::parse(&target)
            .map_err(|e| StoreError::corrupt("certifications", e))?,
        created,
        items: moved,
    })
}

/// Moves whole certifications of a campaign to another reviewer (the administrator's
/// reassign); answers one message per certification it could not move.
pub(crate) fn reassign_certifications(
    c: &mut Connection,
    campaign_id: Id,
    cert_ids: &[Id],
    to: Id,
    reason: &str,
    now: Timestamp,
) -> Result<Vec<String>, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let reviewer: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT display_name, email FROM identities
             WHERE id = ?1 AND active = 1 AND removed_at IS NULL",
            [to.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((name, email)) = reviewer else {
        return Ok(vec![format!(
            "identity {to} is not an active identity and cannot review"
        )]);
    };
    let mut errors = Vec::new();
    for cert in cert_ids {
        let row: Option<(String, String)> = tx
            .query_row(
                "SELECT campaign_id, phase FROM certifications WHERE id = ?1",
                [cert.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?;
        match row {
            None => errors.push(format!("certification {cert} does not exist")),
            Some((k, _)) if k != campaign_id.to_string() => errors.push(format!(
                "certification {cert} is not in campaign {campaign_id}"
            )),
            Some((_, phase)) if phase == CertificationPhase::Signed.as_str() => errors.push(
                format!("certification {cert} is signed off and cannot move"),
            ),
            Some(_) => {
                let own: bool = tx
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM certification_subjects
                         WHERE certification_id = ?1 AND subject_id = ?2)",
                        params![cert.to_string(), to.to_string()],
                        |r| r.get(0),
                    )
                    .map_err(db_err)?;
                if own {
                    errors.push(format!(
                        "certification {cert} reviews {to}'s own access; nobody reviews themselves"
                    ));
                    continue;
                }
                // The items stay in the certification; their owner changes.
                tx.execute(
                    "INSERT INTO item_actions (item_id, campaign_id, at, actor, action,
                        old_value, new_value)
                     SELECT i.id, i.campaign_id, ?3, ?4, 'REVIEWERS',
                        json_array(json_object('id', c.reviewer_id, 'email', c.reviewer_email,
                            'name', c.reviewer_name)),
                        json_array(json_object('id', ?2, 'email', ?5, 'name', ?6))
                     FROM review_items i JOIN certifications c ON c.id = i.certification_id
                     WHERE i.certification_id = ?1
                     ORDER BY i.id",
                    params![
                        cert.to_string(),
                        to.to_string(),
                        now.to_string(),
                        recert_domain::awf::SYSTEM_ACTOR,
                        email,
                        name
                    ],
                )
                .map_err(db_err)?;
                tx.execute(
                    "UPDATE certifications SET
                        reassigned_from_id = id, reassigned_from_name = name,
                        reassigned_from_reviewer_id = reviewer_id,
                        reassigned_from_reviewer_name = reviewer_name,
                        reassigned_from_reviewer_email = reviewer_email,
                        reassignment_comment = ?5,
                        reviewer_id = ?2, reviewer_name = ?3, reviewer_email = ?4, modified_at = ?6
                     WHERE id = ?1",
                    params![
                        cert.to_string(),
                        to.to_string(),
                        name,
                        email,
                        reason,
                        now.to_string()
                    ],
                )
                .map_err(db_err)?;
            }
        }
    }
    tx.commit().map_err(db_err)?;
    Ok(errors)
}
