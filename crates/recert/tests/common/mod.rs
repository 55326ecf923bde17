//! Running the `recert` binary as a user does: real processes, real files, real ports.

#![allow(dead_code)] // each test file uses its own part of it

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn recert() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_recert"));
    // The tests choose their own database and settings; nothing leaks in from the caller.
    for (k, _) in std::env::vars() {
        if k.starts_with("RECERT_") {
            c.env_remove(k);
        }
    }
    c.env("RECERT_LOG_LEVEL", "warn");
    c
}

pub fn run(c: &mut Command) -> Output {
    c.output().expect("run recert")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn ok(c: &mut Command) -> String {
    let o = run(c);
    assert!(o.status.success(), "failed: {}\n{}", stdout(&o), stderr(&o));
    stdout(&o)
}

pub fn db(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("recert.db").display())
}

pub fn field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
        .trim()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Server {
    pub fn start(database: &str, extra: &[&str]) -> (Server, PathBuf) {
        Self::start_with(database, extra, &[])
    }

    /// Starts `recert serve` with extra arguments and `RECERT_*` settings.
    pub fn start_with(database: &str, extra: &[&str], env: &[(&str, &str)]) -> (Server, PathBuf) {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let log = std::env::temp_dir().join(format!("recert-serve-{port}.log"));
        let child = recert()
            .env("RECERT_LOG_LEVEL", "info")
            .args(["--database", database, "serve", "--listen", &addr])
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let o = run(recert().args([
                "healthcheck",
                "--url",
                &format!("http://{}/readyz", server.addr),
            ]));
            if o.status.success() {
                break;
            }
            assert!(Instant::now() < deadline, "server did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        (server, log)
    }

    pub fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A call to a running server's API with a bearer token: its status and JSON body.
pub async fn call(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// A GET that must answer 200: its body.
pub async fn get(http: &reqwest::Client, base: &str, token: &str, path: &str) -> serde_json::Value {
    let (s, v) = call(http, base, token, reqwest::Method::GET, path, None).await;
    assert_eq!(s, 200, "GET {path}: {v}");
    v
}

/// Polls a campaign until it reaches `status` (60 s at most; ERROR fails at once).
pub async fn wait_status(http: &reqwest::Client, base: &str, token: &str, id: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let k = get(http, base, token, &format!("/v3/campaigns/{id}")).await;
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
