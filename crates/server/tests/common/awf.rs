//! Helpers of the Access Workflows tests (`awf.rs`, `awf_lifecycle.rs`).

use recert_store_conformance::fixture_id;
use reqwest::Method;
use serde_json::{Value, json};

use super::App;

pub const AWF: &str = "/api/preview/awf";

pub fn ada() -> Value {
    json!({"user_type": "CustomIDPUser", "id": fixture_id(1, 1).to_string(),
           "email": "ada.boss@example.com", "name": "ada boss"})
}

pub async fn put(app: &App, token: &str, campaign: &str, value: Value) -> (u16, Value) {
    let (s, _, b) = app
        .send(
            Method::PUT,
            &format!("{AWF}/certifications/{campaign}/results"),
            token,
            Some(json!({ "value": value })),
        )
        .await;
    (s.as_u16(), b)
}

pub async fn force(app: &App, token: &str, campaign: &str, value: Value) -> (u16, Value) {
    let (s, _, b) = app
        .send(
            Method::POST,
            &format!("{AWF}/certifications/{campaign}/results:force_update"),
            token,
            Some(json!({ "value": value })),
        )
        .await;
    (s.as_u16(), b)
}

pub async fn rows(app: &App, token: &str, campaign: &str, query: &str) -> (u16, Value) {
    let (s, _, b) = app
        .get(
            &format!("{AWF}/certifications/{campaign}/results{query}"),
            Some(token),
        )
        .await;
    (s.as_u16(), b)
}

pub async fn row(app: &App, token: &str, campaign: &str, n: u64) -> Value {
    let (s, _, b) = app
        .get(
            &format!("{AWF}/certifications/{campaign}/results/{n}"),
            Some(token),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    b["value"].clone()
}

/// A refusal in Veza's shape, with the code and a message that mentions `needle`.
pub fn refused(what: &str, got: (u16, Value), status: u16, code: &str, needle: &str) {
    let (s, b) = got;
    assert_eq!(s, status, "{what}: {b}");
    assert_eq!(b["code"], code, "{what}: {b}");
    assert_eq!(b["details"], json!([]), "{what}");
    assert_eq!(b["request_id"].as_str().map(str::len), Some(32), "{what}");
    assert!(b["timestamp"].as_str().is_some(), "{what}");
    let m = b["message"].as_str().unwrap_or("");
    assert!(m.contains(needle), "{what}: '{m}' lacks '{needle}'");
}

pub fn result_ids(list: &Value) -> Vec<u64> {
    list["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result_id"].as_u64().unwrap())
        .collect()
}

/// Bob's rows (he reviews Cyd's four and Dave's one); Ada's one row reviews Bob.
pub async fn bobs_rows(app: &App, bob: &str, campaign: &str) -> Vec<Value> {
    let (s, b) = rows(app, bob, campaign, "").await;
    assert_eq!(s, 200, "{b}");
    b["values"].as_array().unwrap().clone()
}

/// Completes the campaign through the dialect (decide and sign off every row) as `admin`.
pub async fn complete_through_rows(app: &App, admin: &str, campaign: &str, decision: &str) {
    let (_, all) = rows(app, admin, campaign, "?page_size=2000").await;
    for n in result_ids(&all) {
        let (s, b) = put(
            app,
            admin,
            campaign,
            json!({"result_id": n, "decision": decision, "signed_off_state": "SIGNED_OFF"}),
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }
}
