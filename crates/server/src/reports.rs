//! SailPoint's campaign report routes: a campaign's reports and running one (under
//! `/v3/campaigns` and `/campaigns/v1`), the reports configuration, and the report file route
//! (`/v3/reports/{id}` and `/reports/v1/{id}`), which streams the CSV chunk by chunk.

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use recert_core::reports::{ReportError, ReportFile, Reports, ReportsConfig};
use recert_domain::review::{CampaignReport, ReportStatus, ReportType};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::wire::{Reject, bad_request, forbidden, json_body, path_id, query_map};
use crate::{AppState, SailPointCaller, TrackingId, error};

/// The routes relative to `/v3/campaigns` or `/campaigns/v1`.
pub(crate) fn campaign_routes() -> Router<AppState> {
    Router::new()
        .route("/{id}/reports", get(list))
        .route("/{id}/run-report/{type}", post(run))
        .route("/reports-configuration", get(config).put(set_config))
}

/// The report file route, relative to `/v3/reports` or `/reports/v1`.
pub(crate) fn file_routes() -> Router<AppState> {
    Router::new().route("/{id}", get(download))
}

pub(crate) fn reports(s: &AppState) -> Reports {
    Reports::new(s.store.clone(), s.clock.clone())
}

fn report_error(t: TrackingId, e: ReportError) -> Reject {
    let res = match e {
        ReportError::Invalid(m) => bad_request(t, &m),
        ReportError::NotFound(m) => error::sailpoint(StatusCode::NOT_FOUND, t, &m),
        ReportError::NotReady(m) => error::sailpoint(StatusCode::CONFLICT, t, &m),
        ReportError::Store(s) => error::sailpoint_internal(t, &s),
    };
    res.into()
}

/// A `CampaignReport`.
fn report_json(r: &CampaignReport) -> Value {
    let mut v = json!({
        "type": "REPORT_RESULT",
        "id": r.id.to_string(),
        "name": r.report_type.title(),
        "status": match r.status {
            ReportStatus::Pending => "PENDING",
            ReportStatus::Success => "SUCCESS",
            ReportStatus::Error => "ERROR",
        },
        "reportType": r.report_type.as_str(),
    });
    if let Some(at) = r.last_run_at {
        v["lastRunAt"] = json!(at.to_string());
    }
    v
}

const READERS: &str = "campaign reports need ORG_ADMIN, CERT_ADMIN or REPORT_ADMIN";

async fn list(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.report_reader() else {
        return Err(forbidden(t, READERS).into());
    };
    let id = path_id(t, &id, "campaign id")?;
    let list = reports(&s)
        .list(who, id)
        .await
        .map_err(|e| report_error(t, e))?;
    Ok(Json(Value::Array(list.iter().map(report_json).collect())).into_response())
}

async fn run(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path((id, report_type)): Path<(String, String)>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.report_reader() else {
        return Err(forbidden(t, READERS).into());
    };
    let id = path_id(t, &id, "campaign id")?;
    let report_type: ReportType = report_type
        .parse()
        .map_err(|e: String| Reject::from(bad_request(t, &e)))?;
    reports(&s)
        .run(who, id, report_type)
        .await
        .map_err(|e| report_error(t, e))?;
    Ok((StatusCode::ACCEPTED, Json(json!({}))).into_response())
}

fn config_json(c: &ReportsConfig) -> Value {
    json!({ "identityAttributeColumns": c.identity_attribute_columns })
}

async fn config(State(s): State<AppState>, caller: SailPointCaller) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.report_reader() else {
        return Err(forbidden(t, READERS).into());
    };
    let c = reports(&s)
        .config(who)
        .await
        .map_err(|e| report_error(t, e))?;
    Ok(Json(config_json(&c)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigBody {
    identity_attribute_columns: Option<Vec<String>>,
}

async fn set_config(
    State(s): State<AppState>,
    caller: SailPointCaller,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.cert_admin() else {
        return Err(forbidden(
            t,
            "changing the reports configuration needs ORG_ADMIN or CERT_ADMIN",
        )
        .into());
    };
    let b: ConfigBody = json_body(t, &body)?;
    let c = ReportsConfig {
        identity_attribute_columns: b.identity_attribute_columns.unwrap_or_default(),
    };
    let c = reports(&s)
        .set_config(who, c)
        .await
        .map_err(|e| report_error(t, e))?;
    Ok(Json(config_json(&c)).into_response())
}

/// The CSV of a finished report. `fileFormat` may be left out; anything but `csv` is a 400. A
/// report still being built (or whose build failed) is a 409 that says so. The first chunk is
/// read before the answer starts, so that a refusal is a proper error; a failure later (the
/// report run again mid-download) aborts the transfer rather than end the file short.
async fn download(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.report_reader() else {
        return Err(forbidden(t, READERS).into());
    };
    let id = path_id(t, &id, "report id")?;
    match query_map(raw.as_deref())
        .get("fileFormat")
        .map(String::as_str)
    {
        None | Some("csv") => {}
        Some(other) => {
            return Err(bad_request(
                t,
                &format!("fileFormat '{other}' is not supported; campaign reports are csv"),
            )
            .into());
        }
    }
    let file = reports(&s)
        .file(who, id)
        .await
        .map_err(|e| report_error(t, e))?;
    stream_file(file, t, id)
        .await
        .map_err(|e| report_error(t, e))
}

/// A report's CSV as a streamed download (never held whole in memory).
pub(crate) async fn stream_file(
    mut file: ReportFile,
    t: TrackingId,
    id: recert_domain::Id,
) -> Result<Response, ReportError> {
    let first = file.next_chunk().await?;
    let disposition = format!("attachment; filename=\"{}\"", file.file_name());
    let chunks = futures_util::stream::try_unfold(
        (first, file),
        move |(first, mut file): (Option<String>, ReportFile)| async move {
            let next = match first {
                Some(c) => Some(c),
                None => file.next_chunk().await.inspect_err(|e| {
                    tracing::error!(tracking_id = %t.0, report.id = %id, error = %e,
                        "report download stopped");
                })?,
            };
            Ok::<_, ReportError>(next.map(|c| (Bytes::from(c), (None, file))))
        },
    );
    let mut res = Response::new(Body::from_stream(chunks));
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
