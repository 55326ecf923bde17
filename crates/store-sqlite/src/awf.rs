//! The Access Workflows dialect on SQLite: result rows (review items with their sign-off,
//! co-reviewers and action log), changes to one row, reviewer statistics, expiry.

use std::collections::HashMap;

use recert_domain::awf::{
    ActionEntry, ActionKind, CampaignRows, NotificationStatus, ReviewerStats, Row, RowQuery,
    UserRef,
};
use recert_domain::{Id, Timestamp};
use recert_store::awf::row_column;
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
