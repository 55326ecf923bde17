//! Campaign reports on PostgreSQL. A build is one transaction: it locks the report's row (so two
//! builds, or a build and a new run, take turns), reads the report's query through a cursor a
//! thousand rows at a time, and inserts CSV chunks of about a megabyte as they fill up, so a
//! report of millions of rows is never held in memory. Every value is selected as text, written
//! exactly as the SQLite store writes it.

use recert_domain::review::{CampaignReport, ReportStatus, ReportType};
use recert_domain::{Id, NewJob, Timestamp};
use recert_store::StoreError;
use recert_store::reports::{CsvChunks, report_columns, report_header};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row};

use crate::queries::{at, id, opt_at, opt_text, text};
use crate::{db_err, ts};

const COLUMNS: &str =
    "id, campaign_id, report_type, status, row_count, error, created_at, last_run_at";

/// Rows fetched from the cursor at a time.
const FETCH: u32 = 1000;

fn report_from_row(r: &PgRow) -> Result<CampaignReport, StoreError> {
    let t = "campaign_reports";
    let count: i64 = r.try_get("row_count").map_err(db_err)?;
    Ok(CampaignReport {
        id: id(r, "id", t)?,
        campaign_id: id(r, "campaign_id", t)?,
        report_type: text(r, "report_type")?
            .parse()
            .map_err(|e| StoreError::corrupt(t, e))?,
        status: ReportStatus::parse(&text(r, "status")?)
            .ok_or_else(|| StoreError::corrupt(t, "unknown report status"))?,
        row_count: count.max(0) as u64,
        error: opt_text(r, "error")?,
        created: at(r, "created_at")?,
        last_run_at: opt_at(r, "last_run_at")?,
    })
}

pub(crate) async fn start(
    pool: &PgPool,
    campaign: Id,
    t: ReportType,
    report_id: Id,
    job: &NewJob,
    now: Timestamp,
) -> Result<Option<Id>, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1)")
        .bind(campaign.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
    if !exists {
        return Ok(None);
    }
    let rid: String = sqlx::query_scalar(
        "INSERT INTO campaign_reports (id, campaign_id, report_type, status, row_count, error,
            created_at, last_run_at)
         VALUES ($1, $2, $3, 'PENDING', 0, NULL, $4, $4)
         ON CONFLICT (campaign_id, report_type) DO UPDATE SET status = 'PENDING',
            row_count = 0, error = NULL, last_run_at = excluded.last_run_at
         RETURNING id",
    )
    .bind(report_id.to_string())
    .bind(campaign.to_string())
    .bind(t.as_str())
    .bind(ts(now))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    sqlx::query("DELETE FROM report_chunks WHERE report_id = $1")
        .bind(&rid)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    crate::jobs::enqueue(&mut *tx, job, now).await?;
    tx.commit().await.map_err(db_err)?;
    Id::parse(&rid)
        .map(Some)
        .map_err(|e| StoreError::corrupt("campaign_reports", e))
}

/// A timestamp as the SQLite store writes it: `2026-01-01T00:00:00.000Z`.
fn ts_text(col: &str) -> String {
    format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
}

fn flag(col: &str) -> String {
    format!("CASE WHEN {col} THEN 'true' ELSE 'false' END")
}

/// The report's query: its columns in [`report_columns`] order, all text; `$1` the campaign,
/// `$2...` the attribute names.
fn report_sql(t: ReportType, attributes: usize) -> String {
    let attrs: String = (0..attributes)
        .map(|n| format!(", ci.attributes ->> ${}", n + 2))
        .collect();
    let subject = "coalesce(ci.name, cs.name), coalesce(ci.display_name, cs.name), ci.email";
    let item_joins = "FROM review_items ri
        JOIN certifications c ON c.id = ri.certification_id
        JOIN campaigns k ON k.id = c.campaign_id
        LEFT JOIN certification_subjects cs ON cs.id = ri.summary_id
        LEFT JOIN campaign_identities ci
            ON ci.campaign_id = c.campaign_id AND ci.identity_id = ri.subject_id
        LEFT JOIN campaign_access ca ON ca.campaign_id = c.campaign_id
            AND ca.access_type = ri.access_type AND ca.access_id = ri.access_id
        LEFT JOIN sources asrc ON asrc.id = ri.account_source_id";
    let item_order = "WHERE ri.certification_id IN
            (SELECT id FROM certifications WHERE campaign_id = $1)
        ORDER BY ri.certification_id, ri.subject_id, ri.id";
    let access = "ri.access_type, coalesce(ca.name, ri.account_name),
        CASE WHEN ri.access_type = 'ACCOUNT' THEN asrc.name ELSE ca.source_name END";
    match t {
        ReportType::CampaignComposition => format!(
            "SELECT k.name, c.name, c.reviewer_name, c.reviewer_email, {subject}{attrs},
                {access}, {}, ri.account_name, {}
             {item_joins} {item_order}",
            flag("ca.privileged"),
            flag("ri.new_access"),
        ),
        ReportType::CampaignStatus => format!(
            "SELECT k.name, c.name, c.reviewer_name, c.reviewer_email, {subject}{attrs},
                {access}, ri.account_name, ri.decision, ri.comments, {},
                coalesce(dci.name, di.name, ri.decided_by), c.phase
             {item_joins}
             LEFT JOIN campaign_identities dci
                ON dci.campaign_id = c.campaign_id AND dci.identity_id = ri.decided_by
             LEFT JOIN identities di ON di.id = ri.decided_by
             {item_order}",
            ts_text("ri.decided_at"),
        ),
        ReportType::CertificationSignoff => format!(
            "SELECT k.name, c.name, c.reviewer_name, c.reviewer_email, c.phase,
                c.decisions_made::text, c.decisions_total::text, c.identities_completed::text,
                c.identities_total::text, {}, {}
             FROM certifications c JOIN campaigns k ON k.id = c.campaign_id
             WHERE c.campaign_id = $1
             ORDER BY c.reviewer_name COLLATE \"C\", c.id",
            ts_text("c.due"),
            ts_text("c.signed_at"),
        ),
        // By status, then in the order the items were opened (as on SQLite).
        ReportType::CampaignRemediationStatus => format!(
            "SELECT k.name, c.reviewer_name, {subject}{attrs},
                rm.access_type, coalesce(ca.name, ri.account_name),
                CASE WHEN rm.access_type = 'ACCOUNT' THEN asrc.name ELSE ca.source_name END,
                ri.account_name, rm.status, rm.attempts::text, rm.last_error, {}, {}
             FROM remediation_items rm
             JOIN campaigns k ON k.id = rm.campaign_id
             LEFT JOIN certifications c ON c.id = rm.certification_id
             LEFT JOIN certification_subjects cs
                ON cs.certification_id = rm.certification_id AND cs.subject_id = rm.identity_id
             LEFT JOIN campaign_identities ci
                ON ci.campaign_id = rm.campaign_id AND ci.identity_id = rm.identity_id
             LEFT JOIN campaign_access ca ON ca.campaign_id = rm.campaign_id
                AND ca.access_type = rm.access_type AND ca.access_id = rm.access_id
             LEFT JOIN review_items ri ON ri.id = rm.item_id
             LEFT JOIN sources asrc ON asrc.id = ri.account_source_id
             WHERE rm.campaign_id = $1
             ORDER BY rm.status, rm.created_at, rm.id",
            ts_text("rm.created_at"),
            ts_text("rm.completed_at"),
        ),
    }
}

async fn insert_chunk(
    c: &mut PgConnection,
    id: &str,
    seq: u32,
    data: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO report_chunks (report_id, seq, data) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(i64::from(seq))
        .bind(data)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn build(
    pool: &PgPool,
    campaign: Id,
    t: ReportType,
    attributes: &[String],
    now: Timestamp,
) -> Result<Option<u64>, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM campaign_reports WHERE campaign_id = $1 AND report_type = $2 FOR UPDATE",
    )
    .bind(campaign.to_string())
    .bind(t.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some(id) = id else {
        return Ok(None);
    };
    sqlx::query("DELETE FROM report_chunks WHERE report_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let attributes: &[String] = if report_columns(t).attributes {
        attributes
    } else {
        &[]
    };
    let header = report_header(t, attributes);
    let mut csv = CsvChunks::new(&header);
    let mut declare = sqlx::query(AssertSqlSafe(format!(
        "DECLARE report_rows NO SCROLL CURSOR FOR {}",
        report_sql(t, attributes.len())
    )))
    .bind(campaign.to_string());
    for a in attributes {
        declare = declare.bind(a);
    }
    // Not kept as prepared statements: a cursor's columns differ from one report to the next,
    // and a cached FETCH would decode rows with the columns of the first.
    declare
        .persistent(false)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let fetch = format!("FETCH FORWARD {FETCH} FROM report_rows");
    loop {
        let rows = sqlx::query(AssertSqlSafe(fetch.clone()))
            .persistent(false)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            for i in 0..header.len() {
                let v: Option<&str> = r.try_get(i).map_err(db_err)?;
                csv.field(v);
            }
            if let Some((seq, data)) = csv.end_row() {
                insert_chunk(&mut tx, &id, seq, &data).await?;
            }
        }
    }
    sqlx::query("CLOSE report_rows")
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let (last, rows) = csv.finish();
    if let Some((seq, data)) = last {
        insert_chunk(&mut tx, &id, seq, &data).await?;
    }
    sqlx::query(
        "UPDATE campaign_reports SET status = 'SUCCESS', row_count = $2, error = NULL,
            last_run_at = $3
         WHERE id = $1",
    )
    .bind(&id)
    .bind(rows as i64)
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(Some(rows))
}

pub(crate) async fn fail(
    pool: &PgPool,
    campaign: Id,
    t: ReportType,
    error: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE campaign_reports SET status = 'ERROR', error = $3, last_run_at = $4
         WHERE campaign_id = $1 AND report_type = $2 AND status = 'PENDING'",
    )
    .bind(campaign.to_string())
    .bind(t.as_str())
    .bind(error)
    .bind(ts(now))
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn of_campaign(
    pool: &PgPool,
    campaign: Id,
) -> Result<Vec<CampaignReport>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaign_reports WHERE campaign_id = $1 ORDER BY report_type"
    )))
    .bind(campaign.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(report_from_row).collect()
}

pub(crate) async fn get(pool: &PgPool, rid: Id) -> Result<Option<CampaignReport>, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaign_reports WHERE id = $1"
    )))
    .bind(rid.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(report_from_row).transpose()
}

pub(crate) async fn chunk(pool: &PgPool, rid: Id, seq: u32) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT data FROM report_chunks WHERE report_id = $1 AND seq = $2")
        .bind(rid.to_string())
        .bind(i64::from(seq))
        .fetch_optional(pool)
        .await
        .map_err(db_err)
}
