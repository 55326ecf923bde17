//! Campaigns on SQLite: the campaign rows, the operations that move them through their life, and
//! generation, which is a handful of `INSERT ... SELECT` statements over temporary tables in one
//! transaction: millions of items never pass through Rust.

use recert_domain::campaign::{CampaignStatus, CertificationPhase, Decision};
use recert_domain::filter::FieldKind;
use recert_domain::review::{
    Alert, AlertLevel, Campaign, CampaignSettings, Certification, CertificationTask,
    CorrelatedStatus, Generation, GenerationReport, ReassignmentTrail, RemediationItem, ReviewItem,
    Scope, TaskStatus, TaskType,
};
use recert_domain::{Id, NewJob, Timestamp};
use recert_store::campaigns::{campaign_column, campaign_sort_column, id_prefix, order_by};
use recert_store::sql::{Column, Placeholder, render};
use recert_store::{ListQuery, Page, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::db_err;
use crate::params::sql_params;
use crate::queries::{get_id, get_json, get_opt_id, get_opt_ts, get_ts};

const COLUMNS: &str = "id, name, description, type, status, correlated_status, deadline, \
    email_notification_enabled, auto_revoke_allowed, recommendations_enabled, \
    sunset_comments_required, mandatory_comment_requirement, config, alerts, template_id, \
    created_by, total_certifications, completed_certifications, created_at, modified_at, \
    generated_at, activated_at, completed_at";

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

fn campaign_from_row(r: &Row<'_>) -> rusqlite::Result<Campaign> {
    let correlated: String = r.get(5)?;
    Ok(Campaign {
        id: get_id(r, 0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        campaign_type: parsed(r, 3)?,
        status: parsed(r, 4)?,
        correlated_status: CorrelatedStatus::parse(&correlated)
            .ok_or_else(|| bad(5, "unknown correlated status"))?,
        deadline: get_opt_ts(r, 6)?,
        email_notification_enabled: r.get(7)?,
        auto_revoke_allowed: r.get(8)?,
        recommendations_enabled: r.get(9)?,
        sunset_comments_required: r.get(10)?,
        mandatory_comment_requirement: parsed(r, 11)?,
        config: get_json(r, 12)?,
        alerts: get_json(r, 13)?,
        template_id: get_opt_id(r, 14)?,
        created_by: get_opt_id(r, 15)?,
        total_certifications: r.get(16)?,
        completed_certifications: r.get(17)?,
        created: get_ts(r, 18)?,
        modified: get_ts(r, 19)?,
        generated_at: get_opt_ts(r, 20)?,
        activated_at: get_opt_ts(r, 21)?,
        completed_at: get_opt_ts(r, 22)?,
    })
}

fn opt_ts(t: Option<Timestamp>) -> Option<String> {
    t.map(|t| t.to_string())
}

fn opt_id(t: Option<Id>) -> Option<String> {
    t.map(|t| t.to_string())
}

pub(crate) fn insert_task(c: &Connection, t: &CertificationTask) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO certification_tasks (id, type, target_type, target_id, status, errors,
            reassignment_trails, request, requested_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            t.id.to_string(),
            t.task_type.as_str(),
            t.target_type,
            t.target_id.to_string(),
            t.status.as_str(),
            serde_json::to_string(&t.errors).unwrap_or_default(),
            serde_json::to_string(&t.trails).unwrap_or_default(),
            t.request.to_string(),
            opt_id(t.requested_by),
            t.created.to_string(),
            t.updated.to_string(),
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn create(
    c: &mut Connection,
    k: &Campaign,
    task: &CertificationTask,
    job: &NewJob,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    tx.execute(
        &format!("INSERT INTO campaigns ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"),
        params![
            k.id.to_string(),
            k.name,
            k.description,
            k.campaign_type.as_str(),
            k.status.as_str(),
            k.correlated_status.as_str(),
            opt_ts(k.deadline),
            k.email_notification_enabled,
            k.auto_revoke_allowed,
            k.recommendations_enabled,
            k.sunset_comments_required,
            k.mandatory_comment_requirement.as_str(),
            k.config.to_string(),
            serde_json::to_string(&k.alerts).unwrap_or_else(|_| "[]".into()),
            opt_id(k.template_id),
            opt_id(k.created_by),
            k.total_certifications,
            k.completed_certifications,
            k.created.to_string(),
            k.modified.to_string(),
            opt_ts(k.generated_at),
            opt_ts(k.activated_at),
            opt_ts(k.completed_at),
        ],
    )
    .map_err(db_err)?;
    insert_task(&tx, task)?;
    crate::jobs::enqueue(&tx, job, k.created)?;
    tx.commit().map_err(db_err)
}

pub(crate) fn get(c: &Connection, id: Id) -> Result<Option<Campaign>, StoreError> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM campaigns WHERE id = ?1"),
        [id.to_string()],
        campaign_from_row,
    )
    .optional()
    .map_err(db_err)
}

pub(crate) fn list(c: &Connection, q: &ListQuery) -> Result<Page<Campaign>, StoreError> {
    let (cond, values) = match &q.filter {
        Some(f) => render(f, &campaign_column, Placeholder::Question, 1)
            .map_err(|e| StoreError::Database(e.0))?,
        None => ("1 = 1".to_owned(), Vec::new()),
    };
    let args = sql_params(&values);
    let total = if q.paging.count {
        Some(
            c.query_row(
                &format!("SELECT count(*) FROM campaigns WHERE {cond}"),
                params_from_iter(args.iter()),
                |r| r.get::<_, i64>(0),
            )
            .map_err(db_err)? as u64,
        )
    } else {
        None
    };
    if q.paging.limit == 0 {
        return Ok(Page {
            items: Vec::new(),
            total,
        });
    }
    let order = order_by(&q.sorters, campaign_sort_column, "created_at DESC, id DESC");
    let n = args.len();
    let sql = format!(
        "SELECT {COLUMNS} FROM campaigns WHERE {cond} {order} LIMIT ?{} OFFSET ?{}",
        n + 1,
        n + 2
    );
    let mut all = args;
    all.push(Value::Integer(i64::from(q.paging.limit)));
    all.push(Value::Integer(q.paging.offset.min(i64::MAX as u64) as i64));
    let mut stmt = c.prepare(&sql).map_err(db_err)?;
    let items = stmt
        .query_map(params_from_iter(all.iter()), campaign_from_row)
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    Ok(Page { items, total })
}

pub(crate) fn update_settings(
    c: &Connection,
    id: Id,
    expected: CampaignStatus,
    s: &CampaignSettings,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE campaigns SET name = ?3, description = ?4, deadline = ?5,
                email_notification_enabled = ?6, auto_revoke_allowed = ?7,
                recommendations_enabled = ?8, modified_at = ?9
             WHERE id = ?1 AND status = ?2",
            params![
                id.to_string(),
                expected.as_str(),
                s.name,
                s.description,
                opt_ts(s.deadline),
                s.email_notification_enabled,
                s.auto_revoke_allowed,
                s.recommendations_enabled,
                now.to_string()
            ],
        )
        .map_err(db_err)?;
    if n == 1 {
        // Certifications follow the campaign's deadline once they are out.
        c.execute(
            "UPDATE certifications SET due = ?2, modified_at = ?3
             WHERE campaign_id = ?1 AND phase = 'ACTIVE'",
            params![id.to_string(), opt_ts(s.deadline), now.to_string()],
        )
        .map_err(db_err)?;
    }
    Ok(n == 1)
}

pub(crate) fn start_operation(
    c: &mut Connection,
    id: Id,
    from: &[CampaignStatus],
    to: CampaignStatus,
    task: Option<&CertificationTask>,
    job: &NewJob,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let n = tx
        .execute(
            "UPDATE campaigns SET status = ?2, modified_at = ?3
             WHERE id = ?1 AND status IN (SELECT value FROM json_each(?4))",
            params![
                id.to_string(),
                to.as_str(),
                now.to_string(),
                serde_json::to_string(&from).unwrap_or_default()
            ],
        )
        .map_err(db_err)?;
    if n == 0 {
        return Ok(false);
    }
    if let Some(t) = task {
        insert_task(&tx, t)?;
    }
    crate::jobs::enqueue(&tx, job, now)?;
    tx.commit().map_err(db_err)?;
    Ok(true)
}

fn campaign_status(c: &Connection, id: Id) -> Result<Option<CampaignStatus>, StoreError> {
    let s: Option<String> = c
        .query_row(
            "SELECT status FROM campaigns WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    s.map(|s| {
        s.parse()
            .map_err(|e: String| StoreError::corrupt("campaigns", e))
    })
    .transpose()
}

/// The identity fields a SEARCH campaign's query may use, as SQLite expressions over `i`.
fn identity_column(field: &str) -> Option<Column> {
    let (expr, kind) = match field {
        "id" => ("i.id", FieldKind::Id),
        "name" => ("i.name", FieldKind::String),
        "displayName" => ("i.display_name", FieldKind::String),
        "email" => ("i.email", FieldKind::String),
        "managerId" => ("i.manager_id", FieldKind::Id),
        "active" => ("i.active", FieldKind::Bool),
        "lifecycleState" => ("i.lifecycle_state", FieldKind::String),
        "attributes.department" => (
            "json_extract(i.attributes, '$.department')",
            FieldKind::String,
        ),
        "attributes.title" => ("json_extract(i.attributes, '$.title')", FieldKind::String),
        "attributes.location" => (
            "json_extract(i.attributes, '$.location')",
            FieldKind::String,
        ),
        "attributes.employeeNumber" => (
            "json_extract(i.attributes, '$.employeeNumber')",
            FieldKind::String,
        ),
        "attributes.costCenter" => (
            "json_extract(i.attributes, '$.costCenter')",
            FieldKind::String,
        ),
        "attributes.employeeType" => (
            "json_extract(i.attributes, '$.employeeType')",
            FieldKind::String,
        ),
        "attributes.company" => ("json_extract(i.attributes, '$.company')", FieldKind::String),
        "attributes.country" => ("json_extract(i.attributes, '$.country')", FieldKind::String),
        _ => return None,
    };
    Some(Column { expr, kind })
}

/// The role fields a ROLE_COMPOSITION campaign's query may use.
fn role_column(field: &str) -> Option<Column> {
    let (expr, kind) = match field {
        "id" => ("r.id", FieldKind::Id),
        "name" => ("r.name", FieldKind::String),
        "description" => ("r.description", FieldKind::String),
        "ownerId" => ("r.owner_id", FieldKind::Id),
        _ => return None,
    };
    Some(Column { expr, kind })
}

fn ids_json(ids: &[Id]) -> String {
    let v: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

fn filter_err(e: recert_domain::filter::FilterError) -> StoreError {
    StoreError::Database(format!("campaign query: {}", e.0))
}

/// Fills `temp.gen_items` with what the scope covers and each row's first-choice reviewer.
fn select_candidates(tx: &Connection, scope: &Scope) -> Result<(), StoreError> {
    const INSERT: &str = "INSERT INTO temp.gen_items
        (subject_id, access_type, access_id, account_id, assignment_id, first_seen, reviewer_id)";
    match scope {
        Scope::Manager => {
            tx.execute(
                &format!(
                    "{INSERT} SELECT a.identity_id, a.access_type, a.access_id, a.account_id, a.id,
                        a.first_seen_at, i.manager_id
                     FROM assignments a JOIN identities i ON i.id = a.identity_id
                     WHERE a.removed_at IS NULL AND i.removed_at IS NULL"
                ),
                [],
            )
            .map_err(db_err)?;
        }
        Scope::SourceOwner {
            source_ids,
            uncorrelated: false,
        } => {
            tx.execute(
                &format!(
                    "{INSERT} SELECT a.identity_id, a.access_type, a.access_id, a.account_id, a.id,
                        a.first_seen_at, s.owner_id
                     FROM assignments a
                     JOIN identities i ON i.id = a.identity_id AND i.removed_at IS NULL
                     LEFT JOIN entitlements e
                        ON a.access_type = 'ENTITLEMENT' AND e.id = a.access_id
                     LEFT JOIN access_profiles p
                        ON a.access_type = 'ACCESS_PROFILE' AND p.id = a.access_id
                     JOIN sources s ON s.id = coalesce(e.source_id, p.source_id)
                     WHERE a.removed_at IS NULL
                       AND s.id IN (SELECT value FROM json_each(?1))"
                ),
                [ids_json(source_ids)],
            )
            .map_err(db_err)?;
        }
        Scope::SourceOwner {
            source_ids,
            uncorrelated: true,
        } => {
            tx.execute(
                &format!(
                    "{INSERT} SELECT ac.id, 'ACCOUNT', ac.id, ac.id, NULL, ac.created_at, s.owner_id
                     FROM accounts ac JOIN sources s ON s.id = ac.source_id
                     WHERE ac.identity_id IS NULL AND ac.removed_at IS NULL
                       AND s.id IN (SELECT value FROM json_each(?1))"
                ),
                [ids_json(source_ids)],
            )
            .map_err(db_err)?;
        }
        Scope::Search {
            identity_ids,
            query,
            access,
            reviewer,
        } => {
            let mut args: Vec<Value> = vec![Value::Text(
                reviewer.map(|r| r.to_string()).unwrap_or_default(),
            )];
            let mut conds = vec![
                "a.removed_at IS NULL".to_owned(),
                "i.removed_at IS NULL".into(),
            ];
            if let Some(ids) = identity_ids {
                args.push(Value::Text(ids_json(ids)));
                conds.push(format!(
                    "i.id IN (SELECT value FROM json_each(?{}))",
                    args.len()
                ));
            }
            if let Some(f) = query {
                let (sql, values) =
                    render(f, &identity_column, Placeholder::Question, args.len() + 1)
                        .map_err(filter_err)?;
                args.extend(sql_params(&values));
                conds.push(sql);
            }
            if !access.is_empty() {
                let mut any = Vec::new();
                for a in access {
                    args.push(Value::Text(a.access_type.as_str().to_owned()));
                    let mut one = format!("(a.access_type = ?{}", args.len());
                    if let Some(ids) = &a.ids {
                        args.push(Value::Text(ids_json(ids)));
                        one.push_str(&format!(
                            " AND a.access_id IN (SELECT value FROM json_each(?{}))",
                            args.len()
                        ));
                    }
                    one.push(')');
                    any.push(one);
                }
                conds.push(format!("({})", any.join(" OR ")));
            }
            tx.execute(
                &format!(
                    "{INSERT} SELECT a.identity_id, a.access_type, a.access_id, a.account_id, a.id,
                        a.first_seen_at, coalesce(nullif(?1, ''), i.manager_id)
                     FROM assignments a JOIN identities i ON i.id = a.identity_id
                     WHERE {}",
                    conds.join(" AND ")
                ),
                params_from_iter(args.iter()),
            )
            .map_err(db_err)?;
        }
        Scope::RoleComposition {
            role_ids,
            query,
            reviewer,
        } => {
            let mut args: Vec<Value> = vec![Value::Text(
                reviewer.map(|r| r.to_string()).unwrap_or_default(),
            )];
            let mut conds = vec!["r.removed_at IS NULL".to_owned()];
            if let Some(ids) = role_ids {
                args.push(Value::Text(ids_json(ids)));
                conds.push(format!(
                    "r.id IN (SELECT value FROM json_each(?{}))",
                    args.len()
                ));
            }
            if let Some(f) = query {
                let (sql, values) = render(f, &role_column, Placeholder::Question, args.len() + 1)
                    .map_err(filter_err)?;
                args.extend(sql_params(&values));
                conds.push(sql);
            }
            let cond = conds.join(" AND ");
            tx.execute(
                &format!(
                    "{INSERT}
                     SELECT r.id, 'ENTITLEMENT', x.entitlement_id, NULL, NULL, NULL,
                        coalesce(nullif(?1, ''), r.owner_id)
                     FROM roles r JOIN role_entitlements x ON x.role_id = r.id
                     JOIN entitlements e ON e.id = x.entitlement_id AND e.removed_at IS NULL
                     WHERE {cond}
                     UNION ALL
                     SELECT r.id, 'ACCESS_PROFILE', x.access_profile_id, NULL, NULL, NULL,
                        coalesce(nullif(?1, ''), r.owner_id)
                     FROM roles r JOIN role_access_profiles x ON x.role_id = r.id
                     JOIN access_profiles p ON p.id = x.access_profile_id AND p.removed_at IS NULL
                     WHERE {cond}"
                ),
                params_from_iter(args.iter()),
            )
            .map_err(db_err)?;
        }
    }
    Ok(())
}

/// Picks each item's reviewer: the first choice if it is a present, active identity other than
/// the person reviewed; else that reviewer's manager (a self-review routed up, recorded as an
/// automatic reassignment); else the fallback reviewer. Items nobody can review are dropped
/// and counted.
fn resolve_reviewers(
    tx: &Connection,
    g: &Generation,
    report: &mut GenerationReport,
) -> Result<(), StoreError> {
    let fallback = g.fallback_reviewer.map(|f| f.to_string());
    let exec = |sql: &str, p: &[&dyn rusqlite::ToSql]| tx.execute(sql, p).map_err(db_err);
    // A reviewer who is gone or inactive cannot review.
    exec(
        "UPDATE temp.gen_items SET reviewer_id = NULL
         WHERE reviewer_id IS NOT NULL AND reviewer_id NOT IN
            (SELECT id FROM identities WHERE active = 1 AND removed_at IS NULL)",
        &[],
    )?;
    // Nobody reviews their own access: up to their manager.
    exec(
        "UPDATE temp.gen_items SET rerouted_from = reviewer_id,
            reviewer_id = (SELECT m.id FROM identities s JOIN identities m ON m.id = s.manager_id
                           WHERE s.id = temp.gen_items.reviewer_id
                             AND m.active = 1 AND m.removed_at IS NULL)
         WHERE reviewer_id = subject_id",
        &[],
    )?;
    if let Some(f) = &fallback {
        exec(
            "UPDATE temp.gen_items SET reviewer_id = ?1
             WHERE reviewer_id IS NULL AND subject_id <> ?1
               AND ?1 IN (SELECT id FROM identities WHERE active = 1 AND removed_at IS NULL)",
            &[f],
        )?;
    }
    // What is left has nobody to review it.
    let (subjects, items): (i64, i64) = tx
        .query_row(
            "SELECT count(DISTINCT subject_id), count(*) FROM temp.gen_items
             WHERE reviewer_id IS NULL AND rerouted_from IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(db_err)?;
    report.unreviewed_subjects = subjects as u64;
    let rerouted_lost: i64 = tx
        .query_row(
            "SELECT count(*) FROM temp.gen_items WHERE reviewer_id IS NULL AND rerouted_from IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    report.unassigned_items = rerouted_lost as u64;
    let _ = items;
    exec("DELETE FROM temp.gen_items WHERE reviewer_id IS NULL", &[])?;
    let mut stmt = tx
        .prepare(
            "SELECT DISTINCT rerouted_from, reviewer_id FROM temp.gen_items
             WHERE rerouted_from IS NOT NULL ORDER BY 1, 2",
        )
        .map_err(db_err)?;
    report.reassignments = stmt
        .query_map([], |r| Ok((get_id(r, 0)?, get_id(r, 1)?)))
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    Ok(())
}

const GEN_TABLES: &str = "DROP TABLE IF EXISTS temp.gen_items;
    DROP TABLE IF EXISTS temp.gen_certs;
    DROP TABLE IF EXISTS temp.gen_subjects;
    DROP TABLE IF EXISTS temp.gen_access;";

pub(crate) fn generate(
    c: &mut Connection,
    g: &Generation,
) -> Result<Option<GenerationReport>, StoreError> {
    c.execute_batch(GEN_TABLES).map_err(db_err)?;
    let result = generate_in(c, g);
    // Temporary tables belong to the connection, not the transaction.
    let _ = c.execute_batch(GEN_TABLES);
    result
}

fn generate_in(c: &mut Connection, g: &Generation) -> Result<Option<GenerationReport>, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    if campaign_status(&tx, g.campaign_id)? != Some(CampaignStatus::Pending) {
        return Ok(None);
    }
    let cid = g.campaign_id.to_string();
    let now = g.now.to_string();
    tx.execute_batch(
        "CREATE TEMP TABLE gen_items (
            subject_id TEXT NOT NULL, access_type TEXT NOT NULL, access_id TEXT NOT NULL,
            account_id TEXT, assignment_id TEXT, first_seen TEXT, reviewer_id TEXT,
            rerouted_from TEXT);",
    )
    .map_err(db_err)?;
    select_candidates(&tx, &g.scope)?;
    let mut report = GenerationReport::default();
    resolve_reviewers(&tx, g, &mut report)?;

    // One certification per reviewer.
    tx.execute(
        "CREATE TEMP TABLE gen_certs AS
         SELECT reviewer_id, ?1 || printf('%016x', row_number() OVER (ORDER BY reviewer_id)) AS cert_id,
                count(*) AS items, count(DISTINCT subject_id) AS subjects
         FROM temp.gen_items GROUP BY reviewer_id",
        [id_prefix()],
    )
    .map_err(db_err)?;
    tx.execute_batch("CREATE UNIQUE INDEX temp.gen_certs_reviewer ON gen_certs (reviewer_id);")
        .map_err(db_err)?;
    report.certifications = tx
        .execute(
            "INSERT INTO certifications (id, campaign_id, name, reviewer_id, reviewer_name,
                reviewer_email, phase, decisions_total, identities_total, created_at, modified_at)
             SELECT c.cert_id, ?1, replace(?2, '{reviewer}', i.display_name), c.reviewer_id,
                i.display_name, i.email, 'STAGED', c.items, c.subjects, ?3, ?3
             FROM temp.gen_certs c JOIN identities i ON i.id = c.reviewer_id",
            params![cid, g.certification_name, now],
        )
        .map_err(db_err)? as u64;

    // One summary per (certification, person reviewed).
    tx.execute(
        "CREATE TEMP TABLE gen_subjects AS
         SELECT c.cert_id, g.subject_id,
                ?1 || printf('%016x', row_number() OVER (ORDER BY c.cert_id, g.subject_id)) AS summary_id,
                count(*) AS items
         FROM temp.gen_items g JOIN temp.gen_certs c ON c.reviewer_id = g.reviewer_id
         GROUP BY c.cert_id, g.subject_id",
        [id_prefix()],
    )
    .map_err(db_err)?;
    tx.execute_batch(
        "CREATE UNIQUE INDEX temp.gen_subjects_key ON gen_subjects (cert_id, subject_id);",
    )
    .map_err(db_err)?;
    tx.execute(
        "INSERT INTO certification_subjects (id, certification_id, subject_id, name, items_total)
         SELECT s.summary_id, s.cert_id, s.subject_id,
            coalesce((SELECT display_name FROM identities WHERE id = s.subject_id),
                     (SELECT name FROM roles WHERE id = s.subject_id),
                     (SELECT name FROM accounts WHERE id = s.subject_id), ''),
            s.items
         FROM temp.gen_subjects s",
        [],
    )
    .map_err(db_err)?;

    // The items, in key order.
    report.items = tx
        .execute(
            "INSERT INTO review_items (id, certification_id, campaign_id, summary_id, subject_id,
                access_type, access_id, account_id, assignment_id, new_access)
             SELECT ?1 || printf('%016x', row_number() OVER
                        (ORDER BY s.cert_id, g.subject_id, g.access_type, g.access_id, g.account_id)),
                s.cert_id, ?2, s.summary_id, g.subject_id, g.access_type, g.access_id,
                g.account_id, g.assignment_id,
                CASE WHEN ?3 IS NOT NULL AND g.first_seen > ?3 THEN 1 ELSE 0 END
             FROM temp.gen_items g
             JOIN temp.gen_certs c ON c.reviewer_id = g.reviewer_id
             JOIN temp.gen_subjects s ON s.cert_id = c.cert_id AND s.subject_id = g.subject_id",
            params![id_prefix(), cid, opt_ts(g.new_access_since)],
        )
        .map_err(db_err)? as u64;

    snapshot(&tx, &cid)?;

    // The campaign is ready; its creation task records self-reviews routed elsewhere.
    let mut alerts: Vec<Alert> = tx
        .query_row("SELECT alerts FROM campaigns WHERE id = ?1", [&cid], |r| {
            get_json(r, 0)
        })
        .map_err(db_err)?;
    alerts.extend(recert_store::campaigns::generation_alerts(
        &report,
        g.fallback_reviewer.is_some(),
    ));
    tx.execute(
        "UPDATE campaigns SET status = 'STAGED', total_certifications = ?2,
            completed_certifications = 0, generated_at = ?3, modified_at = ?3, alerts = ?4
         WHERE id = ?1",
        params![
            cid,
            report.certifications as i64,
            now,
            serde_json::to_string(&alerts).unwrap_or_else(|_| "[]".into())
        ],
    )
    .map_err(db_err)?;
    let trails: Vec<ReassignmentTrail> = report
        .reassignments
        .iter()
        .map(|(from, to)| ReassignmentTrail {
            previous_owner: *from,
            new_owner: *to,
            reassignment_type: "AUTOMATIC_REASSIGNMENT".into(),
        })
        .collect();
    tx.execute(
        "UPDATE certification_tasks SET status = 'SUCCESS', reassignment_trails = ?2, updated_at = ?3
         WHERE target_id = ?1 AND type = 'CAMPAIGN_CREATE'",
        params![
            cid,
            serde_json::to_string(&trails).unwrap_or_else(|_| "[]".into()),
            now
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(Some(report))
}

/// Copies what the items refer to into the campaign's snapshot tables.
fn snapshot(tx: &Connection, cid: &str) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TEMP TABLE gen_access (access_type TEXT NOT NULL, access_id TEXT NOT NULL,
            PRIMARY KEY (access_type, access_id)) WITHOUT ROWID;
         INSERT OR IGNORE INTO temp.gen_access
            SELECT DISTINCT access_type, access_id FROM temp.gen_items
            WHERE access_type <> 'ACCOUNT';
         INSERT OR IGNORE INTO temp.gen_access
            SELECT 'ROLE', subject_id FROM temp.gen_subjects
            WHERE subject_id IN (SELECT id FROM roles);
         INSERT OR IGNORE INTO temp.gen_access
            SELECT 'ACCESS_PROFILE', x.access_profile_id FROM role_access_profiles x
            JOIN temp.gen_access a ON a.access_type = 'ROLE' AND a.access_id = x.role_id;
         INSERT OR IGNORE INTO temp.gen_access
            SELECT 'ENTITLEMENT', x.entitlement_id FROM role_entitlements x
            JOIN temp.gen_access a ON a.access_type = 'ROLE' AND a.access_id = x.role_id;
         INSERT OR IGNORE INTO temp.gen_access
            SELECT 'ENTITLEMENT', x.entitlement_id FROM access_profile_entitlements x
            JOIN temp.gen_access a ON a.access_type = 'ACCESS_PROFILE'
                AND a.access_id = x.access_profile_id;",
    )
    .map_err(db_err)?;
    let run = |sql: &str| tx.execute(sql, [cid]).map_err(db_err);
    run(
        "INSERT INTO campaign_access (campaign_id, access_type, access_id, name, description,
            privileged, source_id, source_name, source_type, attribute_name, attribute_value,
            owner_id, owner_name, owner_email, permissions, contents)
         SELECT ?1, 'ENTITLEMENT', e.id, e.name, e.description, e.privileged, s.id, s.name,
            s.source_type, e.attribute_name, e.attribute_value, e.owner_id, o.display_name,
            o.email, e.permissions, '{}'
         FROM temp.gen_access a JOIN entitlements e ON e.id = a.access_id
         JOIN sources s ON s.id = e.source_id
         LEFT JOIN identities o ON o.id = e.owner_id
         WHERE a.access_type = 'ENTITLEMENT'",
    )?;
    run("INSERT INTO campaign_access (campaign_id, access_type, access_id, name, description,
            privileged, source_id, source_name, source_type, owner_id, owner_name, owner_email,
            contents)
         SELECT ?1, 'ACCESS_PROFILE', p.id, p.name, p.description,
            EXISTS (SELECT 1 FROM access_profile_entitlements x JOIN entitlements e
                    ON e.id = x.entitlement_id WHERE x.access_profile_id = p.id AND e.privileged = 1),
            s.id, s.name, s.source_type, p.owner_id, o.display_name, o.email,
            json_object('entitlements', (SELECT json_group_array(x.entitlement_id)
                FROM access_profile_entitlements x WHERE x.access_profile_id = p.id))
         FROM temp.gen_access a JOIN access_profiles p ON p.id = a.access_id
         JOIN sources s ON s.id = p.source_id
         LEFT JOIN identities o ON o.id = p.owner_id
         WHERE a.access_type = 'ACCESS_PROFILE'")?;
    run(
        "INSERT INTO campaign_access (campaign_id, access_type, access_id, name, description,
            privileged, owner_id, owner_name, owner_email, contents)
         SELECT ?1, 'ROLE', r.id, r.name, r.description,
            EXISTS (SELECT 1 FROM role_entitlements x JOIN entitlements e
                    ON e.id = x.entitlement_id WHERE x.role_id = r.id AND e.privileged = 1),
            r.owner_id, o.display_name, o.email,
            json_object(
                'entitlements', (SELECT json_group_array(x.entitlement_id)
                    FROM role_entitlements x WHERE x.role_id = r.id),
                'accessProfiles', (SELECT json_group_array(x.access_profile_id)
                    FROM role_access_profiles x WHERE x.role_id = r.id))
         FROM temp.gen_access a JOIN roles r ON r.id = a.access_id
         LEFT JOIN identities o ON o.id = r.owner_id
         WHERE a.access_type = 'ROLE'",
    )?;
    run(
        "INSERT INTO campaign_identities (campaign_id, identity_id, name, display_name, email,
            manager_id, active, lifecycle_state, attributes)
         SELECT ?1, i.id, i.name, i.display_name, i.email, i.manager_id, i.active,
            i.lifecycle_state, i.attributes
         FROM identities i
         WHERE i.id IN (SELECT subject_id FROM temp.gen_subjects
                        UNION SELECT reviewer_id FROM temp.gen_certs)",
    )?;
    run(
        "INSERT INTO campaign_accounts (campaign_id, account_id, source_id, native_identity, name,
            disabled, locked, created_at, updated_at)
         SELECT ?1, ac.id, ac.source_id, ac.native_identity, ac.name, ac.disabled, ac.locked,
            ac.created_at, ac.updated_at
         FROM accounts ac
         WHERE ac.id IN (SELECT account_id FROM temp.gen_items WHERE account_id IS NOT NULL)",
    )?;
    Ok(())
}

pub(crate) fn activate(
    c: &mut Connection,
    id: Id,
    deadline: Timestamp,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let n = tx
        .execute(
            "UPDATE campaigns SET status = 'ACTIVE', deadline = ?2, activated_at = ?3,
                modified_at = ?3
             WHERE id = ?1 AND status = 'ACTIVATING'",
            params![id.to_string(), deadline.to_string(), now.to_string()],
        )
        .map_err(db_err)?;
    if n == 0 {
        return Ok(false);
    }
    tx.execute(
        "UPDATE certifications SET phase = 'ACTIVE', due = ?2, modified_at = ?3
         WHERE campaign_id = ?1 AND phase = 'STAGED'",
        params![id.to_string(), deadline.to_string(), now.to_string()],
    )
    .map_err(db_err)?;
    finish_tasks(&tx, id, TaskType::ActivateCampaign, now)?;
    tx.commit().map_err(db_err)?;
    Ok(true)
}

fn finish_tasks(
    tx: &Connection,
    target: Id,
    t: TaskType,
    now: Timestamp,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE certification_tasks SET status = 'SUCCESS', updated_at = ?3
         WHERE target_id = ?1 AND type = ?2 AND status IN ('QUEUED', 'IN_PROGRESS')",
        params![target.to_string(), t.as_str(), now.to_string()],
    )
    .map_err(db_err)?;
    Ok(())
}

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
                 WHERE {cert_condition} AND ri.decision = 'REVOKE'
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
    let ts = now.to_string();
    let auto = tx
        .execute(
            &format!(
                "UPDATE review_items SET decision = ?2, decided_at = ?3, decided_by = NULL,
                    comments = coalesce(comments,
                        'Decided automatically when the campaign was completed')
                 WHERE {IN_CAMPAIGN} AND decision IS NULL"
            ),
            params![cid, decision.as_str(), ts],
        )
        .map_err(db_err)? as u64;
    tx.execute(
        &format!(
            "UPDATE certification_subjects SET items_decided = items_total WHERE {IN_CAMPAIGN}"
        ),
        [&cid],
    )
    .map_err(db_err)?;
    tx.execute(
        "UPDATE certifications SET decisions_made = decisions_total,
            identities_completed = identities_total, phase = 'SIGNED',
            signed_at = coalesce(signed_at, ?2), modified_at = ?2
         WHERE campaign_id = ?1",
        params![cid, ts],
    )
    .map_err(db_err)?;
    open_remediations(&tx, IN_CAMPAIGN, &cid, now)?;
    tx.execute(
        "UPDATE campaigns SET status = 'COMPLETED', completed_at = ?2, modified_at = ?2,
            completed_certifications = total_certifications
         WHERE id = ?1",
        params![cid, ts],
    )
    .map_err(db_err)?;
    finish_tasks(&tx, id, TaskType::CompleteCampaign, now)?;
    tx.commit().map_err(db_err)?;
    Ok(Some(auto))
}

pub(crate) fn delete(c: &mut Connection, id: Id) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let cid = id.to_string();
    for sql in [
        "DELETE FROM review_items WHERE certification_id IN
            (SELECT id FROM certifications WHERE campaign_id = ?1)",
        "DELETE FROM certification_subjects WHERE certification_id IN
            (SELECT id FROM certifications WHERE campaign_id = ?1)",
        "DELETE FROM certification_tasks WHERE target_id IN
            (SELECT id FROM certifications WHERE campaign_id = ?1)",
        "DELETE FROM certifications WHERE campaign_id = ?1",
        "DELETE FROM campaign_identities WHERE campaign_id = ?1",
        "DELETE FROM campaign_access WHERE campaign_id = ?1",
        "DELETE FROM campaign_accounts WHERE campaign_id = ?1",
        "DELETE FROM report_chunks WHERE report_id IN
            (SELECT id FROM campaign_reports WHERE campaign_id = ?1)",
        "DELETE FROM campaign_reports WHERE campaign_id = ?1",
        "DELETE FROM certification_tasks WHERE target_id = ?1",
        "DELETE FROM campaigns WHERE id = ?1",
    ] {
        tx.execute(sql, [&cid]).map_err(db_err)?;
    }
    tx.commit().map_err(db_err)
}

pub(crate) fn fail(
    c: &mut Connection,
    id: Id,
    message: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let alerts: Option<Vec<Alert>> = tx
        .query_row(
            "SELECT alerts FROM campaigns WHERE id = ?1",
            [id.to_string()],
            |r| get_json(r, 0),
        )
        .optional()
        .map_err(db_err)?;
    let Some(mut alerts) = alerts else {
        return Ok(());
    };
    alerts.push(Alert {
        level: AlertLevel::Error,
        text: message.to_owned(),
    });
    tx.execute(
        "UPDATE campaigns SET status = 'ERROR', alerts = ?2, modified_at = ?3 WHERE id = ?1",
        params![
            id.to_string(),
            serde_json::to_string(&alerts).unwrap_or_else(|_| "[]".into()),
            now.to_string()
        ],
    )
    .map_err(db_err)?;
    tx.execute(
        "UPDATE certification_tasks SET status = 'ERROR', errors = ?2, updated_at = ?3
         WHERE target_id = ?1 AND status IN ('QUEUED', 'IN_PROGRESS')",
        params![
            id.to_string(),
            serde_json::to_string(&[message]).unwrap_or_default(),
            now.to_string()
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)
}

pub(crate) fn reassign(
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

fn task_from_row(r: &Row<'_>) -> rusqlite::Result<CertificationTask> {
    let t: String = r.get(1)?;
    let target: String = r.get(2)?;
    let status: String = r.get(4)?;
    Ok(CertificationTask {
        id: get_id(r, 0)?,
        task_type: TaskType::parse(&t).ok_or_else(|| bad(1, "unknown task type"))?,
        target_type: if target == "CAMPAIGN" {
            "CAMPAIGN"
        } else {
            "CERTIFICATION"
        },
        target_id: get_id(r, 3)?,
        status: TaskStatus::parse(&status).ok_or_else(|| bad(4, "unknown task status"))?,
        errors: get_json(r, 5)?,
        trails: get_json(r, 6)?,
        request: get_json(r, 7)?,
        requested_by: get_opt_id(r, 8)?,
        created: get_ts(r, 9)?,
        updated: get_ts(r, 10)?,
    })
}

pub(crate) fn tasks_of(c: &Connection, target: Id) -> Result<Vec<CertificationTask>, StoreError> {
    let mut stmt = c
        .prepare(
            "SELECT id, type, target_type, target_id, status, errors, reassignment_trails, request,
                requested_by, created_at, updated_at
             FROM certification_tasks WHERE target_id = ?1 ORDER BY created_at, id",
        )
        .map_err(db_err)?;
    stmt.query_map([target.to_string()], task_from_row)
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)
}

pub(crate) fn remediation_items(
    c: &Connection,
    campaign: Id,
) -> Result<Vec<RemediationItem>, StoreError> {
    let mut stmt = c
        .prepare(
            "SELECT id, item_id, campaign_id, certification_id, identity_id, access_type,
                access_id, account_id, status, attempts, last_error, created_at, updated_at,
                completed_at
             FROM remediation_items WHERE campaign_id = ?1 ORDER BY id",
        )
        .map_err(db_err)?;
    stmt.query_map([campaign.to_string()], |r| {
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
    })
    .map_err(db_err)?
    .collect::<Result<Vec<_>, _>>()
    .map_err(db_err)
}

pub(crate) fn task(c: &Connection, id: Id) -> Result<Option<CertificationTask>, StoreError> {
    c.query_row(
        "SELECT id, type, target_type, target_id, status, errors, reassignment_trails, request,
            requested_by, created_at, updated_at
         FROM certification_tasks WHERE id = ?1",
        [id.to_string()],
        task_from_row,
    )
    .optional()
    .map_err(db_err)
}

pub(crate) fn set_task_status(
    c: &Connection,
    id: Id,
    status: TaskStatus,
    errors: &[String],
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE certification_tasks SET status = ?2, errors = ?3, updated_at = ?4 WHERE id = ?1",
        params![
            id.to_string(),
            status.as_str(),
            serde_json::to_string(errors).unwrap_or_else(|_| "[]".into()),
            now.to_string()
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn certifications(
    c: &Connection,
    campaign: Id,
) -> Result<Vec<Certification>, StoreError> {
    let mut stmt = c
        .prepare(
            "SELECT id, campaign_id, name, reviewer_id, reviewer_name, reviewer_email, phase, due,
                signed_at, decisions_made, decisions_total, identities_completed, identities_total,
                reassignment_comment, created_at, modified_at
             FROM certifications WHERE campaign_id = ?1 ORDER BY reviewer_name, id",
        )
        .map_err(db_err)?;
    stmt.query_map([campaign.to_string()], |r| {
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
            reassignment_comment: r.get(13)?,
            created: get_ts(r, 14)?,
            modified: get_ts(r, 15)?,
        })
    })
    .map_err(db_err)?
    .collect::<Result<Vec<_>, _>>()
    .map_err(db_err)
}

pub(crate) fn items(c: &Connection, cert: Id) -> Result<Vec<ReviewItem>, StoreError> {
    let mut stmt = c
        .prepare(
            "SELECT id, certification_id, subject_id, access_type, access_id, account_id,
                new_access, decision, comments
             FROM review_items WHERE certification_id = ?1 ORDER BY id",
        )
        .map_err(db_err)?;
    stmt.query_map([cert.to_string()], |r| {
        let d: Option<String> = r.get(7)?;
        Ok(ReviewItem {
            id: get_id(r, 0)?,
            certification_id: get_id(r, 1)?,
            subject_id: get_id(r, 2)?,
            access_type: r.get(3)?,
            access_id: get_id(r, 4)?,
            account_id: get_opt_id(r, 5)?,
            new_access: r.get(6)?,
            decision: d
                .map(|d| d.parse().map_err(|e: String| bad(7, e)))
                .transpose()?,
            comments: r.get(8)?,
        })
    })
    .map_err(db_err)?
    .collect::<Result<Vec<_>, _>>()
    .map_err(db_err)
}
