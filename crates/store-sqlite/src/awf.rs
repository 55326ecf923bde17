//! The Access Workflows dialect on SQLite: result rows (review items with their sign-off,
//! co-reviewers and action log), changes to one row, reviewer statistics, expiry.

use std::collections::HashMap;

use recert_domain::awf::{
    ActionEntry, ActionKind, CampaignRows, NotificationStatus, RemediationGate, ReviewerStats, Row,
    RowChange, RowDecision, RowOutcome, RowQuery, UserRef, remediation_gate,
};
use recert_domain::certification::{ReassignKind, ReassignOutcome, ReassignRef};
use recert_domain::{Id, Timestamp};
use recert_store::awf::{ROW_DECISION, row_column};
use recert_store::certifications::ITEM_FROM;
use recert_store::sql::{Placeholder, render};
use recert_store::{Page, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use crate::db_err;
use crate::queries::{get_id, get_json, get_opt_id, get_ts};
use crate::reviews::{ITEM_COLUMNS, item_from_row};

/// The smallest and largest item id a campaign whose first item is `first` can have.
fn id_range(first: Id) -> (String, String) {
    let f = first.to_string();
    let last = format!("{}ffffffffffffffff", &f[..16]);
    (f, last)
}

fn first_item(c: &Connection, campaign: Id) -> Result<Option<Id>, StoreError> {
    let s: Option<Option<String>> = c
        .query_row(
            "SELECT first_item_id FROM campaigns WHERE id = ?1",
            [campaign.to_string()],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    s.flatten()
        .map(|s| Id::parse(&s).map_err(|e| StoreError::corrupt("campaigns", e)))
        .transpose()
}

pub(crate) fn campaign_ids(
    c: &Connection,
    template: Option<Option<Id>>,
    reviewer: Option<Id>,
    creator: Option<Id>,
    after: Option<Id>,
    limit: u32,
    count: bool,
) -> Result<Page<Id>, StoreError> {
    let cond = "(?1 = 0 OR k.template_id IS ?2)
        AND (?3 IS NULL OR (k.status IN ('ACTIVE', 'COMPLETING', 'COMPLETED', 'ARCHIVED') AND (
            EXISTS (SELECT 1 FROM certifications c WHERE c.campaign_id = k.id
                    AND c.reviewer_id = ?3 AND c.decisions_total > 0)
            OR EXISTS (SELECT 1 FROM item_co_reviewers x WHERE x.identity_id = ?3
                    AND x.campaign_id = k.id))))
        AND (?4 IS NULL OR k.created_by = ?4)";
    let args = [
        Value::Integer(i64::from(template.is_some())),
        template
            .flatten()
            .map_or(Value::Null, |t| Value::Text(t.to_string())),
        reviewer.map_or(Value::Null, |r| Value::Text(r.to_string())),
        creator.map_or(Value::Null, |r| Value::Text(r.to_string())),
        after.map_or(Value::Null, |a| Value::Text(a.to_string())),
        Value::Integer(i64::from(limit)),
    ];
    let mut stmt = c
        .prepare(&format!(
            "SELECT k.id FROM campaigns k WHERE {cond}
               AND (?5 IS NULL OR (k.created_at, k.id) <
                    (SELECT created_at, id FROM campaigns WHERE id = ?5))
             ORDER BY k.created_at DESC, k.id DESC LIMIT ?6"
        ))
        .map_err(db_err)?;
    let items = stmt
        .query_map(params_from_iter(args.iter()), |r| get_id(r, 0))
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    let total = if count {
        let n: i64 = c
            .query_row(
                &format!("SELECT count(*) FROM campaigns k WHERE {cond}"),
                params_from_iter(args[..4].iter()),
                |r| r.get(0),
            )
            .map_err(db_err)?;
        Some(n as u64)
    } else {
        None
    };
    Ok(Page { items, total })
}

pub(crate) fn campaign_rows(c: &Connection, ids: &[Id]) -> Result<Vec<CampaignRows>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let k = id.to_string();
        let head = c
            .query_row(
                "SELECT first_item_id, completed_by, expired,
                    (SELECT coalesce(sum(decisions_total), 0) FROM certifications
                     WHERE campaign_id = ?1),
                    (SELECT coalesce(sum(decisions_made), 0) FROM certifications
                     WHERE campaign_id = ?1)
                 FROM campaigns WHERE id = ?1",
                [&k],
                |r| {
                    Ok((
                        get_opt_id(r, 0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(db_err)?;
        let Some((first_item_id, completed_by, expired, rows, decided)) = head else {
            continue;
        };
        let mut stmt = c
            .prepare_cached(
                "SELECT reviewer_id, reviewer_email, reviewer_name FROM certifications
                 WHERE campaign_id = ?1 AND decisions_total > 0
                 UNION
                 SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.email'),
                    json_extract(j.value, '$.name')
                 FROM item_co_reviewers x JOIN review_items i ON i.id = x.item_id,
                    json_each(i.co_reviewers) j
                 WHERE x.campaign_id = ?1 AND json_extract(j.value, '$.id') = x.identity_id",
            )
            .map_err(db_err)?;
        let mut reviewers: Vec<UserRef> = stmt
            .query_map([&k], |r| {
                Ok(UserRef {
                    id: r.get(0)?,
                    email: r.get(1)?,
                    name: r.get(2)?,
                })
            })
            .map_err(db_err)?
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
        reviewers.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        reviewers.dedup_by(|a, b| a.id == b.id);
        out.push(CampaignRows {
            campaign_id: *id,
            first_item_id,
            completed_by,
            expired,
            rows: rows as u64,
            decided: decided as u64,
            reviewers,
        });
    }
    Ok(out)
}

/// The row columns after the item's own ([`ITEM_COLUMNS`], 32 of them).
const ROW_COLUMNS: &str = "ci.email, ci.attributes, a.permissions, i.fixed, i.signed_off, \
    c.reviewer_id, c.reviewer_email, c.reviewer_name, i.co_reviewers, i.notification_status, \
    r.status, r.delivered_at, coalesce(i.updated_at, k.generated_at, k.created_at)";

const ROW_FROM: &str = "JOIN certifications c ON c.id = i.certification_id \
    JOIN campaigns k ON k.id = i.campaign_id \
    LEFT JOIN campaign_identities ci ON ci.campaign_id = i.campaign_id \
        AND ci.identity_id = i.subject_id \
    LEFT JOIN remediation_items r ON r.item_id = i.id";

fn notification(
    set: Option<String>,
    remediation: Option<String>,
    delivered: bool,
) -> NotificationStatus {
    if let Some(s) = set.as_deref().and_then(NotificationStatus::parse) {
        return s;
    }
    match remediation.as_deref() {
        None => NotificationStatus::Unknown,
        Some("COMPLETED") => NotificationStatus::Succeed,
        Some(_) if delivered => NotificationStatus::Succeed,
        Some("FAILED") => NotificationStatus::Failed,
        Some(_) => NotificationStatus::Pending,
    }
}

pub(crate) fn rows(c: &Connection, q: &RowQuery) -> Result<Page<Row>, StoreError> {
    let Some(first) = first_item(c, q.campaign_id)? else {
        return Ok(Page {
            items: Vec::new(),
            total: q.count.then_some(0),
        });
    };
    let (lo, hi) = id_range(first);
    let mut args = vec![
        Value::Text(q.campaign_id.to_string()),
        Value::Text(lo),
        Value::Text(hi),
    ];
    let mut cond = "i.campaign_id = ?1 AND i.id BETWEEN ?2 AND ?3".to_owned();
    if let Some(v) = q.viewer {
        args.push(Value::Text(v.to_string()));
        let n = args.len();
        cond.push_str(&format!(
            " AND (i.certification_id IN (SELECT id FROM certifications
                    WHERE campaign_id = ?1 AND reviewer_id = ?{n})
                OR i.id IN (SELECT item_id FROM item_co_reviewers
                    WHERE identity_id = ?{n} AND campaign_id = ?1))"
        ));
    }
    if let Some(item) = q.item {
        args.push(Value::Text(item.to_string()));
        cond.push_str(&format!(" AND i.id = ?{}", args.len()));
    }
    if let Some(f) = &q.filter {
        let (sql, vals) = render(f, &row_column, Placeholder::Question, args.len() + 1)
            .map_err(|e| StoreError::Database(e.0))?;
        args.extend(crate::params::sql_params(&vals));
        cond.push_str(&format!(" AND ({sql})"));
    }
    let total = if q.count {
        let n: i64 = c
            .query_row(
                &format!(
                    "SELECT count(*) FROM review_items i
                     JOIN certifications c ON c.id = i.certification_id WHERE {cond}"
                ),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )
            .map_err(db_err)?;
        Some(n as u64)
    } else {
        None
    };
    if let Some(after) = q.after {
        args.push(Value::Text(after.to_string()));
        cond.push_str(&format!(" AND i.id > ?{}", args.len()));
    }
    args.push(Value::Integer(i64::from(q.limit)));
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, {ROW_COLUMNS} FROM {ITEM_FROM} {ROW_FROM}
         WHERE {cond} ORDER BY i.id LIMIT ?{}",
        args.len()
    );
    let mut stmt = c.prepare(&sql).map_err(db_err)?;
    let mut items = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            let item = item_from_row(r)?;
            let owner = UserRef {
                id: r.get(37)?,
                email: r.get(38)?,
                name: r.get(39)?,
            };
            let co: Option<String> = r.get(40)?;
            let co: Vec<UserRef> = match co {
                Some(s) => serde_json::from_str(&s).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        40,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?,
                None => Vec::new(),
            };
            let permissions: Option<String> = r.get(34)?;
            let permissions = match (item.access_type.as_str(), permissions) {
                ("ENTITLEMENT", Some(p)) => serde_json::from_str(&p).unwrap_or_default(),
                _ => Vec::new(),
            };
            let attributes: Option<String> = r.get(33)?;
            Ok(Row {
                result_id: recert_domain::awf::result_id(first, item.id).unwrap_or(0),
                campaign_id: q.campaign_id,
                subject_email: r.get(32)?,
                subject_attributes: attributes
                    .and_then(|a| serde_json::from_str(&a).ok())
                    .unwrap_or(serde_json::Value::Null),
                permissions,
                fixed: r.get(35)?,
                signed_off: r.get(36)?,
                reviewers: std::iter::once(owner).chain(co).collect(),
                notification_status: notification(
                    r.get(41)?,
                    r.get(42)?,
                    r.get::<_, Option<String>>(43)?.is_some(),
                ),
                updated_at: get_ts(r, 44)?,
                action_log: Vec::new(),
                item,
            })
        })
        .map_err(db_err)?
        .collect::<Result<Vec<Row>, _>>()
        .map_err(db_err)?;
    attach_logs(c, &mut items)?;
    Ok(Page { items, total })
}

fn attach_logs(c: &Connection, rows: &mut [Row]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.item.id.to_string()).collect();
    let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Database(e.to_string()))?;
    let mut stmt = c
        .prepare_cached(
            "SELECT item_id, at, actor, action, old_value, new_value FROM item_actions
             WHERE item_id IN (SELECT value FROM json_each(?1)) ORDER BY item_id, seq",
        )
        .map_err(db_err)?;
    let mut logs: HashMap<Id, Vec<ActionEntry>> = HashMap::new();
    let entries = stmt
        .query_map([&ids], |r| {
            let json = |i: usize| -> rusqlite::Result<serde_json::Value> {
                let s: Option<String> = r.get(i)?;
                Ok(s.and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or(serde_json::Value::Null))
            };
            let action: String = r.get(3)?;
            Ok((
                get_id(r, 0)?,
                ActionEntry {
                    at: get_ts(r, 1)?,
                    actor: get_json(r, 2)?,
                    action: ActionKind::parse(&action).unwrap_or(ActionKind::Decision),
                    old_value: json(4)?,
                    new_value: json(5)?,
                },
            ))
        })
        .map_err(db_err)?;
    for e in entries {
        let (id, entry) = e.map_err(db_err)?;
        logs.entry(id).or_default().push(entry);
    }
    for row in rows {
        row.action_log = logs.remove(&row.item.id).unwrap_or_default();
    }
    Ok(())
}

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
            match crate::reviews::reassign_in(
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

pub(crate) fn reviewer_stats(
    c: &Connection,
    campaign: Id,
    reviewer: Option<Id>,
) -> Result<Vec<ReviewerStats>, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT rid, max(remail), max(rname), count(*),
                count(CASE WHEN decision IS NULL THEN 1 END),
                count(CASE WHEN decision = 'APPROVE' THEN 1 END),
                count(CASE WHEN decision = 'REVOKE' AND fixed = 0 THEN 1 END),
                count(CASE WHEN decision = 'REVOKE' AND fixed = 1 THEN 1 END),
                count(CASE WHEN signed_off = 1 THEN 1 END)
             FROM (
                SELECT c.reviewer_id AS rid, c.reviewer_email AS remail,
                    c.reviewer_name AS rname, i.decision, i.fixed, i.signed_off
                FROM certifications c JOIN review_items i ON i.certification_id = c.id
                WHERE c.campaign_id = ?1 AND (?2 IS NULL OR c.reviewer_id = ?2)
                UNION ALL
                SELECT x.identity_id, json_extract(j.value, '$.email'),
                    json_extract(j.value, '$.name'), i.decision, i.fixed, i.signed_off
                FROM item_co_reviewers x JOIN review_items i ON i.id = x.item_id
                    JOIN certifications o ON o.id = i.certification_id,
                    json_each(i.co_reviewers) j
                WHERE x.campaign_id = ?1 AND (?2 IS NULL OR x.identity_id = ?2)
                  AND o.reviewer_id <> x.identity_id
                  AND json_extract(j.value, '$.id') = x.identity_id)
             GROUP BY rid ORDER BY max(rname), rid",
        )
        .map_err(db_err)?;
    let n = |r: &rusqlite::Row<'_>, i: usize| r.get::<_, i64>(i).map(|v| v as u64);
    stmt.query_map(
        params![campaign.to_string(), reviewer.map(|r| r.to_string())],
        |r| {
            Ok(ReviewerStats {
                reviewer: UserRef {
                    id: r.get(0)?,
                    email: r.get(1)?,
                    name: r.get(2)?,
                },
                total: n(r, 3)?,
                no_decision: n(r, 4)?,
                accepted: n(r, 5)?,
                rejected: n(r, 6)?,
                fixed: n(r, 7)?,
                signed_off: n(r, 8)?,
            })
        },
    )
    .map_err(db_err)?
    .collect::<Result<_, _>>()
    .map_err(db_err)
}

/// Campaign closing by expiry, for the trait.
pub(crate) fn expire(
    c: &mut Connection,
    id: Id,
    note: Option<&str>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    crate::closing::expire(c, id, note, now)
}
