//! The app under test: a real SQLite store with the small organisation, an API client of each
//! role and a revoked one, an injected clock, and the router on a real port.

#![allow(dead_code)] // each test file uses its own part of it

pub mod awf;

use std::sync::Arc;

use recert_core::auth::Auth;
use recert_core::auth::ratelimit::{RateLimit, RateLimiter};
use recert_core::clients::{self, NewClient};
use recert_domain::{ClientRole, Clock, Duration, Id, ManualClock, Timestamp};
use recert_server::AppState;
use recert_store::Store;
use recert_store_conformance::fixture_id;
use recert_store_sqlite::{SqliteOptions, SqliteStore};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub struct Client {
    pub id: String,
    pub secret: String,
}

pub struct App {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: ManualClock,
    pub store: Arc<dyn Store>,
    pub remediation: recert_core::remediation::Remediation,
    pub clients: Vec<(ClientRole, Client)>,
    pub revoked: Client,
    pub _dir: tempfile::TempDir,
}

pub async fn create(
    store: &dyn Store,
    clock: &ManualClock,
    role: ClientRole,
    identity: Option<Id>,
) -> Client {
    let c = clients::create(
        store,
        clock,
        NewClient {
            name: Some(format!("{role}")),
            roles: vec![role],
            identity_id: identity,
        },
    )
    .await
    .unwrap();
    Client {
        id: c.client.id.to_string(),
        secret: c.secret,
    }
}

pub async fn app(limit: Option<RateLimit>) -> App {
    app_with(limit, None).await
}

/// The app, delivering remediation to `webhook` when given.
pub async fn app_with(
    limit: Option<RateLimit>,
    webhook: Option<recert_core::webhook::WebhookConfig>,
) -> App {
    build(limit, webhook, None).await
}

/// The app with single sign-on against `sso` (its `redirect_url` is set to this app's).
pub async fn app_with_sso(sso: recert_core::oidc::OidcConfig) -> App {
    build(None, None, Some(sso)).await
}

async fn build(
    limit: Option<RateLimit>,
    webhook: Option<recert_core::webhook::WebhookConfig>,
    sso: Option<recert_core::oidc::OidcConfig>,
) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path().join("recert.db"), SqliteOptions::default())
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let clock = ManualClock::new(Timestamp::parse("2026-03-01T10:00:00.000Z").unwrap());
    recert_core::import::import_dataset(
        store.as_ref(),
        &clock,
        recert_store_conformance::small_org(),
        "test",
    )
    .await
    .unwrap();
    let mut list = Vec::new();
    for role in [
        ClientRole::OrgAdmin,
        ClientRole::CertAdmin,
        ClientRole::Operator,
        ClientRole::ReportAdmin,
    ] {
        list.push((role, create(store.as_ref(), &clock, role, None).await));
    }
    list.push((
        ClientRole::User,
        create(
            store.as_ref(),
            &clock,
            ClientRole::User,
            Some(fixture_id(1, 2)),
        )
        .await,
    ));
    let revoked = create(store.as_ref(), &clock, ClientRole::OrgAdmin, None).await;
    let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let auth = Auth::start(store.clone(), shared_clock.clone(), Duration::hours(12))
        .await
        .unwrap();
    let campaigns = recert_core::campaigns::Campaigns::new(
        store.clone(),
        shared_clock.clone(),
        recert_core::campaigns::CampaignOptions {
            fallback_reviewer: Some(fixture_id(1, 1)),
        },
    );
    // The background jobs run as in `recert serve`.
    let mut runner =
        recert_core::jobs::Runner::new(store.clone(), shared_clock.clone(), "test-runner");
    for kind in recert_core::campaigns::JOB_KINDS {
        runner = runner.handle(kind, campaigns.jobs());
    }
    let reports = recert_core::reports::Reports::new(store.clone(), shared_clock.clone());
    for kind in recert_core::reports::REPORT_JOB_KINDS {
        runner = runner.handle(kind, reports.jobs());
    }
    let certifications =
        recert_core::certifications::Certifications::new(store.clone(), shared_clock.clone());
    for kind in recert_core::certifications::REVIEW_JOB_KINDS {
        runner = runner.handle(kind, certifications.jobs());
    }
    let remediation = recert_core::remediation::Remediation::new(
        store.clone(),
        shared_clock.clone(),
        webhook.map(|w| recert_core::webhook::WebhookSender::new(w, shared_clock.clone()).unwrap()),
    );
    runner = runner.handle(
        recert_core::remediation::DELIVER,
        Arc::new(recert_core::remediation::RemediationJobs(
            remediation.clone(),
        )),
    );
    tokio::spawn(runner.run(std::time::Duration::from_millis(20), std::future::pending()));
    let auth = Arc::new(auth);
    let awf = recert_core::awf::Awf::new(
        store.clone(),
        shared_clock.clone(),
        auth.clone(),
        recert_core::awf::AwfSettings::default(),
    );
    let web =
        recert_core::web::WebAuth::new(store.clone(), shared_clock.clone(), Duration::hours(12))
            .unwrap();
    let state = AppState {
        oidc: sso.map(|mut c| {
            c.redirect_url = format!("{base}/login/sso/callback");
            recert_core::oidc::Oidc::new(c, store.clone(), shared_clock.clone()).unwrap()
        }),
        web,
        store: store.clone(),
        clock: shared_clock,
        auth,
        awf,
        limiter: limit.map(|l| Arc::new(RateLimiter::new(l))),
        campaigns,
        certifications,
        remediation: remediation.clone(),
    };
    // A Veza-dialect probe: the extractor is what every Veza route will start with.
    let routes = recert_server::routes().route(
        "/api/preview/awf/probe",
        axum::routing::get(|caller: recert_server::VezaCaller| async move {
            axum::Json(json!({"value": {"client_id": caller.principal.client_id.to_string()}}))
        }),
    );
    let app = recert_server::with_layers(routes, state);
    tokio::spawn(recert_server::serve_router(
        listener,
        app,
        std::future::pending(),
    ));
    App {
        base,
        http: recert_core::http::client().build().unwrap(),
        clock,
        store,
        remediation,
        clients: list,
        revoked,
        _dir: dir,
    }
}

impl App {
    pub fn client(&self, role: ClientRole) -> &Client {
        &self.clients.iter().find(|(r, _)| *r == role).unwrap().1
    }

    pub async fn token_for(&self, c: &Client) -> String {
        let res = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &c.id),
                ("client_secret", &c.secret),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn get(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.json::<Value>().await.unwrap_or(Value::Null);
        (status, headers, body)
    }
}

impl App {
    /// Any method, with an optional JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.json::<Value>().await.unwrap_or(Value::Null);
        (status, headers, body)
    }

    /// Polls `path` until `done` holds for its body (background jobs), for up to 10 s.
    pub async fn wait_for(&self, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..500 {
            let (s, _, body) = self.get(path, Some(token)).await;
            if s == 200 && done(&body) {
                return body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("{path} never reached the expected state");
    }
}

pub async fn post_token(
    app: &App,
    req: reqwest::RequestBuilder,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let _ = app;
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap())
}

pub fn assert_token_body(body: &Value) {
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 43200);
    assert_eq!(body["scope"], "sp:scopes:all");
    assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
}

/// SailPoint's description, loaded (and translated) once per test binary.
fn spec() -> Option<&'static recert_spec_check::Spec> {
    static SPEC: std::sync::OnceLock<Option<recert_spec_check::Spec>> = std::sync::OnceLock::new();
    SPEC.get_or_init(recert_spec_check::sailpoint_spec).as_ref()
}

/// Validates a response body against the description's schema for that operation and status.
pub fn valid(method: &str, path: &str, status: u16, body: &Value) {
    if let Some(spec) = spec() {
        spec.check_response(method, path, status, body)
            .unwrap_or_else(|e| panic!("{method} {path} {status}: {e:?}\n{body:#}"));
    }
}

/// The text of a SailPoint error body.
pub fn error_text(body: &Value) -> String {
    body["messages"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// An ACTIVE manager campaign over the small organisation; returns its id. Ada reviews Bob
/// (one item); Bob reviews Cyd (four items) and Dave (one).
pub async fn active_campaign(app: &App, admin: &str, comments: &str) -> String {
    let deadline = app.clock.now().plus(Duration::days(14)).to_string();
    let (s, _, created) = app
        .send(
            reqwest::Method::POST,
            "/v3/campaigns",
            admin,
            Some(json!({
                "name": "Manager review",
                "description": "Everyone's access, by their manager",
                "deadline": deadline,
                "type": "MANAGER",
                "mandatoryCommentRequirement": comments,
            })),
        )
        .await;
    assert_eq!(s, 202, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    app.wait_for(&format!("/v3/campaigns/{id}"), admin, |b| {
        b["status"] == "STAGED"
    })
    .await;
    let (s, _, b) = app
        .send(
            reqwest::Method::POST,
            &format!("/v3/campaigns/{id}/activate"),
            admin,
            Some(json!({"timeZone": "Z"})),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    app.wait_for(&format!("/v3/campaigns/{id}"), admin, |b| {
        b["status"] == "ACTIVE"
    })
    .await;
    id
}
