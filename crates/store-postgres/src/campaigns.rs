//! Campaigns on PostgreSQL: the same operations as the SQLite store, the same shape of SQL
//! (generation is in `generate.rs`).

use recert_domain::campaign::CampaignStatus;
use recert_domain::review::{
    Alert, AlertLevel, Campaign, CampaignSettings, Certification, CertificationTask,
    CorrelatedStatus, ReviewItem, TaskStatus, TaskType,
};
use recert_domain::{Id, NewJob, Timestamp};
use recert_store::campaigns::{campaign_column, campaign_sort_column};
use recert_store::{ListQuery, Page, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row};

use crate::queries::{at, flag, id, json, opt_at, opt_id, opt_text, text};
use crate::{db_err, ts};

const COLUMNS: &str = "id, name, description, type, status, correlated_status, deadline, \
    email_notification_enabled, auto_revoke_allowed, recommendations_enabled, \
    sunset_comments_required, mandatory_comment_requirement, config::text AS config, \
    alerts::text AS alerts, template_id, created_by, total_certifications, \
    completed_certifications, created_at, modified_at, generated_at, activated_at, completed_at";

pub(crate) fn parse<T: std::str::FromStr>(
    r: &PgRow,
    col: &str,
    table: &'static str,
) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    text(r, col)?
        .parse()
        .map_err(|e| StoreError::corrupt(table, e))
}

pub(crate) fn int(r: &PgRow, col: &str) -> Result<i64, StoreError> {
    r.try_get(col).map_err(db_err)
}

fn campaign_from_row(r: &PgRow) -> Result<Campaign, StoreError> {
    let t = "campaigns";
    Ok(Campaign {
        id: id(r, "id", t)?,
        name: text(r, "name")?,
        description: opt_text(r, "description")?,
        campaign_type: parse(r, "type", t)?,
        status: parse(r, "status", t)?,
        correlated_status: CorrelatedStatus::parse(&text(r, "correlated_status")?)
            .ok_or_else(|| StoreError::corrupt(t, "unknown correlated status"))?,
        deadline: opt_at(r, "deadline")?,
        email_notification_enabled: flag(r, "email_notification_enabled")?,
        auto_revoke_allowed: flag(r, "auto_revoke_allowed")?,
        recommendations_enabled: flag(r, "recommendations_enabled")?,
        sunset_comments_required: flag(r, "sunset_comments_required")?,
        mandatory_comment_requirement: parse(r, "mandatory_comment_requirement", t)?,
        config: json(r, "config", t)?,
        alerts: json(r, "alerts", t)?,
        template_id: opt_id(r, "template_id", t)?,
        created_by: opt_id(r, "created_by", t)?,
        total_certifications: int(r, "total_certifications")?,
        completed_certifications: int(r, "completed_certifications")?,
        created: at(r, "created_at")?,
        modified: at(r, "modified_at")?,
        generated_at: opt_at(r, "generated_at")?,
        activated_at: opt_at(r, "activated_at")?,
        completed_at: opt_at(r, "completed_at")?,
    })
}

fn opt_s(i: Option<Id>) -> Option<String> {
    i.map(|i| i.to_string())
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub(crate) async fn insert_task(
    c: &mut PgConnection,
    t: &CertificationTask,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO certification_tasks (id, type, target_type, target_id, status, errors,
            reassignment_trails, request, requested_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11)",
    )
    .bind(t.id.to_string())
    .bind(t.task_type.as_str())
    .bind(t.target_type)
    .bind(t.target_id.to_string())
    .bind(t.status.as_str())
    .bind(to_json(&t.errors))
    .bind(to_json(&t.trails))
    .bind(t.request.to_string())
    .bind(opt_s(t.requested_by))
    .bind(ts(t.created))
    .bind(ts(t.updated))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn create(
    pool: &PgPool,
    k: &Campaign,
    task: &CertificationTask,
    job: &NewJob,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    sqlx::query(
        "INSERT INTO campaigns (id, name, description, type, status, correlated_status, deadline,
            email_notification_enabled, auto_revoke_allowed, recommendations_enabled,
            sunset_comments_required, mandatory_comment_requirement, config, alerts, template_id,
            created_by, total_certifications, completed_certifications, created_at, modified_at,
            generated_at, activated_at, completed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14::jsonb, $15,
            $16, $17, $18, $19, $20, $21, $22, $23)",
    )
    .bind(k.id.to_string())
    .bind(&k.name)
    .bind(&k.description)
    .bind(k.campaign_type.as_str())
    .bind(k.status.as_str())
    .bind(k.correlated_status.as_str())
    .bind(k.deadline.map(ts))
    .bind(k.email_notification_enabled)
    .bind(k.auto_revoke_allowed)
    .bind(k.recommendations_enabled)
    .bind(k.sunset_comments_required)
    .bind(k.mandatory_comment_requirement.as_str())
    .bind(k.config.to_string())
    .bind(to_json(&k.alerts))
    .bind(opt_s(k.template_id))
    .bind(opt_s(k.created_by))
    .bind(k.total_certifications)
    .bind(k.completed_certifications)
    .bind(ts(k.created))
    .bind(ts(k.modified))
    .bind(k.generated_at.map(ts))
    .bind(k.activated_at.map(ts))
    .bind(k.completed_at.map(ts))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    insert_task(&mut tx, task).await?;
    crate::jobs::enqueue(&mut *tx, job, k.created).await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn get(pool: &PgPool, cid: Id) -> Result<Option<Campaign>, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaigns WHERE id = $1"
    )))
    .bind(cid.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(campaign_from_row).transpose()
}

pub(crate) async fn list(pool: &PgPool, q: &ListQuery) -> Result<Page<Campaign>, StoreError> {
    crate::queries::page(
        pool,
        &crate::queries::Listing {
            table: "campaigns",
            columns: COLUMNS,
            column: campaign_column,
            sort: campaign_sort_column,
            default_order: "created_at DESC, id DESC",
            order: crate::queries::Order::IdTie,
            from_row: campaign_from_row,
        },
        q,
    )
    .await
}

pub(crate) async fn update_settings(
    pool: &PgPool,
    cid: Id,
    expected: CampaignStatus,
    s: &CampaignSettings,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let n = sqlx::query(
        "UPDATE campaigns SET name = $3, description = $4, deadline = $5,
            email_notification_enabled = $6, auto_revoke_allowed = $7,
            recommendations_enabled = $8, modified_at = $9
         WHERE id = $1 AND status = $2",
    )
    .bind(cid.to_string())
    .bind(expected.as_str())
    .bind(&s.name)
    .bind(&s.description)
    .bind(s.deadline.map(ts))
    .bind(s.email_notification_enabled)
    .bind(s.auto_revoke_allowed)
    .bind(s.recommendations_enabled)
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    if n == 1 {
        sqlx::query(
            "UPDATE certifications SET due = $2, modified_at = $3
             WHERE campaign_id = $1 AND phase = 'ACTIVE'",
        )
        .bind(cid.to_string())
        .bind(s.deadline.map(ts))
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(n == 1)
}

pub(crate) async fn start_operation(
    pool: &PgPool,
    cid: Id,
    from: &[CampaignStatus],
    to: CampaignStatus,
    task: Option<&CertificationTask>,
    job: &NewJob,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let from: Vec<String> = from.iter().map(|s| s.as_str().to_owned()).collect();
    let n = sqlx::query(
        "UPDATE campaigns SET status = $2, modified_at = $3 WHERE id = $1 AND status = ANY($4)",
    )
    .bind(cid.to_string())
    .bind(to.as_str())
    .bind(ts(now))
    .bind(&from)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    if let Some(t) = task {
        insert_task(&mut tx, t).await?;
    }
    crate::jobs::enqueue(&mut *tx, job, now).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

pub(crate) async fn campaign_status(
    c: &mut PgConnection,
    cid: Id,
    lock: bool,
) -> Result<Option<CampaignStatus>, StoreError> {
    let sql = if lock {
        "SELECT status FROM campaigns WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT status FROM campaigns WHERE id = $1"
    };
    let s: Option<String> = sqlx::query_scalar(sql)
        .bind(cid.to_string())
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
    s.map(|s| {
        s.parse()
            .map_err(|e: String| StoreError::corrupt("campaigns", e))
    })
    .transpose()
}

pub(crate) async fn finish_tasks(
    c: &mut PgConnection,
    target: Id,
    t: TaskType,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE certification_tasks SET status = 'SUCCESS', updated_at = $3
         WHERE target_id = $1 AND type = $2 AND status IN ('QUEUED', 'IN_PROGRESS')",
    )
    .bind(target.to_string())
    .bind(t.as_str())
    .bind(ts(now))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn activate(
    pool: &PgPool,
    cid: Id,
    deadline: Timestamp,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let n = sqlx::query(
        "UPDATE campaigns SET status = 'ACTIVE', deadline = $2, activated_at = $3, modified_at = $3
         WHERE id = $1 AND status = 'ACTIVATING'",
    )
    .bind(cid.to_string())
    .bind(ts(deadline))
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE certifications SET phase = 'ACTIVE', due = $2, modified_at = $3
         WHERE campaign_id = $1 AND phase = 'STAGED'",
    )
    .bind(cid.to_string())
    .bind(ts(deadline))
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    finish_tasks(&mut tx, cid, TaskType::ActivateCampaign, now).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

pub(crate) async fn delete(pool: &PgPool, cid: Id) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    for sql in [
        "DELETE FROM review_items WHERE certification_id IN
            (SELECT id FROM certifications WHERE campaign_id = $1)",
        "DELETE FROM certification_subjects WHERE certification_id IN
            (SELECT id FROM certifications WHERE campaign_id = $1)",
        "DELETE FROM certification_tasks WHERE target_id IN
            (SELECT id FROM certifications WHERE campaign_id = $1)",
        "DELETE FROM certifications WHERE campaign_id = $1",
        // The rows' action logs (item_actions) outlive the campaign: they are never deleted.
        "DELETE FROM item_co_reviewers WHERE campaign_id = $1",
        "DELETE FROM campaign_identities WHERE campaign_id = $1",
        "DELETE FROM campaign_access WHERE campaign_id = $1",
        "DELETE FROM report_chunks WHERE report_id IN
            (SELECT id FROM campaign_reports WHERE campaign_id = $1)",
        "DELETE FROM campaign_reports WHERE campaign_id = $1",
        "DELETE FROM certification_tasks WHERE target_id = $1",
        "DELETE FROM campaigns WHERE id = $1",
    ] {
        sqlx::query(sql)
            .bind(cid.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn fail(
    pool: &PgPool,
    cid: Id,
    message: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let alerts: Option<String> =
        sqlx::query_scalar("SELECT alerts::text FROM campaigns WHERE id = $1 FOR UPDATE")
            .bind(cid.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
    let Some(alerts) = alerts else {
        return Ok(());
    };
    let mut alerts: Vec<Alert> =
        serde_json::from_str(&alerts).map_err(|e| StoreError::corrupt("campaigns", e))?;
    alerts.push(Alert {
        level: AlertLevel::Error,
        text: message.to_owned(),
    });
    sqlx::query(
        "UPDATE campaigns SET status = 'ERROR', alerts = $2::jsonb, modified_at = $3 WHERE id = $1",
    )
    .bind(cid.to_string())
    .bind(to_json(&alerts))
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    sqlx::query(
        "UPDATE certification_tasks SET status = 'ERROR', errors = $2::jsonb, updated_at = $3
         WHERE target_id = $1 AND status IN ('QUEUED', 'IN_PROGRESS')",
    )
    .bind(cid.to_string())
    .bind(to_json(&[message]))
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}

pub(crate) fn task_from_row(r: &PgRow) -> Result<CertificationTask, StoreError> {
    let t = "certification_tasks";
    Ok(CertificationTask {
        id: id(r, "id", t)?,
        task_type: TaskType::parse(&text(r, "type")?)
            .ok_or_else(|| StoreError::corrupt(t, "unknown task type"))?,
        target_type: if text(r, "target_type")? == "CAMPAIGN" {
            "CAMPAIGN"
        } else {
            "CERTIFICATION"
        },
        target_id: id(r, "target_id", t)?,
        status: TaskStatus::parse(&text(r, "status")?)
            .ok_or_else(|| StoreError::corrupt(t, "unknown task status"))?,
        errors: json(r, "errors", t)?,
        trails: json(r, "reassignment_trails", t)?,
        request: json(r, "request", t)?,
        requested_by: opt_id(r, "requested_by", t)?,
        created: at(r, "created_at")?,
        updated: at(r, "updated_at")?,
    })
}

pub(crate) const TASK_COLUMNS: &str =
    "id, type, target_type, target_id, status, errors::text AS errors,
    reassignment_trails::text AS reassignment_trails, request::text AS request, requested_by,
    created_at, updated_at";

pub(crate) async fn tasks_of(
    pool: &PgPool,
    target: Id,
) -> Result<Vec<CertificationTask>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM certification_tasks WHERE target_id = $1
         ORDER BY created_at, id"
    )))
    .bind(target.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(task_from_row).collect()
}

pub(crate) async fn task(pool: &PgPool, tid: Id) -> Result<Option<CertificationTask>, StoreError> {
    let row = sqlx::query(
        "SELECT id, type, target_type, target_id, status, errors::text AS errors,
            reassignment_trails::text AS reassignment_trails, request::text AS request,
            requested_by, created_at, updated_at
         FROM certification_tasks WHERE id = $1",
    )
    .bind(tid.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(task_from_row).transpose()
}

pub(crate) async fn set_task_status(
    pool: &PgPool,
    tid: Id,
    status: TaskStatus,
    errors: &[String],
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE certification_tasks SET status = $2, errors = $3::jsonb, updated_at = $4
         WHERE id = $1",
    )
    .bind(tid.to_string())
    .bind(status.as_str())
    .bind(to_json(&errors))
    .bind(ts(now))
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn certifications(
    pool: &PgPool,
    campaign: Id,
) -> Result<Vec<Certification>, StoreError> {
    use crate::reviews::{CERTIFICATION_COLUMNS, certification_from_row};
    use recert_store::certifications::CERTIFICATION_FROM;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {CERTIFICATION_COLUMNS} FROM {CERTIFICATION_FROM}
         WHERE c.campaign_id = $1 ORDER BY c.reviewer_name, c.id"
    )))
    .bind(campaign.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(certification_from_row).collect()
}

pub(crate) async fn items(pool: &PgPool, cert: Id) -> Result<Vec<ReviewItem>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, certification_id, subject_id, access_type, access_id, account_id,
            new_access, decision, comments
         FROM review_items WHERE certification_id = $1 ORDER BY id",
    )
    .bind(cert.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    let t = "review_items";
    rows.iter()
        .map(|r| {
            Ok(ReviewItem {
                id: id(r, "id", t)?,
                certification_id: id(r, "certification_id", t)?,
                subject_id: id(r, "subject_id", t)?,
                access_type: text(r, "access_type")?,
                access_id: id(r, "access_id", t)?,
                account_id: opt_id(r, "account_id", t)?,
                new_access: flag(r, "new_access")?,
                decision: opt_text(r, "decision")?
                    .map(|d| d.parse().map_err(|e: String| StoreError::corrupt(t, e)))
                    .transpose()?,
                comments: opt_text(r, "comments")?,
            })
        })
        .collect()
}
