//! SailPoint's campaign template routes, under `/v3/campaign-templates` and
//! `/campaign-templates/v1`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use recert_core::campaigns::{PatchOp, TemplateInput};
use recert_domain::filter::{FieldKind, FieldSpec, Op};
use recert_domain::review::CampaignTemplate;
use recert_domain::schedule::Schedule;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::wire::{
    Reject, campaign_error, forbidden, json_body, list_query, list_response, path_id, query_map,
};
use crate::{AppState, SailPointCaller};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/{id}", get(get_one).patch(patch).delete(delete))
        .route(
            "/{id}/schedule",
            get(get_schedule).put(put_schedule).delete(delete_schedule),
        )
        .route("/{id}/generate", post(generate))
}

const OPS: &[Op] = &[
    Op::Eq,
    Op::Ge,
    Op::Gt,
    Op::In,
    Op::Le,
    Op::Lt,
    Op::Ne,
    Op::Sw,
];

const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "name",
        ops: OPS,
        kind: FieldKind::String,
    },
    FieldSpec::new(
        "id",
        &[Op::Eq, Op::Ge, Op::Gt, Op::In, Op::Le, Op::Lt, Op::Ne],
        FieldKind::Id,
    ),
];

async fn owner_ref(s: &AppState, t: &CampaignTemplate) -> Option<Value> {
    let id = t.owner_id?;
    let i = s.store.identity(id).await.ok()??;
    Some(json!({
        "id": i.id.to_string(),
        "type": "IDENTITY",
        "name": i.display_name,
        "email": i.email,
    }))
}

async fn template_json(s: &AppState, t: &CampaignTemplate) -> Value {
    let mut v = json!({
        "id": t.id.to_string(),
        "name": t.name,
        "description": t.description,
        "created": t.created.to_string(),
        "modified": t.modified.map(|m| m.to_string()),
        "scheduled": t.schedule.is_some(),
        "campaign": t.campaign,
    });
    if let Some(d) = &t.deadline_duration {
        v["deadlineDuration"] = json!(d);
    }
    if let Some(o) = owner_ref(s, t).await {
        v["ownerRef"] = o;
    }
    v
}

fn admin<'a>(
    caller: &'a SailPointCaller,
    what: &str,
) -> Result<recert_core::auth::CertAdmin<'a>, Reject> {
    caller.principal.cert_admin().ok_or_else(|| {
        Reject::from(forbidden(
            caller.tracking,
            &format!("{what} needs ORG_ADMIN or CERT_ADMIN"),
        ))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TemplateBody {
    name: Option<String>,
    description: Option<String>,
    deadline_duration: Option<String>,
    campaign: Option<Value>,
}

async fn create(
    State(s): State<AppState>,
    caller: SailPointCaller,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let who = admin(&caller, "creating templates")?;
    let b: TemplateBody = json_body(t, &body)?;
    let input = TemplateInput {
        name: b.name,
        description: b.description,
        deadline_duration: b.deadline_duration,
        campaign: b.campaign,
    };
    let created = s
        .campaigns
        .create_template(who, input)
        .await
        .map_err(|e| campaign_error(t, e))?;
    Ok(Json(template_json(&s, &created).await).into_response())
}

async fn list(
    State(s): State<AppState>,
    caller: SailPointCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let who = admin(&caller, "listing templates")?;
    let q = query_map(raw.as_deref());
    let query = list_query(t, &q, FIELDS, &["name", "created", "modified"])?;
    let page = s
        .campaigns
        .templates(who, &query)
        .await
        .map_err(|e| campaign_error(t, e))?;
    let mut items = Vec::with_capacity(page.items.len());
    for x in &page.items {
        items.push(template_json(&s, x).await);
    }
    Ok(list_response(Value::Array(items), page.total))
}

async fn get_one(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let who = admin(&caller, "reading templates")?;
    let id = path_id(t, &id, "template id")?;
    let x = s
        .campaigns
        .template(who, id)
        .await
        .map_err(|e| campaign_error(t, e))?;
    Ok(Json(template_json(&s, &x).await).into_response())
}

async fn patch(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let who = admin(&caller, "changing templates")?;
    let id = path_id(t, &id, "template id")?;
    let ops: Vec<PatchOp> = json_body(t, &body)?;
    let x = s
        .campaigns
        .patch_template(who, id, &ops)
        .await
        .map_err(|e| campaign_error(t, e))?;
    Ok(Json(template_json(&s, &x).await).into_response())
}

async fn delete(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let who = admin(&caller, "deleting templates")?;
    let id = path_id(t, &id, "template id")?;
    s.campaigns
        .delete_template(who, id)
        .await
        .map_err(|e| campaign_error(t, e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn generate(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let who = admin(&caller, "generating campaigns")?;
    let id = path_id(t, &id, "template id")?;
    let k = s
        .campaigns
        .generate_from_template(who, id)
        .await
        .map_err(|e| campaign_error(t, e))?;
    Ok(Json(json!({
        "id": k.id.to_string(),
        "name": k.name,
        "type": "CAMPAIGN",
        "campaignType": k.campaign_type.as_str(),
        "description": k.description,
        "correlatedStatus": k.correlated_status.as_str(),
        "mandatoryCommentRequirement": k.mandatory_comment_requirement.as_str(),
    }))
    .into_response())
}

async fn get_schedule(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let who = admin(&caller, "reading schedules")?;
    let id = path_id(t, &id, "template id")?;
    match s
        .campaigns
        .schedule(who, id)
        .await
        .map_err(|e| campaign_error(t, e))?
    {
        Some(v) => Ok(Json(v).into_response()),
        None => Err(crate::error::sailpoint(
            StatusCode::NOT_FOUND,
            t,
            &format!("campaign template {id} has no schedule"),
        )
        .into()),
    }
}

async fn put_schedule(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let who = admin(&caller, "scheduling templates")?;
    let id = path_id(t, &id, "template id")?;
    let schedule: Schedule = json_body(t, &body)?;
    s.campaigns
        .set_schedule(who, id, Some(schedule))
        .await
        .map_err(|e| campaign_error(t, e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_schedule(
    State(s): State<AppState>,
    caller: SailPointCaller,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let t = caller.tracking;
    let who = admin(&caller, "unscheduling templates")?;
    let id = path_id(t, &id, "template id")?;
    s.campaigns
        .set_schedule(who, id, None)
        .await
        .map_err(|e| campaign_error(t, e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
