//! Veza's Access Workflows certification routes, under `/api/preview/awf`: envelopes
//! (`{"value"}`, `{"values", "has_more", "next_page_token", "total_result_count"}`, `{}`), the
//! dialect's error body, and the JSON of workflows, certifications, rows and reviewer stats.
//! Who may do what is the core's decision.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use recert_core::awf::{AwfCertification, AwfError, Listed, ReviewerInput, UpdateRequest};
use recert_domain::awf::{ActionEntry, ReviewerStats, Row, UserRef};
use recert_domain::review::CampaignTemplate;
use serde_json::{Map, Value, json};

use crate::wire::query_map;
use crate::{AppState, TrackingId, VezaCaller, error};

/// The routes, relative to `/api/preview/awf`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/workflows", get(workflows))
        .route("/certifications", get(certifications))
        .route("/certifications/{id}", get(certification))
        .route("/certifications/{id}/results", get(rows).put(update))
        .route(
            "/certifications/{id}/results:force_update",
            post(force_update),
        )
        .route("/certifications/{id}/results/{result}", get(row))
        .route("/certifications/{id}/reviewer_infos", get(reviewer_infos))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
}

/// Any other path under `/api/preview/awf`: 404 in the dialect's body.
async fn unknown_route(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let t = crate::caller::tracking_of(&req);
    error::veza(
        StatusCode::NOT_FOUND,
        t,
        state.clock.now(),
        &format!("there is no route {} {}", req.method(), req.uri().path()),
    )
}

/// A known path with another method: 405 in the dialect's body.
async fn wrong_method(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let t = crate::caller::tracking_of(&req);
    error::veza_code(
        StatusCode::METHOD_NOT_ALLOWED,
        "InvalidArgument",
        t,
        state.clock.now(),
        &format!("{} is not a method of {}", req.method(), req.uri().path()),
    )
}

fn refuse(state: &AppState, t: TrackingId, e: AwfError) -> Response {
    let now = state.clock.now();
    match e {
        AwfError::Invalid(m) => error::veza(StatusCode::BAD_REQUEST, t, now, &m),
        AwfError::Precondition(m) => {
            error::veza_code(StatusCode::BAD_REQUEST, "FailedPrecondition", t, now, &m)
        }
        AwfError::Forbidden(m) => error::veza(StatusCode::FORBIDDEN, t, now, &m),
        AwfError::NotFound(m) => error::veza(StatusCode::NOT_FOUND, t, now, &m),
        AwfError::Store(s) => {
            tracing::error!(tracking_id = %t.0, error = %s, "request failed");
            error::veza(StatusCode::INTERNAL_SERVER_ERROR, t, now, "internal error")
        }
    }
}

fn envelope<T>(l: Listed<T>, one: impl Fn(&T) -> Value) -> Response {
    Json(json!({
        "values": l.values.iter().map(one).collect::<Vec<_>>(),
        "has_more": !l.next_page_token.is_empty(),
        "next_page_token": l.next_page_token,
        "total_result_count": l.total,
    }))
    .into_response()
}

/// A WorkflowUser; an identity without an email shows `""`, which can be sent back as is.
fn user(u: &UserRef, user_type: &str) -> Value {
    json!({"user_type": user_type, "id": u.id, "email": u.email.clone().unwrap_or_default(),
           "name": u.name})
}

/// A stored actor or reviewer list with the configured user type added to each person.
fn with_user_type(v: &Value, user_type: &str) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(|x| with_user_type(x, user_type)).collect()),
        Value::Object(o) if o.contains_key("id") => {
            let mut o = o.clone();
            o.insert("user_type".into(), json!(user_type));
            Value::Object(o)
        }
        other => other.clone(),
    }
}

fn workflow_json(t: &CampaignTemplate) -> Value {
    json!({
        "workflow_id": t.id.to_string(),
        "name": t.name,
        "description": t.description,
        "owner": t.owner_id.map(|o| o.to_string()),
        "created_at": t.created.to_string(),
    })
}

fn certification_json(c: &AwfCertification, user_type: &str) -> Value {
    let k = &c.campaign;
    json!({
        "id": k.id.to_string(),
        "workflow_id": k.template_id.map(|t| t.to_string()).unwrap_or_default(),
        "name": k.name,
        "notes": k.description.clone().unwrap_or_default(),
        "state": c.state(),
        "due_date": k.deadline.map(|d| d.to_string()),
        "reviewers": c.rows.reviewers.iter().map(|u| user(u, user_type)).collect::<Vec<_>>(),
        "created_at": k.created.to_string(),
        "updated_at": k.modified.to_string(),
        "started_at": k.activated_at.map(|t| t.to_string()),
        "completed_at": k.completed_at.map(|t| t.to_string()),
        "created_by": k.created_by.map(|t| t.to_string()),
        "completed_by": c.rows.completed_by,
        "total_result_count": c.rows.rows,
        "total_complete_count": c.rows.decided,
    })
}

fn action_json(e: &ActionEntry, user_type: &str) -> Value {
    json!({
        "timestamp": e.at.to_string(),
        "actor": with_user_type(&e.actor, user_type),
        "action": e.action.as_str(),
        "old_value": with_user_type(&e.old_value, user_type),
        "new_value": with_user_type(&e.new_value, user_type),
    })
}

fn row_json(r: &Row, user_type: &str) -> Value {
    let i = &r.item;
    let mut source = Map::new();
    if let Value::Object(attrs) = &r.subject_attributes {
        source.extend(attrs.clone());
    }
    let kind = if !r.subject_attributes.is_null() {
        "IDENTITY"
    } else if i.access_type == "ACCOUNT" {
        "ACCOUNT"
    } else {
        "ROLE"
    };
    source.insert("id".into(), json!(i.identity_id.to_string()));
    source.insert("name".into(), json!(i.identity_name));
    source.insert("email".into(), json!(r.subject_email));
    source.insert("type".into(), json!(kind));
    let a = i.access.clone().unwrap_or_default();
    let destination = json!({
        "id": i.access_id.to_string(),
        "name": i.access_name,
        "type": i.access_type,
        "source_name": a.source_name,
        "source_id": a.source_id.map(|s| s.to_string()),
        "description": a.description,
        "privileged": a.privileged,
        "attribute_name": a.attribute_name,
        "attribute_value": a.attribute_value,
        "account_name": i.account.as_ref().and_then(|x| x.name.clone()),
        "account_native_identity": i.account.as_ref().and_then(|x| x.native_identity.clone()),
        "new_access": i.new_access,
    });
    json!({
        "result_id": r.result_id,
        "source": source,
        "destination": destination,
        "permissions": r.permissions.iter()
            .map(|p| json!({"rights": p.rights, "target": p.target}))
            .collect::<Vec<_>>(),
        "decision": r.decision().as_str(),
        "notes": i.comments.clone().unwrap_or_default(),
        "signed_off_state": if r.signed_off { "SIGNED_OFF" } else { "NOT_SIGNED_OFF" },
        "reviewers": r.reviewers.iter().map(|u| user(u, user_type)).collect::<Vec<_>>(),
        "notification_status": r.notification_status.as_str(),
        "updated_at": r.updated_at.to_string(),
        "action_log": r.action_log.iter().map(|e| action_json(e, user_type)).collect::<Vec<_>>(),
    })
}

fn stats_json(s: &ReviewerStats, user_type: &str) -> Value {
    json!({
        "reviewer": user(&s.reviewer, user_type),
        "row_stats": {
            "total": s.total.to_string(),
            "no_decision": s.no_decision.to_string(),
            "accepted": s.accepted.to_string(),
            "rejected": s.rejected.to_string(),
            "fixed": s.fixed.to_string(),
            "signed_off": s.signed_off.to_string(),
        },
    })
}

fn param<'a>(q: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    q.get(k).map(String::as_str)
}

/// A read's answer: `ok` renders it (given the configured user type), or the refusal.
fn answer<T>(
    state: &AppState,
    caller: &VezaCaller,
    result: Result<T, AwfError>,
    ok: impl FnOnce(T, &str) -> Response,
) -> Response {
    match result {
        Ok(v) => ok(v, &state.awf.settings().user_type),
        Err(e) => refuse(state, caller.tracking, e),
    }
}

/// A single object's envelope.
fn value(v: Value) -> Response {
    Json(json!({ "value": v })).into_response()
}

async fn workflows(
    State(state): State<AppState>,
    caller: VezaCaller,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_map(raw.as_deref());
    let (size, token) = (param(&q, "page_size"), param(&q, "page_token"));
    let result = state.awf.workflows(&caller.principal, size, token).await;
    answer(&state, &caller, result, |l, _| envelope(l, workflow_json))
}

async fn certifications(
    State(state): State<AppState>,
    caller: VezaCaller,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_map(raw.as_deref());
    let (size, token) = (param(&q, "page_size"), param(&q, "page_token"));
    let workflow = param(&q, "workflow_id");
    let result = state
        .awf
        .certifications(&caller.principal, workflow, size, token)
        .await;
    answer(&state, &caller, result, |l, t| {
        envelope(l, |c| certification_json(c, t))
    })
}

async fn certification(
    State(state): State<AppState>,
    caller: VezaCaller,
    Path(id): Path<String>,
) -> Response {
    let result = state.awf.certification(&caller.principal, &id).await;
    answer(&state, &caller, result, |c, t| {
        value(certification_json(&c, t))
    })
}

async fn rows(
    State(state): State<AppState>,
    caller: VezaCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_map(raw.as_deref());
    let (size, token) = (param(&q, "page_size"), param(&q, "page_token"));
    let filter = param(&q, "filter");
    let result = state
        .awf
        .rows(&caller.principal, &id, filter, size, token)
        .await;
    answer(&state, &caller, result, |l, t| {
        envelope(l, |r| row_json(r, t))
    })
}

async fn row(
    State(state): State<AppState>,
    caller: VezaCaller,
    Path((id, result_id)): Path<(String, String)>,
) -> Response {
    let result = state.awf.row(&caller.principal, &id, &result_id).await;
    answer(&state, &caller, result, |r, t| value(row_json(&r, t)))
}

async fn reviewer_infos(
    State(state): State<AppState>,
    caller: VezaCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_map(raw.as_deref());
    let (size, token) = (param(&q, "page_size"), param(&q, "page_token"));
    let result = state
        .awf
        .reviewer_infos(&caller.principal, &id, size, token)
        .await;
    answer(&state, &caller, result, |l, t| {
        envelope(l, |s| stats_json(s, t))
    })
}

async fn update(
    State(state): State<AppState>,
    caller: VezaCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    change(state, caller, id, body, false).await
}

async fn force_update(
    State(state): State<AppState>,
    caller: VezaCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    change(state, caller, id, body, true).await
}

async fn change(
    state: AppState,
    caller: VezaCaller,
    id: String,
    body: Bytes,
    force: bool,
) -> Response {
    let req = match update_request(&body, force) {
        Ok(r) => r,
        Err(m) => return refuse(&state, caller.tracking, AwfError::Invalid(m)),
    };
    match state.awf.update(&caller.principal, &id, &req, force).await {
        Ok(()) => Json(json!({})).into_response(),
        Err(e) => refuse(&state, caller.tracking, e),
    }
}

/// Reads `{"value": {...}}`, naming the field that is wrong.
fn update_request(body: &[u8], force: bool) -> Result<UpdateRequest, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Some(Value::Object(value)) = v.get("value") else {
        return Err("the body must be {\"value\": {...}}".into());
    };
    if let Value::Object(o) = &v
        && let Some(k) = o.keys().find(|k| *k != "value")
    {
        return Err(format!(
            "'{k}' is not a field of the body; send {{\"value\": {{...}}}}"
        ));
    }
    let string = |k: &str| -> Result<Option<String>, String> {
        match value.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("value.{k} must be a string")),
        }
    };
    let mut req = UpdateRequest {
        result_id: match value.get("result_id") {
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| {
                format!("value.result_id must be a non-negative integer; got {n}")
            })?,
            Some(other) => {
                return Err(format!(
                    "value.result_id must be a non-negative integer; got {other}"
                ));
            }
            None => return Err("value.result_id is required".into()),
        },
        decision: string("decision")?,
        notes: string("notes")?,
        signed_off_state: string("signed_off_state")?,
        reviewers: None,
        notification_status: None,
    };
    let allowed: &[&str] = if force {
        &[
            "result_id",
            "decision",
            "notes",
            "signed_off_state",
            "reviewers",
            "notification_status",
        ]
    } else {
        &[
            "result_id",
            "decision",
            "notes",
            "signed_off_state",
            "reviewers",
        ]
    };
    if let Some(k) = value.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "value.{k} is not a field of a result update (allowed: {})",
            allowed.join(", ")
        ));
    }
    if force {
        req.notification_status = string("notification_status")?;
    }
    match value.get("reviewers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            let mut out = Vec::with_capacity(list.len());
            for (i, r) in list.iter().enumerate() {
                let Value::Object(o) = r else {
                    return Err(format!("value.reviewers[{i}] must be an object"));
                };
                let field = |k: &str| -> Result<Option<String>, String> {
                    match o.get(k) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) => Ok(Some(s.clone())),
                        Some(_) => Err(format!("value.reviewers[{i}].{k} must be a string")),
                    }
                };
                out.push(ReviewerInput {
                    user_type: field("user_type")?,
                    id: field("id")?,
                    email: field("email")?,
                    name: field("name")?,
                });
            }
            req.reviewers = Some(out);
        }
        Some(_) => return Err("value.reviewers must be an array of WorkflowUser".into()),
    }
    Ok(req)
}
