//! The `recert` binary as a user runs it: real processes, a real SQLite file, a real port.

mod common;

use std::io::{BufRead, BufReader};

use common::*;

#[test]
fn default_config_prints_a_commented_example() {
    let out = ok(recert().arg("default-config"));
    for key in [
        "database_url",
        "[server]",
        "listen",
        "[log]",
        "[sqlite]",
        "cache_mib",
        "# ",
    ] {
        assert!(out.contains(key), "{key} missing from:\n{out}");
    }
}

#[test]
fn demo_file_imports_and_reimports_without_change() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.json");
    let out = ok(recert()
        .args(["demo", "--identities", "60", "--seed", "3", "--output"])
        .arg(&file));
    assert!(out.contains("60 identities"), "{out}");
    let first = ok(recert()
        .args(["--database", &db(dir.path()), "import"])
        .arg(&file));
    assert!(
        first.contains("identities: 60 added, 0 changed, 0 removed"),
        "{first}"
    );
    let again = ok(recert()
        .args(["--database", &db(dir.path()), "import"])
        .arg(&file));
    assert!(again.contains("nothing changed"), "{again}");
    assert!(
        again.contains("identities: 0 added, 0 changed, 0 removed"),
        "{again}"
    );
    // The same seed gives the same file.
    let file2 = dir.path().join("org2.json");
    ok(recert()
        .args(["demo", "--identities", "60", "--seed", "3", "--output"])
        .arg(&file2));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(&file2).unwrap()
    );
}

#[test]
fn demo_loads_straight_into_the_database_named_by_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(recert().env("RECERT_DATABASE_URL", db(dir.path())).args([
        "demo",
        "--identities",
        "40",
    ]));
    assert!(out.contains("identities: 40 added"), "{out}");
    assert!(dir.path().join("recert.db").exists());
    let out = ok(recert().args(["--database", &db(dir.path()), "migrate"]));
    assert!(out.contains("up to date"), "{out}");
}

#[test]
fn a_bad_import_fails_with_the_place_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(
        &file,
        r#"{"identities": [{"id": "000000000000000000000000000000a1", "name": "ada", "email": "nope"}]}"#,
    )
    .unwrap();
    let o = run(recert()
        .args(["--database", &db(dir.path()), "import"])
        .arg(&file));
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("identities[0], field email: 'nope' is not a valid email address"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn admin_clients_are_created_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let database = db(dir.path());
    ok(recert().args(["--database", &database, "demo", "--identities", "30"]));
    let o = run(recert().args([
        "--database",
        &database,
        "admin",
        "client",
        "create",
        "--role",
        "ORG_ADMIN",
        "--role",
        "report_admin",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let id = field(&out, "client_id:").to_owned();
    let secret = field(&out, "client_secret:").to_owned();
    assert_eq!(id.len(), 32);
    assert!(
        id.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert!(secret.len() >= 32);
    assert!(stderr(&o).contains("shown only this once"));

    let list = ok(recert().args(["--database", &database, "admin", "client", "list"]));
    assert!(
        list.contains(&id) && list.contains("ORG_ADMIN,REPORT_ADMIN"),
        "{list}"
    );
    assert!(!list.contains(&secret), "the list must never show a secret");

    let o = run(recert().args([
        "--database",
        &database,
        "admin",
        "client",
        "create",
        "--role",
        "USER",
    ]));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("bind it to one with --identity"),
        "{}",
        stderr(&o)
    );
    let o = run(recert().args([
        "--database",
        &database,
        "admin",
        "client",
        "create",
        "--role",
        "GOD",
    ]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("'GOD' is not a role"), "{}", stderr(&o));

    ok(recert().args(["--database", &database, "admin", "client", "revoke", &id]));
    let list = ok(recert().args(["--database", &database, "admin", "client", "list"]));
    assert!(list.contains("revoked"), "{list}");
    let o = run(recert().args(["--database", &database, "admin", "client", "revoke", &id]));
    assert!(stderr(&o).contains("already revoked"), "{}", stderr(&o));
    // The stored hash is not the secret.
    let raw = std::fs::read(dir.path().join("recert.db")).unwrap();
    assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_health_logs_each_request_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let (server, log) = Server::start(&db(dir.path()), &[]);
    let http = recert_core::http::client().build().unwrap();
    let res = http
        .get(format!("http://{}/healthz", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let tracking = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(tracking.len(), 32);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let res = http
        .get(format!(
            "http://{}/readyz?client_secret=hunter2",
            server.addr
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "database": "sqlite"})
    );
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    let log = std::fs::read_to_string(log).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains(&tracking))
        .unwrap_or_else(|| panic!("no log line for {tracking} in:\n{log}"));
    assert!(
        line.contains("path=\"/healthz\"") || line.contains("path=/healthz"),
        "{line}"
    );
    assert!(line.contains("status=200"), "{line}");
    assert!(
        !log.contains("hunter2"),
        "a query string reached the log:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_loads_once_and_prints_working_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let database = db(dir.path());
    let (mut server, _log) = Server::start(&database, &["--demo"]);
    let mut out = String::new();
    let mut reader = BufReader::new(server.child.stdout.take().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        out.push_str(&line);
        if line.contains("/readyz") {
            break;
        }
        line.clear();
    }
    assert!(out.contains("identities: 1000 added"), "{out}");
    assert_eq!(out.matches("client_id:").count(), 2, "{out}");
    assert!(out.contains("Reviewer API client (USER"), "{out}");
    assert!(
        out.contains("/oauth/token") && out.contains("Authorization: Bearer"),
        "{out}"
    );
    // The printed credentials work: a token, then a call with it.
    let id = field(&out, "  client_id:");
    let secret = field(&out, "  client_secret:");
    let http = recert_core::http::client().build().unwrap();
    let token: serde_json::Value = http
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
    let token = token["access_token"].as_str().unwrap();
    let info: serde_json::Value = http
        .get(format!("http://{}/oauth/info", server.addr))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["roles"], serde_json::json!(["ORG_ADMIN"]), "{info}");
    // The printed web sign-in works too, through the form.
    let admin_line = out
        .lines()
        .find(|l| l.trim_start().starts_with("administrator:"))
        .unwrap_or_else(|| panic!("no web administrator sign-in in {out}"));
    let (login, password) = admin_line
        .split_once(':')
        .unwrap()
        .1
        .trim()
        .split_once(" / ")
        .unwrap();
    assert!(out.contains("  reviewer: "), "{out}");
    let browser = recert_core::http::client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = browser
        .get(format!("http://{}/login", server.addr))
        .send()
        .await
        .unwrap();
    let login_cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = form.text().await.unwrap();
    let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &html[at..at + html[at..].find('"').unwrap()];
    let signed = browser
        .post(format!("http://{}/login", server.addr))
        .header("cookie", &login_cookie)
        .form(&[("csrf", csrf), ("login", login), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303, "the printed web sign-in works");
    let session = signed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let campaigns = browser
        .get(format!("http://{}/admin/campaigns", server.addr))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        campaigns.status(),
        200,
        "the administrator reaches the campaign pages"
    );
    assert!(server.terminate().success());
    let list = ok(recert().args(["--database", &database, "admin", "client", "list"]));
    assert!(
        list.contains("ORG_ADMIN") && list.contains("USER"),
        "{list}"
    );
    let (mut again, _log) = Server::start(&database, &["--demo"]);
    let mut first = String::new();
    BufReader::new(again.child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("already holds data"), "{first}");
    assert!(again.terminate().success());
    // Tokens outlive a key rotation; the rotation is listed.
    let keys = ok(recert().args(["--database", &database, "admin", "keys", "list"]));
    assert_eq!(keys.matches("current").count(), 1, "{keys}");
    let rotated = ok(recert().args(["--database", &database, "admin", "keys", "rotate"]));
    assert!(rotated.contains("is now current"), "{rotated}");
    let keys = ok(recert().args(["--database", &database, "admin", "keys", "list"]));
    assert_eq!(keys.matches("retired").count(), 1, "{keys}");
    let (server, _log) = Server::start(&database, &[]);
    let res = http
        .get(format!("http://{}/oauth/info", server.addr))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a token of the retired key stays valid");
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_commands_work_on_postgresql() {
    let Some(pg) = recert_store_postgres::testing::TestDatabase::create().await else {
        return;
    };
    let url = pg.url().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.json");
    ok(recert()
        .args(["demo", "--identities", "80", "--output"])
        .arg(&file));
    let first = ok(recert().args(["--database", &url, "import"]).arg(&file));
    assert!(first.contains("identities: 80 added"), "{first}");
    let again = ok(recert().args(["--database", &url, "import"]).arg(&file));
    assert!(again.contains("nothing changed"), "{again}");
    let out = ok(recert().args([
        "--database",
        &url,
        "admin",
        "client",
        "create",
        "--role",
        "CERT_ADMIN",
    ]));
    assert!(out.contains("client_id:"), "{out}");
    let (server, _log) = Server::start(&url, &[]);
    let body: serde_json::Value = reqwest::get(format!("http://{}/readyz", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["database"], "postgres");
    assert!(server.terminate().success());
}

#[test]
fn a_csv_folder_imports_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("hr");
    std::fs::create_dir(&csv).unwrap();
    std::fs::write(
        csv.join("identities.csv"),
        "id,name,displayName,email,managerId,department\n\
         000000000000000000000000000000a1,ada,Ada,ada@example.com,,Exec\n\
         000000000000000000000000000000b2,bob,Bob,bob@example.com,000000000000000000000000000000a1,Sales\n",
    )
    .unwrap();
    let out = ok(recert()
        .args(["--database", &db(dir.path()), "import"])
        .arg(&csv));
    assert!(
        out.contains("identities: 2 added, 0 changed, 0 removed"),
        "{out}"
    );
    std::fs::write(
        csv.join("identities.csv"),
        "id,name,email\n000000000000000000000000000000a1,ada,ada@example.com\n000000000000000000000000000000b2,,bob@example.com\n",
    )
    .unwrap();
    let o = run(recert()
        .args(["--database", &db(dir.path()), "import"])
        .arg(&csv));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("identities.csv line 3, field name: required field is missing"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(recert()
        .args([
            "--log-format",
            "json",
            "--log-level",
            "info",
            "--database",
            &db(dir.path()),
        ])
        .args(["demo", "--identities", "20"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 3, "{err}");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
    }
}
