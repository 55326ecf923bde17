//! The web interface in a real browser: Debian's Chromium, driven by the npm package
//! `playwright-core`, walks a reviewer through a complete review against a running
//! `recert serve` (tests/e2e/run.sh installs playwright-core under target/e2e and runs
//! tests/e2e/reviewer.mjs; screenshots land in target/e2e/screenshots).
//!
//! playwright-core comes from npm and the browser from the system (`apt-get install chromium`),
//! so this test runs under CI (`CI` set, as `.ci/run` does, which also installs Chromium) or with
//! `RECERT_BROWSER_TESTS=1`; otherwise it skips with a notice.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::*;
use serde_json::{Value, json};

/// The reviewer's web password (at least 12 characters).
const PASSWORD: &str = "browser-journey-password";
const ADMIN_PASSWORD: &str = "browser-admin-password";

/// Creates an API client; answers its id and secret.
fn client(database: &str, role: &str) -> (String, String) {
    let out = ok(recert().args([
        "--database",
        database,
        "admin",
        "client",
        "create",
        "--role",
        role,
    ]));
    (
        field(&out, "client_id:").to_owned(),
        field(&out, "client_secret:").to_owned(),
    )
}

/// Sets an identity's web password, given on standard input as a person would, and its roles.
fn set_password(database: &str, identity: &str, password: &str, roles: &[&str]) {
    let mut args = vec![
        "--database",
        database,
        "admin",
        "user",
        "set-password",
        "--identity",
        identity,
        "--password-stdin",
    ];
    for r in roles {
        args.extend(["--role", r]);
    }
    let mut child = recert()
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "set-password failed: {}", stderr(&o));
}

fn total(c: &Value) -> i64 {
    c["decisionsTotal"].as_i64().unwrap_or(0)
}

fn email(c: &Value) -> Option<&str> {
    c["reviewer"]["email"].as_str().filter(|e| !e.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_completes_a_review_in_the_browser() {
    if std::env::var_os("CI").is_none() && std::env::var_os("RECERT_BROWSER_TESTS").is_none() {
        eprintln!(
            "\n*** SKIPPED: the browser test needs Chromium (apt-get install chromium) and \
             installs playwright-core from npm; it runs under CI or with RECERT_BROWSER_TESTS=1 ***\n"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let database = db(dir.path());
    ok(recert().args(["--database", &database, "demo", "--identities", "300"]));
    let (admin_id, admin_secret) = client(&database, "CERT_ADMIN");
    let (server, log) = Server::start(&database, &[]);
    let base = format!("http://{}", server.addr);
    let http = recert_core::http::client().build().unwrap();
    let token: Value = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", admin_id.as_str()),
            ("client_secret", admin_secret.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {token}"))
        .to_owned();

    // A MANAGER campaign that requires a comment on revokes, generated and activated.
    let (s, k) = call(
        &http,
        &base,
        &token,
        reqwest::Method::POST,
        "/v3/campaigns",
        Some(json!({
            "name": "Browser review", "description": "The reviewer's journey in Chromium",
            "type": "MANAGER", "deadline": "2099-01-01T00:00:00.000Z",
            "mandatoryCommentRequirement": "REVOKE_ONLY_DECISIONS",
        })),
    )
    .await;
    assert_eq!(s, 202, "{k}");
    let campaign = k["id"].as_str().unwrap().to_owned();
    wait_status(&http, &base, &token, &campaign, "STAGED").await;
    let (s, b) = call(
        &http,
        &base,
        &token,
        reqwest::Method::POST,
        &format!("/v3/campaigns/{campaign}/activate"),
        Some(json!({"timeZone": "Z"})),
    )
    .await;
    assert_eq!(s, 202, "{b}");
    wait_status(&http, &base, &token, &campaign, "ACTIVE").await;

    let certs = get(
        &http,
        &base,
        &token,
        &format!("/v3/certifications?filters=campaign.id%20eq%20%22{campaign}%22&limit=250"),
    )
    .await;
    let certs = certs.as_array().unwrap().clone();
    // The reviewer: one with an email and a certification of at least 4 items; preferably a
    // little more than one page (50 items a page), so that the journey pages and decides in
    // several rounds, and not so many that it drags.
    let mut candidates: Vec<&Value> = certs
        .iter()
        .filter(|c| total(c) >= 4 && email(c).is_some())
        .collect();
    assert!(
        !candidates.is_empty(),
        "no certification with 4 items and a reviewer with an email: {certs:?}"
    );
    candidates.sort_by_key(|c| (total(c) - 60).abs());
    let mine = candidates[0];
    let cert_id = mine["id"].as_str().unwrap().to_owned();
    let reviewer = mine["reviewer"]["id"].as_str().unwrap().to_owned();
    let login = email(mine).unwrap().to_owned();

    // Whom the certification reviews: the reassignment must not go to any of them.
    let items = get(
        &http,
        &base,
        &token,
        &format!("/v3/certifications/{cert_id}/access-review-items?limit=250"),
    )
    .await;
    let items = items.as_array().unwrap();
    assert_eq!(items.len() as i64, total(mine), "the items of {cert_id}");
    let reviewed: HashSet<&str> = items
        .iter()
        .filter_map(|i| i["identitySummary"]["identityId"].as_str())
        .collect();
    // The other reviewer: their certification must be refused to ours, and they receive the
    // reassigned item (an active identity with an email, neither the reviewer nor reviewed).
    let other = certs
        .iter()
        .find(|c| {
            let id = c["reviewer"]["id"].as_str().unwrap_or_default();
            id != reviewer && !reviewed.contains(id) && email(c).is_some()
        })
        .expect("a second reviewer with an email who is not reviewed by the first");
    let other_cert = other["id"].as_str().unwrap().to_owned();
    let reassign_to = email(other).unwrap().to_owned();
    eprintln!(
        "browser test: reviewer {login} ({} items over {} people), other reviewer {reassign_to}",
        total(mine),
        reviewed.len()
    );

    set_password(&database, &reviewer, PASSWORD, &[]);
    // The administrator of the second journey: the other reviewer, with the CERT_ADMIN role.
    let admin_id = other["reviewer"]["id"].as_str().unwrap().to_owned();
    set_password(&database, &admin_id, ADMIN_PASSWORD, &["CERT_ADMIN"]);

    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let e2e_dir = std::env::var("RECERT_E2E_DIR")
        .unwrap_or_else(|_| root.join("target/e2e").to_string_lossy().into_owned());
    let started = Instant::now();
    let status = Command::new("bash")
        .arg(root.join("tests/e2e/run.sh"))
        .env("RECERT_E2E_DIR", &e2e_dir)
        .env("RECERT_E2E_BASE_URL", &base)
        .env("RECERT_E2E_LOGIN", &login)
        .env("RECERT_E2E_PASSWORD", PASSWORD)
        .env("RECERT_E2E_CERT_ID", &cert_id)
        .env("RECERT_E2E_OTHER_CERT_ID", &other_cert)
        .env("RECERT_E2E_REASSIGN_TO", &reassign_to)
        .env("RECERT_E2E_ADMIN_LOGIN", &reassign_to)
        .env("RECERT_E2E_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .status()
        .unwrap();
    eprintln!(
        "browser test: tests/e2e/run.sh took {:.1} s; screenshots in {e2e_dir}/screenshots",
        started.elapsed().as_secs_f64()
    );
    if !status.success() {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "tests/e2e/run.sh failed ({status}; its FAIL line above names the step); the \
             server's last log lines:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }

    // What the browser did is what the API sees: signed off, every item decided.
    let c = get(
        &http,
        &base,
        &token,
        &format!("/v3/certifications/{cert_id}"),
    )
    .await;
    assert_eq!(c["phase"], "SIGNED", "{c}");
    assert_eq!(c["decisionsMade"], c["decisionsTotal"], "{c}");
    assert_eq!(total(&c), total(mine) - 1, "one item was reassigned: {c}");
    assert!(server.terminate().success());
}
