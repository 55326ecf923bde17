//! The web interface over real HTTP (the browser tests drive the same pages in Chromium):
//! sign-in, session cookies, CSRF, the reviewer's pages and their refusals.

mod common;

use common::{App, active_campaign, app};
use recert_domain::ClientRole;
use recert_store_conformance::fixture_id;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

const BOB_PASSWORD: &str = "correct horse battery";

struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new(app: &App) -> Self {
        Browser {
            http: recert_core::http::client()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.base.clone(),
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (kv, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !val.is_empty() {
                self.cookies.push((k.to_owned(), val.to_owned()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&res);
        let status = res.status();
        let location = res
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location, res.text().await.unwrap())
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(&res);
        let status = res.status();
        let location = res
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location, res.text().await.unwrap())
    }
}

impl Browser {
    /// Fills and sends the sign-in form, as a browser does (its token comes with the form).
    async fn sign_in(
        &mut self,
        login: &str,
        password: &str,
        next: &str,
    ) -> (StatusCode, String, String) {
        let (_, _, form) = self.get("/login").await;
        let token = csrf(&form);
        self.post(
            "/login",
            &[
                ("csrf", &token),
                ("login", login),
                ("password", password),
                ("next", next),
            ],
        )
        .await
    }

    /// The sign-in form's token and its cookie, for requests made by hand.
    async fn login_form(&mut self) -> (String, String) {
        let (_, _, form) = self.get("/login").await;
        let cookie = self
            .cookies
            .iter()
            .find(|(k, _)| k == "recert_login")
            .map(|(k, v)| format!("{k}={v}"))
            .unwrap();
        (csrf(&form), cookie)
    }
}

/// The form token in a page.
fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form token") + 19;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// Gives bob (a manager, no administrator role) the password [`BOB_PASSWORD`].
async fn set_bob_password(app: &App) {
    recert_core::web::set_password(
        app.store.as_ref(),
        &app.clock,
        fixture_id(1, 2),
        BOB_PASSWORD,
        None,
    )
    .await
    .unwrap();
}

async fn signed_in_bob(app: &App) -> Browser {
    set_bob_password(app).await;
    let mut b = Browser::new(app);
    let (s, to, _) = b
        .sign_in("bob.manager@example.com", BOB_PASSWORD, "/reviews")
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(to, "/reviews");
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sessions_and_forms() {
    let app = app(None).await;
    let admin = app.token_for(app.client(ClientRole::CertAdmin)).await;
    active_campaign(&app, &admin, "REVOKE_ONLY_DECISIONS").await;

    // Without a session every page leads to the sign-in page, keeping where it was going.
    let mut anon = Browser::new(&app);
    let (s, to, _) = anon.get("/reviews?x=1").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(to, "/login?next=%2Freviews%3Fx%3D1");
    let (s, _, page) = anon.get("/login?next=%2Freviews").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("<label for=\"password\">"), "labelled fields");

    // A wrong password says no more than that; a foreign `next` is not followed.
    set_bob_password(&app).await;
    let (s, _, page) = anon
        .post(
            "/login",
            &[("login", "bob.manager"), ("password", BOB_PASSWORD)],
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a sign-in form that did not come from recert"
    );
    assert!(page.contains("did not come from recert"));
    let (s, _, page) = anon
        .sign_in("bob.manager", "nope nope nope", "/reviews")
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(page.contains("The name or password is not right."));
    let (token, login_cookie) = anon.login_form().await;
    let res = anon
        .http
        .post(format!("{}/login", app.base))
        .header(COOKIE, &login_cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("login", "bob.manager"),
            ("password", BOB_PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[LOCATION], "/reviews");
    // A tab that browsers would drop (`/\t/evil` becomes `//evil`) is not followed either.
    let (token, login_cookie) = anon.login_form().await;
    let tabbed = anon
        .http
        .post(format!("{}/login", app.base))
        .header(COOKIE, &login_cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("login", "bob.manager"),
            ("password", BOB_PASSWORD),
            ("next", "/\t/evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(tabbed.headers()[LOCATION], "/reviews");
    let set = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.starts_with("recert_session="), "{set}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(set.contains(flag), "{set} lacks {flag}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: no Secure flag");
    let tls = anon
        .http
        .post(format!("{}/login", app.base))
        .header("x-forwarded-proto", "https")
        .header(COOKIE, &login_cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("login", "bob.manager"),
            ("password", BOB_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        tls.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );

    // Bob's reviews, his certification, a decision through the form.
    let mut bob = signed_in_bob(&app).await;
    let (s, _, page) = bob.get("/reviews").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Manager review"), "{page}");
    let cert = page
        .split("href=\"/reviews/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    for sort in ["type", "source"] {
        let (s, _, _) = bob
            .get(&format!("/reviews/{cert}?group=access&sort={sort}"))
            .await;
        assert_eq!(s, StatusCode::OK, "sorted by {sort}");
    }
    let (s, _, page) = bob.get(&format!("/reviews/{cert}?status=undecided")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("0 of 5 decided"), "{page}");
    assert!(
        page.contains("id=\"q\" name=\"q\" value=\"\""),
        "an empty search box, not \"none\""
    );
    let token = csrf(&page);
    let item = page
        .split("name=\"item\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (s, _, _) = bob
        .post(
            &format!("/reviews/{cert}/decide"),
            &[("one", &format!("{item}:APPROVE"))],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no form token");
    let (s, _, _) = bob
        .post(
            &format!("/reviews/{cert}/decide"),
            &[("csrf", "forged"), ("one", &format!("{item}:APPROVE"))],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a wrong form token");
    let (s, to, _) = bob
        .post(
            &format!("/reviews/{cert}/decide"),
            &[
                ("csrf", &token),
                ("back", &format!("/reviews/{cert}?status=undecided")),
                ("one", &format!("{item}:REVOKE")),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, page) = bob.get(&to).await;
    assert!(
        page.contains("requires a comment on REVOKE decisions"),
        "the API's refusal text: {page}"
    );
    assert!(page.contains("0 of 5 decided"), "nothing was saved");
    let (_, to, _) = bob
        .post(
            &format!("/reviews/{cert}/decide"),
            &[
                ("csrf", &token),
                ("back", &format!("/reviews/{cert}")),
                ("comments", "left the team"),
                ("one", &format!("{item}:REVOKE")),
            ],
        )
        .await;
    let (_, _, page) = bob.get(&to).await;
    assert!(page.contains("1 item revoked."), "{page}");
    assert!(page.contains("1 of 5 decided"));
    assert!(page.contains("left the team"));

    // Sign-off says how many remain.
    let (_, _, page) = bob.get(&format!("/reviews/{cert}/sign-off")).await;
    assert!(page.contains("4 items are still undecided"), "{page}");

    // Another reviewer's certification: refused, and nothing of it in the page.
    let ada_cert = {
        let (_, _, all) = app
            .get(
                "/v3/certifications?filters=phase%20eq%20%22ACTIVE%22",
                Some(&admin),
            )
            .await;
        all.as_array()
            .unwrap()
            .iter()
            .find(|c| c["reviewer"]["id"] == fixture_id(1, 1).to_string())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (s, _, page) = bob.get(&format!("/reviews/{ada_cert}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(page.contains("assigned to another reviewer"), "{page}");
    assert!(!page.contains("bob manager</td>"), "no item of it");

    // Sign-out ends the session.
    let (_, _, page) = bob.get("/reviews").await;
    let token = csrf(&page);
    let (s, to, _) = bob.post("/logout", &[("csrf", &token)]).await;
    assert_eq!((s, to.as_str()), (StatusCode::SEE_OTHER, "/login"));
    let (s, _, _) = bob.get("/reviews").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire() {
    let app = app(None).await;
    let mut bob = signed_in_bob(&app).await;
    let (s, _, _) = bob.get("/reviews").await;
    assert_eq!(s, StatusCode::OK);
    app.clock
        .advance(recert_domain::Duration::hours(12) + recert_domain::Duration::seconds(1));
    let (s, to, _) = bob.get("/reviews").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/login"));
}

#[tokio::test]
async fn passwords_are_set_with_a_minimum_length() {
    let app = app(None).await;
    let e = recert_core::web::set_password(
        app.store.as_ref(),
        &app.clock,
        fixture_id(1, 2),
        "short",
        None,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("at least 12"), "{e}");
    let e = recert_core::web::set_password(
        app.store.as_ref(),
        &app.clock,
        recert_domain::Id::from_bytes([9; 16]),
        BOB_PASSWORD,
        None,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_run_campaigns_from_the_pages() {
    let app = app(None).await;
    let api = app.token_for(app.client(ClientRole::CertAdmin)).await;
    recert_core::web::set_password(
        app.store.as_ref(),
        &app.clock,
        fixture_id(1, 1),
        "ada's long password",
        Some(&[ClientRole::CertAdmin]),
    )
    .await
    .unwrap();
    let mut ada = Browser::new(&app);
    let (s, _, _) = ada
        .sign_in("ada.boss", "ada's long password", "/reviews")
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _, page) = ada.get("/admin/campaigns").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("No campaign yet."));
    let (_, _, form) = ada.get("/admin/campaigns/new").await;
    let token = csrf(&form);
    for label in [
        "for=\"name\"",
        "for=\"deadline\"",
        "for=\"type\"",
        "for=\"reviewer\"",
    ] {
        assert!(form.contains(label), "every control is labelled: {label}");
    }

    // A refused form comes back with the API's reason and what was typed.
    let (s, _, page) = ada
        .post(
            "/admin/campaigns/new",
            &[
                ("csrf", &token),
                ("name", "Sources"),
                ("deadline", "2026-04-30"),
                ("type", "SOURCE_OWNER"),
                ("comments", "NO_DECISIONS"),
                ("source_ids", ""),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("sourceIds must name at least one source"),
        "{page}"
    );
    assert!(page.contains("value=\"Sources\""));

    let (s, to, _) = ada
        .post(
            "/admin/campaigns/new",
            &[
                ("csrf", &token),
                ("name", "Quarterly managers"),
                ("deadline", "2026-04-30"),
                ("type", "MANAGER"),
                ("comments", "REVOKE_ONLY_DECISIONS"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{to}");
    let id = to.trim_start_matches("/admin/campaigns/").to_owned();
    app.wait_for(&format!("/v3/campaigns/{id}"), &api, |b| {
        b["status"] == "STAGED"
    })
    .await;
    let (_, _, page) = ada.get(&to).await;
    assert!(page.contains("Campaign created"), "{page}");
    assert!(page.contains(">Activate<"));
    let (s, _, _) = ada
        .post(
            &format!("/admin/campaigns/{id}/activate"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    app.wait_for(&format!("/v3/campaigns/{id}"), &api, |b| {
        b["status"] == "ACTIVE"
    })
    .await;
    let (_, _, page) = ada.get(&to).await;
    assert!(page.contains("<svg class=\"chart\""), "the progress chart");
    assert!(page.contains("bob manager"), "a reviewer of the campaign");

    // A report, run from the page and downloaded as CSV.
    let (s, _, _) = ada
        .post(
            &format!("/admin/campaigns/{id}/reports/CAMPAIGN_STATUS_REPORT"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let mut link = String::new();
    for _ in 0..200 {
        let (_, _, page) = ada.get(&to).await;
        // minijinja writes `/` in attributes as `&#x2f;`, as browsers read it.
        let page = page.replace("&#x2f;", "/");
        if let Some(at) = page.find("href=\"/admin/reports/") {
            link = page[at + 6..].split('"').next().unwrap().to_owned();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(!link.is_empty(), "the report was built");
    let res = ada
        .http
        .get(format!("{}{link}", app.base))
        .header(COOKIE, ada.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with("Campaign Name,"), "{csv}");

    // Deleting asks for a confirmation first.
    let (s, back, _) = ada
        .post(
            &format!("/admin/campaigns/{id}/delete"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, page) = ada.get(&back).await;
    assert!(page.contains("Tick the confirmation first"), "{page}");
    assert!(page.contains("Quarterly managers"), "not deleted");

    // Reviewers do not reach these pages.
    let mut bob = signed_in_bob(&app).await;
    let (s, _, page) = bob.get("/admin/campaigns").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!page.contains("Quarterly managers"));
    let (s, _, _) = bob.get(&to).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited_per_account() {
    let app = app(Some(recert_core::auth::ratelimit::RateLimit::default())).await;
    set_bob_password(&app).await;
    // Ten wrong guesses for one account, from two browsers (as from two places).
    let (mut first, mut second) = (Browser::new(&app), Browser::new(&app));
    for n in 0..10 {
        let b = if n % 2 == 0 { &mut first } else { &mut second };
        let (s, _, _) = b.sign_in("bob.manager", "guess", "/reviews").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "guess {n}");
    }
    // Then even the right password waits, in any spelling of the name...
    for login in ["bob.manager", "BOB.Manager "] {
        let (s, _, page) = first.sign_in(login, BOB_PASSWORD, "/reviews").await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{login}");
        assert!(
            page.contains("Too many attempts for this account"),
            "{page}"
        );
    }
    // ...while another name is answered as usual, existing or not.
    let (s, _, _) = second.sign_in("nobody", "guess", "/reviews").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Half a minute later one more attempt is allowed.
    app.clock.advance(recert_domain::Duration::seconds(30));
    let (s, to, _) = first.sign_in("bob.manager", BOB_PASSWORD, "/reviews").await;
    assert_eq!((s, to.as_str()), (StatusCode::SEE_OTHER, "/reviews"));
}
