//! The Access Workflows (Veza) dialect over real HTTP, on the same store as the SailPoint
//! dialect: envelopes, paging tokens, row filters, the rules of Update Certification Result, the
//! action log, each dialect reading what the other wrote, and every route by role.

mod common;

use common::awf::*;
use common::{active_campaign, app};
use recert_domain::ClientRole;
use recert_store_conformance::fixture_id;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_through_the_workflows_dialect() {
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let org = app.token_for(app.client(ClientRole::OrgAdmin)).await;
    let bob = app.token_for(app.client(ClientRole::User)).await;
    let campaign = active_campaign(&app, &admin, "NO_DECISIONS").await;

    // The certification in both envelopes.
    let (s, _, list) = app
        .get(&format!("{AWF}/certifications"), Some(&admin))
        .await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["has_more"], false);
    assert_eq!(list["next_page_token"], "");
    assert_eq!(list["total_result_count"], 1);
    let c = &list["values"][0];
    assert_eq!(c["id"], campaign.as_str());
    assert_eq!(c["state"], "IN_PROGRESS");
    assert_eq!(c["workflow_id"], "");
    assert_eq!(c["total_result_count"], 6);
    assert_eq!(c["total_complete_count"], 0);
    assert_eq!(c["reviewers"].as_array().unwrap().len(), 2);
    assert_eq!(c["reviewers"][0]["user_type"], "CustomIDPUser");
    let (s, _, one) = app
        .get(&format!("{AWF}/certifications/{campaign}"), Some(&bob))
        .await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["value"]["name"], "Manager review");
    assert_eq!(
        one["value"]["total_result_count"], 5,
        "a reviewer counts their rows"
    );
    assert_eq!(
        one["value"]["reviewers"],
        json!([{"user_type": "CustomIDPUser", "id": fixture_id(1, 2).to_string(),
                "email": "bob.manager@example.com", "name": "bob manager"}])
    );
    let (_, _, mine) = app.get(&format!("{AWF}/certifications"), Some(&bob)).await;
    assert_eq!(mine["total_result_count"], 1);

    // Rows: a reviewer sees only their own; administrators every one, numbered from 0.
    let (_, all) = rows(&app, &admin, &campaign, "?page_size=2000").await;
    assert_eq!(all["total_result_count"], 6);
    assert_eq!(result_ids(&all), vec![0, 1, 2, 3, 4, 5]);
    let (_, own) = rows(&app, &bob, &campaign, "").await;
    assert_eq!(own["total_result_count"], 5);
    let bob_row = &own["values"][0];
    assert_eq!(bob_row["reviewers"][0]["id"], fixture_id(1, 2).to_string());
    assert_eq!(bob_row["decision"], "NONE");
    assert_eq!(bob_row["signed_off_state"], "NOT_SIGNED_OFF");
    assert_eq!(bob_row["notes"], "");
    assert_eq!(bob_row["action_log"], json!([]));
    assert_eq!(bob_row["notification_status"], "UNKNOWN");
    assert!(bob_row["source"]["name"].as_str().is_some());
    assert!(bob_row["destination"]["type"].as_str().is_some());

    // Paging: tokens are bound to their query and cannot be altered.
    let (_, p1) = rows(&app, &bob, &campaign, "?page_size=2").await;
    assert_eq!(p1["has_more"], true);
    assert_eq!(p1["total_result_count"], 5);
    let t1 = p1["next_page_token"].as_str().unwrap().to_owned();
    let (_, p2) = rows(&app, &bob, &campaign, &format!("?page_token={t1}")).await;
    let (_, p3) = rows(
        &app,
        &bob,
        &campaign,
        &format!(
            "?page_size=2&page_token={}",
            p2["next_page_token"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(p3["has_more"], false);
    assert_eq!(p3["next_page_token"], "");
    let mut paged = result_ids(&p1);
    paged.extend(result_ids(&p2));
    paged.extend(result_ids(&p3));
    assert_eq!(
        paged,
        result_ids(&own),
        "pages cover the list once, in order"
    );
    refused(
        "a token for another filter",
        rows(
            &app,
            &bob,
            &campaign,
            &format!("?filter=decision%20eq%20%22NONE%22&page_token={t1}"),
        )
        .await,
        400,
        "InvalidArgument",
        "page_token",
    );
    refused(
        "another caller's token",
        rows(&app, &admin, &campaign, &format!("?page_token={t1}")).await,
        400,
        "InvalidArgument",
        "page_token",
    );
    let mut altered = t1.clone().into_bytes();
    altered[5] = if altered[5] == b'A' { b'B' } else { b'A' };
    refused(
        "an altered token",
        rows(
            &app,
            &bob,
            &campaign,
            &format!("?page_token={}", String::from_utf8(altered).unwrap()),
        )
        .await,
        400,
        "InvalidArgument",
        "page_token",
    );
    for size in ["0", "2001", "x"] {
        refused(
            size,
            rows(&app, &bob, &campaign, &format!("?page_size={size}")).await,
            400,
            "InvalidArgument",
            "page_size",
        );
    }

    // Filters, with both decision spellings.
    let cyd = fixture_id(1, 3).to_string();
    let (s, f) = rows(
        &app,
        &bob,
        &campaign,
        &format!("?filter=source.id%20eq%20%22{cyd}%22%20and%20decision%20eq%20%22RESULT_DECISION_NONE%22"),
    )
    .await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["total_result_count"], 4);
    refused(
        "an unknown field",
        rows(&app, &bob, &campaign, "?filter=owner%20eq%20%22x%22").await,
        400,
        "InvalidArgument",
        "owner",
    );
    refused(
        "an operator the field does not take",
        rows(&app, &bob, &campaign, "?filter=decision%20co%20%22A%22").await,
        400,
        "InvalidArgument",
        "co",
    );

    // Decide and note through the dialect; SailPoint's API shows it.
    let r0 = bobs_rows(&app, &bob, &campaign).await[0].clone();
    let n0 = r0["result_id"].as_u64().unwrap();
    let (s, b) = put(
        &app,
        &bob,
        &campaign,
        json!({"result_id": n0, "decision": "ACCEPTED", "notes": "needed for sales"}),
    )
    .await;
    assert_eq!((s, &b), (200, &json!({})));
    let r = row(&app, &bob, &campaign, n0).await;
    assert_eq!(r["decision"], "ACCEPTED");
    assert_eq!(r["notes"], "needed for sales");
    let log = r["action_log"].as_array().unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["action"], "DECISION");
    assert_eq!(log[0]["old_value"], "NONE");
    assert_eq!(log[0]["new_value"], "ACCEPTED");
    assert_eq!(log[0]["actor"]["id"], fixture_id(1, 2).to_string());
    assert_eq!(log[0]["actor"]["user_type"], "CustomIDPUser");
    assert_eq!(log[1]["action"], "NOTES");
    let (_, _, sp) = app
        .get("/v3/certifications?reviewer-identity=me", Some(&bob))
        .await;
    let cert = sp[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sp[0]["decisionsMade"], 1);
    let (_, _, items) = app
        .get(
            &format!("/v3/certifications/{cert}/access-review-items?limit=250"),
            Some(&bob),
        )
        .await;
    let approved: Vec<&Value> = items
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["decision"] == "APPROVE")
        .collect();
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["comments"], "needed for sales");
    let approved_id = approved[0]["id"].as_str().unwrap().to_owned();

    // A SailPoint decision shows as REJECTED, logged with its author.
    let other = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["decision"].is_null())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _, b) = app
        .send(
            Method::POST,
            &format!("/v3/certifications/{cert}/decide"),
            &bob,
            Some(json!([{"id": other, "decision": "REVOKE", "bulk": false}])),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let rejected = bobs_rows(&app, &bob, &campaign)
        .await
        .into_iter()
        .find(|r| r["decision"] == "REJECTED")
        .unwrap();
    let nr = rejected["result_id"].as_u64().unwrap();
    assert_eq!(rejected["action_log"][0]["new_value"], "REJECTED");

    // Notes: " " clears; the old note survives in the log only; re-sending logs nothing.
    let (s, _) = put(
        &app,
        &bob,
        &campaign,
        json!({"result_id": n0, "notes": " "}),
    )
    .await;
    assert_eq!(s, 200);
    let r = row(&app, &bob, &campaign, n0).await;
    assert_eq!(r["notes"], "");
    let log = r["action_log"].as_array().unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[2]["old_value"], "needed for sales");
    assert_eq!(log[2]["new_value"], "");
    let (s, _) = put(
        &app,
        &bob,
        &campaign,
        json!({"result_id": n0, "decision": "RESULT_DECISION_ACCEPTED"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        row(&app, &bob, &campaign, n0).await["action_log"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Refusals, each naming what is wrong.
    let undecided = bobs_rows(&app, &bob, &campaign)
        .await
        .into_iter()
        .find(|r| r["decision"] == "NONE")
        .unwrap()["result_id"]
        .as_u64()
        .unwrap();
    refused(
        "signing off an undecided row",
        put(
            &app,
            &bob,
            &campaign,
            json!({"result_id": undecided, "signed_off_state": "SIGNED_OFF"}),
        )
        .await,
        400,
        "FailedPrecondition",
        "undecided",
    );
    refused(
        "FIXED by a reviewer",
        put(
            &app,
            &bob,
            &campaign,
            json!({"result_id": nr, "decision": "FIXED"}),
        )
        .await,
        403,
        "PermissionDenied",
        "FIXED",
    );
    refused(
        "FIXED on an accepted row",
        put(
            &app,
            &org,
            &campaign,
            json!({"result_id": n0, "decision": "FIXED"}),
        )
        .await,
        400,
        "FailedPrecondition",
        "REJECTED",
    );
    refused(
        "result_id only",
        put(&app, &bob, &campaign, json!({"result_id": n0})).await,
        400,
        "InvalidArgument",
        "at least one",
    );
    refused(
        "a negative result_id",
        put(
            &app,
            &bob,
            &campaign,
            json!({"result_id": -1, "notes": "x"}),
        )
        .await,
        400,
        "InvalidArgument",
        "result_id",
    );
    refused(
        "a result that does not exist",
        put(
            &app,
            &bob,
            &campaign,
            json!({"result_id": 999, "notes": "x"}),
        )
        .await,
        404,
        "NotFound",
        "999",
    );
    refused(
        "an unknown decision",
        put(
            &app,
            &bob,
            &campaign,
            json!({"result_id": n0, "decision": "MAYBE"}),
        )
        .await,
        400,
        "InvalidArgument",
        "value.decision",
    );
    refused(
        "notification_status outside force_update",
        put(
            &app,
            &org,
            &campaign,
            json!({"result_id": n0, "notification_status": "FAILED"}),
        )
        .await,
        400,
        "InvalidArgument",
        "notification_status",
    );

    // A row signed off on its own is locked for SailPoint's decide too.
    let (s, b) = put(
        &app,
        &bob,
        &campaign,
        json!({"result_id": n0, "decision": "ACCEPTED", "signed_off_state": "SIGNED_OFF"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, _, b) = app
        .send(
            Method::POST,
            &format!("/v3/certifications/{cert}/decide"),
            &bob,
            Some(
                json!([{"id": approved_id, "decision": "REVOKE", "bulk": false, "comments": "x"}]),
            ),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(common::error_text(&b).contains("signed off"), "{b}");

    // A move clears the decision first: the same body cannot sign the moved row off.
    refused(
        "moving and signing off in one body",
        put(
            &app,
            &bob,
            &campaign,
            json!({"result_id": nr, "reviewers": [ada()], "signed_off_state": "SIGNED_OFF"}),
        )
        .await,
        400,
        "FailedPrecondition",
        "undecided",
    );

    // Reviewers: every field checked against the identity.
    let dave_row = bobs_rows(&app, &bob, &campaign)
        .await
        .into_iter()
        .find(|r| r["source"]["id"] == fixture_id(1, 4).to_string())
        .unwrap();
    let nd = dave_row["result_id"].as_u64().unwrap();
    for (field, bad) in [
        ("user_type", json!({"user_type": "OktaUser"})),
        ("email", json!({"email": "someone@example.com"})),
        ("name", json!({"name": "Ada Boss"})),
        ("id", json!({"id": "ffffffffffffffffffffffffffffffff"})),
    ] {
        let mut r = ada();
        for (k, v) in bad.as_object().unwrap() {
            r[k] = v.clone();
        }
        refused(
            field,
            put(
                &app,
                &bob,
                &campaign,
                json!({"result_id": nd, "reviewers": [r]}),
            )
            .await,
            400,
            "InvalidArgument",
            &format!("value.reviewers[0].{field}"),
        );
    }
    let mut missing = ada();
    missing.as_object_mut().unwrap().remove("email");
    refused(
        "a missing field",
        put(
            &app,
            &bob,
            &campaign,
            json!({"result_id": nd, "reviewers": [missing]}),
        )
        .await,
        400,
        "InvalidArgument",
        "value.reviewers[0].email is required",
    );
    let (s, b) = put(
        &app,
        &bob,
        &campaign,
        json!({"result_id": nd, "reviewers": [ada()]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let moved = row(&app, &admin, &campaign, nd).await;
    assert_eq!(moved["reviewers"], json!([ada()]));
    let log = moved["action_log"].as_array().unwrap();
    assert_eq!(log.last().unwrap()["action"], "REVIEWERS");
    assert_eq!(log.last().unwrap()["new_value"], json!([ada()]));
    refused(
        "a row that moved away",
        {
            let (s, _, b) = app
                .get(
                    &format!("{AWF}/certifications/{campaign}/results/{nd}"),
                    Some(&bob),
                )
                .await;
            (s.as_u16(), b)
        },
        403,
        "PermissionDenied",
        "another reviewer",
    );
    let (_, _, ada_certs) = app
        .get(
            &format!("/v3/certifications?filters=campaign.id%20eq%20%22{campaign}%22"),
            Some(&admin),
        )
        .await;
    let ada_cert = ada_certs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["reviewer"]["id"] == fixture_id(1, 1).to_string())
        .unwrap();
    assert_eq!(
        ada_cert["decisionsTotal"], 2,
        "the row moved on the SailPoint side too"
    );

    // Per-row sign-off of every row of Bob's certification signs it on the SailPoint side.
    for r in bobs_rows(&app, &bob, &campaign).await {
        let n = r["result_id"].as_u64().unwrap();
        let body = if r["decision"] == "NONE" {
            json!({"result_id": n, "decision": "ACCEPTED", "signed_off_state": "SIGNED_OFF"})
        } else {
            json!({"result_id": n, "signed_off_state": "SIGNED_OFF"})
        };
        let (s, b) = put(&app, &bob, &campaign, body).await;
        assert_eq!(s, 200, "{b}");
    }
    let (_, _, signed) = app
        .get(&format!("/v3/certifications/{cert}"), Some(&bob))
        .await;
    assert_eq!(signed["phase"], "SIGNED");
    refused(
        "a locked row",
        put(
            &app,
            &bob,
            &campaign,
            json!({"result_id": n0, "notes": "late"}),
        )
        .await,
        400,
        "FailedPrecondition",
        "signed off",
    );
    refused(
        "un-signing without force",
        put(
            &app,
            &bob,
            &campaign,
            json!({"result_id": n0, "signed_off_state": "NOT_SIGNED_OFF"}),
        )
        .await,
        400,
        "FailedPrecondition",
        "force_update",
    );
    refused(
        "force_update by an access_reviews_admin",
        force(
            &app,
            &admin,
            &campaign,
            json!({"result_id": n0, "signed_off_state": "NOT_SIGNED_OFF"}),
        )
        .await,
        403,
        "PermissionDenied",
        "admin",
    );
    // The admin marks the rejection fixed over the lock; then reopens a row by force.
    let (s, b) = put(
        &app,
        &org,
        &campaign,
        json!({"result_id": nr, "decision": "FIXED"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(row(&app, &bob, &campaign, nr).await["decision"], "FIXED");
    let (s, b) = force(
        &app,
        &org,
        &campaign,
        json!({"result_id": n0, "signed_off_state": "NOT_SIGNED_OFF", "notification_status": "FAILED"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let r = row(&app, &bob, &campaign, n0).await;
    assert_eq!(r["signed_off_state"], "NOT_SIGNED_OFF");
    assert_eq!(r["notification_status"], "FAILED");
    assert!(
        r["action_log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "FORCE_UPDATE"),
        "{r}"
    );
    let (_, _, reopened) = app
        .get(&format!("/v3/certifications/{cert}"), Some(&bob))
        .await;
    assert_eq!(reopened["phase"], "ACTIVE");
    let (s, _) = put(
        &app,
        &bob,
        &campaign,
        json!({"result_id": n0, "decision": "REJECTED", "signed_off_state": "SIGNED_OFF"}),
    )
    .await;
    assert_eq!(s, 200);

    // Reviewer stats, counts as strings.
    let (s, _, infos) = app
        .get(
            &format!("{AWF}/certifications/{campaign}/reviewer_infos"),
            Some(&admin),
        )
        .await;
    assert_eq!(s, 200, "{infos}");
    assert_eq!(infos["total_result_count"], 2);
    let bob_stats = infos["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["reviewer"]["id"] == fixture_id(1, 2).to_string())
        .unwrap();
    assert_eq!(bob_stats["row_stats"]["total"], "4");
    assert_eq!(bob_stats["row_stats"]["signed_off"], "4");
    assert_eq!(bob_stats["row_stats"]["fixed"], "1");

    // A SailPoint sign-off of Ada's certification completes the campaign; its rows show signed.
    let ada_cert = ada_cert["id"].as_str().unwrap();
    let (_, _, ada_items) = app
        .get(
            &format!("/v3/certifications/{ada_cert}/access-review-items"),
            Some(&admin),
        )
        .await;
    let decisions: Vec<Value> = ada_items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({"id": i["id"], "decision": "APPROVE", "bulk": false}))
        .collect();
    let (s, _, b) = app
        .send(
            Method::POST,
            &format!("/v3/certifications/{ada_cert}/decide"),
            &admin,
            Some(json!(decisions)),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, _, b) = app
        .send(
            Method::POST,
            &format!("/v3/certifications/{ada_cert}/sign-off"),
            &admin,
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        row(&app, &admin, &campaign, nd).await["signed_off_state"],
        "SIGNED_OFF"
    );
    let (_, _, done) = app
        .get(&format!("{AWF}/certifications/{campaign}"), Some(&admin))
        .await;
    assert_eq!(done["value"]["state"], "COMPLETED");
    assert_eq!(done["value"]["total_complete_count"], 6);
}

/// Completes the campaign through the dialect (decide and sign off every row) as `admin`.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workflows_route_by_role() {
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let campaign = active_campaign(&app, &admin, "NO_DECISIONS").await;
    let (_, all) = rows(&app, &admin, &campaign, "").await;
    // Row 0 reviews... whoever; pick one of Bob's rows and one of Ada's.
    let bob_row = all["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reviewers"][0]["id"] == fixture_id(1, 2).to_string())
        .unwrap()["result_id"]
        .as_u64()
        .unwrap();
    let ada_row = all["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reviewers"][0]["id"] == fixture_id(1, 1).to_string())
        .unwrap()["result_id"]
        .as_u64()
        .unwrap();
    let c = format!("{AWF}/certifications/{campaign}");
    // (method, path, body, expected per role: OrgAdmin, CertAdmin, Operator, ReportAdmin, User)
    let routes: Vec<(Method, String, Option<Value>, [u16; 5])> = vec![
        (
            Method::GET,
            format!("{AWF}/workflows"),
            None,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            format!("{AWF}/certifications"),
            None,
            [200, 200, 200, 200, 200],
        ),
        (Method::GET, c.clone(), None, [200, 200, 403, 200, 200]),
        (
            Method::GET,
            format!("{c}/results"),
            None,
            [200, 200, 403, 200, 200],
        ),
        (
            Method::GET,
            format!("{c}/results/{bob_row}"),
            None,
            [200, 200, 403, 200, 200],
        ),
        (
            Method::GET,
            format!("{c}/results/{ada_row}"),
            None,
            [200, 200, 403, 200, 403],
        ),
        (
            Method::GET,
            format!("{c}/reviewer_infos"),
            None,
            [200, 200, 403, 200, 200],
        ),
        (
            Method::PUT,
            format!("{c}/results"),
            Some(json!({"value": {"result_id": bob_row, "notes": "n"}})),
            [200, 200, 403, 403, 200],
        ),
        (
            Method::PUT,
            format!("{c}/results"),
            Some(json!({"value": {"result_id": ada_row, "notes": "n"}})),
            [200, 200, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("{c}/results:force_update"),
            Some(json!({"value": {"result_id": bob_row, "notes": "f"}})),
            [200, 403, 403, 403, 403],
        ),
    ];
    let roles = [
        ClientRole::OrgAdmin,
        ClientRole::CertAdmin,
        ClientRole::Operator,
        ClientRole::ReportAdmin,
        ClientRole::User,
    ];
    for (method, path, body, want) in &routes {
        for (role, want) in roles.iter().zip(want) {
            let token = app.token_for(app.client(*role)).await;
            let (s, _, b) = app.send(method.clone(), path, &token, body.clone()).await;
            assert_eq!(s.as_u16(), *want, "{method} {path} as {role}: {b}");
            if *want >= 400 {
                assert_eq!(b["code"], "PermissionDenied", "{method} {path} as {role}");
                assert!(b["request_id"].is_string());
            }
        }
        // Without a token: 401 in Veza's shape.
        let res = app
            .http
            .request(method.clone(), format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            401,
            "{method} {path} without a token"
        );
        let b: Value = res.json().await.unwrap();
        assert_eq!(b["code"], "Unauthenticated", "{method} {path}");
        let (s, _, b) = app
            .send(method.clone(), path, &format!("{admin}x"), body.clone())
            .await;
        assert_eq!(s.as_u16(), 401, "{method} {path} with a tampered token");
        assert_eq!(b["code"], "Unauthenticated");
    }
}
