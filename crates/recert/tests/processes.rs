//! Durable jobs as processes experience them: a `recert serve` killed with SIGKILL in the
//! middle of generating a campaign leaves nothing half-made and the next process finishes the
//! job; two `recert serve` processes on one PostgreSQL generate each campaign exactly once.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// Creates a CERT_ADMIN client and returns a bearer token for it from `server`.
async fn admin_token(database: &str, server: &Server) -> String {
    let out = ok(recert().args([
        "--database",
        database,
        "admin",
        "client",
        "create",
        "--role",
        "CERT_ADMIN",
    ]));
    let (id, secret) = (field(&out, "client_id:"), field(&out, "client_secret:"));
    let res: Value = recert_core::http::client()
        .build()
        .unwrap()
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

async fn create_campaign(server: &Server, token: &str, name: &str) -> String {
    let deadline = "2099-01-01T00:00:00.000Z";
    let res = recert_core::http::client()
        .build()
        .unwrap()
        .post(format!("http://{}/v3/campaigns", server.addr))
        .bearer_auth(token)
        .json(&json!({"name": name, "type": "MANAGER", "deadline": deadline}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn campaign(server: &Server, token: &str, id: &str) -> Value {
    recert_core::http::client()
        .build()
        .unwrap()
        .get(format!("http://{}/v3/campaigns/{id}", server.addr))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn wait_staged(server: &Server, token: &str, id: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let k = campaign(server, token, id).await;
        if k["status"] == "STAGED" {
            return k;
        }
        assert_ne!(k["status"], "ERROR", "{k}");
        assert!(
            Instant::now() < deadline,
            "campaign {id} never became STAGED: {k}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Lines of a server log that record a generation job starting.
fn generation_starts(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("job started") && l.contains("campaign.generate"))
        .count()
}

fn count(c: &rusqlite::Connection, sql: &str, id: &str) -> i64 {
    c.query_row(sql, [id], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_killed_midway_leaves_nothing_and_is_finished_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database = db(dir.path());
    ok(recert().args(["--database", &database, "demo", "--identities", "20000"]));
    let env = [("RECERT_JOBS_LEASE_SECONDS", "3")];
    let (mut server, log) = Server::start_with(&database, &[], &env);
    let token = admin_token(&database, &server).await;
    let id = create_campaign(&server, &token, "killed midway").await;
    // Wait for the runner to start the job, then kill the process without warning.
    let deadline = Instant::now() + Duration::from_secs(30);
    while generation_starts(&log) == 0 {
        assert!(
            Instant::now() < deadline,
            "the generation job never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // Nothing of the campaign's certifications is in the database: the transaction died.
    let file = dir.path().join("recert.db");
    {
        let c = rusqlite::Connection::open(&file).unwrap();
        let status: String = c
            .query_row("SELECT status FROM campaigns WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(status, "PENDING", "killed before the generation committed");
        for table in ["certifications", "campaign_identities", "campaign_access"] {
            let n = count(
                &c,
                &format!("SELECT count(*) FROM {table} WHERE campaign_id = ?1"),
                &id,
            );
            assert_eq!(n, 0, "{table} holds a half campaign");
        }
        assert_eq!(
            count(
                &c,
                "SELECT count(*) FROM review_items WHERE campaign_id = ?1",
                &id
            ),
            0
        );
    }

    // A new process takes the job up once the dead one's lease has run out, and finishes it.
    let (server, _log2) = Server::start_with(&database, &[], &env);
    let k = wait_staged(&server, &token, &id, Duration::from_secs(120)).await;
    assert!(k["totalCertifications"].as_i64().unwrap() > 100, "{k}");
    let c = rusqlite::Connection::open(&file).unwrap();
    let items = count(
        &c,
        "SELECT count(*) FROM review_items WHERE campaign_id = ?1",
        &id,
    );
    let counted = count(
        &c,
        "SELECT sum(decisions_total) FROM certifications WHERE campaign_id = ?1",
        &id,
    );
    let assignments = count(
        &c,
        "SELECT count(*) FROM assignments WHERE removed_at IS NULL AND ?1 <> ''",
        &id,
    );
    assert_eq!(items, counted, "counters match the items");
    assert!(items > 0 && items <= assignments);
    // The job records its outcome just after the campaign's transaction commits.
    let job = |c: &rusqlite::Connection| -> (i64, String) {
        c.query_row(
            "SELECT attempts, state FROM jobs WHERE kind = 'campaign.generate'
             AND json_extract(payload, '$.campaignId') = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut attempts, mut state) = job(&c);
    while state == "RUNNING" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        (attempts, state) = job(&c);
    }
    assert_eq!((attempts, state.as_str()), (2, "SUCCEEDED"));
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgresql_generate_each_campaign_once() {
    let Some(pg) = recert_store_postgres::testing::TestDatabase::create().await else {
        return;
    };
    let url = pg.url().to_owned();
    ok(recert().args(["--database", &url, "demo", "--identities", "400"]));
    let env = [("RECERT_JOBS_LEASE_SECONDS", "5")];
    let (a, log_a) = Server::start_with(&url, &[], &env);
    let (b, log_b) = Server::start_with(&url, &[], &env);
    let token = admin_token(&url, &a).await;
    let mut ids = Vec::new();
    for n in 0..8 {
        let on = if n % 2 == 0 { &a } else { &b };
        ids.push(create_campaign(on, &token, &format!("campaign {n}")).await);
    }
    let mut totals = Vec::new();
    for id in &ids {
        let k = wait_staged(&b, &token, id, Duration::from_secs(60)).await;
        totals.push(k["totalCertifications"].as_i64().unwrap());
    }
    assert!(
        totals.iter().all(|t| *t == totals[0] && *t > 10),
        "{totals:?}"
    );
    // Each job ran once, in one of the two processes.
    assert_eq!(generation_starts(&log_a) + generation_starts(&log_b), 8);
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    // A job records its outcome after the campaign's transaction commits and the review
    // tables' statistics are refreshed.
    let jobs = || async {
        sqlx::query_as::<_, (i32, String)>(
            "SELECT attempts, state FROM jobs WHERE kind = 'campaign.generate'",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut rows = jobs().await;
    while rows.iter().any(|(_, s)| s == "RUNNING") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        rows = jobs().await;
    }
    assert_eq!(rows.len(), 8);
    assert!(
        rows.iter().all(|(n, s)| *n == 1 && s == "SUCCEEDED"),
        "{rows:?}"
    );
    let (items, counted): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM review_items),
                (SELECT sum(decisions_total)::bigint FROM certifications)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(items, counted);
    pool.close().await;
    assert!(a.terminate().success());
    assert!(b.terminate().success());
}
