//! SailPoint's v3 campaign routes, served under `/v3/campaigns` and `/campaigns/v1`.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use recert_core::campaigns::{PatchOp, parse_campaign};
use recert_domain::Id;
use recert_domain::campaign::Decision;
use recert_domain::filter::{FieldKind, FieldSpec, Op};
use recert_domain::review::{Alert, AlertLevel, Campaign, CertificationTask};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::wire::{
    Reject, bad_request, campaign_error, forbidden, json_body, list_query, list_response,
    optional_body, path_id, query_map,
};
use crate::{AppState, SailPointCaller};

/// The campaign routes, relative to `/v3/campaigns` or `/campaigns/v1`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/delete", post(delete))
        .route("/{id}", get(get_one).patch(patch))
        .route("/{id}/activate", post(activate))
        .route("/{id}/complete", post(complete))
        .route("/{id}/reassign", post(reassign))
        .route("/{id}/run-remediation-scan", post(remediation_scan))
}

const STATUSES: &[&str] = &[
    "PENDING",
    "STAGED",
    "CANCELING",
    "ACTIVATING",
    "ACTIVE",
    "COMPLETING",
    "COMPLETED",
    "ERROR",
    "ARCHIVED",
];

/// The list's filters, as SailPoint's description gives them.
const FIELDS: &[FieldSpec] = &[
    FieldSpec::new("id", &[Op::Eq, Op::In], FieldKind::Id),
    FieldSpec::new("name", &[Op::Eq, Op::Sw], FieldKind::String),
    FieldSpec::new("status", &[Op::Eq, Op::In], FieldKind::Enum(STATUSES)),
];

fn alerts_json(alerts: &[Alert]) -> Value {
    Value::Array(
        alerts
            .iter()
            .map(|a| {
                json!({
                    "level": match a.level {
                        AlertLevel::Error => "ERROR",
                        AlertLevel::Warn => "WARN",
                        AlertLevel::Info => "INFO",
                    },
                    "localizations": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": a.text}],
                })
            })
            .collect(),
    )
}

/// A `SlimCampaign`.
pub(crate) fn slim(k: &Campaign) -> Value {
    let mut v = json!({
        "id": k.id.to_string(),
        "name": k.name,
        "description": k.description,
        "type": k.campaign_type.as_str(),
        "emailNotificationEnabled": k.email_notification_enabled,
        "autoRevokeAllowed": k.auto_revoke_allowed,
        "recommendationsEnabled": k.recommendations_enabled,
        "status": k.status.as_str(),
        "correlatedStatus": k.correlated_status.as_str(),
        "created": k.created.to_string(),
        "totalCertifications": k.total_certifications,
        "completedCertifications": k.completed_certifications,
        "alerts": alerts_json(&k.alerts),
    });
    if let Some(d) = k.deadline {
        v["deadline"] = json!(d.to_string());
    }
    v
}

/// A full `Campaign`.
pub(crate) fn full(k: &Campaign) -> Value {
    let mut v = slim(k);
    v["modified"] = json!(k.modified.to_string());
    v["sunsetCommentsRequired"] = json!(k.sunset_comments_required);
    v["mandatoryCommentRequirement"] = json!(k.mandatory_comment_requirement.as_str());
    v["sourcesWithOrphanEntitlements"] = json!([]);
    for key in [
        "sourceOwnerCampaignInfo",
        "searchCampaignInfo",
        "roleCompositionCampaignInfo",
    ] {
        if let Some(info) = k.config.get(key).filter(|i| !i.is_null()) {
            v[key] = info.clone();
        }
    }
    v
}

/// A `CertificationTask`.
pub(crate) fn task_json(t: &CertificationTask) -> Value {
    json!({
        "id": t.id.to_string(),
        "type": t.task_type.as_str(),
        "targetType": t.target_type,
        "targetId": t.target_id.to_string(),
        "status": t.status.as_str(),
        "errors": t.errors.iter().map(|e| json!({"locale": "en-US", "localeOrigin": "DEFAULT", "text": e})).collect::<Vec<_>>(),
        "reassignmentTrailDTOs": t.trails,
        "created": t.created.to_string(),
    })
}

fn detail_full(q: &HashMap<String, String>) -> Result<bool, String> {
    match q.get("detail").map(String::as_str) {
        None | Some("SLIM") => Ok(false),
        Some("FULL") => Ok(true),
        Some(other) => Err(format!("detail '{other}' is not SLIM or FULL")),
    }
}

async fn list(
    State(s): State<AppState>,
    caller: SailPointCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.report_reader() else {
        return Err(forbidden(
            t,
            "listing campaigns needs ORG_ADMIN, CERT_ADMIN or REPORT_ADMIN",
        )
        .into());
    };
    let q = query_map(raw.as_deref());
    let full_detail = match detail_full(&q) {
        Ok(f) => f,
        Err(e) => return Err(bad_request(t, &e).into()),
    };
    let query = list_query(t, &q, FIELDS, &["name", "created"])?;
    match s.campaigns.list(who, &query).await {
        Ok(page) => {
            let items: Vec<Value> = page
                .items
                .iter()
                .map(|k| if full_detail { full(k) } else { slim(k) })
                .collect();
            Ok(list_response(Value::Array(items), page.total))
        }
        Err(e) => Err(campaign_error(t, e).into()),
    }
}

async fn get_one(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.report_reader() else {
        return Err(forbidden(t, "reading campaigns needs ORG_ADMIN or CERT_ADMIN").into());
    };
    let id = path_id(t, &id, "campaign id")?;
    let full_detail = match detail_full(&query_map(raw.as_deref())) {
        Ok(f) => f,
        Err(e) => return Err(bad_request(t, &e).into()),
    };
    match s.campaigns.get(who, id).await {
        Ok(k) => Ok(Json(if full_detail { full(&k) } else { slim(&k) }).into_response()),
        Err(e) => Err(campaign_error(t, e).into()),
    }
}

async fn create(
    State(s): State<AppState>,
    caller: SailPointCaller,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.campaign_creator() else {
        return Err(forbidden(t, "creating campaigns needs ORG_ADMIN or CERT_ADMIN").into());
    };
    let v: Value = json_body(t, &body)?;
    let input = parse_campaign(v, None).map_err(|e| campaign_error(t, e))?;
    match s.campaigns.create(who, input).await {
        Ok(k) => Ok((StatusCode::ACCEPTED, Json(full(&k))).into_response()),
        Err(e) => Err(campaign_error(t, e).into()),
    }
}

async fn patch(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.campaign_creator() else {
        return Err(forbidden(t, "changing campaigns needs ORG_ADMIN or CERT_ADMIN").into());
    };
    let id = path_id(t, &id, "campaign id")?;
    let ops: Vec<PatchOp> = json_body(t, &body)?;
    match s.campaigns.patch(who, id, &ops).await {
        Ok(k) => Ok(Json(slim(&k)).into_response()),
        Err(e) => Err(campaign_error(t, e).into()),
    }
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, Json(json!({}))).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivateBody {
    time_zone: Option<String>,
}

async fn activate(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.campaign_creator() else {
        return Err(forbidden(t, "activating campaigns needs ORG_ADMIN or CERT_ADMIN").into());
    };
    let id = path_id(t, &id, "campaign id")?;
    let b: ActivateBody = optional_body(t, &body)?;
    match s.campaigns.activate(who, id, b.time_zone.as_deref()).await {
        Ok(()) => Ok(accepted()),
        Err(e) => Err(campaign_error(t, e).into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteBody {
    auto_complete_action: Option<String>,
}

async fn complete(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.campaign_creator() else {
        return Err(forbidden(t, "completing campaigns needs ORG_ADMIN or CERT_ADMIN").into());
    };
    let id = path_id(t, &id, "campaign id")?;
    let b: CompleteBody = optional_body(t, &body)?;
    let action: Decision = match b
        .auto_complete_action
        .as_deref()
        .unwrap_or("APPROVE")
        .parse()
    {
        Ok(a) => a,
        Err(e) => return Err(bad_request(t, &format!("autoCompleteAction: {e}")).into()),
    };
    match s.campaigns.complete(who, id, action).await {
        Ok(()) => Ok(accepted()),
        Err(e) => Err(campaign_error(t, e).into()),
    }
}

#[derive(Debug, Deserialize)]
struct DeleteBody {
    ids: Option<Vec<String>>,
}

async fn delete(
    State(s): State<AppState>,
    caller: SailPointCaller,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.campaign_creator() else {
        return Err(forbidden(t, "deleting campaigns needs ORG_ADMIN or CERT_ADMIN").into());
    };
    let b: DeleteBody = json_body(t, &body)?;
    let mut ids = Vec::new();
    for (n, raw) in b.ids.unwrap_or_default().iter().enumerate() {
        match Id::parse(raw) {
            Ok(i) => ids.push(i),
            Err(_) => return Err(bad_request(t, &format!("ids[{n}] '{raw}' is not an id")).into()),
        }
    }
    match s.campaigns.delete(who, &ids).await {
        Ok(()) => Ok(accepted()),
        Err(e) => Err(campaign_error(t, e).into()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReassignTo {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdminReassignBody {
    certification_ids: Option<Vec<String>>,
    reassign_to: Option<ReassignTo>,
    reason: Option<String>,
}

async fn reassign(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.cert_admin() else {
        return Err(forbidden(
            t,
            "reassigning certifications needs ORG_ADMIN or CERT_ADMIN",
        )
        .into());
    };
    let id = path_id(t, &id, "campaign id")?;
    let b: AdminReassignBody = json_body(t, &body)?;
    let mut certs = Vec::new();
    for (n, raw) in b.certification_ids.unwrap_or_default().iter().enumerate() {
        match Id::parse(raw) {
            Ok(i) => certs.push(i),
            Err(_) => {
                return Err(
                    bad_request(t, &format!("certificationIds[{n}] '{raw}' is not an id")).into(),
                );
            }
        }
    }
    let Some(to) = b.reassign_to else {
        return Err(bad_request(t, "reassignTo is required").into());
    };
    if to.kind.as_deref().is_some_and(|k| k != "IDENTITY") {
        return Err(bad_request(t, "reassignTo.type must be IDENTITY").into());
    }
    let to = match to.id.as_deref().map(Id::parse) {
        Some(Ok(i)) => i,
        _ => return Err(bad_request(t, "reassignTo.id must be an identity id").into()),
    };
    match s
        .campaigns
        .reassign(who, id, &certs, to, b.reason.as_deref())
        .await
    {
        Ok(task) => Ok((StatusCode::ACCEPTED, Json(task_json(&task))).into_response()),
        Err(e) => Err(campaign_error(t, e).into()),
    }
}

async fn remediation_scan(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.report_reader() else {
        return Err(forbidden(
            t,
            "remediation scans need ORG_ADMIN, CERT_ADMIN or REPORT_ADMIN",
        )
        .into());
    };
    let id = path_id(t, &id, "campaign id")?;
    let changed = s
        .campaigns
        .run_remediation_scan(who, id)
        .await
        .map_err(|e| campaign_error(t, e))?;
    tracing::info!(campaign = %id, changed, "remediation scan");
    // Whatever the scan opened goes out with the next delivery run.
    if let Err(e) = s.remediation.enqueue_delivery().await {
        tracing::warn!(error = %e, "remediation deliveries could not be queued");
    }
    Ok(accepted())
}
