//! Campaign templates and small settings on SQLite.

use recert_domain::review::CampaignTemplate;
use recert_domain::{Id, Timestamp};
use recert_store::campaigns::{template_column, template_sort_column};
use recert_store::{ListQuery, Page, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::db_err;
use crate::queries::{get_id, get_json, get_opt_id, get_opt_ts, get_ts};

const COLUMNS: &str = "id, name, description, owner_id, deadline_duration, campaign, schedule, \
    next_run_at, created_at, modified_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<CampaignTemplate> {
    let schedule: Option<String> = r.get(6)?;
    Ok(CampaignTemplate {
        id: get_id(r, 0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        owner_id: get_opt_id(r, 3)?,
        deadline_duration: r.get(4)?,
        campaign: get_json(r, 5)?,
        schedule: schedule
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    6,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?,
        next_run_at: get_opt_ts(r, 7)?,
        created: get_ts(r, 8)?,
        modified: get_opt_ts(r, 9)?,
    })
}

fn values(t: &CampaignTemplate) -> [Value; 10] {
    let text = |s: Option<String>| s.map(Value::Text).unwrap_or(Value::Null);
    [
        Value::Text(t.id.to_string()),
        Value::Text(t.name.clone()),
        Value::Text(t.description.clone()),
        text(t.owner_id.map(|i| i.to_string())),
        text(t.deadline_duration.clone()),
        Value::Text(t.campaign.to_string()),
        text(t.schedule.as_ref().map(|s| s.to_string())),
        text(t.next_run_at.map(|t| t.to_string())),
        Value::Text(t.created.to_string()),
        text(t.modified.map(|t| t.to_string())),
    ]
}

pub(crate) fn create(c: &Connection, t: &CampaignTemplate) -> Result<(), StoreError> {
    c.execute(
        &format!("INSERT INTO campaign_templates ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params_from_iter(values(t).iter()),
    )
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn update(c: &Connection, t: &CampaignTemplate) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE campaign_templates SET name = ?2, description = ?3, owner_id = ?4,
                deadline_duration = ?5, campaign = ?6, schedule = ?7, next_run_at = ?8,
                created_at = ?9, modified_at = ?10
             WHERE id = ?1",
            params_from_iter(values(t).iter()),
        )
        .map_err(db_err)?;
    Ok(n == 1)
}

pub(crate) fn get(c: &Connection, id: Id) -> Result<Option<CampaignTemplate>, StoreError> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM campaign_templates WHERE id = ?1"),
        [id.to_string()],
        from_row,
    )
    .optional()
    .map_err(db_err)
}

pub(crate) fn delete(c: &Connection, id: Id) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "DELETE FROM campaign_templates WHERE id = ?1",
            [id.to_string()],
        )
        .map_err(db_err)?;
    Ok(n == 1)
}

pub(crate) fn list(c: &Connection, q: &ListQuery) -> Result<Page<CampaignTemplate>, StoreError> {
    crate::queries::page(
        c,
        &crate::queries::Listing {
            table: "campaign_templates",
            columns: COLUMNS,
            column: template_column,
            sort: template_sort_column,
            default_order: "created_at DESC, id DESC",
            from_row,
        },
        q,
    )
}

pub(crate) fn last_completed_generation(
    c: &Connection,
    template: Id,
) -> Result<Option<Timestamp>, StoreError> {
    let s: Option<String> = c
        .query_row(
            "SELECT max(generated_at) FROM campaigns WHERE template_id = ?1 AND status = 'COMPLETED'",
            [template.to_string()],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    s.map(|s| Timestamp::parse(&s).map_err(|e| StoreError::corrupt("campaigns", e)))
        .transpose()
}

pub(crate) fn setting(c: &Connection, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
    let s: Option<String> = c
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db_err)?;
    s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::corrupt("settings", e)))
        .transpose()
}

pub(crate) fn put_setting(
    c: &Connection,
    key: &str,
    value: &serde_json::Value,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value.to_string()],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn due(
    c: &Connection,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<CampaignTemplate>, StoreError> {
    let mut stmt = c
        .prepare(&format!(
            "SELECT {COLUMNS} FROM campaign_templates
             WHERE next_run_at IS NOT NULL AND next_run_at <= ?1
             ORDER BY next_run_at, id LIMIT ?2"
        ))
        .map_err(db_err)?;
    stmt.query_map(params![now.to_string(), limit], from_row)
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)
}

pub(crate) fn advance(
    c: &Connection,
    id: Id,
    expected: Timestamp,
    next: Option<Timestamp>,
) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE campaign_templates SET next_run_at = ?3 WHERE id = ?1 AND next_run_at = ?2",
            params![
                id.to_string(),
                expected.to_string(),
                next.map(|t| t.to_string())
            ],
        )
        .map_err(db_err)?;
    Ok(n == 1)
}
