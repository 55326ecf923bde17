//! The Access Workflows (Veza) dialect over time: the grace period by the clock, remediation
//! marking rows FIXED, operators on their own campaigns, drafts, and expiry.

mod common;

use common::awf::*;
use common::{active_campaign, app};
use recert_domain::{ClientRole, Clock, Duration};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_period_by_the_clock() {
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let bob = app.token_for(app.client(ClientRole::User)).await;
    let campaign = active_campaign(&app, &admin, "NO_DECISIONS").await;
    complete_through_rows(&app, &admin, &campaign, "REJECTED").await;
    let (_, _, c) = app
        .get(&format!("{AWF}/certifications/{campaign}"), Some(&admin))
        .await;
    assert_eq!(c["value"]["state"], "COMPLETED");
    let bobs = bobs_rows(&app, &bob, &campaign).await;
    let n = bobs[0]["result_id"].as_u64().unwrap();
    let m = bobs[1]["result_id"].as_u64().unwrap();

    // Just before the end of the seven days (tokens last hours: fresh ones).
    app.clock
        .advance(Duration::days(7) - Duration::milliseconds(1));
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let org = app.token_for(app.client(ClientRole::OrgAdmin)).await;
    let bob = app.token_for(app.client(ClientRole::User)).await;
    let (s, b) = put(
        &app,
        &admin,
        &campaign,
        json!({"result_id": n, "notes": "audited"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = put(
        &app,
        &org,
        &campaign,
        json!({"result_id": n, "decision": "FIXED"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    refused(
        "another field from an admin",
        put(
            &app,
            &admin,
            &campaign,
            json!({"result_id": m, "decision": "ACCEPTED"}),
        )
        .await,
        400,
        "FailedPrecondition",
        "grace period",
    );
    refused(
        "a reviewer in the grace period",
        put(
            &app,
            &bob,
            &campaign,
            json!({"result_id": m, "notes": "mine"}),
        )
        .await,
        403,
        "PermissionDenied",
        "grace period",
    );
    refused(
        "FIXED by an access_reviews_admin",
        put(
            &app,
            &admin,
            &campaign,
            json!({"result_id": m, "decision": "FIXED"}),
        )
        .await,
        403,
        "PermissionDenied",
        "FIXED",
    );
    // Just after.
    app.clock.advance(Duration::milliseconds(2));
    refused(
        "notes after the grace period",
        put(
            &app,
            &admin,
            &campaign,
            json!({"result_id": m, "notes": "late"}),
        )
        .await,
        400,
        "FailedPrecondition",
        "grace period is over",
    );
    refused(
        "force after the grace period",
        force(
            &app,
            &org,
            &campaign,
            json!({"result_id": m, "signed_off_state": "NOT_SIGNED_OFF"}),
        )
        .await,
        400,
        "FailedPrecondition",
        "grace period is over",
    );
    let r = row(&app, &admin, &campaign, n).await;
    assert_eq!(r["notes"], "audited");
    assert_eq!(r["decision"], "FIXED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_marks_rows_fixed_as_the_system() {
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let campaign = active_campaign(&app, &admin, "NO_DECISIONS").await;
    complete_through_rows(&app, &admin, &campaign, "REJECTED").await;
    let items = app
        .store
        .remediation_items(recert_domain::Id::parse(&campaign).unwrap())
        .await
        .unwrap();
    assert!(!items.is_empty());
    let now = app.clock.now();
    app.store
        .report_remediation(items[0].0.id, "COMPLETED", None, Some("CHG-1"), now)
        .await
        .unwrap();
    let (_, all) = rows(
        &app,
        &admin,
        &campaign,
        "?filter=decision%20eq%20%22FIXED%22",
    )
    .await;
    assert_eq!(all["total_result_count"], 1, "{all}");
    let r = &all["values"][0];
    assert_eq!(r["notification_status"], "SUCCEED");
    let last = r["action_log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "REMEDIATION");
    assert_eq!(last["actor"], json!({"name": "System"}));
    assert_eq!(last["old_value"], "REJECTED");
    assert_eq!(last["new_value"], "FIXED");

    // Reopened by force, a row whose removal is done cannot be accepted; one whose removal
    // has not been sent can, and its remediation item is withdrawn.
    let org = app.token_for(app.client(ClientRole::OrgAdmin)).await;
    let fixed = r["result_id"].as_u64().unwrap();
    refused(
        "accepting access already removed",
        force(
            &app,
            &org,
            &campaign,
            json!({"result_id": fixed, "signed_off_state": "NOT_SIGNED_OFF", "decision": "ACCEPTED"}),
        )
        .await,
        400,
        "FailedPrecondition",
        "already done",
    );
    let (_, open) = rows(
        &app,
        &admin,
        &campaign,
        "?filter=decision%20eq%20%22REJECTED%22",
    )
    .await;
    let pending = open["values"][0]["result_id"].as_u64().unwrap();
    let (s, b) = force(
        &app,
        &org,
        &campaign,
        json!({"result_id": pending, "signed_off_state": "NOT_SIGNED_OFF", "decision": "ACCEPTED"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let after = app
        .store
        .remediation_items(recert_domain::Id::parse(&campaign).unwrap())
        .await
        .unwrap();
    assert_eq!(
        after.len(),
        items.len() - 1,
        "the undelivered item is withdrawn"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_act_on_the_campaigns_they_created() {
    let app = app(None).await;
    let operator = app.token_for(app.client(ClientRole::Operator)).await;
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let theirs = active_campaign(&app, &operator, "NO_DECISIONS").await;
    let other = active_campaign(&app, &admin, "NO_DECISIONS").await;
    let (_, _, list) = app
        .get(
            &format!("{AWF}/certifications?page_size=1"),
            Some(&operator),
        )
        .await;
    assert_eq!(list["total_result_count"], 1, "{list}");
    assert_eq!(list["values"][0]["id"], theirs.as_str());
    assert_eq!(list["has_more"], false);
    let (s, b) = put(
        &app,
        &operator,
        &theirs,
        json!({"result_id": 0, "notes": "checked"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    refused(
        "another's campaign",
        put(
            &app,
            &operator,
            &other,
            json!({"result_id": 0, "notes": "x"}),
        )
        .await,
        403,
        "PermissionDenied",
        "no rows",
    );
    // Admins page through both: one per page, the token leads to the second and last.
    let (_, _, p1) = app
        .get(&format!("{AWF}/certifications?page_size=1"), Some(&admin))
        .await;
    assert_eq!(p1["has_more"], true);
    assert_eq!(p1["total_result_count"], 2);
    let (_, _, p2) = app
        .get(
            &format!(
                "{AWF}/certifications?page_token={}",
                p1["next_page_token"].as_str().unwrap()
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(p2["has_more"], false, "{p2}");
    assert_ne!(p1["values"][0]["id"], p2["values"][0]["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_are_invisible_to_reviewers_and_frozen_for_everyone() {
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let bob = app.token_for(app.client(ClientRole::User)).await;
    let deadline = app.clock.now().plus(Duration::days(14)).to_string();
    let (s, _, created) = app
        .send(
            Method::POST,
            "/v3/campaigns",
            &admin,
            Some(
                json!({"name": "Draft", "description": "d", "deadline": deadline,
                        "type": "MANAGER"}),
            ),
        )
        .await;
    assert_eq!(s, 202);
    let id = created["id"].as_str().unwrap().to_owned();
    app.wait_for(&format!("/v3/campaigns/{id}"), &admin, |b| {
        b["status"] == "STAGED"
    })
    .await;
    let (_, _, c) = app
        .get(&format!("{AWF}/certifications/{id}"), Some(&admin))
        .await;
    assert_eq!(c["value"]["state"], "DRAFT");
    let (_, _, mine) = app.get(&format!("{AWF}/certifications"), Some(&bob)).await;
    assert_eq!(mine["total_result_count"], 0);
    refused(
        "a reviewer reading a draft",
        {
            let (s, _, b) = app
                .get(&format!("{AWF}/certifications/{id}"), Some(&bob))
                .await;
            (s.as_u16(), b)
        },
        403,
        "PermissionDenied",
        "no rows",
    );
    refused(
        "an admin changing a draft",
        put(&app, &admin, &id, json!({"result_id": 0, "notes": "x"})).await,
        400,
        "FailedPrecondition",
        "has not started",
    );
    refused(
        "an unknown certification",
        {
            let (s, _, b) = app
                .get(
                    &format!("{AWF}/certifications/ffffffffffffffffffffffffffffffff"),
                    Some(&admin),
                )
                .await;
            (s.as_u16(), b)
        },
        404,
        "NotFound",
        "does not exist",
    );
    let (_, _, none) = app
        .get(
            &format!("{AWF}/certifications?workflow_id=nope"),
            Some(&admin),
        )
        .await;
    assert_eq!(none["total_result_count"], 0);
    refused(
        "an unknown route",
        {
            let (s, _, b) = app.get(&format!("{AWF}/nothing/here"), Some(&admin)).await;
            (s.as_u16(), b)
        },
        404,
        "NotFound",
        "no route",
    );
    refused(
        "a method the route does not take",
        {
            let (s, _, b) = app
                .send(
                    Method::DELETE,
                    &format!("{AWF}/certifications"),
                    &admin,
                    None,
                )
                .await;
            (s.as_u16(), b)
        },
        405,
        "InvalidArgument",
        "DELETE",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_certifications_expire_when_so_configured() {
    use recert_core::awf::{Awf, AwfSettings, ExpirationAction};
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let campaign = active_campaign(&app, &admin, "NO_DECISIONS").await;
    let clock: std::sync::Arc<dyn Clock> = std::sync::Arc::new(app.clock.clone());
    let auth = std::sync::Arc::new(
        recert_core::auth::Auth::start(app.store.clone(), clock.clone(), Duration::hours(12))
            .await
            .unwrap(),
    );
    let off = Awf::new(
        app.store.clone(),
        clock.clone(),
        auth.clone(),
        AwfSettings::default(),
    );
    let on = Awf::new(
        app.store.clone(),
        clock,
        auth,
        AwfSettings {
            expire_overdue: true,
            expiration_action: ExpirationAction::AutoRejectIncompleteResults,
            ..AwfSettings::default()
        },
    );
    assert_eq!(on.expire_overdue().await.unwrap(), 0, "not due yet");
    app.clock.advance(Duration::days(15));
    assert_eq!(off.expire_overdue().await.unwrap(), 0, "off by default");
    assert_eq!(on.expire_overdue().await.unwrap(), 1);
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let (_, _, c) = app
        .get(&format!("{AWF}/certifications/{campaign}"), Some(&admin))
        .await;
    assert_eq!(c["value"]["state"], "EXPIRED");
    assert_eq!(c["value"]["completed_by"], "System");
    let (_, all) = rows(&app, &admin, &campaign, "").await;
    for r in all["values"].as_array().unwrap() {
        assert_eq!(r["decision"], "REJECTED");
        assert_eq!(r["signed_off_state"], "SIGNED_OFF");
        assert_eq!(r["notes"], recert_core::awf::EXPIRY_NOTE);
    }
}
