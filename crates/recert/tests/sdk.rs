//! SailPoint's official SDKs against a running `recert serve`: the Python SDK `sailpoint` 1.4.2
//! (`/v3/...`) and 2.x (`/certifications/v1/...`) and the TypeScript SDK
//! `sailpoint-api-client`, each through a complete review (tests/sdk/run.sh installs them in a
//! virtualenv and a local npm folder and runs tests/sdk/{python,ts}).
//!
//! The SDKs come from PyPI and npm, so this test runs under CI (`CI` set, as `.ci/run` does) or
//! with `RECERT_SDK_TESTS=1`; otherwise it skips with a notice.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::{Value, json};

struct Clients {
    id: String,
    secret: String,
}

fn client(database: &str, role: &str, identity: Option<&str>) -> Clients {
    let mut args = vec![
        "--database",
        database,
        "admin",
        "client",
        "create",
        "--role",
        role,
    ];
    if let Some(i) = identity {
        args.extend(["--identity", i]);
    }
    let out = ok(recert().args(&args));
    Clients {
        id: field(&out, "client_id:").to_owned(),
        secret: field(&out, "client_secret:").to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_sdks_run_a_complete_review() {
    if std::env::var_os("CI").is_none() && std::env::var_os("RECERT_SDK_TESTS").is_none() {
        eprintln!(
            "\n*** SKIPPED: the SDK compatibility test installs SailPoint's SDKs from PyPI and npm; \
             it runs under CI or with RECERT_SDK_TESTS=1 ***\n"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let database = db(dir.path());
    ok(recert().args(["--database", &database, "demo", "--identities", "300"]));
    // The SDKs do not retry a 429; this server serves only this test.
    let (server, log) =
        Server::start_with(&database, &[], &[("RECERT_RATE_LIMIT_ENABLED", "false")]);
    let base = format!("http://{}", server.addr);
    let http = recert_core::http::client().build().unwrap();
    let admin = client(&database, "CERT_ADMIN", None);
    let token: Value = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", admin.id.as_str()),
            ("client_secret", admin.secret.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();

    // Three active campaigns: each SDK program signs its own certification off.
    let mut campaigns = Vec::new();
    for n in 0..3 {
        let (s, k) = call(
            &http,
            &base,
            &token,
            reqwest::Method::POST,
            "/v3/campaigns",
            Some(json!({
                "name": format!("SDK review {n}"), "type": "MANAGER",
                "deadline": "2099-01-01T00:00:00.000Z",
                "mandatoryCommentRequirement": "REVOKE_ONLY_DECISIONS",
            })),
        )
        .await;
        assert_eq!(s, 202, "{k}");
        let id = k["id"].as_str().unwrap().to_owned();
        wait_status(&http, &base, &token, &id, "STAGED").await;
        let (s, b) = call(
            &http,
            &base,
            &token,
            reqwest::Method::POST,
            &format!("/v3/campaigns/{id}/activate"),
            Some(json!({})),
        )
        .await;
        assert_eq!(s, 202, "{b}");
        wait_status(&http, &base, &token, &id, "ACTIVE").await;
        campaigns.push(id);
    }
    let top: String = rusqlite::Connection::open(dir.path().join("recert.db"))
        .unwrap()
        .query_row(
            "SELECT id FROM identities WHERE manager_id IS NULL AND active = 1 ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let (_, certs) = call(
        &http,
        &base,
        &token,
        reqwest::Method::GET,
        &format!(
            "/v3/certifications?filters=campaign.id%20eq%20%22{}%22&limit=250",
            campaigns[0]
        ),
        None,
    )
    .await;
    let certs = certs.as_array().unwrap().clone();
    // The reviewer: a manager below the top with a few dozen items over several people.
    let mut candidates: Vec<&Value> = certs
        .iter()
        .filter(|c| {
            c["reviewer"]["id"] != top.as_str() && c["identitiesTotal"].as_i64().unwrap() >= 2
        })
        .collect();
    candidates.sort_by_key(|c| (c["decisionsTotal"].as_i64().unwrap() - 40).abs());
    let reviewer = candidates[0]["reviewer"]["id"].as_str().unwrap().to_owned();
    let other = certs
        .iter()
        .find(|c| c["reviewer"]["id"] != reviewer.as_str())
        .unwrap();
    let (_, mine) = call(
        &http,
        &base,
        &token,
        reqwest::Method::GET,
        &format!("/v3/certifications?reviewer-identity={reviewer}&sorters=name"),
        None,
    )
    .await;
    let cert_ids: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(cert_ids.len(), 3, "{mine}");
    let reviewer_client = client(&database, "USER", Some(&reviewer));
    let other_client = client(
        &database,
        "USER",
        Some(other["reviewer"]["id"].as_str().unwrap()),
    );

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sdk/run.sh");
    let sdk_dir = std::env::var("RECERT_SDK_DIR").unwrap_or_else(|_| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/sdk")
            .to_string_lossy()
            .into_owned()
    });
    let status = Command::new("bash")
        .arg(&script)
        .env("RECERT_SDK_DIR", sdk_dir)
        .env("RECERT_SDK_BASE_URL", &base)
        .env("RECERT_SDK_ADMIN_ID", &admin.id)
        .env("RECERT_SDK_ADMIN_SECRET", &admin.secret)
        .env("RECERT_SDK_REVIEWER_ID", &reviewer_client.id)
        .env("RECERT_SDK_REVIEWER_SECRET", &reviewer_client.secret)
        .env("RECERT_SDK_OTHER_ID", &other_client.id)
        .env("RECERT_SDK_OTHER_SECRET", &other_client.secret)
        .env("RECERT_SDK_CERT_IDS", cert_ids.join(","))
        .env("RECERT_SDK_REASSIGN_TO", &top)
        .env("RECERT_SDK_OTHER_CERT_ID", other["id"].as_str().unwrap())
        .env("RECERT_SDK_PAUSE", "0")
        .status()
        .unwrap();
    if !status.success() {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "tests/sdk/run.sh failed ({status}); the server's last log lines:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    assert!(server.terminate().success());
}
