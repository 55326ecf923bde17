//! Campaign reports on SQLite. A build runs on the writer connection in one transaction: the
//! report's query streams its rows from the cursor into CSV chunks that are inserted as they
//! fill up, so a report of millions of rows is never held in memory, and a crash leaves the
//! previous state. Every query walks an index in the order it outputs (the review items of a
//! campaign by certification and subject, remediation items by status), sorting at most one
//! subject's items at a time: SQLite's sorter would otherwise hold the whole report in memory
//! (`temp_store = MEMORY`).
//!
//! The price of one transaction is that other writes wait while a report builds, as they do
//! while a campaign generates: 200,000 rows took about 4 s in a debug build on the project's
//! machine (generating those items took 3.6 s).

use recert_domain::review::{CampaignReport, ReportStatus, ReportType};
use recert_domain::{Id, NewJob, Timestamp};
use recert_store::StoreError;
use recert_store::reports::{CsvChunks, report_columns, report_header};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::db_err;
use crate::queries::{get_id, get_opt_ts, get_ts};

const COLUMNS: &str =
    "id, campaign_id, report_type, status, row_count, error, created_at, last_run_at";

fn bad(i: usize, e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        Box::<dyn std::error::Error + Send + Sync>::from(e.to_string()),
    )
}

fn report_from_row(r: &Row<'_>) -> rusqlite::Result<CampaignReport> {
    let t: String = r.get(2)?;
    let s: String = r.get(3)?;
    Ok(CampaignReport {
        id: get_id(r, 0)?,
        campaign_id: get_id(r, 1)?,
        report_type: t.parse().map_err(|e: String| bad(2, e))?,
        status: ReportStatus::parse(&s).ok_or_else(|| bad(3, "unknown report status"))?,
        row_count: r.get::<_, i64>(4)?.max(0) as u64,
        error: r.get(5)?,
        created: get_ts(r, 6)?,
        last_run_at: get_opt_ts(r, 7)?,
    })
}

pub(crate) fn start(
    c: &mut Connection,
    campaign: Id,
    t: ReportType,
    report_id: Id,
    job: &NewJob,
    now: Timestamp,
) -> Result<Option<Id>, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let exists: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = ?1)",
            [campaign.to_string()],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    if !exists {
        return Ok(None);
    }
    let id = tx
        .query_row(
            "INSERT INTO campaign_reports (id, campaign_id, report_type, status, row_count, error,
                created_at, last_run_at)
             VALUES (?1, ?2, ?3, 'PENDING', 0, NULL, ?4, ?4)
             ON CONFLICT (campaign_id, report_type) DO UPDATE SET status = 'PENDING',
                row_count = 0, error = NULL, last_run_at = excluded.last_run_at
             RETURNING id",
            params![
                report_id.to_string(),
                campaign.to_string(),
                t.as_str(),
                now.to_string()
            ],
            |r| get_id(r, 0),
        )
        .map_err(db_err)?;
    tx.execute(
        "DELETE FROM report_chunks WHERE report_id = ?1",
        [id.to_string()],
    )
    .map_err(db_err)?;
    crate::jobs::enqueue(&tx, job, now)?;
    tx.commit().map_err(db_err)?;
    Ok(Some(id))
}

/// `true`/`false` for a flag column (0/1, or NULL for false).
fn flag(col: &str) -> String {
    format!("CASE WHEN {col} THEN 'true' ELSE 'false' END")
}

/// The report's query: its columns in [`report_columns`] order, `?1` the campaign, `?2...` the
/// JSON paths of the attribute columns.
fn report_sql(t: ReportType, attributes: usize) -> String {
    let attrs: String = (0..attributes)
        .map(|n| format!(", json_extract(ci.attributes, ?{})", n + 2))
        .collect();
    // The reviewed subject: an identity, else (a role, an uncorrelated account) its summary.
    let subject = "coalesce(ci.name, cs.name), coalesce(ci.display_name, cs.name), ci.email";
    // CROSS JOIN fixes the join order in SQLite: the items drive, in index order.
    let item_joins = "FROM review_items ri
        CROSS JOIN certifications c ON c.id = ri.certification_id
        JOIN campaigns k ON k.id = c.campaign_id
        LEFT JOIN certification_subjects cs ON cs.id = ri.summary_id
        LEFT JOIN campaign_identities ci
            ON ci.campaign_id = c.campaign_id AND ci.identity_id = ri.subject_id
        LEFT JOIN campaign_access ca ON ca.campaign_id = c.campaign_id
            AND ca.access_type = ri.access_type AND ca.access_id = ri.access_id
        LEFT JOIN sources asrc ON asrc.id = ri.account_source_id";
    // Index order (certification, subject); only one subject's items are sorted by id.
    let item_order = "WHERE ri.certification_id IN
            (SELECT id FROM certifications WHERE campaign_id = ?1)
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
                {access}, ri.account_name, ri.decision, ri.comments, ri.decided_at,
                coalesce(dci.name, di.name, ri.decided_by), c.phase
             {item_joins}
             LEFT JOIN campaign_identities dci
                ON dci.campaign_id = c.campaign_id AND dci.identity_id = ri.decided_by
             LEFT JOIN identities di ON di.id = ri.decided_by
             {item_order}"
        ),
        ReportType::CertificationSignoff => "SELECT k.name, c.name, c.reviewer_name,
                c.reviewer_email, c.phase, c.decisions_made, c.decisions_total,
                c.identities_completed, c.identities_total, c.due, c.signed_at
             FROM certifications c JOIN campaigns k ON k.id = c.campaign_id
             WHERE c.campaign_id = ?1
             ORDER BY c.reviewer_name, c.id"
            .to_owned(),
        // By status, then in the order the items were opened (the index's rowid order):
        // a campaign can have millions of them, and this order needs no sort.
        ReportType::CampaignRemediationStatus => format!(
            "SELECT k.name, c.reviewer_name, {subject}{attrs},
                rm.access_type, coalesce(ca.name, ri.account_name),
                CASE WHEN rm.access_type = 'ACCOUNT' THEN asrc.name ELSE ca.source_name END,
                ri.account_name, rm.status, rm.attempts, rm.last_error, rm.created_at, rm.completed_at
             FROM remediation_items rm
             CROSS JOIN campaigns k ON k.id = rm.campaign_id
             LEFT JOIN certifications c ON c.id = rm.certification_id
             LEFT JOIN certification_subjects cs
                ON cs.certification_id = rm.certification_id AND cs.subject_id = rm.identity_id
             LEFT JOIN campaign_identities ci
                ON ci.campaign_id = rm.campaign_id AND ci.identity_id = rm.identity_id
             LEFT JOIN campaign_access ca ON ca.campaign_id = rm.campaign_id
                AND ca.access_type = rm.access_type AND ca.access_id = rm.access_id
             LEFT JOIN review_items ri ON ri.id = rm.item_id
             LEFT JOIN sources asrc ON asrc.id = ri.account_source_id
             WHERE rm.campaign_id = ?1
             ORDER BY rm.status, rm.rowid"
        ),
    }
}

/// A column's value as CSV text (numbers written out; NULL is an empty field).
fn field_of(v: ValueRef<'_>, out: &mut CsvChunks) {
    match v {
        ValueRef::Null => out.field(None),
        ValueRef::Integer(n) => out.field(Some(&n.to_string())),
        ValueRef::Real(x) => out.field(Some(&x.to_string())),
        ValueRef::Text(b) | ValueRef::Blob(b) => out.field(Some(&String::from_utf8_lossy(b))),
    }
}

pub(crate) fn build(
    c: &mut Connection,
    campaign: Id,
    t: ReportType,
    attributes: &[String],
    now: Timestamp,
) -> Result<Option<u64>, StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    let id: Option<String> = tx
        .query_row(
            "SELECT id FROM campaign_reports WHERE campaign_id = ?1 AND report_type = ?2",
            params![campaign.to_string(), t.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    let Some(id) = id else {
        return Ok(None);
    };
    tx.execute("DELETE FROM report_chunks WHERE report_id = ?1", [&id])
        .map_err(db_err)?;
    let attributes: &[String] = if report_columns(t).attributes {
        attributes
    } else {
        &[]
    };
    let header = report_header(t, attributes);
    let mut csv = CsvChunks::new(&header);
    let mut args = vec![Value::Text(campaign.to_string())];
    // Names are checked to be plain (letters, digits, `_-.`), so quoting them makes a path
    // that reads exactly that key, dots included.
    args.extend(attributes.iter().map(|a| Value::Text(format!("$.\"{a}\""))));
    let rows = {
        let mut insert = tx
            .prepare("INSERT INTO report_chunks (report_id, seq, data) VALUES (?1, ?2, ?3)")
            .map_err(db_err)?;
        let mut stmt = tx
            .prepare(&report_sql(t, attributes.len()))
            .map_err(db_err)?;
        let mut rows = stmt.query(params_from_iter(args.iter())).map_err(db_err)?;
        while let Some(r) = rows.next().map_err(db_err)? {
            for i in 0..header.len() {
                field_of(r.get_ref(i).map_err(db_err)?, &mut csv);
            }
            if let Some((seq, data)) = csv.end_row() {
                insert.execute(params![id, seq, data]).map_err(db_err)?;
            }
        }
        let (last, rows) = csv.finish();
        if let Some((seq, data)) = last {
            insert.execute(params![id, seq, data]).map_err(db_err)?;
        }
        rows
    };
    tx.execute(
        "UPDATE campaign_reports SET status = 'SUCCESS', row_count = ?2, error = NULL,
            last_run_at = ?3
         WHERE id = ?1",
        params![id, rows as i64, now.to_string()],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(Some(rows))
}

pub(crate) fn fail(
    c: &Connection,
    campaign: Id,
    t: ReportType,
    error: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE campaign_reports SET status = 'ERROR', error = ?3, last_run_at = ?4
         WHERE campaign_id = ?1 AND report_type = ?2 AND status = 'PENDING'",
        params![campaign.to_string(), t.as_str(), error, now.to_string()],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn of_campaign(c: &Connection, campaign: Id) -> Result<Vec<CampaignReport>, StoreError> {
    let mut stmt = c
        .prepare(&format!(
            "SELECT {COLUMNS} FROM campaign_reports WHERE campaign_id = ?1 ORDER BY report_type"
        ))
        .map_err(db_err)?;
    stmt.query_map([campaign.to_string()], report_from_row)
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)
}

pub(crate) fn get(c: &Connection, id: Id) -> Result<Option<CampaignReport>, StoreError> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM campaign_reports WHERE id = ?1"),
        [id.to_string()],
        report_from_row,
    )
    .optional()
    .map_err(db_err)
}

pub(crate) fn chunk(c: &Connection, id: Id, seq: u32) -> Result<Option<String>, StoreError> {
    c.query_row(
        "SELECT data FROM report_chunks WHERE report_id = ?1 AND seq = ?2",
        params![id.to_string(), seq],
        |r| r.get(0),
    )
    .optional()
    .map_err(db_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query plans walk indexes in output order: a whole report is never sorted.
    #[test]
    fn report_queries_sort_at_most_one_subject_at_a_time() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrate::run(&mut c).unwrap();
        for t in ReportType::ALL {
            let attrs = usize::from(report_columns(t).attributes);
            let sql = format!("EXPLAIN QUERY PLAN {}", report_sql(t, attrs));
            let args: Vec<Value> = [Value::Text("x".into()), Value::Text("$.\"a\"".into())]
                .into_iter()
                .take(1 + attrs)
                .collect();
            let mut stmt = c.prepare(&sql).unwrap();
            let plan: Vec<String> = stmt
                .query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let sorts: Vec<&String> = plan.iter().filter(|p| p.contains("TEMP B-TREE")).collect();
            match t {
                ReportType::CampaignComposition | ReportType::CampaignStatus => assert!(
                    sorts
                        .iter()
                        .all(|p| p.contains("RIGHT PART OF") || p.contains("LAST TERM OF")),
                    "{t}: {plan:#?}"
                ),
                ReportType::CampaignRemediationStatus => {
                    assert!(sorts.is_empty(), "{t}: {plan:#?}")
                }
                // One row per certification: a sort of reviewers is small.
                ReportType::CertificationSignoff => {}
            }
            assert!(
                !plan
                    .iter()
                    .any(|p| p.starts_with("SCAN ri") || p.starts_with("SCAN rm")),
                "{t} scans every campaign's rows: {plan:#?}"
            );
        }
    }
}
