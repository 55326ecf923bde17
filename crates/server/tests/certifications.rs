//! The reviewer's API over real HTTP: a review from the first list to the sign-off through both
//! path forms, every body checked against SailPoint's description, and every refusal with its
//! status and reason.

mod common;

use common::{error_text, valid};

use common::{App, active_campaign, app};
use recert_domain::{ClientRole, Clock, Duration};
use recert_store_conformance::fixture_id;
use reqwest::Method;
use serde_json::{Value, json};

async fn items(app: &App, token: &str, cert: &str, query: &str) -> (u16, Value) {
    let (s, _, b) = app
        .get(
            &format!("/v3/certifications/{cert}/access-review-items{query}"),
            Some(token),
        )
        .await;
    (s.as_u16(), b)
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_from_the_first_list_to_the_sign_off() {
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let bob = app.token_for(app.client(ClientRole::User)).await;
    let campaign = active_campaign(&app, &admin, "REVOKE_ONLY_DECISIONS").await;

    // The reviewer's list: `me`, and no parameter, give Bob's one certification.
    let (s, h, mine) = app
        .get(
            "/v3/certifications?reviewer-identity=me&count=true",
            Some(&bob),
        )
        .await;
    assert_eq!(s, 200, "{mine}");
    valid("get", "/certifications", 200, &mine);
    assert_eq!(h["x-total-count"], "1");
    let cert = &mine[0];
    assert_eq!(cert["reviewer"]["id"], fixture_id(1, 2).to_string());
    assert_eq!(cert["campaign"]["id"], campaign.as_str());
    assert_eq!(
        cert["campaign"]["mandatoryCommentRequirement"],
        "REVOKE_ONLY_DECISIONS"
    );
    assert_eq!(cert["phase"], "ACTIVE");
    assert_eq!(cert["decisionsTotal"], 5);
    assert_eq!(cert["decisionsMade"], 0);
    assert_eq!(cert["identitiesTotal"], 2);
    assert_eq!(cert["completed"], false);
    assert!(cert["signed"].is_null());
    let cid = cert["id"].as_str().unwrap().to_owned();
    let (_, _, same) = app.get("/certifications/v1", Some(&bob)).await;
    assert_eq!(ids(&same), std::slice::from_ref(&cid));

    // Administrators see every certification, filtered and sorted.
    let (s, h, all) = app
        .get(
            &format!(
                "/v3/certifications?filters=campaign.id%20eq%20%22{campaign}%22%20and%20phase%20eq%20%22ACTIVE%22&sorters=-name&count=true"
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(s, 200, "{all}");
    assert_eq!(h["x-total-count"], "2");
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(names, sorted);
    let ada_cert = all
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["reviewer"]["id"] == fixture_id(1, 1).to_string())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, _, done) = app
        .get(
            "/v3/certifications?filters=completed%20eq%20true",
            Some(&admin),
        )
        .await;
    assert_eq!(done, json!([]));

    // Another reviewer's certification is out of reach; unknown and malformed ids are named.
    let (s, _, e) = app
        .get(&format!("/v3/certifications/{ada_cert}"), Some(&bob))
        .await;
    assert_eq!(s, 403, "{e}");
    valid("get", "/certifications/{id}", 403, &e);
    let (s, _, e) = app
        .get(
            &format!("/v3/certifications?reviewer-identity={}", fixture_id(1, 1)),
            Some(&bob),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    let (s, _, e) = app
        .get(
            &format!("/v3/certifications/{}", fixture_id(9, 9)),
            Some(&bob),
        )
        .await;
    assert_eq!(s, 404, "{e}");
    valid("get", "/certifications/{id}", 404, &e);
    let (s, _, e) = app.get("/v3/certifications/nope", Some(&bob)).await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("'nope'"), "{e}");
    let (s, _, e) = app
        .get("/v3/certifications?filters=name%20eq%20%22x%22", Some(&bob))
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("name"), "{e}");
    let (s, _, one) = app
        .get(&format!("/v3/certifications/{cid}"), Some(&bob))
        .await;
    assert_eq!(s, 200);
    valid("get", "/certifications/{id}", 200, &one);

    // Items: paging, filters, sorters, the access parameters.
    let (s, list) = items(&app, &bob, &cid, "").await;
    assert_eq!(s, 200, "{list}");
    valid(
        "get",
        "/certifications/{id}/access-review-items",
        200,
        &list,
    );
    let all_items = list.as_array().unwrap().clone();
    assert_eq!(all_items.len(), 5);
    let by_access = |id: recert_domain::Id| {
        all_items
            .iter()
            .find(|i| i["accessSummary"]["access"]["id"] == id.to_string())
            .unwrap()
            .clone()
    };
    let ledger = by_access(fixture_id(4, 3));
    assert_eq!(ledger["accessSummary"]["access"]["type"], "ENTITLEMENT");
    assert_eq!(ledger["accessSummary"]["entitlement"]["privileged"], true);
    assert_eq!(
        ledger["accessSummary"]["entitlement"]["sourceName"],
        "Ledger"
    );
    assert_eq!(
        ledger["accessSummary"]["entitlement"]["account"]["nativeIdentity"],
        "cyd"
    );
    assert_eq!(
        ledger["identitySummary"]["identityId"],
        fixture_id(1, 3).to_string()
    );
    assert_eq!(ledger["completed"], false);
    let role = by_access(fixture_id(6, 1));
    assert_eq!(role["accessSummary"]["role"]["name"], "Salesperson");
    let (_, page) = items(&app, &bob, &cid, "?limit=2&offset=4&count=true").await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    let (_, past) = items(&app, &bob, &cid, "?offset=99").await;
    assert_eq!(past, json!([]));
    let (_, cyd) = items(
        &app,
        &bob,
        &cid,
        "?filters=identitySummary.name%20sw%20%22CYD%22&sorters=-access.name",
    )
    .await;
    let names: Vec<&str> = cyd
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["accessSummary"]["access"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{cyd}");
    let mut sorted = names.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(names, sorted);
    let (_, roles) = items(&app, &bob, &cid, "?filters=access.type%20eq%20%22ROLE%22").await;
    assert_eq!(ids(&roles), [role["id"].as_str().unwrap().to_owned()]);
    let (_, by_param) = items(
        &app,
        &bob,
        &cid,
        &format!("?entitlements={}", fixture_id(4, 1)),
    )
    .await;
    assert_eq!(by_param.as_array().unwrap().len(), 1);
    let (s, e) = items(
        &app,
        &bob,
        &cid,
        &format!(
            "?entitlements={}&roles={}",
            fixture_id(4, 1),
            fixture_id(6, 1)
        ),
    )
    .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("entitlements and roles"), "{e}");
    valid("get", "/certifications/{id}/access-review-items", 400, &e);
    let (s, e) = items(&app, &bob, &cid, "?filters=access.name%20co%20%22x%22").await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("co"), "{e}");
    let (s, e) = items(&app, &bob, &cid, "?limit=251").await;
    assert_eq!(s, 400, "{e}");

    // Permissions of the privileged entitlement, filtered as documented; reviewers.
    let ledger_id = ledger["id"].as_str().unwrap();
    let perms = format!("/v3/certifications/{cid}/access-review-items/{ledger_id}/permissions");
    let (s, _, p) = app.get(&perms, Some(&bob)).await;
    assert_eq!(s, 200, "{p}");
    valid(
        "get",
        "/certifications/{certificationId}/access-review-items/{itemId}/permissions",
        200,
        &p,
    );
    assert_eq!(
        p,
        json!([{"rights": ["read", "write"], "target": "ledger"}])
    );
    let (_, _, p) = app
        .get(
            &format!(
                "{perms}?filters=rights%20ca%20(%22WRITE%22)%20and%20target%20eq%20%22LEDGER%22"
            ),
            Some(&bob),
        )
        .await;
    assert_eq!(p.as_array().unwrap().len(), 1);
    let (s, _, e) = app
        .get(
            &format!("{perms}?filters=rights%20ca%20(%22a%22)%20and%20rights%20ca%20(%22b%22)"),
            Some(&bob),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    let (s, _, r) = app
        .get(
            &format!("/v3/certifications/{cid}/reviewers?filters=name%20sw%20%22bob%22"),
            Some(&bob),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    valid("get", "/certifications/{id}/reviewers", 200, &r);
    assert_eq!(r[0]["id"], fixture_id(1, 2).to_string());
    assert_eq!(r[0]["email"], "bob.manager@example.com");

    // Decisions: counters move once per item, comments and dates as the campaign says,
    // all or nothing.
    let decide = format!("/v3/certifications/{cid}/decide");
    let approve = |id: &Value| json!({"id": id, "decision": "APPROVE", "bulk": false});
    let (s, _, c) = app
        .send(
            Method::POST,
            &decide,
            &bob,
            Some(json!([approve(&role["id"])])),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    valid("post", "/certifications/{id}/decide", 200, &c);
    assert_eq!(c["decisionsMade"], 1);
    let (_, _, c) = app
        .send(
            Method::POST,
            &decide,
            &bob,
            Some(json!([approve(&role["id"])])),
        )
        .await;
    assert_eq!(
        c["decisionsMade"], 1,
        "repeating a decision changes no counter"
    );
    let revoke = json!({"id": ledger["id"], "decision": "REVOKE", "bulk": false});
    let (s, _, e) = app
        .send(Method::POST, &decide, &bob, Some(json!([revoke])))
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("comment"), "{e}");
    valid("post", "/certifications/{id}/decide", 400, &e);
    let past = app.clock.now().plus(Duration::days(-1)).to_string();
    let (s, _, e) = app
        .send(
            Method::POST,
            &decide,
            &bob,
            Some(
                json!([{"id": ledger["id"], "decision": "REVOKE", "bulk": false,
                "comments": "not needed", "proposedEndDate": past}]),
            ),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("future"), "{e}");
    let (s, _, e) = app
        .send(
            Method::POST,
            &decide,
            &bob,
            Some(json!([
                approve(&ledger["id"]),
                approve(&json!(fixture_id(9, 9).to_string()))
            ])),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("not in certification"), "{e}");
    let many: Vec<Value> = (0..251).map(|_| approve(&ledger["id"])).collect();
    let (s, _, e) = app
        .send(Method::POST, &decide, &bob, Some(json!(many)))
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("250"), "{e}");
    let (s, _, e) = app.send(Method::POST, &decide, &bob, Some(json!([]))).await;
    assert_eq!(s, 400, "{e}");
    let (s, _, e) = app
        .send(
            Method::POST,
            &decide,
            &bob,
            Some(json!([{"id": ledger["id"], "decision": "APPROVE"}])),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("bulk"), "{e}");
    let (s, _, e) = app
        .send(
            Method::POST,
            &decide,
            &bob,
            Some(json!([{"id": ledger["id"], "decision": "MAYBE", "bulk": true}])),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("MAYBE"), "{e}");
    let (_, _, c) = app
        .get(&format!("/v3/certifications/{cid}"), Some(&bob))
        .await;
    assert_eq!(c["decisionsMade"], 1, "refused batches wrote nothing");
    let (s, _, e) = app
        .send(
            Method::POST,
            &format!("/v3/certifications/{ada_cert}/decide"),
            &bob,
            Some(json!([approve(&ledger["id"])])),
        )
        .await;
    assert_eq!(s, 403, "{e}");

    // Sign-off waits for every decision and says how many are missing.
    let sign = format!("/v3/certifications/{cid}/sign-off");
    let (s, _, e) = app.send(Method::POST, &sign, &bob, None).await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("4 items are undecided"), "{e}");
    valid("post", "/certifications/{id}/sign-off", 400, &e);

    // Reassignment: a reason is required, nobody reviews themselves, limits hold.
    let reassign = format!("/certifications/v1/{cid}/reassign");
    let sales_read = by_access(fixture_id(4, 1));
    let body = |refs: Value, to: recert_domain::Id, reason: &str| json!({"reassign": refs, "reassignTo": to.to_string(), "reason": reason});
    let (s, _, e) = app
        .send(Method::POST, &reassign, &bob, Some(json!({"reassign": [{"id": sales_read["id"], "type": "ITEM"}], "reassignTo": fixture_id(1, 1).to_string()})))
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("reason"), "{e}");
    let (s, _, e) = app
        .send(
            Method::POST,
            &reassign,
            &bob,
            Some(body(
                json!([{"id": sales_read["id"], "type": "ITEM"}]),
                fixture_id(1, 1),
                "  ",
            )),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    let cyd_summary = ledger["identitySummary"]["id"].clone();
    let (s, _, e) = app
        .send(
            Method::POST,
            &reassign,
            &bob,
            Some(body(
                json!([{"id": cyd_summary, "type": "IDENTITY_SUMMARY"}]),
                fixture_id(1, 3),
                "cyd knows best",
            )),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("their own access"), "{e}");
    let refs: Vec<Value> = (0..51)
        .map(|_| json!({"id": sales_read["id"], "type": "ITEM"}))
        .collect();
    let (s, _, e) = app
        .send(
            Method::POST,
            &reassign,
            &bob,
            Some(body(json!(refs), fixture_id(1, 1), "many")),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("50"), "{e}");
    let (s, _, e) = app
        .send(
            Method::POST,
            &reassign,
            &bob,
            Some(body(
                json!([{"id": sales_read["id"], "type": "GROUP"}]),
                fixture_id(1, 1),
                "x",
            )),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("GROUP"), "{e}");
    let (s, _, c) = app
        .send(
            Method::POST,
            &reassign,
            &bob,
            Some(body(
                json!([{"id": sales_read["id"], "type": "ITEM"}]),
                fixture_id(1, 1),
                "Ada owns the sales groups",
            )),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    valid("post", "/certifications/{id}/reassign", 200, &c);
    assert_eq!(c["decisionsTotal"], 4);
    assert_eq!(c["decisionsMade"], 1);
    let (_, _, ada) = app
        .get(&format!("/v3/certifications/{ada_cert}"), Some(&admin))
        .await;
    assert_eq!(
        ada["decisionsTotal"], 2,
        "the item joined Ada's certification: {ada}"
    );

    // Asynchronously: a task, polled to SUCCESS.
    let (s, _, task) = app
        .send(
            Method::POST,
            &format!("/v3/certifications/{cid}/reassign-async"),
            &bob,
            Some(body(
                json!([{"id": fixture_id(5, 1).to_string(), "type": "TARGET_SUMMARY"}]),
                fixture_id(1, 1),
                "Ada owns the profile",
            )),
        )
        .await;
    assert_eq!(s, 200, "{task}");
    valid("post", "/certifications/{id}/reassign-async", 200, &task);
    assert_eq!(task["type"], "REASSIGN");
    assert_eq!(task["targetType"], "CERTIFICATION");
    assert_eq!(task["targetId"], cid.as_str());
    let tid = task["id"].as_str().unwrap().to_owned();
    let done = app
        .wait_for(&format!("/certification-tasks/v1/{tid}"), &bob, |t| {
            t["status"] == "SUCCESS"
        })
        .await;
    valid("get", "/certification-tasks/{id}", 200, &done);
    let (s, _, pending) = app
        .get("/v3/certification-tasks?reviewer-identity=me", Some(&bob))
        .await;
    assert_eq!(s, 200, "{pending}");
    valid("get", "/certification-tasks", 200, &pending);
    assert_eq!(pending, json!([]), "the task is no longer pending");
    let (s, _, e) = app
        .get(
            "/v3/certification-tasks?filters=status%20eq%20%22QUEUED%22",
            Some(&admin),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("status"), "{e}");
    let (s, _, failed) = app
        .send(
            Method::POST,
            &format!("/v3/certifications/{cid}/reassign-async"),
            &bob,
            Some(body(
                json!([{"id": fixture_id(9, 9).to_string(), "type": "ITEM"}]),
                fixture_id(1, 1),
                "nothing",
            )),
        )
        .await;
    assert_eq!(s, 200, "{failed}");
    let failed = app
        .wait_for(
            &format!("/v3/certification-tasks/{}", failed["id"].as_str().unwrap()),
            &bob,
            |t| t["status"] == "ERROR",
        )
        .await;
    assert!(
        failed["errors"][0]["text"]
            .as_str()
            .unwrap()
            .contains("matches"),
        "{failed}"
    );

    // Everything left decided, then signed: read-only from then on.
    let (_, rest) = items(&app, &bob, &cid, "?filters=completed%20eq%20false").await;
    let batch: Vec<Value> = rest
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({"id": i["id"], "decision": "REVOKE", "bulk": true, "comments": "gone"}))
        .collect();
    assert!(!batch.is_empty());
    let (s, _, c) = app
        .send(Method::POST, &decide, &bob, Some(json!(batch)))
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["completed"], true);
    assert_eq!(c["identitiesCompleted"], c["identitiesTotal"]);
    let (s, _, c) = app.send(Method::POST, &sign, &bob, None).await;
    assert_eq!(s, 200, "{c}");
    valid("post", "/certifications/{id}/sign-off", 200, &c);
    assert_eq!(c["phase"], "SIGNED");
    assert!(c["signed"].is_string());
    let (s, _, e) = app
        .send(
            Method::POST,
            &decide,
            &bob,
            Some(json!([approve(&role["id"])])),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("read-only"), "{e}");
    let (s, _, e) = app
        .send(
            Method::POST,
            &reassign,
            &bob,
            Some(body(
                json!([{"id": role["id"], "type": "ITEM"}]),
                fixture_id(1, 1),
                "late",
            )),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    let (s, _, e) = app.send(Method::POST, &sign, &bob, None).await;
    assert_eq!(s, 400, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_without_a_reviewer_identity_or_admin_role_reach_nothing() {
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    active_campaign(&app, &admin, "NO_DECISIONS").await;
    let operator = app.token_for(app.client(ClientRole::Operator)).await;
    let (s, _, e) = app.get("/v3/certifications", Some(&operator)).await;
    assert_eq!(s, 403, "{e}");
    valid("get", "/certifications", 403, &e);
    let (s, _, e) = app.get("/v3/certification-tasks", Some(&operator)).await;
    assert_eq!(s, 403, "{e}");
    // Report administrators read every certification but change none.
    let reports = app.token_for(app.client(ClientRole::ReportAdmin)).await;
    let (s, _, list) = app.get("/v3/certifications", Some(&reports)).await;
    assert_eq!(s, 200);
    let cid = list[0]["id"].as_str().unwrap();
    let (s, _, e) = app
        .send(
            Method::POST,
            &format!("/v3/certifications/{cid}/sign-off"),
            &reports,
            None,
        )
        .await;
    assert_eq!(s, 403, "{e}");
    // An administrator without an identity cannot ask for "me".
    let (s, _, e) = app
        .get("/v3/certifications?reviewer-identity=me", Some(&admin))
        .await;
    assert_eq!(s, 400);
    assert!(error_text(&e).contains("bound to an identity"), "{e}");
}

/// The description's path template of a concrete path of either form.
fn spec_path(path: &str) -> String {
    let path = path.split('?').next().unwrap();
    let path = path
        .strip_prefix("/v3")
        .map(str::to_owned)
        .unwrap_or_else(|| path.replacen("/v1", "", 1));
    let parts: Vec<&str> = path.split('/').collect();
    let permissions = path.ends_with("/permissions");
    let mut ids = 0;
    parts
        .iter()
        .map(|p| {
            if p.len() == 32 && p.bytes().all(|b| b.is_ascii_hexdigit()) {
                ids += 1;
                match (permissions, ids) {
                    (true, 1) => "{certificationId}".to_owned(),
                    (true, _) => "{itemId}".to_owned(),
                    _ => "{id}".to_owned(),
                }
            } else {
                (*p).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every reviewer route, as each role, on the reviewer's own certification and on another
/// reviewer's; every answer, success or refusal, validated against SailPoint's description.
/// Writes carry a body the core refuses after the authorization check (an unknown item), so a
/// `400` shows the caller got past it and a `403` that it did not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reviewer_route_by_role() {
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let campaign = active_campaign(&app, &admin, "NO_DECISIONS").await;
    let (_, _, certs) = app
        .get(
            &format!("/v3/certifications?filters=campaign.id%20eq%20%22{campaign}%22"),
            Some(&admin),
        )
        .await;
    let cert_of = |n: u8| {
        certs
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["reviewer"]["id"] == fixture_id(1, n).to_string())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (own, other) = (cert_of(2), cert_of(1));
    let item_of = |cert: &str| {
        let app = &app;
        let admin = admin.clone();
        let cert = cert.to_owned();
        async move {
            let (_, b) = items(app, &admin, &cert, "").await;
            b[0]["id"].as_str().unwrap().to_owned()
        }
    };
    let (own_item, other_item) = (item_of(&own).await, item_of(&other).await);
    // A task about each certification, asked for by an administrator.
    let task_of =
        |cert: String| {
            let app = &app;
            let admin = admin.clone();
            async move {
                let (s, _, t) = app
                .send(
                    Method::POST,
                    &format!("/v3/certifications/{cert}/reassign-async"),
                    &admin,
                    Some(json!({"reassign": [{"id": fixture_id(9, 9).to_string(), "type": "ITEM"}],
                        "reassignTo": fixture_id(1, 3).to_string(), "reason": "probe"})),
                )
                .await;
                assert_eq!(s, 200, "{t}");
                t["id"].as_str().unwrap().to_owned()
            }
        };
    let (own_task, other_task) = (task_of(own.clone()).await, task_of(other.clone()).await);

    let roles = [
        ClientRole::OrgAdmin,
        ClientRole::CertAdmin,
        ClientRole::Operator,
        ClientRole::ReportAdmin,
        ClientRole::User,
    ];
    let mut tokens = Vec::new();
    for r in roles {
        tokens.push(app.token_for(app.client(r)).await);
    }
    let unknown_item =
        json!([{"id": fixture_id(9, 9).to_string(), "decision": "APPROVE", "bulk": true}]);
    let unknown_ref = json!({"reassign": [{"id": fixture_id(9, 9).to_string(), "type": "ITEM"}],
        "reassignTo": fixture_id(1, 3).to_string(), "reason": "probe"});
    // (method, path, body, statuses for OrgAdmin, CertAdmin, Operator, ReportAdmin, User)
    let mut rows: Vec<(Method, String, Option<Value>, [u16; 5])> = Vec::new();
    for (cert, item, user_read, user_write) in
        [(&own, &own_item, 200, 400), (&other, &other_item, 403, 403)]
    {
        for prefix in ["/v3/certifications", "/certifications/v1"] {
            for path in [
                format!("{prefix}/{cert}"),
                format!("{prefix}/{cert}/access-review-items"),
                format!("{prefix}/{cert}/access-review-items/{item}/permissions"),
                format!("{prefix}/{cert}/reviewers"),
            ] {
                rows.push((Method::GET, path, None, [200, 200, 403, 200, user_read]));
            }
            rows.push((
                Method::POST,
                format!("{prefix}/{cert}/decide"),
                Some(unknown_item.clone()),
                [400, 400, 403, 403, user_write],
            ));
            rows.push((
                Method::POST,
                format!("{prefix}/{cert}/reassign"),
                Some(unknown_ref.clone()),
                [400, 400, 403, 403, user_write],
            ));
            rows.push((
                Method::POST,
                format!("{prefix}/{cert}/reassign-async"),
                Some(unknown_ref.clone()),
                [
                    200,
                    200,
                    403,
                    403,
                    if user_write == 400 { 200 } else { 403 },
                ],
            ));
            rows.push((
                Method::POST,
                format!("{prefix}/{cert}/sign-off"),
                None,
                [400, 400, 403, 403, user_write],
            ));
        }
    }
    for prefix in ["/v3/certification-tasks", "/certification-tasks/v1"] {
        rows.push((
            Method::GET,
            prefix.to_owned(),
            None,
            [200, 200, 403, 200, 200],
        ));
        rows.push((
            Method::GET,
            format!("{prefix}/{own_task}"),
            None,
            [200, 200, 403, 200, 200],
        ));
        rows.push((
            Method::GET,
            format!("{prefix}/{other_task}"),
            None,
            [200, 200, 403, 200, 403],
        ));
    }
    for prefix in ["/v3/certifications", "/certifications/v1"] {
        rows.push((
            Method::GET,
            prefix.to_owned(),
            None,
            [200, 200, 403, 200, 200],
        ));
        rows.push((
            Method::GET,
            format!("{prefix}?reviewer-identity={}", fixture_id(1, 1)),
            None,
            [200, 200, 403, 200, 403],
        ));
    }
    for (method, path, body, want) in rows {
        for ((role, token), want) in roles.iter().zip(&tokens).zip(want) {
            let (s, _, b) = app.send(method.clone(), &path, token, body.clone()).await;
            assert_eq!(s.as_u16(), want, "{method} {path} as {role}: {b}");
            valid(
                &method.as_str().to_ascii_lowercase(),
                &spec_path(&path),
                want,
                &b,
            );
            if want >= 400 {
                assert_eq!(b["trackingId"].as_str().unwrap().len(), 32, "{b}");
                assert!(!error_text(&b).is_empty(), "{b}");
            }
        }
    }
}
