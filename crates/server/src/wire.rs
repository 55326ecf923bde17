//! What SailPoint-dialect handlers share: reading JSON bodies and collection parameters with
//! errors that name the problem, and turning core errors into SailPoint's error bodies.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use recert_core::campaigns::CampaignError;
use recert_domain::Id;
use recert_domain::filter::{self, FieldSpec, Paging};
use recert_store::ListQuery;
use serde::de::DeserializeOwned;

use crate::{TrackingId, error};

/// A refused request, ready to send: handlers return `Result<Response, Reject>` and use `?`.
#[derive(Debug)]
pub(crate) struct Reject(Box<Response>);

impl From<Response> for Reject {
    fn from(r: Response) -> Self {
        Reject(Box::new(r))
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// A refusal in SailPoint's words.
pub(crate) fn bad_request(t: TrackingId, text: &str) -> Response {
    error::sailpoint(StatusCode::BAD_REQUEST, t, text)
}

pub(crate) fn campaign_error(t: TrackingId, e: CampaignError) -> Response {
    match e {
        CampaignError::Invalid(m) => bad_request(t, &m),
        CampaignError::NotFound(_) | CampaignError::NotFoundTemplate(_) => {
            error::sailpoint(StatusCode::NOT_FOUND, t, &e.to_string())
        }
        CampaignError::Forbidden(m) => error::sailpoint(StatusCode::FORBIDDEN, t, &m),
        CampaignError::Store(s) => error::sailpoint_internal(t, &s),
    }
}

pub(crate) fn forbidden(t: TrackingId, what: &str) -> Response {
    error::sailpoint(StatusCode::FORBIDDEN, t, &format!("Forbidden: {what}"))
}

/// Reads a JSON body into `T`; a type error names the JSON path.
pub(crate) fn json_body<T: DeserializeOwned>(t: TrackingId, body: &Bytes) -> Result<T, Reject> {
    if body.is_empty() {
        return Err(bad_request(t, "the request needs a JSON body").into());
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let text = if path == "." || path.is_empty() {
            format!("the body is not valid: {inner}")
        } else {
            format!("the body is not valid at {path}: {inner}")
        };
        Reject::from(bad_request(t, &text))
    })
}

/// An optional JSON body: empty means `T::default()`.
pub(crate) fn optional_body<T: DeserializeOwned + Default>(
    t: TrackingId,
    body: &Bytes,
) -> Result<T, Reject> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        json_body(t, body)
    }
}

/// A path id: 32 hex characters, else 400 naming it. (An unknown id is a 404 later.)
pub(crate) fn path_id(t: TrackingId, s: &str, what: &str) -> Result<Id, Reject> {
    Id::parse(s).map_err(|_| {
        Reject::from(bad_request(
            t,
            &format!("{what} '{s}' is not an id of 32 hexadecimal characters"),
        ))
    })
}

/// The query string as name → value (the last of repeated names wins).
pub(crate) fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .map(|v| v.into_iter().collect())
        .unwrap_or_default()
}

/// `filters`, `sorters`, `limit`, `offset`, `count` checked against an endpoint's tables.
pub(crate) fn list_query(
    t: TrackingId,
    q: &HashMap<String, String>,
    fields: &[FieldSpec],
    sorters: &[&'static str],
) -> Result<ListQuery, Reject> {
    let paging = Paging::parse(
        q.get("limit").map(String::as_str),
        q.get("offset").map(String::as_str),
        q.get("count").map(String::as_str),
    )
    .map_err(|e| Reject::from(bad_request(t, &e.0)))?;
    let filter = match q.get("filters").filter(|f| !f.trim().is_empty()) {
        Some(f) => {
            let parsed = filter::parse(f).map_err(|e| Reject::from(bad_request(t, &e.0)))?;
            filter::validate(&parsed, fields).map_err(|e| Reject::from(bad_request(t, &e.0)))?;
            Some(parsed)
        }
        None => None,
    };
    let sorters = match q.get("sorters").filter(|s| !s.trim().is_empty()) {
        Some(s) => {
            filter::parse_sorters(s, sorters).map_err(|e| Reject::from(bad_request(t, &e.0)))?
        }
        None => Vec::new(),
    };
    Ok(ListQuery {
        filter,
        sorters,
        paging,
    })
}

/// A JSON answer with `X-Total-Count` when the caller asked for it.
pub(crate) fn list_response(body: impl serde::Serialize, total: Option<u64>) -> Response {
    let mut headers = HeaderMap::new();
    if let Some(n) = total
        && let Ok(v) = HeaderValue::from_str(&n.to_string())
    {
        headers.insert("x-total-count", v);
    }
    (StatusCode::OK, headers, Json(body)).into_response()
}
