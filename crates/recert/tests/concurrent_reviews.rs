//! Counters under concurrent decisions, as running servers see them: many clients decide the
//! items of one certification at once, each item more than once and through more than one
//! process on PostgreSQL, and afterwards (and in every answer on the way) the certification's
//! counters are exactly what its items say.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// Eight clients share one token here: the per-client rate limit is not what is under test.
const NO_LIMIT: &[(&str, &str)] = &[("RECERT_RATE_LIMIT_ENABLED", "false")];

struct Api {
    http: reqwest::Client,
}

impl Api {
    async fn token(
        &self,
        server: &Server,
        database: &str,
        role: &str,
        identity: Option<&str>,
    ) -> String {
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
        let (id, secret) = (field(&out, "client_id:"), field(&out, "client_secret:"));
        let res: Value = self
            .http
            .post(format!("http://{}/oauth/token", server.addr))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        res["access_token"].as_str().unwrap().to_owned()
    }

    async fn call(
        &self,
        server: &Server,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("http://{}{path}", server.addr))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn wait_status(&self, server: &Server, token: &str, id: &str, status: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, k) = self
                .call(
                    server,
                    reqwest::Method::GET,
                    &format!("/v3/campaigns/{id}"),
                    token,
                    None,
                )
                .await;
            if k["status"] == status {
                return;
            }
            assert_ne!(k["status"], "ERROR", "{k}");
            assert!(
                Instant::now() < deadline,
                "campaign {id} never became {status}: {k}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Runs the scenario on `servers` (all on `database`).
async fn decide_concurrently(database: &str, servers: &[Server]) {
    let api = Api {
        http: recert_core::http::client().build().unwrap(),
    };
    let first = &servers[0];
    let admin = api.token(first, database, "CERT_ADMIN", None).await;
    let (s, k) = api
        .call(
            first,
            reqwest::Method::POST,
            "/v3/campaigns",
            &admin,
            Some(json!({"name": "concurrent", "type": "MANAGER",
                "deadline": "2099-01-01T00:00:00.000Z"})),
        )
        .await;
    assert_eq!(s, 202, "{k}");
    let campaign = k["id"].as_str().unwrap().to_owned();
    api.wait_status(first, &admin, &campaign, "STAGED").await;
    let (s, b) = api
        .call(
            first,
            reqwest::Method::POST,
            &format!("/v3/campaigns/{campaign}/activate"),
            &admin,
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    api.wait_status(first, &admin, &campaign, "ACTIVE").await;

    // The biggest certification, and its reviewer's own client on every server.
    let (_, certs) = api
        .call(
            first,
            reqwest::Method::GET,
            &format!("/v3/certifications?filters=campaign.id%20eq%20%22{campaign}%22&limit=250"),
            &admin,
            None,
        )
        .await;
    let cert = certs
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|c| c["decisionsTotal"].as_i64().unwrap())
        .unwrap()
        .clone();
    let cid = cert["id"].as_str().unwrap().to_owned();
    let total = cert["decisionsTotal"].as_i64().unwrap();
    assert!(total >= 20, "a certification big enough to race on: {cert}");
    let reviewer = cert["reviewer"]["id"].as_str().unwrap().to_owned();
    let token = api.token(first, database, "USER", Some(&reviewer)).await;
    let mut items: Vec<(String, String)> = Vec::new();
    let mut offset = 0;
    loop {
        let (s, page) = api
            .call(
                first,
                reqwest::Method::GET,
                &format!("/v3/certifications/{cid}/access-review-items?limit=250&offset={offset}"),
                &token,
                None,
            )
            .await;
        assert_eq!(s, 200, "{page}");
        let page = page.as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        offset += page.len();
        for i in page {
            items.push((
                i["id"].as_str().unwrap().to_owned(),
                i["identitySummary"]["identityId"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ));
        }
    }
    assert_eq!(items.len() as i64, total);

    // Eight clients at once, each deciding overlapping halves of the items in batches of
    // seven, APPROVE and REVOKE mixed, through every server in turn; one item is left
    // undecided so that the last identity stays incomplete.
    let (left_out, rest) = items.split_last().unwrap();
    let rest: Vec<(String, String)> = rest.to_vec();
    let mut tasks = Vec::new();
    for n in 0..8usize {
        let api = recert_core::http::client().build().unwrap();
        let addr = servers[n % servers.len()].addr.clone();
        let token = token.clone();
        let cid = cid.clone();
        let mine: Vec<String> = rest
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + n) % 2 == 0)
            .map(|(_, (id, _))| id.clone())
            .collect();
        tasks.push(tokio::spawn(async move {
            for batch in mine.chunks(7) {
                let body: Vec<Value> = batch
                    .iter()
                    .enumerate()
                    .map(|(k, id)| {
                        let d = if (k + n) % 3 == 0 { "REVOKE" } else { "APPROVE" };
                        json!({"id": id, "decision": d, "bulk": true, "comments": format!("client {n}")})
                    })
                    .collect();
                let res = api
                    .post(format!("http://{addr}/v3/certifications/{cid}/decide"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                let c: Value = res.json().await.unwrap();
                let made = c["decisionsMade"].as_i64().unwrap();
                assert!(made >= batch.len() as i64 && made < c["decisionsTotal"].as_i64().unwrap(), "{c}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    let (_, after) = api
        .call(
            first,
            reqwest::Method::GET,
            &format!("/v3/certifications/{cid}"),
            &token,
            None,
        )
        .await;
    assert_eq!(
        after["decisionsMade"].as_i64().unwrap(),
        total - 1,
        "{after}"
    );
    assert_eq!(after["decisionsTotal"].as_i64().unwrap(), total);
    assert_eq!(after["completed"], false);
    let mut per_identity: HashMap<&str, usize> = HashMap::new();
    for (_, who) in &items {
        *per_identity.entry(who.as_str()).or_default() += 1;
    }
    let incomplete: HashSet<&str> = HashSet::from([left_out.1.as_str()]);
    assert_eq!(
        after["identitiesTotal"].as_i64().unwrap(),
        per_identity.len() as i64
    );
    assert_eq!(
        after["identitiesCompleted"].as_i64().unwrap(),
        (per_identity.len() - incomplete.len()) as i64,
        "{after}"
    );
    // The item listing agrees with the counters.
    let (_, open) = api
        .call(
            first,
            reqwest::Method::GET,
            &format!("/v3/certifications/{cid}/access-review-items?filters=completed%20eq%20false"),
            &token,
            None,
        )
        .await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(open[0]["id"], left_out.0.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_decisions_keep_exact_counters_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let database = db(dir.path());
    ok(recert().args(["--database", &database, "demo", "--identities", "300"]));
    let (server, _log) = Server::start_with(&database, &[], NO_LIMIT);
    decide_concurrently(&database, std::slice::from_ref(&server)).await;
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_decisions_through_two_processes_keep_exact_counters_on_postgresql() {
    let Some(pg) = recert_store_postgres::testing::TestDatabase::create().await else {
        return;
    };
    let url = pg.url().to_owned();
    ok(recert().args(["--database", &url, "demo", "--identities", "300"]));
    let (a, _) = Server::start_with(&url, &[], NO_LIMIT);
    let (b, _) = Server::start_with(&url, &[], NO_LIMIT);
    let servers = [a, b];
    decide_concurrently(&url, &servers).await;
    for s in servers {
        assert!(s.terminate().success());
    }
}
