//! The reviewer's pages: my reviews, one certification (grouped, searched, filtered, sorted and
//! paged), decide, reassign and sign off. Every action goes through `core::certifications`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use recert_core::certifications::{DecisionRequest, ReassignRequest, ReviewError};
use recert_domain::campaign::Decision;
use recert_domain::certification::{AccessReviewItem, ReassignKind, ReassignRef};
use recert_domain::filter::{Paging, Sorter};
use recert_domain::review::Certification;
use recert_domain::{Id, Timestamp};
use recert_store::ListQuery;
use serde_json::{Value, json};

use super::{Flash, Web, error_page, field, local_path, posted, redirect_with, render};
use crate::AppState;
use crate::wire::query_map;

/// Items per page.
const PAGE: u32 = 50;

const TYPES: [(&str, &str); 4] = [
    ("ENTITLEMENT", "Entitlement"),
    ("ACCESS_PROFILE", "Access profile"),
    ("ROLE", "Role"),
    ("ACCOUNT", "Account"),
];

/// How a page names an access type.
pub(super) fn access_type_label(t: &str) -> &str {
    TYPES
        .iter()
        .find(|(k, _)| *k == t)
        .map_or(t, |(_, label)| label)
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/reviews", get(my_reviews))
        .route("/reviews/{id}", get(certification))
        .route("/reviews/{id}/decide", post(decide))
        .route("/reviews/{id}/reassign", post(reassign))
        .route(
            "/reviews/{id}/sign-off",
            get(confirm_sign_off).post(sign_off),
        )
}

/// Back to the page after an action: its message, or the core's refusal text.
fn after(web: &Web, back: &str, done: Result<String, ReviewError>) -> Response {
    match done {
        Ok(text) => redirect_with(back, Flash::ok(text), web.tls),
        Err(ReviewError::Store(e)) => refusal(web, ReviewError::Store(e)),
        Err(e) => redirect_with(back, Flash::error(e.to_string()), web.tls),
    }
}

fn refusal(web: &Web, e: ReviewError) -> Response {
    let status = match &e {
        ReviewError::Invalid(_) => StatusCode::BAD_REQUEST,
        ReviewError::NotFound(_) => StatusCode::NOT_FOUND,
        ReviewError::Forbidden(_) => StatusCode::FORBIDDEN,
        ReviewError::Store(s) => {
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

fn date(t: Timestamp) -> String {
    t.to_string().get(..10).unwrap_or_default().to_owned()
}

fn cert_json(c: &Certification, now: Timestamp) -> Value {
    let overdue = c.phase.as_str() == "ACTIVE" && c.due.is_some_and(|d| d < now);
    json!({
        "id": c.id.to_string(),
        "name": c.name,
        "campaign": c.campaign.name,
        "due": c.due.map(|d| d.to_string()),
        "due_text": c.due.map(date),
        "overdue": overdue,
        "made": c.decisions_made,
        "total": c.decisions_total,
        "phase": match c.phase.as_str() {
            "ACTIVE" => "Open",
            "SIGNED" => "Signed off",
            _ => "Not started",
        },
    })
}

async fn my_reviews(State(state): State<AppState>, web: Web) -> Response {
    let q = ListQuery {
        filter: None,
        sorters: Vec::new(),
        paging: Paging {
            limit: 250,
            offset: 0,
            count: false,
        },
    };
    match state
        .certifications
        .list(web.principal(), Some("me"), &q)
        .await
    {
        Ok(page) => {
            let now = state.clock.now();
            let certs: Vec<Value> = page.items.iter().map(|c| cert_json(c, now)).collect();
            render(
                StatusCode::OK,
                "reviews.html",
                Some(&web),
                json!({"certs": certs, "section": "reviews"}),
                None,
            )
        }
        // Administrators without an identity have no reviews of their own.
        Err(ReviewError::Invalid(_)) => render(
            StatusCode::OK,
            "reviews.html",
            Some(&web),
            json!({"certs": [], "section": "reviews"}),
            None,
        ),
        Err(e) => refusal(&web, e),
    }
}

/// A string for the filter grammar: quoted, with `"` and `\` escaped.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The page's filter as the item list's filter grammar (the same fields as the API's).
fn filter_of(q: &std::collections::HashMap<String, String>) -> Option<String> {
    let get = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut parts = Vec::new();
    match get("status") {
        Some("undecided") => parts.push("completed eq false".to_owned()),
        Some("decided") => parts.push("completed eq true".to_owned()),
        _ => {}
    }
    if let Some(t) = get("type").filter(|t| TYPES.iter().any(|(k, _)| k == t)) {
        parts.push(format!("access.type eq {}", quoted(t)));
    }
    if let Some(s) = get("source") {
        let s = quoted(s);
        parts.push(format!(
            "(entitlement.sourceName sw {s} or accessProfile.sourceName sw {s})"
        ));
    }
    if let Some(text) = get("q") {
        let t = quoted(text);
        parts.push(format!(
            "(identitySummary.name sw {t} or access.name sw {t})"
        ));
    }
    if get("privileged").is_some() {
        parts.push("privileged eq true".to_owned());
    }
    (!parts.is_empty()).then(|| parts.join(" and "))
}

fn page_link(q: &std::collections::HashMap<String, String>, id: &str, page: u64) -> String {
    let mut pairs: Vec<(&str, String)> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "page")
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    pairs.sort();
    pairs.push(("page", page.to_string()));
    let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("/reviews/{id}?{qs}")
}

fn item_json(it: &AccessReviewItem, permissions: &[String]) -> Value {
    let a = it.access.clone().unwrap_or_default();
    json!({
        "id": it.id.to_string(),
        "identity_name": it.identity_name,
        "access_name": it.access_name,
        "access_type": TYPES.iter().find(|(k, _)| *k == it.access_type).map_or(it.access_type.as_str(), |(_, v)| v),
        "source": a.source_name,
        "privileged": a.privileged,
        "new_access": it.new_access,
        "description": a.description,
        "attribute": a.attribute_name.as_ref().map(|n| format!("{n} = {}", a.attribute_value.clone().unwrap_or_default())),
        "account": it.account.as_ref().map(|x| {
            let name = x.name.clone().unwrap_or_default();
            match &x.native_identity {
                Some(n) if *n != name => format!("{name} ({n})"),
                _ => name,
            }
        }),
        "permissions": permissions,
        "decision": it.decision.map(|d| d.as_str()),
        "decision_text": it.decision.map(|d| match d { Decision::Approve => "Approved", Decision::Revoke => "Revoked" }),
        "comments": it.comments,
    })
}

async fn certification(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Ok(cert_id) = Id::parse(&id) else {
        return error_page(
            Some(&web),
            StatusCode::NOT_FOUND,
            "There is no such review.",
        );
    };
    let p = web.principal();
    let cert = match state.certifications.get(p, cert_id).await {
        Ok(c) => c,
        Err(e) => return refusal(&web, e),
    };
    let q = query_map(raw.as_deref());
    let group_access = q.get("group").is_some_and(|g| g == "access");
    let page: u64 = q
        .get("page")
        .and_then(|n| n.parse().ok())
        .filter(|n| (1..=1_000_000).contains(n))
        .unwrap_or(1);
    let filter = match filter_of(&q).map(|f| recert_domain::filter::parse(&f)) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => {
            return error_page(Some(&web), StatusCode::BAD_REQUEST, &e.0);
        }
    };
    // Grouped by person or by access; within a group, by the chosen key.
    let first = if group_access {
        "access.name"
    } else {
        "identitySummary.name"
    };
    let then = match q.get("sort").map(String::as_str) {
        Some("type") => "access.type",
        Some("source") => "entitlement.sourceName",
        _ if group_access => "identitySummary.name",
        _ => "access.name",
    };
    let sorters = [first, then]
        .into_iter()
        .map(|field| Sorter {
            field,
            descending: false,
        })
        .collect();
    let query = ListQuery {
        filter,
        sorters,
        paging: Paging {
            limit: PAGE,
            offset: (page - 1) * u64::from(PAGE),
            count: true,
        },
    };
    let items = match state.certifications.items(p, cert_id, None, &query).await {
        Ok(i) => i,
        Err(e) => return refusal(&web, e),
    };
    let total = items.total.unwrap_or(0);
    // Past the end (the last items of the last page were just decided away by a filter):
    // the last page there is.
    if items.items.is_empty() && page > 1 {
        let last_page = total.div_ceil(u64::from(PAGE)).max(1);
        return axum::response::Redirect::to(&page_link(&q, &id, last_page)).into_response();
    }
    let mut rows = Vec::with_capacity(items.items.len());
    let mut last_group: Option<String> = None;
    for it in &items.items {
        let mut perms = Vec::new();
        if it.access.as_ref().is_some_and(|a| a.has_permissions) {
            let paging = Paging {
                limit: 20,
                offset: 0,
                count: false,
            };
            if let Ok(list) = state
                .certifications
                .permissions(p, cert_id, it.id, None, &paging)
                .await
            {
                perms = list
                    .items
                    .iter()
                    .map(|x| format!("{}: {}", x.target, x.rights.join(", ")))
                    .collect();
            }
        }
        let mut row = item_json(it, &perms);
        let key = if group_access {
            it.access_name.clone()
        } else {
            it.identity_name.clone()
        };
        if last_group.as_ref() != Some(&key) {
            row["group_start"] = json!(true);
            row["group_label"] = json!(key);
            last_group = Some(key);
        }
        rows.push(row);
    }
    let first = if rows.is_empty() {
        0
    } else {
        (page - 1) * u64::from(PAGE) + 1
    };
    let last = (page - 1) * u64::from(PAGE) + rows.len() as u64;
    let now = state.clock.now();
    let comment_rule = match cert.campaign.mandatory_comment_requirement.as_str() {
        "ALL_DECISIONS" => Some("required"),
        "REVOKE_ONLY_DECISIONS" => Some("required when revoking"),
        _ => None,
    };
    let back = page_link(&q, &id, page);
    // Absent fields show empty, not as "none".
    let text = |k: &str| q.get(k).cloned().unwrap_or_default();
    render(
        StatusCode::OK,
        "certification.html",
        Some(&web),
        json!({
            "section": "reviews",
            "cert": cert_json(&cert, now),
            "editable": cert.phase.as_str() == "ACTIVE",
            "comment_rule": comment_rule,
            "items": rows,
            "types": TYPES,
            "back": back,
            "f": {
                "q": text("q"), "status": text("status"), "type": text("type"),
                "source": text("source"), "privileged": q.contains_key("privileged"),
                "group": text("group"), "sort": text("sort"),
            },
            "page": {
                "total": total, "first": first, "last": last,
                "prev": (page > 1).then(|| page_link(&q, &id, page - 1)),
                "next": (last < total).then(|| page_link(&q, &id, page + 1)),
            },
        }),
        None,
    )
}

fn back_to(pairs: &[(String, String)], id: &str) -> String {
    let own = format!("/reviews/{id}");
    field(pairs, "back")
        .and_then(local_path)
        .filter(|b| b.starts_with(&own))
        .unwrap_or(&own)
        .to_owned()
}

async fn decide(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (pairs, cert_id) = match posted(&web, &body, &id) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let back = back_to(&pairs, &id);
    let comments = field(&pairs, "comments")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    // One item's own button, or the selection with the bulk button.
    let wanted: Vec<(String, String)> = match field(&pairs, "one").and_then(|v| v.split_once(':')) {
        Some((item, d)) => vec![(item.to_owned(), d.to_owned())],
        None => {
            let d = field(&pairs, "decision").unwrap_or("").to_owned();
            pairs
                .iter()
                .filter(|(k, _)| k == "item")
                .map(|(_, v)| (v.clone(), d.clone()))
                .collect()
        }
    };
    if wanted.is_empty() {
        return redirect_with(
            &back,
            Flash::error("Select at least one item first."),
            web.tls,
        );
    }
    let mut decisions = Vec::with_capacity(wanted.len());
    for (item, d) in &wanted {
        let (Ok(item_id), Ok(decision)) = (Id::parse(item), d.parse::<Decision>()) else {
            return redirect_with(
                &back,
                Flash::error("That decision is not one recert knows."),
                web.tls,
            );
        };
        decisions.push(DecisionRequest {
            item_id,
            decision,
            comments: comments.clone(),
            proposed_end_date: None,
        });
    }
    let n = decisions.len();
    // Back to the item decided (its own button), so that the keyboard carries on from there.
    let back = match field(&pairs, "one").and_then(|v| v.split_once(':')) {
        Some((item, _)) if Id::parse(item).is_ok() => format!("{back}#item-{item}"),
        _ => back,
    };
    let verb = match decisions[0].decision {
        Decision::Approve => "approved",
        Decision::Revoke => "revoked",
    };
    let done = state
        .certifications
        .decide(web.principal(), cert_id, &decisions)
        .await
        .map(|_| format!("{n} {} {verb}.", if n == 1 { "item" } else { "items" }));
    after(&web, &back, done)
}

async fn reassign(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (pairs, cert_id) = match posted(&web, &body, &id) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let back = back_to(&pairs, &id);
    let refs: Vec<ReassignRef> = pairs
        .iter()
        .filter(|(k, _)| k == "item")
        .filter_map(|(_, v)| Id::parse(v).ok())
        .map(|id| ReassignRef {
            id,
            kind: ReassignKind::Item,
        })
        .collect();
    if refs.is_empty() {
        return redirect_with(
            &back,
            Flash::error("Select the items to reassign first."),
            web.tls,
        );
    }
    let who = field(&pairs, "to").unwrap_or("").trim();
    let to = match state.store.identity_by_login(who).await {
        Ok(Some(i)) => i.id,
        Ok(None) => {
            return redirect_with(
                &back,
                Flash::error(format!(
                    "Nobody active is called or has the email “{who}”; give the exact name or email."
                )),
                web.tls,
            );
        }
        Err(e) => return refusal(&web, ReviewError::Store(e)),
    };
    let request = ReassignRequest {
        refs,
        to,
        reason: field(&pairs, "reason").unwrap_or("").to_owned(),
    };
    let n = request.refs.len();
    let done = state
        .certifications
        .reassign(web.principal(), cert_id, &request)
        .await
        .map(|_| {
            format!(
                "{n} {} reassigned to {who}.",
                if n == 1 { "item" } else { "items" }
            )
        });
    after(&web, &back, done)
}

async fn confirm_sign_off(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
) -> Response {
    let Ok(cert_id) = Id::parse(&id) else {
        return error_page(
            Some(&web),
            StatusCode::NOT_FOUND,
            "There is no such review.",
        );
    };
    match state.certifications.get(web.principal(), cert_id).await {
        Ok(c) => render(
            StatusCode::OK,
            "sign_off.html",
            Some(&web),
            json!({
                "section": "reviews",
                "cert": cert_json(&c, state.clock.now()),
                "undecided": c.decisions_total - c.decisions_made,
            }),
            None,
        ),
        Err(e) => refusal(&web, e),
    }
}

async fn sign_off(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (_, cert_id) = match posted(&web, &body, &id) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let back = format!("/reviews/{id}");
    let done = state
        .certifications
        .sign_off(web.principal(), cert_id)
        .await
        .map(|_| "Signed off. Thank you.".to_owned());
    after(&web, &back, done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_filters_become_the_api_grammar_with_quotes_escaped() {
        let q: std::collections::HashMap<String, String> = [
            ("status", "undecided"),
            ("type", "ENTITLEMENT"),
            ("q", "o\"brien \\"),
            ("privileged", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let f = filter_of(&q).unwrap();
        assert!(recert_domain::filter::parse(&f).is_ok(), "{f}");
        assert!(f.contains(r#""o\"brien \\""#), "{f}");
        let bad_type: std::collections::HashMap<String, String> =
            [("type".to_owned(), "DROP TABLE".to_owned())].into();
        assert_eq!(filter_of(&bad_type), None);
    }
}
