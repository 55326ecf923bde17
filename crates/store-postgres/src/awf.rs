//! The Access Workflows dialect on PostgreSQL: campaigns as certifications, review items as
//! numbered result rows with their own sign-off, co-reviewers and action log. The log is
//! written by the schema's triggers (migration 0007): every UPDATE of a row here sets
//! `updated_at` and `updated_by`, and the trigger records what changed.
//!
//! A campaign's rows are read by their id range as well as by `campaign_id`: a generation
//! numbers its items after one prefix, so the rows of a campaign lie in the primary key's
//! range from its first item to the end of that prefix, and a page of a campaign of millions
//! reads its own rows only (review_items has no index on `campaign_id`). An item outside that
//! range has no result id.

use std::collections::BTreeMap;

use recert_domain::awf::{
    ActionEntry, ActionKind, CampaignRows, NotificationStatus, ReviewerStats, Row, RowQuery,
    UserRef, result_id,
};
use recert_domain::{Id, Permission};
use recert_store::awf::{ROW_DECISION, row_column};
use recert_store::sql::{Placeholder, SqlValue, render};
use recert_store::{Page, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool, Row as _};

use crate::db_err;
use crate::queries::{at, id, opt_at, opt_text, text};
use crate::reviews::{ITEM_COLUMNS, item_from_row};

pub(crate) fn corrupt(table: &'static str, e: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(table, e)
}

fn parse_id(s: &str, table: &'static str) -> Result<Id, StoreError> {
    Id::parse(s).map_err(|e| corrupt(table, e))
}

/// The last id a generation with `first`'s prefix can make.
fn last_of_prefix(first: &str) -> String {
    format!("{}ffffffffffffffff", first.get(..16).unwrap_or(first))
}

/// Positional parameters of a statement built piece by piece.
#[derive(Default)]
struct Params(Vec<SqlValue>);

impl Params {
    fn text(&mut self, s: impl Into<String>) -> String {
        self.0.push(SqlValue::Text(s.into()));
        format!("${}", self.0.len())
    }

    fn next(&self) -> usize {
        self.0.len() + 1
    }

    fn extend(&mut self, values: Vec<SqlValue>) {
        self.0.extend(values);
    }

    fn bind<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        crate::params::bind_params(q.persistent(false), &self.0)
    }
}

// ---- the certification list ----

pub(crate) async fn campaign_ids(
    pool: &PgPool,
    template: Option<Option<Id>>,
    reviewer: Option<Id>,
    creator: Option<Id>,
    after: Option<Id>,
    limit: u32,
    count: bool,
) -> Result<Page<Id>, StoreError> {
    let mut p = Params::default();
    let mut conds: Vec<String> = Vec::new();
    match template {
        Some(Some(t)) => conds.push(format!("k.template_id = {}", p.text(t.to_string()))),
        Some(None) => conds.push("k.template_id IS NULL".into()),
        None => {}
    }
    if let Some(r) = reviewer {
        // A reviewer sees the campaigns under review or reviewed, not drafts.
        let r = p.text(r.to_string());
        conds.push(format!(
            "k.status IN ('ACTIVE', 'COMPLETING', 'COMPLETED', 'ARCHIVED') AND
             (EXISTS (SELECT 1 FROM certifications c
                      WHERE c.campaign_id = k.id AND c.reviewer_id = {r}
                        AND c.decisions_total > 0)
              OR EXISTS (SELECT 1 FROM item_co_reviewers x
                         WHERE x.identity_id = {r} AND x.campaign_id = k.id))"
        ));
    }
    if let Some(c) = creator {
        conds.push(format!("k.created_by = {}", p.text(c.to_string())));
    }
    let filtered = if conds.is_empty() {
        "TRUE".to_owned()
    } else {
        conds.join(" AND ")
    };
    let total = if count {
        let n: i64 = p
            .bind(sqlx::query(AssertSqlSafe(format!(
                "SELECT count(*) FROM campaigns k WHERE {filtered}"
            ))))
            .fetch_one(pool)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(db_err)?;
        Some(n as u64)
    } else {
        None
    };
    let mut page_conds = filtered;
    if let Some(a) = after {
        // A campaign deleted since the previous page leaves nothing to continue after.
        let a = p.text(a.to_string());
        page_conds.push_str(&format!(
            " AND (k.created_at, k.id) < (SELECT created_at, id FROM campaigns WHERE id = {a})"
        ));
    }
    let n = p.next();
    let rows = p
        .bind(sqlx::query(AssertSqlSafe(format!(
            "SELECT k.id FROM campaigns k WHERE {page_conds}
             ORDER BY k.created_at DESC, k.id DESC LIMIT ${n}"
        ))))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    let items = rows
        .iter()
        .map(|r| id(r, "id", "campaigns"))
        .collect::<Result<_, _>>()?;
    Ok(Page { items, total })
}

/// Sorts reviewers by name, then id, byte by byte (as SQLite's default collation does).
fn sort_users(v: &mut [UserRef]) {
    v.sort_by(|a, b| {
        (a.name.as_bytes(), a.id.as_bytes()).cmp(&(b.name.as_bytes(), b.id.as_bytes()))
    });
}

pub(crate) async fn campaign_rows(
    pool: &PgPool,
    ids: &[Id],
) -> Result<Vec<CampaignRows>, StoreError> {
    let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    let rows = sqlx::query(
        "SELECT k.id, k.first_item_id, k.completed_by, k.expired,
            coalesce((SELECT sum(c.decisions_total) FROM certifications c
                      WHERE c.campaign_id = k.id), 0)::bigint AS rows,
            coalesce((SELECT sum(c.decisions_made) FROM certifications c
                      WHERE c.campaign_id = k.id), 0)::bigint AS decided
         FROM campaigns k WHERE k.id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    // Owners first, so that an identity both owner and co-reviewer shows as its certification
    // names it.
    let people = sqlx::query(
        "SELECT DISTINCT ON (campaign_id, id) campaign_id, id, email, name FROM (
            SELECT c.campaign_id, c.reviewer_id AS id, c.reviewer_email AS email,
                c.reviewer_name AS name, 0 AS prio
            FROM certifications c WHERE c.campaign_id = ANY($1) AND c.decisions_total > 0
            UNION ALL
            SELECT x.campaign_id, e->>'id', e->>'email', e->>'name', 1
            FROM item_co_reviewers x JOIN review_items i ON i.id = x.item_id
            CROSS JOIN LATERAL jsonb_array_elements(i.co_reviewers) e
            WHERE x.campaign_id = ANY($1) AND jsonb_typeof(i.co_reviewers) = 'array'
              AND e->>'id' = x.identity_id) r
         ORDER BY campaign_id, id, prio",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    let mut reviewers: BTreeMap<String, Vec<UserRef>> = BTreeMap::new();
    for r in &people {
        reviewers
            .entry(text(r, "campaign_id")?)
            .or_default()
            .push(UserRef {
                id: text(r, "id")?,
                email: opt_text(r, "email")?,
                name: opt_text(r, "name")?.unwrap_or_default(),
            });
    }
    let t = "campaigns";
    rows.iter()
        .map(|r| {
            let cid = text(r, "id")?;
            let mut people = reviewers.remove(&cid).unwrap_or_default();
            sort_users(&mut people);
            Ok(CampaignRows {
                campaign_id: parse_id(&cid, t)?,
                first_item_id: opt_text(r, "first_item_id")?
                    .map(|f| parse_id(&f, t))
                    .transpose()?,
                completed_by: opt_text(r, "completed_by")?,
                expired: r.try_get("expired").map_err(db_err)?,
                rows: r.try_get::<i64, _>("rows").map_err(db_err)?.max(0) as u64,
                decided: r.try_get::<i64, _>("decided").map_err(db_err)?.max(0) as u64,
                reviewers: people,
            })
        })
        .collect()
}

// ---- the rows ----

/// The rows with what a result row shows beyond the SailPoint item: the owner (`c`), the
/// campaign (`k`), the reviewed identity's snapshot (`ci`), the remediation item (`r`).
const ROW_FROM: &str = "review_items i \
    JOIN certification_subjects s ON s.id = i.summary_id \
    LEFT JOIN campaign_access a ON a.campaign_id = i.campaign_id \
        AND a.access_type = i.access_type AND a.access_id = i.access_id \
    JOIN certifications c ON c.id = i.certification_id \
    JOIN campaigns k ON k.id = i.campaign_id \
    LEFT JOIN campaign_identities ci \
        ON ci.campaign_id = i.campaign_id AND ci.identity_id = i.subject_id \
    LEFT JOIN remediation_items r ON r.item_id = i.id";

const ROW_COLUMNS: &str = "i.campaign_id AS awf_campaign_id, k.first_item_id AS awf_first, \
    c.reviewer_id AS awf_owner_id, c.reviewer_email AS awf_owner_email, \
    c.reviewer_name AS awf_owner_name, ci.email AS awf_subject_email, \
    ci.attributes::text AS awf_subject_attributes, \
    CASE WHEN i.access_type = 'ENTITLEMENT' THEN a.permissions::text END AS awf_permissions, \
    i.fixed AS awf_fixed, i.signed_off AS awf_signed_off, i.co_reviewers::text AS awf_co, \
    i.notification_status AS awf_notification, r.status AS awf_remediation_status, \
    r.delivered_at AS awf_delivered_at, \
    coalesce(i.updated_at, k.generated_at, k.created_at) AS awf_updated_at";

fn users(json: Option<String>, table: &'static str) -> Result<Vec<UserRef>, StoreError> {
    match json {
        None => Ok(Vec::new()),
        Some(s) => serde_json::from_str::<Option<Vec<UserRef>>>(&s)
            .map(Option::unwrap_or_default)
            .map_err(|e| corrupt(table, e)),
    }
}

fn notification(r: &PgRow) -> Result<NotificationStatus, StoreError> {
    if let Some(s) = opt_text(r, "awf_notification")? {
        return NotificationStatus::parse(&s)
            .ok_or_else(|| corrupt("review_items", "unknown notification status"));
    }
    let delivered = opt_at(r, "awf_delivered_at")?.is_some();
    Ok(match opt_text(r, "awf_remediation_status")?.as_deref() {
        None => NotificationStatus::Unknown,
        Some("COMPLETED") => NotificationStatus::Succeed,
        Some(_) if delivered => NotificationStatus::Succeed,
        Some("FAILED") => NotificationStatus::Failed,
        Some(_) => NotificationStatus::Pending,
    })
}

fn row_from(r: &PgRow) -> Result<Row, StoreError> {
    let t = "review_items";
    let item = item_from_row(r)?;
    let first = parse_id(&text(r, "awf_first")?, "campaigns")?;
    let result_id = result_id(first, item.id)
        .ok_or_else(|| corrupt(t, format!("item {} has no result id", item.id)))?;
    let mut reviewers = vec![UserRef {
        id: text(r, "awf_owner_id")?,
        email: opt_text(r, "awf_owner_email")?,
        name: text(r, "awf_owner_name")?,
    }];
    reviewers.extend(users(opt_text(r, "awf_co")?, t)?);
    let permissions: Vec<Permission> = match opt_text(r, "awf_permissions")? {
        Some(p) => serde_json::from_str(&p).map_err(|e| corrupt("campaign_access", e))?,
        None => Vec::new(),
    };
    let subject_attributes = match opt_text(r, "awf_subject_attributes")? {
        Some(a) => serde_json::from_str(&a).map_err(|e| corrupt("campaign_identities", e))?,
        None => serde_json::Value::Null,
    };
    Ok(Row {
        result_id,
        campaign_id: id(r, "awf_campaign_id", t)?,
        subject_email: opt_text(r, "awf_subject_email")?,
        subject_attributes,
        permissions,
        fixed: r.try_get::<i32, _>("awf_fixed").map_err(db_err)? == 1,
        signed_off: r.try_get::<i32, _>("awf_signed_off").map_err(db_err)? == 1,
        reviewers,
        notification_status: notification(r)?,
        updated_at: at(r, "awf_updated_at")?,
        action_log: Vec::new(),
        item,
    })
}

fn json_value(s: Option<String>) -> Result<serde_json::Value, StoreError> {
    match s {
        None => Ok(serde_json::Value::Null),
        Some(s) => serde_json::from_str(&s).map_err(|e| corrupt("item_actions", e)),
    }
}

/// The action logs of `items`, oldest entry first, by item.
async fn action_logs(
    pool: &PgPool,
    items: &[String],
) -> Result<BTreeMap<String, Vec<ActionEntry>>, StoreError> {
    let mut out: BTreeMap<String, Vec<ActionEntry>> = BTreeMap::new();
    if items.is_empty() {
        return Ok(out);
    }
    let rows = sqlx::query(
        "SELECT item_id, at, actor, action, old_value, new_value FROM item_actions
         WHERE item_id = ANY($1) ORDER BY item_id, seq",
    )
    .bind(items)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    for r in &rows {
        let action = text(r, "action")?;
        let entry = ActionEntry {
            at: at(r, "at")?,
            actor: serde_json::from_str(&text(r, "actor")?)
                .map_err(|e| corrupt("item_actions", e))?,
            action: ActionKind::parse(&action)
                .ok_or_else(|| corrupt("item_actions", format!("unknown action {action}")))?,
            old_value: json_value(opt_text(r, "old_value")?)?,
            new_value: json_value(opt_text(r, "new_value")?)?,
        };
        out.entry(text(r, "item_id")?).or_default().push(entry);
    }
    Ok(out)
}

pub(crate) async fn rows(pool: &PgPool, q: &RowQuery) -> Result<Page<Row>, StoreError> {
    let k = q.campaign_id.to_string();
    let first: Option<Option<String>> =
        sqlx::query_scalar("SELECT first_item_id FROM campaigns WHERE id = $1")
            .bind(&k)
            .fetch_optional(pool)
            .await
            .map_err(db_err)?;
    let Some(first) = first.flatten() else {
        // No such campaign, or one without rows.
        return Ok(Page {
            items: Vec::new(),
            total: q.count.then_some(0),
        });
    };
    let mut p = Params::default();
    let kp = p.text(&k);
    let lo = p.text(&first);
    let hi = p.text(last_of_prefix(&first));
    let mut conds = vec![format!(
        "i.campaign_id = {kp} AND i.id >= {lo} AND i.id <= {hi}"
    )];
    if let Some(v) = q.viewer {
        let v = p.text(v.to_string());
        conds.push(format!(
            "(c.reviewer_id = {v} OR i.id IN (SELECT x.item_id FROM item_co_reviewers x
                WHERE x.identity_id = {v} AND x.campaign_id = {kp}))"
        ));
    }
    if let Some(item) = q.item {
        conds.push(format!("i.id = {}", p.text(item.to_string())));
    }
    if let Some(f) = &q.filter {
        let (cond, values) = render(f, &row_column, Placeholder::Dollar, p.next())
            .map_err(|e| StoreError::Database(e.0))?;
        conds.push(format!("({cond})"));
        p.extend(values);
    }
    let matching = conds.join(" AND ");
    let total = if q.count {
        let n: i64 = p
            .bind(sqlx::query(AssertSqlSafe(format!(
                "SELECT count(*) FROM review_items i JOIN certifications c
                    ON c.id = i.certification_id
                 WHERE {matching}"
            ))))
            .fetch_one(pool)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(db_err)?;
        Some(n as u64)
    } else {
        None
    };
    let mut page = matching;
    if let Some(a) = q.after {
        page.push_str(&format!(" AND i.id > {}", p.text(a.to_string())));
    }
    let n = p.next();
    let found = p
        .bind(sqlx::query(AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS}, {ROW_COLUMNS} FROM {ROW_FROM}
             WHERE {page} ORDER BY i.id LIMIT ${n}"
        ))))
        .bind(i64::from(q.limit))
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    let mut items = found.iter().map(row_from).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<String> = items.iter().map(|r| r.item.id.to_string()).collect();
    let mut logs = action_logs(pool, &ids).await?;
    for row in &mut items {
        row.action_log = logs.remove(&row.item.id.to_string()).unwrap_or_default();
    }
    Ok(Page { items, total })
}

// ---- changing a row ----

pub(crate) async fn reviewer_stats(
    pool: &PgPool,
    campaign: Id,
    reviewer: Option<Id>,
) -> Result<Vec<ReviewerStats>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, (array_agg(email ORDER BY prio))[1] AS email,
            (array_agg(name ORDER BY prio))[1] AS name, count(*) AS total,
            count(*) FILTER (WHERE d = 'NONE') AS no_decision,
            count(*) FILTER (WHERE d = 'ACCEPTED') AS accepted,
            count(*) FILTER (WHERE d = 'REJECTED') AS rejected,
            count(*) FILTER (WHERE d = 'FIXED') AS fixed,
            count(*) FILTER (WHERE signed_off = 1) AS signed_off
         FROM (SELECT DISTINCT ON (id, item) * FROM (
                SELECT c.reviewer_id AS id, c.reviewer_email AS email, c.reviewer_name AS name,
                    0 AS prio, i.id AS item, {ROW_DECISION} AS d, i.signed_off
                FROM certifications c JOIN review_items i ON i.certification_id = c.id
                WHERE c.campaign_id = $1 AND ($2::text IS NULL OR c.reviewer_id = $2)
                UNION ALL
                SELECT e->>'id', e->>'email', e->>'name', 1, i.id, {ROW_DECISION}, i.signed_off
                FROM item_co_reviewers x JOIN review_items i ON i.id = x.item_id
                CROSS JOIN LATERAL jsonb_array_elements(i.co_reviewers) e
                WHERE x.campaign_id = $1 AND ($2::text IS NULL OR x.identity_id = $2)
                  AND jsonb_typeof(i.co_reviewers) = 'array' AND e->>'id' = x.identity_id
              ) u ORDER BY id, item, prio) r
         GROUP BY id"
    )))
    .bind(campaign.to_string())
    .bind(reviewer.map(|r| r.to_string()))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    let n = |r: &PgRow, c: &str| -> Result<u64, StoreError> {
        r.try_get::<i64, _>(c)
            .map(|v| v.max(0) as u64)
            .map_err(db_err)
    };
    let mut out = rows
        .iter()
        .map(|r| {
            Ok(ReviewerStats {
                reviewer: UserRef {
                    id: text(r, "id")?,
                    email: opt_text(r, "email")?,
                    name: opt_text(r, "name")?.unwrap_or_default(),
                },
                total: n(r, "total")?,
                no_decision: n(r, "no_decision")?,
                accepted: n(r, "accepted")?,
                rejected: n(r, "rejected")?,
                fixed: n(r, "fixed")?,
                signed_off: n(r, "signed_off")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by(|a, b| {
        (a.reviewer.name.as_bytes(), a.reviewer.id.as_bytes())
            .cmp(&(b.reviewer.name.as_bytes(), b.reviewer.id.as_bytes()))
    });
    Ok(out)
}
