//! The reviewer's API on SQLite: certifications and their items as a reviewer lists them, an
//! item's permissions, a certification's reviewers, moving items to another reviewer, and the
//! certification tasks. The collections' tables and columns are shared with PostgreSQL
//! ([`recert_store::certifications`]); every filter and sorter value is a bound parameter.

use std::collections::BTreeSet;

use recert_domain::campaign::CertificationPhase;
use recert_domain::certification::{
    AccessReviewItem, AccessSnapshot, AccountSnapshot, CampaignRef, ReassignKind, ReassignOutcome,
    ReassignRef, ReassignedFrom, ReviewerRef,
};
use recert_domain::review::{Certification, CertificationTask, CorrelatedStatus};
use recert_domain::{Id, NewJob, Permission, Timestamp};
use recert_store::certifications::{
    CERTIFICATION_FROM, ITEM_FROM, ITEM_KEYS_FROM, certification_column, certification_sort_column,
    item_column, item_sort_column, reviewer_column, reviewer_sort_column, task_column,
};
use recert_store::{ListQuery, Page, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::db_err;
use crate::queries::{
    Listing, Within, get_id, get_json, get_opt_id, get_opt_ts, get_ts, page_within,
};

fn bad(i: usize, e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        Box::<dyn std::error::Error + Send + Sync>::from(e.to_string()),
    )
}

fn parsed<T: std::str::FromStr>(r: &Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T::Err: std::fmt::Display,
{
    let s: String = r.get(i)?;
    s.parse().map_err(|e| bad(i, e))
}

/// The columns [`certification_from_row`] reads, over [`CERTIFICATION_FROM`].
pub(crate) const CERTIFICATION_COLUMNS: &str = "c.id, c.campaign_id, c.name, c.reviewer_id, \
    c.reviewer_name, c.reviewer_email, c.phase, c.due, c.signed_at, c.decisions_made, \
    c.decisions_total, c.identities_completed, c.identities_total, c.created_at, c.modified_at, \
    k.name, k.type, k.description, k.correlated_status, k.mandatory_comment_requirement, \
    c.reassigned_from_id, c.reassigned_from_name, c.reassigned_from_reviewer_id, \
    c.reassigned_from_reviewer_name, c.reassigned_from_reviewer_email, c.reassignment_comment";

pub(crate) fn certification_from_row(r: &Row<'_>) -> rusqlite::Result<Certification> {
    let correlated: String = r.get(18)?;
    let reassigned_from = match get_opt_id(r, 20)? {
        Some(certification_id) => Some(ReassignedFrom {
            certification_id,
            certification_name: r.get::<_, Option<String>>(21)?.unwrap_or_default(),
            reviewer_id: get_opt_id(r, 22)?
                .ok_or_else(|| bad(22, "a reassignment without its former reviewer"))?,
            reviewer_name: r.get::<_, Option<String>>(23)?.unwrap_or_default(),
            reviewer_email: r.get(24)?,
            comment: r.get(25)?,
        }),
        None => None,
    };
    Ok(Certification {
        id: get_id(r, 0)?,
        campaign_id: get_id(r, 1)?,
        name: r.get(2)?,
        reviewer_id: get_id(r, 3)?,
        reviewer_name: r.get(4)?,
        reviewer_email: r.get(5)?,
        phase: parsed(r, 6)?,
        due: get_opt_ts(r, 7)?,
        signed: get_opt_ts(r, 8)?,
        decisions_made: r.get(9)?,
        decisions_total: r.get(10)?,
        identities_completed: r.get(11)?,
        identities_total: r.get(12)?,
        created: get_ts(r, 13)?,
        modified: get_ts(r, 14)?,
        campaign: CampaignRef {
            id: get_id(r, 1)?,
            name: r.get(15)?,
            campaign_type: parsed(r, 16)?,
            description: r.get(17)?,
            correlated_status: CorrelatedStatus::parse(&correlated)
                .ok_or_else(|| bad(18, "unknown correlated status"))?,
            mandatory_comment_requirement: parsed(r, 19)?,
        },
        reassigned_from,
    })
}

const CERTIFICATIONS: Listing<Certification> = Listing {
    table: CERTIFICATION_FROM,
    columns: CERTIFICATION_COLUMNS,
    column: certification_column,
    sort: certification_sort_column,
    // Due date first (none last), then name.
    default_order: "c.due IS NULL, c.due, c.name, c.id",
    from_row: certification_from_row,
};

pub(crate) fn certifications(
    c: &Connection,
    reviewer: Option<Id>,
    q: &ListQuery,
) -> Result<Page<Certification>, StoreError> {
    let within = match reviewer {
        Some(r) => Within {
            cond: "c.reviewer_id = ?1".into(),
            params: vec![Value::Text(r.to_string())],
            tie: "c.id",
            keys_from: None,
        },
        None => Within {
            cond: "1 = 1".into(),
            params: Vec::new(),
            tie: "c.id",
            keys_from: None,
        },
    };
    page_within(c, &CERTIFICATIONS, Some(&within), q)
}

pub(crate) fn certification(c: &Connection, id: Id) -> Result<Option<Certification>, StoreError> {
    // Read by every reviewer call: the statement is compiled once per connection.
    c.prepare_cached(&format!(
        "SELECT {CERTIFICATION_COLUMNS} FROM {CERTIFICATION_FROM} WHERE c.id = ?1"
    ))
    .map_err(db_err)?
    .query_row([id.to_string()], certification_from_row)
    .optional()
    .map_err(db_err)
}

/// The columns [`item_from_row`] reads, over [`ITEM_FROM`].
pub(crate) const ITEM_COLUMNS: &str = "i.id, i.certification_id, i.summary_id, i.subject_id, s.name, \
    (s.items_decided = s.items_total), i.access_type, i.access_id, \
    COALESCE(a.name, i.account_name, ''), a.access_id IS NOT NULL, a.description, a.privileged, \
    a.source_id, a.source_name, a.source_type, a.attribute_name, a.attribute_value, a.owner_id, \
    a.owner_name, a.owner_email, json_array_length(a.permissions) > 0, a.contents, \
    i.account_id, i.account_name, i.account_native_identity, i.account_source_id, \
    i.account_disabled, i.account_locked, i.new_access, i.decision, i.comments, \
    i.proposed_end_date";

pub(crate) fn item_from_row(r: &Row<'_>) -> rusqlite::Result<AccessReviewItem> {
    let snapshot: bool = r.get(9)?;
    let access = if snapshot {
        Some(AccessSnapshot {
            description: r.get(10)?,
            privileged: r.get(11)?,
            source_id: get_opt_id(r, 12)?,
            source_name: r.get(13)?,
            source_type: r.get(14)?,
            attribute_name: r.get(15)?,
            attribute_value: r.get(16)?,
            owner_id: get_opt_id(r, 17)?,
            owner_name: r.get(18)?,
            owner_email: r.get(19)?,
            has_permissions: r.get::<_, Option<bool>>(20)?.unwrap_or(false),
            contents: get_json(r, 21)?,
        })
    } else {
        None
    };
    let account = match get_opt_id(r, 22)? {
        Some(id) => Some(AccountSnapshot {
            id: Some(id),
            name: r.get(23)?,
            native_identity: r.get(24)?,
            source_id: get_opt_id(r, 25)?,
            disabled: r.get::<_, Option<bool>>(26)?.unwrap_or(false),
            locked: r.get::<_, Option<bool>>(27)?.unwrap_or(false),
        }),
        None => None,
    };
    let decision: Option<String> = r.get(29)?;
    Ok(AccessReviewItem {
        id: get_id(r, 0)?,
        certification_id: get_id(r, 1)?,
        summary_id: get_id(r, 2)?,
        identity_id: get_id(r, 3)?,
        identity_name: r.get(4)?,
        identity_completed: r.get(5)?,
        access_type: r.get(6)?,
        access_id: get_id(r, 7)?,
        access_name: r.get(8)?,
        access,
        account,
        new_access: r.get(28)?,
        decision: decision
            .map(|d| d.parse().map_err(|e: String| bad(29, e)))
            .transpose()?,
        comments: r.get(30)?,
        proposed_end_date: get_opt_ts(r, 31)?,
    })
}

const ITEMS: Listing<AccessReviewItem> = Listing {
    table: ITEM_FROM,
    columns: ITEM_COLUMNS,
    column: item_column,
    sort: item_sort_column,
    default_order: "i.id",
    from_row: item_from_row,
};

pub(crate) fn access_review_items(
    c: &Connection,
    cert: Id,
    access: Option<(&str, &[Id])>,
    q: &ListQuery,
) -> Result<Page<AccessReviewItem>, StoreError> {
    let mut within = Within {
        cond: "i.certification_id = ?1".into(),
        params: vec![Value::Text(cert.to_string())],
        tie: "i.id",
        keys_from: Some(ITEM_KEYS_FROM),
    };
    if let Some((access_type, ids)) = access {
        within.params.push(Value::Text(access_type.to_owned()));
        within
            .cond
            .push_str(&format!(" AND i.access_type = ?{}", within.params.len()));
        if ids.is_empty() {
            within.cond.push_str(" AND 1 = 0");
        } else {
            let mut ps = Vec::with_capacity(ids.len());
            for id in ids {
                within.params.push(Value::Text(id.to_string()));
                ps.push(format!("?{}", within.params.len()));
            }
            within
                .cond
                .push_str(&format!(" AND i.access_id IN ({})", ps.join(", ")));
        }
    }
    page_within(c, &ITEMS, Some(&within), q)
}

pub(crate) fn item_permissions(
    c: &Connection,
    cert: Id,
    item: Id,
) -> Result<Option<Vec<Permission>>, StoreError> {
    let row: Option<(String, Option<String>)> = c
        .query_row(
            "SELECT i.access_type, a.permissions FROM review_items i
             LEFT JOIN campaign_access a ON a.campaign_id = i.campaign_id
                AND a.access_type = i.access_type AND a.access_id = i.access_id
             WHERE i.id = ?1 AND i.certification_id = ?2",
            params![item.to_string(), cert.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((access_type, permissions)) = row else {
        return Ok(None);
    };
    match permissions {
        Some(p) if access_type == "ENTITLEMENT" => serde_json::from_str(&p)
            .map(Some)
            .map_err(|e| StoreError::corrupt("campaign_access", e)),
        _ => Ok(Some(Vec::new())),
    }
}

const REVIEWERS: Listing<ReviewerRef> = Listing {
    table: "certifications c",
    columns: "c.reviewer_id, c.reviewer_name, c.reviewer_email",
    column: reviewer_column,
    sort: reviewer_sort_column,
    default_order: "c.reviewer_name, c.reviewer_id",
    from_row: |r| {
        Ok(ReviewerRef {
            id: get_id(r, 0)?,
            name: r.get(1)?,
            email: r.get(2)?,
        })
    },
};

pub(crate) fn certification_reviewers(
    c: &Connection,
    cert: Id,
    q: &ListQuery,
) -> Result<Page<ReviewerRef>, StoreError> {
    let within = Within {
        cond: "c.id = ?1".into(),
        params: vec![Value::Text(cert.to_string())],
        tie: "c.id",
        keys_from: None,
    };
    page_within(c, &REVIEWERS, Some(&within), q)
}

const TASKS: Listing<CertificationTask> = Listing {
    table: "certification_tasks t",
    columns: "t.id, t.type, t.target_type, t.target_id, t.status, t.errors, \
        t.reassignment_trails, t.request, t.requested_by, t.created_at, t.updated_at",
    column: task_column,
    // Tasks have no sorters: always oldest first.
    sort: |_| None,
    default_order: "t.created_at, t.id",
    from_row: crate::campaigns::task_from_row,
};

pub(crate) fn certification_tasks(
    c: &Connection,
    reviewer: Option<Id>,
    pending_only: bool,
    q: &ListQuery,
) -> Result<Page<CertificationTask>, StoreError> {
    let mut within = Within {
        cond: "1 = 1".into(),
        params: Vec::new(),
        tie: "t.id",
        keys_from: None,
    };
    if pending_only {
        within
            .cond
            .push_str(" AND t.status IN ('QUEUED', 'IN_PROGRESS')");
    }
    if let Some(r) = reviewer {
        within.params.push(Value::Text(r.to_string()));
        within.cond.push_str(&format!(
            " AND t.target_type = 'CERTIFICATION'
              AND t.target_id IN (SELECT id FROM certifications WHERE reviewer_id = ?{})",
            within.params.len()
        ));
    }
    page_within(c, &TASKS, Some(&within), q)
}

pub(crate) fn create_task(
    c: &mut Connection,
    task: &CertificationTask,
    job: &NewJob,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    crate::campaigns::insert_task(&tx, task)?;
    crate::jobs::enqueue(&tx, job, task.created)?;
    tx.commit().map_err(db_err)
}

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
