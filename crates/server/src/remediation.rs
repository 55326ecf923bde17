//! recert's own remediation routes (`/remediation/v1`): the receiver of deliveries reports back
//! on an item, and administrators list a campaign's items.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use recert_core::remediation::RemediationError;
use recert_domain::review::RemediationItem;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::wire::{Reject, bad_request, forbidden, json_body, path_id};
use crate::{AppState, SailPointCaller, TrackingId, error};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/items/{id}", post(report).get(get_one))
        .route("/campaigns/{id}/items", get(of_campaign))
}

fn item_json(i: &RemediationItem) -> Value {
    json!({
        "id": i.id.to_string(),
        "itemId": i.item_id.to_string(),
        "campaignId": i.campaign_id.to_string(),
        "certificationId": i.certification_id.to_string(),
        "identityId": i.identity_id.to_string(),
        "accessType": i.access_type,
        "accessId": i.access_id.to_string(),
        "accountId": i.account_id.map(|a| a.to_string()),
        "status": i.status,
        "attempts": i.attempts,
        "lastError": i.last_error,
        "created": i.created.to_string(),
        "modified": i.updated.to_string(),
        "completed": i.completed.map(|c| c.to_string()),
    })
}

fn refusal(t: TrackingId, e: RemediationError) -> Reject {
    match e {
        RemediationError::Invalid(m) => bad_request(t, &m).into(),
        RemediationError::NotFound(_) => {
            error::sailpoint(StatusCode::NOT_FOUND, t, &e.to_string()).into()
        }
        RemediationError::Store(s) => error::sailpoint_internal(t, &s).into(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReportBody {
    status: String,
    message: Option<String>,
    external_ref: Option<String>,
}

async fn report(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.cert_admin() else {
        return Err(forbidden(t, "reporting on remediation needs ORG_ADMIN or CERT_ADMIN").into());
    };
    let id = path_id(t, &id, "remediation item id")?;
    let b: ReportBody = json_body(t, &body)?;
    let item = s
        .remediation
        .report(
            who,
            id,
            &b.status,
            b.message.as_deref(),
            b.external_ref.as_deref(),
        )
        .await
        .map_err(|e| refusal(t, e))?;
    Ok(Json(item_json(&item)).into_response())
}

async fn get_one(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    if caller.principal.cert_admin().is_none() {
        return Err(forbidden(t, "remediation items need ORG_ADMIN or CERT_ADMIN").into());
    }
    let id = path_id(t, &id, "remediation item id")?;
    match s.store.remediation_item(id).await {
        Ok(Some(i)) => Ok(Json(item_json(&i)).into_response()),
        Ok(None) => Err(refusal(t, RemediationError::NotFound(id))),
        Err(e) => Err(refusal(t, e.into())),
    }
}

async fn of_campaign(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let Some(who) = caller.principal.cert_admin() else {
        return Err(forbidden(t, "remediation items need ORG_ADMIN or CERT_ADMIN").into());
    };
    let id = path_id(t, &id, "campaign id")?;
    let items = s
        .remediation
        .of_campaign(who, id)
        .await
        .map_err(|e| refusal(t, e))?;
    let items = items
        .iter()
        .map(|(i, d)| {
            let mut v = item_json(i);
            v["identityName"] = json!(d.identity_name);
            v["accessName"] = json!(d.access_name);
            v
        })
        .collect();
    Ok(Json(Value::Array(items)).into_response())
}
