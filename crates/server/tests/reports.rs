//! The campaign report routes over real HTTP: every report type run through the API and its CSV
//! downloaded in both path forms, the configuration of attribute columns, every JSON body
//! checked against SailPoint's description, and the refusals.

mod common;

use common::{error_text, valid};

use common::{App, app};
use recert_domain::review::ReportType;
use recert_domain::{ClientRole, Clock, Duration, Id, NewJob};
use reqwest::Method;
use serde_json::json;

/// GET a report file: status, headers and the body as text.
async fn download(app: &App, path: &str, token: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let res = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

fn records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// A MANAGER campaign, generated and activated.
async fn active_campaign(app: &App, token: &str) -> String {
    let deadline = app.clock.now().plus(Duration::days(14)).to_string();
    let (s, _, k) = app
        .send(
            Method::POST,
            "/v3/campaigns",
            token,
            Some(
                json!({"name": "Q1 review", "type": "MANAGER", "deadline": deadline,
                        "autoRevokeAllowed": true}),
            ),
        )
        .await;
    assert_eq!(s, 202, "{k}");
    let id = k["id"].as_str().unwrap().to_owned();
    let path = format!("/v3/campaigns/{id}");
    app.wait_for(&path, token, |b| b["status"] == "STAGED")
        .await;
    let (s, _, b) = app
        .send(Method::POST, &format!("{path}/activate"), token, None)
        .await;
    assert_eq!(s, 202, "{b}");
    app.wait_for(&path, token, |b| b["status"] == "ACTIVE")
        .await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_runs_and_downloads() {
    let app = app(None).await;
    let token = app.token_for(app.client(ClientRole::CertAdmin)).await;

    // The attribute columns, in both path forms.
    let (s, _, c) = app
        .send(
            Method::PUT,
            "/v3/campaigns/reports-configuration",
            &token,
            Some(json!({"identityAttributeColumns": ["department", "title"]})),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    valid("put", "/campaigns/reports-configuration", 200, &c);
    let (s, _, c) = app
        .get("/campaigns/v1/reports-configuration", Some(&token))
        .await;
    assert_eq!(s, 200);
    valid("get", "/campaigns/reports-configuration", 200, &c);
    assert_eq!(
        c,
        json!({"identityAttributeColumns": ["department", "title"]})
    );

    let id = active_campaign(&app, &token).await;
    let (s, _, list) = app
        .get(&format!("/v3/campaigns/{id}/reports"), Some(&token))
        .await;
    assert_eq!((s.as_u16(), &list), (200, &json!([])));
    valid("get", "/campaigns/{id}/reports", 200, &list);
    app.clock.advance(Duration::days(15));
    let token = app.token_for(app.client(ClientRole::CertAdmin)).await;
    let (s, _, b) = app
        .send(
            Method::POST,
            &format!("/v3/campaigns/{id}/complete"),
            &token,
            Some(json!({"autoCompleteAction": "REVOKE"})),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    app.wait_for(&format!("/v3/campaigns/{id}"), &token, |b| {
        b["status"] == "COMPLETED"
    })
    .await;

    for (n, t) in ReportType::ALL.iter().enumerate() {
        let base = if n % 2 == 0 {
            "/v3/campaigns"
        } else {
            "/campaigns/v1"
        };
        let (s, _, b) = app
            .send(
                Method::POST,
                &format!("{base}/{id}/run-report/{}", t.as_str()),
                &token,
                None,
            )
            .await;
        assert_eq!(s, 202, "{t}: {b}");
        assert_eq!(b, json!({}));
        valid("post", "/campaigns/{id}/run-report/{type}", 202, &b);
    }
    let list = app
        .wait_for(&format!("/campaigns/v1/{id}/reports"), &token, |b| {
            b.as_array()
                .is_some_and(|a| a.len() == 4 && a.iter().all(|r| r["status"] == "SUCCESS"))
        })
        .await;
    valid("get", "/campaigns/{id}/reports", 200, &list);

    let mut rows = Vec::new();
    for (r, t) in list.as_array().unwrap().iter().zip(ReportType::ALL) {
        assert_eq!(r["type"], "REPORT_RESULT");
        assert_eq!(r["reportType"], t.as_str());
        assert_eq!(r["name"], t.title());
        assert_eq!(r["lastRunAt"], app.clock.now().to_string());
        let rid = r["id"].as_str().unwrap();
        let (s, h, text) =
            download(&app, &format!("/v3/reports/{rid}?fileFormat=csv"), &token).await;
        assert_eq!(s, 200, "{t}: {text}");
        assert_eq!(h["content-type"], "text/csv; charset=utf-8");
        assert_eq!(
            h["content-disposition"].to_str().unwrap(),
            format!("attachment; filename=\"{}.csv\"", t.title())
        );
        assert!(text.ends_with("\r\n"), "{t}: CRLF line ends");
        // The per-API path form, without fileFormat, gives the same file.
        let (s, _, same) = download(&app, &format!("/reports/v1/{rid}"), &token).await;
        assert_eq!((s, &same), (200, &text));
        rows.push(records(&text));
    }
    let [composition, remediation, status, signoff] = &rows[..] else {
        panic!("four reports");
    };
    assert_eq!(
        composition[0],
        [
            "Campaign Name",
            "Certification Name",
            "Reviewer Name",
            "Reviewer Email",
            "Identity Name",
            "Identity Display Name",
            "Identity Email",
            "department",
            "title",
            "Access Type",
            "Access Name",
            "Source",
            "Privileged",
            "Account",
            "New Access",
        ]
    );
    // ada reviews bob's one grant; bob reviews cyd's four and dave's one.
    assert_eq!(composition.len(), 7);
    assert_eq!(
        composition[1],
        [
            "Q1 review",
            "Q1 review - ada boss",
            "ada boss",
            "ada.boss@example.com",
            "bob.manager",
            "bob manager",
            "bob.manager@example.com",
            "Sales",
            "",
            "ENTITLEMENT",
            "Sales-Read",
            "Active Directory",
            "false",
            "CN=bob",
            "false",
        ]
    );
    assert_eq!(status.len(), 7);
    assert_eq!(
        status[0][13..],
        [
            "Decision",
            "Comments",
            "Decided At",
            "Decided By",
            "Certification Phase"
        ]
    );
    assert!(
        status[1..]
            .iter()
            .all(|r| r[13] == "REVOKE" && r[17] == "SIGNED")
    );
    assert_eq!(signoff.len(), 3);
    assert_eq!(signoff[0][4], "Phase");
    assert_eq!(
        signoff[1][2..9],
        [
            "ada boss",
            "ada.boss@example.com",
            "SIGNED",
            "1",
            "1",
            "1",
            "1"
        ]
    );
    assert_eq!(remediation.len(), 7, "one row per revoked grant");
    assert_eq!(remediation[0][11], "Status");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_refusals_say_what_is_wrong() {
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::OrgAdmin)).await;
    let id = active_campaign(&app, &admin).await;

    // An unknown type names the four.
    let (s, _, e) = app
        .send(
            Method::POST,
            &format!("/v3/campaigns/{id}/run-report/DAILY_REPORT"),
            &admin,
            None,
        )
        .await;
    assert_eq!(s, 400, "{e}");
    valid("post", "/campaigns/{id}/run-report/{type}", 400, &e);
    for t in ReportType::ALL {
        assert!(error_text(&e).contains(t.as_str()), "{e}");
    }
    // Unknown campaigns and reports are not found; malformed ids are a 400.
    let nobody = "0000000000000000000000000000abcd";
    let (s, _, e) = app
        .send(
            Method::POST,
            &format!("/v3/campaigns/{nobody}/run-report/CAMPAIGN_STATUS_REPORT"),
            &admin,
            None,
        )
        .await;
    assert_eq!(s, 404, "{e}");
    valid("post", "/campaigns/{id}/run-report/{type}", 404, &e);
    let (s, _, e) = app
        .get(&format!("/v3/campaigns/{nobody}/reports"), Some(&admin))
        .await;
    assert_eq!(s, 404, "{e}");
    valid("get", "/campaigns/{id}/reports", 404, &e);
    let (s, _, e) = app.get("/v3/campaigns/nope/reports", Some(&admin)).await;
    assert_eq!(s, 400, "{e}");
    valid("get", "/campaigns/{id}/reports", 400, &e);
    let (s, _, e) = app
        .get(
            &format!("/v3/reports/{nobody}?fileFormat=csv"),
            Some(&admin),
        )
        .await;
    assert_eq!(s, 404, "{e}");

    // A finished report: only csv; a report still being built is a 409 saying so.
    let (s, _, _) = app
        .send(
            Method::POST,
            &format!("/v3/campaigns/{id}/run-report/CAMPAIGN_COMPOSITION_REPORT"),
            &admin,
            None,
        )
        .await;
    assert_eq!(s, 202);
    let list = app
        .wait_for(&format!("/v3/campaigns/{id}/reports"), &admin, |b| {
            b[0]["status"] == "SUCCESS"
        })
        .await;
    let rid = list[0]["id"].as_str().unwrap().to_owned();
    let (s, _, e) = app
        .get(&format!("/v3/reports/{rid}?fileFormat=pdf"), Some(&admin))
        .await;
    assert_eq!(s, 400, "{e}");
    assert!(error_text(&e).contains("fileFormat 'pdf'"), "{e}");
    // A run whose job nobody takes stays PENDING.
    let never = NewJob {
        id: Id::generate(),
        kind: "test.never".into(),
        payload: json!({}),
        dedupe_key: None,
        max_attempts: 1,
        run_at: app.clock.now(),
    };
    let pending = app
        .store
        .start_report(
            id.parse().unwrap(),
            ReportType::CampaignStatus,
            Id::generate(),
            &never,
            app.clock.now(),
        )
        .await
        .unwrap()
        .unwrap();
    let (s, _, e) = app
        .get(
            &format!("/v3/reports/{pending}?fileFormat=csv"),
            Some(&admin),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    assert!(error_text(&e).contains("still being built"), "{e}");
    let (_, _, list) = app
        .get(&format!("/v3/campaigns/{id}/reports"), Some(&admin))
        .await;
    valid("get", "/campaigns/{id}/reports", 200, &list);
    assert_eq!(list[1]["status"], "PENDING", "{list}");

    // The configuration takes a list of attribute names.
    for (body, want) in [
        (
            json!({"identityAttributeColumns": "department"}),
            "identityAttributeColumns",
        ),
        (
            json!({"identityAttributeColumns": ["department", 7]}),
            "identityAttributeColumns[1]",
        ),
        (
            json!({"identityAttributeColumns": ["cost center"]}),
            "'cost center'",
        ),
        (json!({"identityAttributeColumns": ["a", "a"]}), "twice"),
    ] {
        let (s, _, e) = app
            .send(
                Method::PUT,
                "/v3/campaigns/reports-configuration",
                &admin,
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, 400, "{body}: {e}");
        valid("put", "/campaigns/reports-configuration", 400, &e);
        assert!(error_text(&e).contains(want), "{body}: {e}");
    }
    let (s, _, c) = app
        .send(
            Method::PUT,
            "/v3/campaigns/reports-configuration",
            &admin,
            Some(json!({"identityAttributeColumns": null})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), c),
        (200, json!({"identityAttributeColumns": []}))
    );

    // Who may do what.
    let user = app.token_for(app.client(ClientRole::User)).await;
    let report_admin = app.token_for(app.client(ClientRole::ReportAdmin)).await;
    let operator = app.token_for(app.client(ClientRole::Operator)).await;
    let run = format!("/v3/campaigns/{id}/run-report/CAMPAIGN_STATUS_REPORT");
    let (s, _, e) = app.send(Method::POST, &run, &user, None).await;
    assert_eq!(s, 403, "{e}");
    valid("post", "/campaigns/{id}/run-report/{type}", 403, &e);
    let (s, _, e) = app
        .send(
            Method::PUT,
            "/v3/campaigns/reports-configuration",
            &report_admin,
            Some(json!({"identityAttributeColumns": []})),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    valid("put", "/campaigns/reports-configuration", 403, &e);
    let (s, _, _) = app.send(Method::POST, &run, &report_admin, None).await;
    assert_eq!(s, 202, "REPORT_ADMIN runs reports");
    // An OPERATOR reaches the reports of its own campaigns only.
    for path in [
        format!("/v3/campaigns/{id}/reports"),
        format!("/v3/reports/{rid}?fileFormat=csv"),
    ] {
        let (s, _, e) = app.get(&path, Some(&operator)).await;
        assert_eq!(s, 404, "{path}: {e}");
    }
    let (s, _, e) = app.send(Method::POST, &run, &operator, None).await;
    assert_eq!(s, 404, "{e}");
    let own = active_campaign(&app, &operator).await;
    let (s, _, e) = app
        .send(
            Method::POST,
            &format!("/campaigns/v1/{own}/run-report/CERTIFICATION_SIGNOFF_REPORT"),
            &operator,
            None,
        )
        .await;
    assert_eq!(s, 202, "{e}");
    let list = app
        .wait_for(&format!("/v3/campaigns/{own}/reports"), &operator, |b| {
            b[0]["status"] == "SUCCESS"
        })
        .await;
    let (s, _, text) = download(
        &app,
        &format!(
            "/v3/reports/{}?fileFormat=csv",
            list[0]["id"].as_str().unwrap()
        ),
        &operator,
    )
    .await;
    assert_eq!(s, 200, "{text}");
    assert_eq!(records(&text).len(), 3);
}
