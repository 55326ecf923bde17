//! The campaign routes over real HTTP: the life of a campaign through both path forms, every
//! body checked against SailPoint's description, and the refusals with their reasons.

mod common;

use common::{error_text, valid};

use common::app;
use recert_domain::{ClientRole, Clock, Duration};
use recert_store_conformance::fixture_id;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_from_creation_to_deletion() {
    let app = app(None).await;
    let token = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let deadline = app.clock.now().plus(Duration::days(14)).to_string();
    let (s, _, created) = app
        .send(
            Method::POST,
            "/v3/campaigns",
            &token,
            Some(json!({
                "name": "Q1 manager review",
                "description": "Everyone's access, by their manager",
                "deadline": deadline,
                "type": "MANAGER",
                "autoRevokeAllowed": false,
                "mandatoryCommentRequirement": "REVOKE_ONLY_DECISIONS",
            })),
        )
        .await;
    assert_eq!(s, 202, "{created}");
    valid("post", "/campaigns", 202, &created);
    assert_eq!(created["status"], "PENDING");
    assert_eq!(
        created["mandatoryCommentRequirement"],
        "REVOKE_ONLY_DECISIONS"
    );
    let id = created["id"].as_str().unwrap().to_owned();

    // Generation runs in the background; the per-API path form sees the same campaign.
    let staged = app
        .wait_for(&format!("/campaigns/v1/{id}?detail=FULL"), &token, |b| {
            b["status"] == "STAGED"
        })
        .await;
    valid("get", "/campaigns/{id}", 200, &staged);
    assert_eq!(staged["totalCertifications"], 2);
    assert_eq!(staged["completedCertifications"], 0);
    assert!(
        staged["modified"].is_string(),
        "FULL carries the full fields"
    );
    let (_, _, slim) = app.get(&format!("/v3/campaigns/{id}"), Some(&token)).await;
    assert!(slim.get("modified").is_none(), "SLIM is slim: {slim}");

    // Lists: filters, sorters, paging and the count.
    let (s, h, list) = app
        .get(
            "/v3/campaigns?filters=name%20sw%20%22q1%22%20and%20status%20in%20(%22STAGED%22)&sorters=-created&count=true&limit=10",
            Some(&token),
        )
        .await;
    assert_eq!(s, 200, "{list}");
    valid("get", "/campaigns", 200, &list);
    assert_eq!(h["x-total-count"], "1");
    assert_eq!(list[0]["id"], id.as_str());
    let (s, _, e) = app
        .get(
            "/v3/campaigns?filters=deadline%20eq%20%22x%22",
            Some(&token),
        )
        .await;
    assert_eq!(s, 400);
    valid("get", "/campaigns", 400, &e);
    assert!(error_text(&e).contains("'deadline'"), "{e}");
    let (_, _, empty) = app.get("/v3/campaigns?offset=5", Some(&token)).await;
    assert_eq!(empty, json!([]));

    // PATCH: the fields a STAGED campaign allows, and a refusal naming the field.
    let (s, _, patched) = app
        .send(
            Method::PATCH,
            &format!("/v3/campaigns/{id}"),
            &token,
            Some(
                json!([{"op": "replace", "path": "/name", "value": "Q1 review"},
                        {"op": "replace", "path": "/autoRevokeAllowed", "value": true}]),
            ),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    valid("patch", "/campaigns/{id}", 200, &patched);
    assert_eq!(patched["name"], "Q1 review");
    assert_eq!(patched["autoRevokeAllowed"], true);
    let (s, _, e) = app
        .send(
            Method::PATCH,
            &format!("/v3/campaigns/{id}"),
            &token,
            Some(json!([{"op": "replace", "path": "/type", "value": "SEARCH"}])),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("'type' cannot be changed"), "{e}");

    // Completing before activation is refused, saying why.
    let complete = format!("/v3/campaigns/{id}/complete");
    let (s, _, e) = app.send(Method::POST, &complete, &token, None).await;
    assert_eq!(s, 400);
    valid("post", "/campaigns/{id}/complete", 400, &e);
    assert!(error_text(&e).contains("only an ACTIVE campaign"), "{e}");

    let (s, _, body) = app
        .send(
            Method::POST,
            &format!("/v3/campaigns/{id}/activate"),
            &token,
            Some(json!({"timeZone": "-05:00"})),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    let active = app
        .wait_for(&format!("/v3/campaigns/{id}"), &token, |b| {
            b["status"] == "ACTIVE"
        })
        .await;
    assert!(
        active["deadline"]
            .as_str()
            .unwrap()
            .ends_with("T04:59:59.999Z"),
        "{active}"
    );
    let (s, _, e) = app
        .send(
            Method::POST,
            &format!("/v3/campaigns/{id}/activate"),
            &token,
            None,
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("only a STAGED campaign"), "{e}");
    let (s, _, e) = app
        .send(
            Method::PATCH,
            &format!("/v3/campaigns/{id}"),
            &token,
            Some(json!([{"op": "replace", "path": "/name", "value": "late"}])),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("changeable now: deadline"), "{e}");

    // Admin reassignment of a whole certification: a task, done in the background.
    let certs = app
        .store
        .campaign_certifications(id.parse().unwrap())
        .await
        .unwrap();
    let ada_cert = certs
        .iter()
        .find(|c| c.reviewer_id == fixture_id(1, 1))
        .unwrap();
    let (s, _, task) = app
        .send(
            Method::POST,
            &format!("/v3/campaigns/{id}/reassign"),
            &token,
            Some(json!({"certificationIds": [ada_cert.id.to_string()],
                        "reassignTo": {"id": fixture_id(1, 3).to_string(), "type": "IDENTITY"},
                        "reason": "ada is on leave"})),
        )
        .await;
    assert_eq!(s, 202, "{task}");
    valid("post", "/campaigns/{id}/reassign", 202, &task);
    assert_eq!(task["type"], "ADMIN_REASSIGN");
    assert_eq!(task["status"], "QUEUED");
    let task_id = task["id"].as_str().unwrap().parse().unwrap();
    for _ in 0..500 {
        let t = app
            .store
            .certification_task(task_id)
            .await
            .unwrap()
            .unwrap();
        if t.status == recert_domain::review::TaskStatus::Success {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let moved = app
        .store
        .campaign_certifications(id.parse().unwrap())
        .await
        .unwrap();
    let moved = moved.iter().find(|c| c.id == ada_cert.id).unwrap();
    assert_eq!(moved.reviewer_id, fixture_id(1, 3));
    assert_eq!(
        moved
            .reassigned_from
            .as_ref()
            .and_then(|r| r.comment.as_deref()),
        Some("ada is on leave")
    );

    // Completion: only past due; REVOKE only where allowed (it is, after the patch).
    let (s, _, e) = app.send(Method::POST, &complete, &token, None).await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("not past due"), "{e}");
    app.clock.advance(Duration::days(15));
    let token = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let (s, _, body) = app
        .send(
            Method::POST,
            &complete,
            &token,
            Some(json!({"autoCompleteAction": "REVOKE"})),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    let done = app
        .wait_for(&format!("/v3/campaigns/{id}"), &token, |b| {
            b["status"] == "COMPLETED"
        })
        .await;
    assert_eq!(done["completedCertifications"], 2);

    let (s, _, body) = app
        .send(
            Method::POST,
            "/v3/campaigns/delete",
            &token,
            Some(json!({"ids": [id]})),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    for _ in 0..500 {
        if app
            .get(&format!("/v3/campaigns/{id}"), Some(&token))
            .await
            .0
            == 404
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (s, _, e) = app.get(&format!("/v3/campaigns/{id}"), Some(&token)).await;
    assert_eq!(s, 404);
    valid("get", "/campaigns/{id}", 404, &e);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_say_what_is_wrong() {
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::OrgAdmin)).await;
    let cases = [
        (json!({"type": "MANAGER"}), "name is required"),
        (
            json!({"name": "x", "type": "DAILY"}),
            "type: 'DAILY' is not one of",
        ),
        (
            json!({"name": "x", "type": "MACHINE_ACCOUNT"}),
            "MACHINE_ACCOUNT",
        ),
        (
            json!({"name": "x", "type": "MANAGER", "deadline": "tomorrow"}),
            "deadline 'tomorrow'",
        ),
        (
            json!({"name": "x", "type": "MANAGER", "deadline": "2020-01-01T00:00:00Z"}),
            "not in the future",
        ),
        (
            json!({"name": "x", "type": "MANAGER", "autoRevokeAllowed": "yes"}),
            "autoRevokeAllowed",
        ),
        (
            json!({"name": "x", "type": "SOURCE_OWNER"}),
            "sourceOwnerCampaignInfo is required",
        ),
        (
            json!({"name": "x", "type": "SEARCH", "searchCampaignInfo": {"type": "IDENTITY", "query": "salary gt 1"}}),
            "searchCampaignInfo.query",
        ),
    ];
    for (body, want) in cases {
        let (s, _, e) = app
            .send(Method::POST, "/v3/campaigns", &admin, Some(body.clone()))
            .await;
        assert_eq!(s, 400, "{body}: {e}");
        valid("post", "/campaigns", 400, &e);
        assert!(error_text(&e).contains(want), "{body}: {e}");
    }
    let (s, _, e) = app.get("/v3/campaigns/not-an-id", Some(&admin)).await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("not an id"), "{e}");
    let (s, _, e) = app
        .send(
            Method::POST,
            "/v3/campaigns/delete",
            &admin,
            Some(json!({"ids": ["00000000000000000000000000000001"]})),
        )
        .await;
    assert_eq!(s, 404, "{e}");
    // Who may do what.
    let body = json!({"name": "x", "type": "MANAGER"});
    for role in [ClientRole::ReportAdmin, ClientRole::User] {
        let t = app.token_for(app.client(role)).await;
        let (s, _, e) = app
            .send(Method::POST, "/v3/campaigns", &t, Some(body.clone()))
            .await;
        assert_eq!(s, 403, "{role}: {e}");
        valid("post", "/campaigns", 403, &e);
    }
    let op = app.token_for(app.client(ClientRole::Operator)).await;
    let (s, _, k) = app
        .send(Method::POST, "/v3/campaigns", &op, Some(body.clone()))
        .await;
    assert_eq!(s, 202, "an OPERATOR creates campaigns: {k}");
    let (s, _, k2) = app
        .send(Method::POST, "/v3/campaigns", &admin, Some(body.clone()))
        .await;
    assert_eq!(s, 202);
    // ... and acts on its own, not on others'.
    let own = format!("/v3/campaigns/{}", k["id"].as_str().unwrap());
    let other = format!("/v3/campaigns/{}", k2["id"].as_str().unwrap());
    app.wait_for(&own, &admin, |b| b["status"] == "STAGED")
        .await;
    app.wait_for(&other, &admin, |b| b["status"] == "STAGED")
        .await;
    let patch = json!([{"op": "replace", "path": "/description", "value": "d"}]);
    let (s, _, _) = app
        .send(Method::PATCH, &own, &op, Some(patch.clone()))
        .await;
    assert_eq!(s, 200);
    let (s, _, e) = app.send(Method::PATCH, &other, &op, Some(patch)).await;
    assert_eq!(s, 403, "{e}");
}
