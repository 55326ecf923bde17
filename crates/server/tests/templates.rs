//! The campaign template routes over real HTTP, bodies checked against SailPoint's description.

mod common;

use common::valid;

use common::app;
use recert_domain::ClientRole;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_schedules_and_generation() {
    let app = app(None).await;
    let token = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let (s, _, t) = app
        .send(
            Method::POST,
            "/v3/campaign-templates",
            &token,
            Some(json!({
                "name": "Manager template",
                "description": "Template for the quarterly manager review",
                "deadlineDuration": "P2W",
                "campaign": {"name": "Manager review %Y", "description": "Everyone, %B %Y",
                             "type": "MANAGER", "emailNotificationEnabled": false,
                             "autoRevokeAllowed": false, "recommendationsEnabled": false}
            })),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    valid("post", "/campaign-templates", 200, &t);
    assert_eq!(t["scheduled"], false);
    let id = t["id"].as_str().unwrap().to_owned();

    let (s, h, list) = app
        .get(
            "/campaign-templates/v1?filters=name%20sw%20%22manager%22&sorters=-created&count=true",
            Some(&token),
        )
        .await;
    assert_eq!(s, 200, "{list}");
    valid("get", "/campaign-templates", 200, &list);
    assert_eq!(h["x-total-count"], "1");

    let (s, _, patched) = app
        .send(
            Method::PATCH,
            &format!("/v3/campaign-templates/{id}"),
            &token,
            Some(
                json!([{"op": "replace", "path": "/campaign/name", "value": "Review %Y-%m"},
                        {"op": "replace", "path": "/deadlineDuration", "value": "P1M"}]),
            ),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    valid("patch", "/campaign-templates/{id}", 200, &patched);
    assert_eq!(patched["campaign"]["name"], "Review %Y-%m");
    let (s, _, e) = app
        .send(
            Method::PATCH,
            &format!("/v3/campaign-templates/{id}"),
            &token,
            Some(json!([{"op": "replace", "path": "/campaign/type", "value": "WEEKLY"}])),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["messages"][0]["text"].as_str().unwrap().contains("type"),
        "{e}"
    );

    let (s, _, r) = app
        .send(
            Method::POST,
            &format!("/v3/campaign-templates/{id}/generate"),
            &token,
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    valid("post", "/campaign-templates/{id}/generate", 200, &r);
    assert_eq!(r["name"], "Review 2026-03");
    assert_eq!(r["type"], "CAMPAIGN");
    let k = app
        .wait_for(
            &format!("/v3/campaigns/{}", r["id"].as_str().unwrap()),
            &token,
            |b| b["status"] == "STAGED",
        )
        .await;
    assert_eq!(k["deadline"], "2026-04-01T10:00:00.000Z");

    // Schedules: none yet (404), set (204), read back (200), removed (204).
    let sched = format!("/v3/campaign-templates/{id}/schedule");
    let (s, _, _) = app.get(&sched, Some(&token)).await;
    assert_eq!(s, 404);
    let (s, _, e) = app
        .send(
            Method::PUT,
            &sched,
            &token,
            Some(
                json!({"type": "MONTHLY", "days": {"type": "LIST", "values": ["32"]},
                        "hours": {"type": "LIST", "values": ["1"]}}),
            ),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["messages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("days.values[0]"),
        "{e}"
    );
    let (s, _, _) = app
        .send(
            Method::PUT,
            &sched,
            &token,
            Some(
                json!({"type": "MONTHLY", "days": {"type": "LIST", "values": ["1", "L"]},
                        "hours": {"type": "LIST", "values": ["1"]}, "timeZoneId": "CST"}),
            ),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _, got) = app.get(&sched, Some(&token)).await;
    assert_eq!(s, 200, "{got}");
    valid("get", "/campaign-templates/{id}/schedule", 200, &got);
    assert_eq!(got["days"]["values"], json!(["1", "L"]));
    let (_, _, t2) = app
        .get(&format!("/v3/campaign-templates/{id}"), Some(&token))
        .await;
    assert_eq!(t2["scheduled"], true);
    let (s, _, _) = app.send(Method::DELETE, &sched, &token, None).await;
    assert_eq!(s, 204);

    // Only administrators.
    let user = app.token_for(app.client(ClientRole::ReportAdmin)).await;
    let (s, _, e) = app.get("/v3/campaign-templates", Some(&user)).await;
    assert_eq!(s, 403, "{e}");
    let (s, _, _) = app
        .send(
            Method::DELETE,
            &format!("/v3/campaign-templates/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _, e) = app
        .get(&format!("/v3/campaign-templates/{id}"), Some(&token))
        .await;
    assert_eq!(s, 404, "{e}");
}
