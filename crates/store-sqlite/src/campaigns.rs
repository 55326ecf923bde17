//! Campaigns on SQLite: the campaign rows and the operations that move them through their life
//! (generation is in `generate.rs`).

use recert_domain::campaign::CampaignStatus;
use recert_domain::review::{
    Alert, AlertLevel, Campaign, CampaignSettings, Certification, CertificationTask,
    CorrelatedStatus, ReviewItem, TaskStatus, TaskType,
};
use recert_domain::{Id, NewJob, Timestamp};
use recert_store::campaigns::{campaign_column, campaign_sort_column};
use recert_store::{ListQuery, Page, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::db_err;
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
    crate::queries::page(
        c,
        &crate::queries::Listing {
            table: "campaigns",
            columns: COLUMNS,
            column: campaign_column,
            sort: campaign_sort_column,
            default_order: "created_at DESC, id DESC",
            from_row: campaign_from_row,
        },
        q,
    )
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

pub(crate) fn campaign_status(
    c: &Connection,
    id: Id,
) -> Result<Option<CampaignStatus>, StoreError> {
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

pub(crate) fn finish_tasks(
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
        "DELETE FROM report_chunks WHERE report_id IN
            (SELECT id FROM campaign_reports WHERE campaign_id = ?1)",
        "DELETE FROM campaign_reports WHERE campaign_id = ?1",
        "DELETE FROM certification_tasks WHERE target_id = ?1",
        "DELETE FROM item_co_reviewers WHERE campaign_id = ?1",
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

pub(crate) fn task_from_row(r: &Row<'_>) -> rusqlite::Result<CertificationTask> {
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
    use crate::reviews::{CERTIFICATION_COLUMNS, certification_from_row};
    use recert_store::certifications::CERTIFICATION_FROM;
    let mut stmt = c
        .prepare(&format!(
            "SELECT {CERTIFICATION_COLUMNS} FROM {CERTIFICATION_FROM}
             WHERE c.campaign_id = ?1 ORDER BY c.reviewer_name, c.id"
        ))
        .map_err(db_err)?;
    stmt.query_map([campaign.to_string()], certification_from_row)
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
