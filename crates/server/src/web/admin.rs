//! The administrator's pages: campaigns with their status and progress, a form to create one
//! of each type, activate / complete / delete, a dashboard with progress per reviewer (an SVG
//! chart drawn here), the four reports as CSV, and the remediation items. Every action is the
//! campaigns API's core call.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use recert_core::campaigns::{CampaignError, parse_campaign};
use recert_core::reports::ReportError;
use recert_domain::campaign::Decision;
use recert_domain::filter::Paging;
use recert_domain::review::{Campaign, ReportType};
use recert_domain::{Id, Timestamp};
use recert_store::ListQuery;
use serde_json::{Value, json};

use super::{Flash, Web, error_page, field, form_pairs, posted, redirect_with, render};
use crate::AppState;

const TYPES: [(&str, &str); 4] = [
    ("MANAGER", "Manager: everyone's access, by their manager"),
    (
        "SOURCE_OWNER",
        "Source owner: access on chosen sources, by their owners",
    ),
    ("SEARCH", "Search: chosen people, by a named reviewer"),
    ("ROLE_COMPOSITION", "Role composition: what roles contain"),
];

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/campaigns", get(list))
        .route("/admin/campaigns/new", get(new_form).post(create))
        .route("/admin/campaigns/{id}", get(dashboard))
        .route("/admin/campaigns/{id}/{action}", post(act))
        .route("/admin/campaigns/{id}/reports/{kind}", post(run_report))
        .route("/admin/reports/{id}", get(download))
}

fn date(t: Timestamp) -> String {
    t.to_string().get(..10).unwrap_or_default().to_owned()
}

fn campaign_json(k: &Campaign) -> Value {
    json!({
        "id": k.id.to_string(),
        "name": k.name,
        "description": k.description,
        "type": k.campaign_type.as_str(),
        "status": k.status.as_str(),
        "deadline": k.deadline.map(|d| d.to_string()),
        "deadline_text": k.deadline.map(date),
        "done": k.completed_certifications,
        "total": k.total_certifications,
        "auto_revoke": k.auto_revoke_allowed,
    })
}

fn campaign_refusal(web: &Web, e: CampaignError) -> Response {
    let status = match &e {
        CampaignError::Invalid(_) => StatusCode::BAD_REQUEST,
        CampaignError::NotFound(_) | CampaignError::NotFoundTemplate(_) => StatusCode::NOT_FOUND,
        CampaignError::Forbidden(_) => StatusCode::FORBIDDEN,
        CampaignError::Store(s) => {
            tracing::error!(error = %s, "page failed");
            return error_page(
                Some(web),
                StatusCode::INTERNAL_SERVER_ERROR,
                "recert could not do this; try again in a moment.",
            );
        }
    };
    error_page(Some(web), status, &e.to_string())
}

fn not_admin(web: &Web) -> Response {
    error_page(
        Some(web),
        StatusCode::FORBIDDEN,
        "The campaign pages are for administrators (ORG_ADMIN, CERT_ADMIN, REPORT_ADMIN) and \
         operators.",
    )
}

async fn list(State(state): State<AppState>, web: Web) -> Response {
    let Some(reader) = web.principal().report_reader() else {
        return not_admin(&web);
    };
    let q = ListQuery {
        filter: None,
        sorters: Vec::new(),
        paging: Paging {
            limit: 250,
            offset: 0,
            count: false,
        },
    };
    let campaigns: Vec<Value> = match state.campaigns.list(reader, &q).await {
        Ok(page) => page.items.iter().map(campaign_json).collect(),
        // An operator lists only its own campaigns: the ones it can open.
        Err(CampaignError::Forbidden(_)) => Vec::new(),
        Err(e) => return campaign_refusal(&web, e),
    };
    render(
        StatusCode::OK,
        "admin_campaigns.html",
        Some(&web),
        json!({
            "section": "admin",
            "campaigns": campaigns,
            "can_create": web.principal().campaign_creator().is_some(),
        }),
        None,
    )
}

fn form_values(pairs: &[(String, String)]) -> Value {
    let f = |k: &str| field(pairs, k).unwrap_or("").to_owned();
    json!({
        "name": f("name"), "description": f("description"), "deadline": f("deadline"),
        "type": f("type"), "comments": f("comments"), "auto_revoke": !f("auto_revoke").is_empty(),
        "source_ids": f("source_ids"), "uncorrelated": !f("uncorrelated").is_empty(),
        "identity_ids": f("identity_ids"), "query": f("query"), "role_ids": f("role_ids"),
        "reviewer": f("reviewer"),
    })
}

async fn new_form(web: Web) -> Response {
    if web.principal().campaign_creator().is_none() {
        return not_admin(&web);
    }
    render(
        StatusCode::OK,
        "admin_new_campaign.html",
        Some(&web),
        json!({"section": "admin", "types": TYPES, "v": {"type": "MANAGER", "comments": "NO_DECISIONS"}}),
        None,
    )
}

fn ids(list: &str) -> Vec<String> {
    list.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The form as the campaigns API's body, so that the API's reading and checks apply as is.
async fn body_of(state: &AppState, pairs: &[(String, String)]) -> Result<Value, String> {
    let f = |k: &str| field(pairs, k).map(str::trim).unwrap_or("");
    let deadline = match f("deadline") {
        "" => return Err("deadline is required".into()),
        d => format!("{d}T23:59:59.000Z"),
    };
    let campaign_type = f("type");
    let reviewer = match f("reviewer") {
        "" => None,
        who => match state.store.identity_by_login(who).await {
            Ok(Some(i)) => Some(json!({"type": "IDENTITY", "id": i.id.to_string()})),
            Ok(None) => {
                return Err(format!(
                    "reviewer: nobody active is called or has the email “{who}”"
                ));
            }
            Err(e) => return Err(e.to_string()),
        },
    };
    let mut body = json!({
        "name": f("name"),
        "description": f("description"),
        "deadline": deadline,
        "type": campaign_type,
        "mandatoryCommentRequirement": f("comments"),
        "autoRevokeAllowed": !f("auto_revoke").is_empty(),
    });
    match campaign_type {
        "SOURCE_OWNER" => {
            body["sourceOwnerCampaignInfo"] = json!({"sourceIds": ids(f("source_ids"))});
            if !f("uncorrelated").is_empty() {
                body["correlatedStatus"] = json!("UNCORRELATED");
            }
        }
        "SEARCH" => {
            let mut info = json!({"type": "IDENTITY"});
            if !f("identity_ids").is_empty() {
                info["identityIds"] = json!(ids(f("identity_ids")));
            }
            if !f("query").is_empty() {
                info["query"] = json!(f("query"));
            }
            if let Some(r) = &reviewer {
                info["reviewer"] = r.clone();
            }
            body["searchCampaignInfo"] = info;
        }
        "ROLE_COMPOSITION" => {
            let mut info = json!({"roleIds": ids(f("role_ids"))});
            if let Some(r) = &reviewer {
                info["reviewer"] = r.clone();
            }
            body["roleCompositionCampaignInfo"] = info;
        }
        _ => {}
    }
    Ok(body)
}

async fn create(State(state): State<AppState>, web: Web, body: Bytes) -> Response {
    let pairs = form_pairs(&body);
    if let Some(r) = web.csrf_refusal(field(&pairs, "csrf")) {
        return r;
    }
    let Some(creator) = web.principal().campaign_creator() else {
        return not_admin(&web);
    };
    let again = |message: String| {
        render(
            StatusCode::BAD_REQUEST,
            "admin_new_campaign.html",
            Some(&web),
            json!({"section": "admin", "types": TYPES, "v": form_values(&pairs)}),
            Some(Flash::error(message)),
        )
    };
    let input = match body_of(&state, &pairs)
        .await
        .and_then(|b| parse_campaign(b, None).map_err(|e| e.to_string()))
    {
        Ok(i) => i,
        Err(m) => return again(m),
    };
    match state.campaigns.create(creator, input).await {
        Ok(k) => redirect_with(
            &format!("/admin/campaigns/{}", k.id),
            Flash::ok("Campaign created; its reviews are being generated."),
            web.tls,
        ),
        Err(CampaignError::Store(e)) => campaign_refusal(&web, CampaignError::Store(e)),
        Err(e) => again(e.to_string()),
    }
}

async fn dashboard(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> Response {
    let Some(reader) = web.principal().report_reader() else {
        return not_admin(&web);
    };
    let Ok(campaign_id) = Id::parse(&id) else {
        return error_page(
            Some(&web),
            StatusCode::NOT_FOUND,
            "There is no such campaign.",
        );
    };
    let k = match state.campaigns.get(reader, campaign_id).await {
        Ok(k) => k,
        Err(e) => return campaign_refusal(&web, e),
    };
    let now = state.clock.now();
    // The campaign's certifications, through the reviewer API's core (administrators reach
    // every one).
    let mut reviewers = Vec::new();
    let filter = recert_domain::filter::parse(&format!("campaign.id eq \"{campaign_id}\"")).ok();
    let mut offset = 0;
    loop {
        let q = ListQuery {
            filter: filter.clone(),
            sorters: vec![recert_domain::filter::Sorter {
                field: "name",
                descending: false,
            }],
            paging: Paging {
                limit: 250,
                offset,
                count: false,
            },
        };
        let page = match state.certifications.list(web.principal(), None, &q).await {
            Ok(p) => p,
            Err(_) => break,
        };
        let n = page.items.len();
        for c in page.items {
            let signed = c.phase.as_str() == "SIGNED";
            let overdue = !signed && c.due.is_some_and(|d| d < now);
            let bar = if c.decisions_total > 0 {
                320 * c.decisions_made / c.decisions_total
            } else {
                320
            };
            reviewers.push(json!({
                "name": c.reviewer_name, "email": c.reviewer_email,
                "made": c.decisions_made, "total": c.decisions_total,
                "signed": signed, "overdue": overdue, "bar": bar,
            }));
        }
        offset += n as u64;
        if n < 250 || offset >= 2000 {
            break;
        }
    }
    let report_list = crate::reports::reports(&state)
        .list(reader, campaign_id)
        .await
        .unwrap_or_default();
    let reports: Vec<Value> = ReportType::ALL
        .iter()
        .map(|t| {
            let r = report_list.iter().find(|r| r.report_type == *t);
            json!({
                "type": t.as_str(),
                "label": t.title(),
                "status": r.map_or("not run".to_owned(), |r| r.status.as_str().to_owned()),
                "download": r
                    .filter(|r| r.status.as_str() == "SUCCESS")
                    .map(|r| format!("/admin/reports/{}", r.id)),
            })
        })
        .collect();
    let remediation = match web.principal().cert_admin() {
        Some(admin) => state
            .remediation
            .of_campaign(admin, campaign_id)
            .await
            .ok()
            .map(|items| {
                items
                    .iter()
                    .map(|(r, d)| {
                        let access = d.access_name.clone().unwrap_or_else(|| r.access_id.to_string());
                        json!({
                            "identity": d.identity_name.clone().unwrap_or_else(|| r.identity_id.to_string()),
                            "access": format!("{} ({})", access, super::reviews::access_type_label(&r.access_type)),
                            "status": r.status, "attempts": r.attempts,
                            "error": r.last_error,
                        })
                    })
                    .collect::<Vec<_>>()
            }),
        None => None,
    };
    let can_act = web
        .principal()
        .campaign_creator()
        .is_some_and(|c| k.created_by.is_some_and(|by| c.may_act_on(by)) || c.may_act_on_all());
    render(
        StatusCode::OK,
        "admin_campaign.html",
        Some(&web),
        json!({
            "section": "admin",
            "k": campaign_json(&k),
            "can_act": can_act,
            "chart_height": (reviewers.len() * 28).max(28),
            "reviewers": reviewers,
            "reports": reports,
            "remediation": remediation,
        }),
        None,
    )
}

async fn act(
    State(state): State<AppState>,
    web: Web,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (pairs, campaign_id) = match posted(&web, &body, &id) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Some(creator) = web.principal().campaign_creator() else {
        return not_admin(&web);
    };
    let back = format!("/admin/campaigns/{id}");
    let done = match action.as_str() {
        "activate" => state
            .campaigns
            .activate(creator, campaign_id, Some("Z"))
            .await
            .map(|_| "Activation started; reviewers can begin once it is ACTIVE."),
        "complete" | "delete" if field(&pairs, "confirm").is_none() => {
            return redirect_with(
                &back,
                Flash::error("Tick the confirmation first: this cannot be undone."),
                web.tls,
            );
        }
        "complete" => {
            // The administrator chooses; the campaign allows REVOKE only with autoRevokeAllowed.
            let action = match field(&pairs, "undecided") {
                Some("REVOKE") => Decision::Revoke,
                _ => Decision::Approve,
            };
            state
                .campaigns
                .complete(creator, campaign_id, action)
                .await
                .map(|_| "Completion started.")
        }
        "delete" => state
            .campaigns
            .delete(creator, &[campaign_id])
            .await
            .map(|_| "Deletion started."),
        _ => {
            return error_page(
                Some(&web),
                StatusCode::NOT_FOUND,
                "There is no such action.",
            );
        }
    };
    match done {
        Ok(text) if action == "delete" => {
            redirect_with("/admin/campaigns", Flash::ok(text), web.tls)
        }
        Ok(text) => redirect_with(&back, Flash::ok(text), web.tls),
        Err(CampaignError::Store(e)) => campaign_refusal(&web, CampaignError::Store(e)),
        Err(e) => redirect_with(&back, Flash::error(e.to_string()), web.tls),
    }
}

fn report_refusal(web: &Web, e: ReportError) -> Response {
    let status = match &e {
        ReportError::Invalid(_) | ReportError::NotReady(_) => StatusCode::BAD_REQUEST,
        ReportError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => {
            tracing::error!(error = %e, "report page failed");
            return error_page(
                Some(web),
                StatusCode::INTERNAL_SERVER_ERROR,
                "recert could not do this; try again in a moment.",
            );
        }
    };
    error_page(Some(web), status, &e.to_string())
}

async fn run_report(
    State(state): State<AppState>,
    web: Web,
    Path((id, kind)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    if let Some(r) = web.csrf_refusal(field(&pairs, "csrf")) {
        return r;
    }
    let Some(reader) = web.principal().report_reader() else {
        return not_admin(&web);
    };
    let (Ok(campaign_id), Some(t)) = (
        Id::parse(&id),
        ReportType::ALL.iter().find(|t| t.as_str() == kind),
    ) else {
        return error_page(
            Some(&web),
            StatusCode::NOT_FOUND,
            "There is no such report.",
        );
    };
    let back = format!("/admin/campaigns/{id}");
    match crate::reports::reports(&state)
        .run(reader, campaign_id, *t)
        .await
    {
        Ok(_) => redirect_with(
            &back,
            Flash::ok(format!(
                "The {} is being built; reload to download it.",
                t.title()
            )),
            web.tls,
        ),
        Err(ReportError::Invalid(m)) => redirect_with(&back, Flash::error(m), web.tls),
        Err(e) => report_refusal(&web, e),
    }
}

async fn download(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> Response {
    let Some(reader) = web.principal().report_reader() else {
        return not_admin(&web);
    };
    let Ok(report_id) = Id::parse(&id) else {
        return error_page(
            Some(&web),
            StatusCode::NOT_FOUND,
            "There is no such report.",
        );
    };
    let file = match crate::reports::reports(&state)
        .file(reader, report_id)
        .await
    {
        Ok(f) => f,
        Err(e) => return report_refusal(&web, e),
    };
    let tracking = crate::TrackingId(Id::generate());
    match crate::reports::stream_file(file, tracking, report_id).await {
        Ok(r) => r,
        Err(e) => report_refusal(&web, e),
    }
}
