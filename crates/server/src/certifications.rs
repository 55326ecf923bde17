//! SailPoint's v3 certification routes (the reviewer's API), served under `/v3/certifications`
//! and `/certifications/v1`, and the certification task routes under
//! `/v3/certification-tasks` and `/certification-tasks/v1`. Who may do what is the core's
//! decision; handlers read the request, call it, and write the answer.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use recert_core::certifications::{
    AccessSelection, DecisionRequest, PERMISSION_FIELDS, ReassignRequest, ReviewError,
    TokenGetError, check_permission_filter, reassign_kind,
};
use recert_domain::Id;
use recert_domain::certification::ReassignRef;
use recert_domain::filter::{self, FieldKind, FieldSpec, Op};
use recert_domain::{Timestamp, campaign::Decision};
use serde::Deserialize;
use serde_json::Value;

use crate::caller::sailpoint_refusal;
use crate::campaigns::task_json;
use crate::wire::{Reject, bad_request, json_body, list_query, list_response, path_id, query_map};
use crate::{AppState, SailPointBearer, SailPointCaller, TrackingId, error, review_json};

/// The certification routes, relative to `/v3/certifications` or `/certifications/v1`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(list))
        .route("/{id}", get(get_one))
        .route("/{id}/access-review-items", get(items))
        .route(
            "/{id}/access-review-items/{item}/permissions",
            get(permissions),
        )
        .route("/{id}/reviewers", get(reviewers))
        .route("/{id}/decide", post(decide))
        .route("/{id}/reassign", post(reassign))
        .route("/{id}/reassign-async", post(reassign_async))
        .route("/{id}/sign-off", post(sign_off))
}

/// The task routes, relative to `/v3/certification-tasks` or `/certification-tasks/v1`.
pub(crate) fn task_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pending_tasks))
        .route("/{id}", get(task))
}

const PHASES: &[&str] = recert_store::certifications::PHASES;

const CERT_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("id", &[Op::Eq, Op::In], FieldKind::Id),
    FieldSpec::new("campaign.id", &[Op::Eq, Op::In], FieldKind::Id),
    FieldSpec::new("phase", &[Op::Eq], FieldKind::Enum(PHASES)),
    FieldSpec::new("completed", &[Op::Eq], FieldKind::Bool),
];

const ITEM_TYPES: &[&str] = recert_store::certifications::ITEM_TYPES;

const ITEM_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("id", &[Op::Eq, Op::In], FieldKind::Id),
    FieldSpec::new("type", &[Op::Eq], FieldKind::Enum(ITEM_TYPES)),
    FieldSpec::new("access.type", &[Op::Eq], FieldKind::Enum(ITEM_TYPES)),
    FieldSpec::new("completed", &[Op::Eq, Op::Ne], FieldKind::Bool),
    FieldSpec::new("identitySummary.id", &[Op::Eq, Op::In], FieldKind::Id),
    FieldSpec::new("identitySummary.name", &[Op::Eq, Op::Sw], FieldKind::String),
    FieldSpec::new("access.id", &[Op::Eq, Op::In], FieldKind::Id),
    FieldSpec::new("access.name", &[Op::Eq, Op::Sw], FieldKind::String),
    FieldSpec::new(
        "entitlement.sourceName",
        &[Op::Eq, Op::Sw],
        FieldKind::String,
    ),
    FieldSpec::new(
        "accessProfile.sourceName",
        &[Op::Eq, Op::Sw],
        FieldKind::String,
    ),
];

const ITEM_SORTERS: &[&str] = &[
    "identitySummary.name",
    "access.name",
    "access.type",
    "entitlement.sourceName",
    "accessProfile.sourceName",
];

const REVIEWER_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("id", &[Op::Eq, Op::In], FieldKind::Id),
    FieldSpec::new("name", &[Op::Eq, Op::Sw], FieldKind::String),
    FieldSpec::new("email", &[Op::Eq, Op::Sw], FieldKind::String),
];

const TASK_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("id", &[Op::Eq, Op::In], FieldKind::Id),
    FieldSpec::new("targetId", &[Op::Eq, Op::In], FieldKind::Id),
    FieldSpec::new(
        "type",
        &[Op::Eq, Op::In],
        FieldKind::Enum(recert_store::certifications::TASK_TYPES),
    ),
];

/// A core refusal in SailPoint's words.
fn review_error(t: TrackingId, e: ReviewError) -> Reject {
    let status = match &e {
        ReviewError::Invalid(_) => StatusCode::BAD_REQUEST,
        ReviewError::NotFound(_) => StatusCode::NOT_FOUND,
        ReviewError::Forbidden(_) => StatusCode::FORBIDDEN,
        ReviewError::Store(s) => return error::sailpoint_internal(t, s).into(),
    };
    error::sailpoint(status, t, &e.to_string()).into()
}

async fn list(
    State(s): State<AppState>,
    caller: SailPointCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let q = query_map(raw.as_deref());
    let query = list_query(t, &q, CERT_FIELDS, &["name", "due", "signed"])?;
    let page = s
        .certifications
        .list(
            &caller.principal,
            q.get("reviewer-identity").map(String::as_str),
            &query,
        )
        .await
        .map_err(|e| review_error(t, e))?;
    let body: Vec<_> = page.items.iter().map(review_json::certification).collect();
    Ok(list_response(body, page.total))
}

/// The one route read far more often than any other (a reviewer's page polls it): its client
/// and certification are read together.
async fn get_one(
    State(s): State<AppState>,
    caller: SailPointBearer,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let id = path_id(t, &id, "certification id")?;
    let (_, c) = s
        .certifications
        .get_for_token(caller.client, id)
        .await
        .map_err(|e| match e {
            TokenGetError::Auth(e) => Reject::from(sailpoint_refusal(t, e)),
            TokenGetError::Review(e) => review_error(t, e),
        })?;
    Ok(Json(review_json::certification(&c)).into_response())
}

/// The `entitlements`, `access-profiles` and `roles` parameters: one at most.
fn access_selection(
    t: TrackingId,
    q: &HashMap<String, String>,
) -> Result<Option<AccessSelection>, Reject> {
    let given: Vec<(&str, &'static str, &String)> = [
        ("entitlements", "ENTITLEMENT"),
        ("access-profiles", "ACCESS_PROFILE"),
        ("roles", "ROLE"),
    ]
    .into_iter()
    .filter_map(|(name, ty)| q.get(name).map(|v| (name, ty, v)))
    .collect();
    match given.as_slice() {
        [] => Ok(None),
        [(name, ty, value)] => {
            let ids = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    Id::parse(s).map_err(|_| {
                        Reject::from(bad_request(
                            t,
                            &format!("{name}: '{s}' is not an id of 32 hexadecimal characters"),
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if ids.is_empty() || ids.len() > filter::MAX_LIST {
                return Err(bad_request(
                    t,
                    &format!("{name} takes 1 to {} comma-separated ids", filter::MAX_LIST),
                )
                .into());
            }
            Ok(Some(AccessSelection {
                access_type: ty,
                ids,
            }))
        }
        many => Err(bad_request(
            t,
            &format!(
                "only one of entitlements, access-profiles and roles may be given; this request \
                 has {}",
                many.iter()
                    .map(|(n, _, _)| *n)
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        )
        .into()),
    }
}

async fn items(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let id = path_id(t, &id, "certification id")?;
    let q = query_map(raw.as_deref());
    let query = list_query(t, &q, ITEM_FIELDS, ITEM_SORTERS)?;
    let access = access_selection(t, &q)?;
    let page = s
        .certifications
        .items(&caller.principal, id, access.as_ref(), &query)
        .await
        .map_err(|e| review_error(t, e))?;
    let body = page.items.iter().map(review_json::item).collect();
    Ok(list_response(Value::Array(body), page.total))
}

async fn permissions(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path((id, item)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let id = path_id(t, &id, "certification id")?;
    let item = path_id(t, &item, "item id")?;
    let mut q = query_map(raw.as_deref());
    // The route takes no sorters (the description lists none); they are ignored, as before.
    q.remove("sorters");
    // The shared collection parameters, with the one rule this route adds on top.
    let query = list_query(t, &q, PERMISSION_FIELDS, &[])?;
    if let Some(f) = &query.filter {
        check_permission_filter(f).map_err(|e| Reject::from(bad_request(t, &e)))?;
    }
    let page = s
        .certifications
        .permissions(
            &caller.principal,
            id,
            item,
            query.filter.as_ref(),
            &query.paging,
        )
        .await
        .map_err(|e| review_error(t, e))?;
    let body = page.items.iter().map(review_json::permission).collect();
    Ok(list_response(Value::Array(body), page.total))
}

async fn reviewers(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let id = path_id(t, &id, "certification id")?;
    let q = query_map(raw.as_deref());
    let query = list_query(t, &q, REVIEWER_FIELDS, &["name", "email"])?;
    let page = s
        .certifications
        .reviewers(&caller.principal, id, &query)
        .await
        .map_err(|e| review_error(t, e))?;
    let body = page.items.iter().map(review_json::reviewer_ref).collect();
    Ok(list_response(Value::Array(body), page.total))
}

/// A `ReviewDecision` as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DecisionBody {
    id: String,
    decision: String,
    proposed_end_date: Option<String>,
    /// Required by the description; recert does not treat bulk decisions differently.
    #[allow(dead_code)]
    bulk: bool,
    comments: Option<String>,
}

fn decision_requests(
    t: TrackingId,
    body: Vec<DecisionBody>,
) -> Result<Vec<DecisionRequest>, Reject> {
    body.into_iter()
        .enumerate()
        .map(|(n, d)| {
            let bad = |text: String| Reject::from(bad_request(t, &text));
            let item_id = Id::parse(&d.id).map_err(|_| {
                bad(format!(
                    "[{n}].id '{}' is not an id of 32 hexadecimal characters",
                    d.id
                ))
            })?;
            let decision: Decision = d
                .decision
                .parse()
                .map_err(|e: String| bad(format!("[{n}].decision: {e}")))?;
            let proposed_end_date = d
                .proposed_end_date
                .as_deref()
                .map(Timestamp::parse)
                .transpose()
                .map_err(|e| bad(format!("[{n}].proposedEndDate: {e}")))?;
            Ok(DecisionRequest {
                item_id,
                decision,
                comments: d.comments,
                proposed_end_date,
            })
        })
        .collect()
}

async fn decide(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let id = path_id(t, &id, "certification id")?;
    let raw: Vec<DecisionBody> = json_body(t, &body)?;
    let decisions = decision_requests(t, raw)?;
    let c = s
        .certifications
        .decide(&caller.principal, id, &decisions)
        .await
        .map_err(|e| review_error(t, e))?;
    Ok(Json(review_json::certification(&c)).into_response())
}

#[derive(Debug, Deserialize)]
struct ReassignRefBody {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

/// A `ReviewReassign` as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReassignBody {
    reassign: Vec<ReassignRefBody>,
    reassign_to: String,
    reason: String,
}

fn reassign_request(t: TrackingId, b: ReassignBody) -> Result<ReassignRequest, Reject> {
    let bad = |text: String| Reject::from(bad_request(t, &text));
    let to = Id::parse(&b.reassign_to).map_err(|_| {
        bad(format!(
            "reassignTo '{}' is not an id of 32 hexadecimal characters",
            b.reassign_to
        ))
    })?;
    let refs = b
        .reassign
        .iter()
        .enumerate()
        .map(|(n, r)| {
            Ok(ReassignRef {
                id: Id::parse(&r.id).map_err(|_| {
                    bad(format!(
                        "reassign[{n}].id '{}' is not an id of 32 hexadecimal characters",
                        r.id
                    ))
                })?,
                kind: reassign_kind(&r.kind)
                    .map_err(|e| bad(format!("reassign[{n}].type: {e}")))?,
            })
        })
        .collect::<Result<Vec<_>, Reject>>()?;
    Ok(ReassignRequest {
        refs,
        to,
        reason: b.reason,
    })
}

async fn reassign(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let id = path_id(t, &id, "certification id")?;
    let r = reassign_request(t, json_body(t, &body)?)?;
    let c = s
        .certifications
        .reassign(&caller.principal, id, &r)
        .await
        .map_err(|e| review_error(t, e))?;
    Ok(Json(review_json::certification(&c)).into_response())
}

async fn reassign_async(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let id = path_id(t, &id, "certification id")?;
    let r = reassign_request(t, json_body(t, &body)?)?;
    let task = s
        .certifications
        .reassign_async(&caller.principal, id, &r)
        .await
        .map_err(|e| review_error(t, e))?;
    Ok(Json(task_json(&task)).into_response())
}

async fn sign_off(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let id = path_id(t, &id, "certification id")?;
    let c = s
        .certifications
        .sign_off(&caller.principal, id)
        .await
        .map_err(|e| review_error(t, e))?;
    Ok(Json(review_json::certification(&c)).into_response())
}

async fn pending_tasks(
    State(s): State<AppState>,
    caller: SailPointCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let q = query_map(raw.as_deref());
    let query = list_query(t, &q, TASK_FIELDS, &[])?;
    let page = s
        .certifications
        .pending_tasks(
            &caller.principal,
            q.get("reviewer-identity").map(String::as_str),
            &query,
        )
        .await
        .map_err(|e| review_error(t, e))?;
    let body = page.items.iter().map(task_json).collect();
    Ok(list_response(Value::Array(body), page.total))
}

async fn task(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    // SailPoint's task ids are UUIDs with dashes; recert's are 32 hex, and a dashed form of
    // one is read as the same id.
    let id = path_id(t, &id.replace('-', ""), "task id")?;
    let task = s
        .certifications
        .task(&caller.principal, id)
        .await
        .map_err(|e| review_error(t, e))?;
    Ok(Json(task_json(&task)).into_response())
}
