//! Campaign templates and small settings on PostgreSQL.

use recert_domain::review::CampaignTemplate;
use recert_domain::{Id, Timestamp};
use recert_store::campaigns::{template_column, template_sort_column};
use recert_store::{ListQuery, Page, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool};

use crate::queries::{at, id, json, opt_at, opt_id, opt_text, text};
use crate::{db_err, ts};

const COLUMNS: &str = "id, name, description, owner_id, deadline_duration, \
    campaign::text AS campaign, schedule::text AS schedule, next_run_at, created_at, modified_at";

fn from_row(r: &PgRow) -> Result<CampaignTemplate, StoreError> {
    let t = "campaign_templates";
    Ok(CampaignTemplate {
        id: id(r, "id", t)?,
        name: text(r, "name")?,
        description: text(r, "description")?,
        owner_id: opt_id(r, "owner_id", t)?,
        deadline_duration: opt_text(r, "deadline_duration")?,
        campaign: json(r, "campaign", t)?,
        schedule: opt_text(r, "schedule")?
            .map(|s| serde_json::from_str(&s).map_err(|e| StoreError::corrupt(t, e)))
            .transpose()?,
        next_run_at: opt_at(r, "next_run_at")?,
        created: at(r, "created_at")?,
        modified: opt_at(r, "modified_at")?,
    })
}

fn bind_all<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    t: &CampaignTemplate,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    q.bind(t.id.to_string())
        .bind(t.name.clone())
        .bind(t.description.clone())
        .bind(t.owner_id.map(|i| i.to_string()))
        .bind(t.deadline_duration.clone())
        .bind(t.campaign.to_string())
        .bind(t.schedule.as_ref().map(|s| s.to_string()))
        .bind(t.next_run_at.map(ts))
        .bind(ts(t.created))
        .bind(t.modified.map(ts))
}

pub(crate) async fn create(pool: &PgPool, t: &CampaignTemplate) -> Result<(), StoreError> {
    bind_all(
        sqlx::query(
            "INSERT INTO campaign_templates (id, name, description, owner_id, deadline_duration,
                campaign, schedule, next_run_at, created_at, modified_at)
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10)",
        ),
        t,
    )
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn update(pool: &PgPool, t: &CampaignTemplate) -> Result<bool, StoreError> {
    let n = bind_all(
        sqlx::query(
            "UPDATE campaign_templates SET name = $2, description = $3, owner_id = $4,
                deadline_duration = $5, campaign = $6::jsonb, schedule = $7::jsonb,
                next_run_at = $8, created_at = $9, modified_at = $10
             WHERE id = $1",
        ),
        t,
    )
    .execute(pool)
    .await
    .map_err(db_err)?
    .rows_affected();
    Ok(n == 1)
}

pub(crate) async fn get(pool: &PgPool, tid: Id) -> Result<Option<CampaignTemplate>, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaign_templates WHERE id = $1"
    )))
    .bind(tid.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(from_row).transpose()
}

pub(crate) async fn delete(pool: &PgPool, tid: Id) -> Result<bool, StoreError> {
    let n = sqlx::query("DELETE FROM campaign_templates WHERE id = $1")
        .bind(tid.to_string())
        .execute(pool)
        .await
        .map_err(db_err)?
        .rows_affected();
    Ok(n == 1)
}

pub(crate) async fn list(
    pool: &PgPool,
    q: &ListQuery,
) -> Result<Page<CampaignTemplate>, StoreError> {
    crate::queries::page(
        pool,
        &crate::queries::Listing {
            table: "campaign_templates",
            columns: COLUMNS,
            column: template_column,
            sort: template_sort_column,
            default_order: "created_at DESC, id DESC",
            order: crate::queries::Order::IdTie,
            from_row,
        },
        q,
    )
    .await
}

pub(crate) async fn last_completed_generation(
    pool: &PgPool,
    template: Id,
) -> Result<Option<Timestamp>, StoreError> {
    let t: Option<time::OffsetDateTime> = sqlx::query_scalar(
        "SELECT max(generated_at) FROM campaigns WHERE template_id = $1 AND status = 'COMPLETED'",
    )
    .bind(template.to_string())
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    Ok(t.map(Timestamp::from_datetime))
}

pub(crate) async fn setting(
    pool: &PgPool,
    key: &str,
) -> Result<Option<serde_json::Value>, StoreError> {
    let s: Option<String> = sqlx::query_scalar("SELECT value::text FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::corrupt("settings", e)))
        .transpose()
}

pub(crate) async fn put_setting(
    pool: &PgPool,
    key: &str,
    value: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2::jsonb)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value.to_string())
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn due(
    pool: &PgPool,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<CampaignTemplate>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaign_templates
         WHERE next_run_at IS NOT NULL AND next_run_at <= $1
         ORDER BY next_run_at, id LIMIT $2"
    )))
    .bind(ts(now))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn advance(
    pool: &PgPool,
    id: Id,
    expected: Timestamp,
    next: Option<Timestamp>,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE campaign_templates SET next_run_at = $3 WHERE id = $1 AND next_run_at = $2",
    )
    .bind(id.to_string())
    .bind(ts(expected))
    .bind(next.map(ts))
    .execute(pool)
    .await
    .map_err(db_err)?
    .rows_affected();
    Ok(n == 1)
}
