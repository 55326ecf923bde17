//! `review`: the reviewer API measured over HTTP against a running `recert serve`.
//!
//! Set-up (through the API, as an administrator client): a MANAGER campaign over the whole
//! organisation (the ~2.3-million-item campaign) and K SEARCH campaigns over the identities
//! listed in `--search-identities`, reviewed by `--search-reviewer` (one certification each, of
//! about 10,000 items), all generated and activated. Then, measured with this module's own
//! HTTP/1.1 client (`loadgen`):
//!
//! 1. list-items latency: N sequential `GET .../access-review-items?limit=250&filters=completed
//!    eq false&sorters=access.name` on the first SEARCH certification, and on the certification
//!    of the MANAGER campaign nearest 10,000 items and its largest one; on the first page, and
//!    cycling over every page (at most 100 requests on a certification over 20,000 items); then,
//!    to see where the time goes, the first page with the filter alone and with neither;
//! 2. throughput, closed loop at concurrency C for S seconds, R rounds: a bare axum handler
//!    (`recert-bench bare-serve`, another process) answering the exact bytes recert answered for
//!    get-certification, then recert's get-certification, then the bare handler answering the
//!    bytes of recert's list-items page, then recert's list-items (first page, as in 1.);
//! 3. decide-250 latency: R sequential decide calls of 250 distinct items on the first SEARCH
//!    certification (cycling over its items, so later passes re-decide);
//! 4. sign-off of every SEARCH certification after all its items are decided (the other
//!    SEARCH certifications are decided batch by batch first; those calls are reported as
//!    decide-250 on items never decided before).
//!
//! Each figure is one row appended to `--results` (TSV), and a line on stderr.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use hyper::StatusCode;
use serde_json::{Value, json};

use crate::loadgen::{self, Conn, Latencies, LoadResult, Req};

#[derive(Debug, Args)]
pub(crate) struct ReviewArgs {
    /// Base URL of the running `recert serve` (start it with RECERT_RATE_LIMIT_ENABLED=false).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:18182")]
    url: String,
    /// An administrator API client (`recert admin client create --role CERT_ADMIN`).
    #[arg(long, value_name = "ID")]
    client_id: String,
    #[arg(long, value_name = "SECRET")]
    client_secret: String,
    /// The server's process id, to report the CPU time it used during the throughput runs.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// A file of identity ids (one per line) for the SEARCH campaigns (about 10,000 items).
    #[arg(long, value_name = "FILE")]
    search_identities: PathBuf,
    /// The identity who reviews the SEARCH campaigns (not one of the identities reviewed).
    #[arg(long, value_name = "ID")]
    search_reviewer: String,
    /// How many SEARCH campaigns (certifications of ~10,000 items) to create: one sign-off
    /// sample each.
    #[arg(long, value_name = "K", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=20))]
    search_campaigns: u32,
    /// Sequential requests per list-items case.
    #[arg(long, value_name = "N", default_value_t = 300)]
    list_samples: usize,
    /// Sequential decide-250 calls on the first SEARCH certification.
    #[arg(long, value_name = "N", default_value_t = 120)]
    decide_runs: usize,
    /// Workers (connections) of the throughput runs.
    #[arg(long, value_name = "C", default_value_t = 32)]
    concurrency: usize,
    /// Seconds per throughput run (after a 1-second warm-up that is not counted).
    #[arg(long, value_name = "S", default_value_t = 10)]
    seconds: u64,
    /// Throughput rounds (bare and recert, get-certification and list-items, in each).
    #[arg(long, value_name = "R", default_value_t = 3)]
    rounds: usize,
    /// Port of the bare axum handler this command starts on 127.0.0.1.
    #[arg(long, value_name = "PORT", default_value_t = 18190)]
    bare_port: u16,
    /// Give up waiting for a campaign to be generated or activated after this many seconds.
    #[arg(long, value_name = "S", default_value_t = 3600)]
    setup_timeout: u64,
    /// Where results are appended (TSV, header written when the file is new).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/tmp/recert-bench/review.tsv"
    )]
    results: PathBuf,
    /// Labels written into every row.
    #[arg(long, default_value = "-")]
    tag: String,
    #[arg(long, default_value = "-")]
    backend: String,
    #[arg(long, default_value = "-")]
    identities: String,
}

const HEADER: &str = "tag\tdate_utc\tbackend\tidentities\tcase\tcertification\tcert_items\t\
campaign_items\tsamples\tp50_ms\tp99_ms\tmean_ms\tmax_ms\trps\tconcurrency\tseconds\terrors\t\
client_cpu_s\tserver_cpu_s\tpostgres_cpu_s\tbody_bytes\tload1\n";

/// One result row.
#[derive(Debug, Default)]
struct Row {
    case: String,
    cert: String,
    cert_items: Option<u64>,
    campaign_items: Option<u64>,
    lat: Option<Latencies>,
    rps: Option<f64>,
    concurrency: Option<usize>,
    seconds: Option<f64>,
    errors: Option<u64>,
    client_cpu: Option<f64>,
    server_cpu: Option<f64>,
    db_cpu: Option<f64>,
    body_bytes: Option<usize>,
}

struct Out<'a> {
    a: &'a ReviewArgs,
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}
fn f3(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_default()
}

impl Out<'_> {
    /// An existing results file must have this version's columns.
    fn check(&self) -> Result<()> {
        let a = self.a;
        if a.results.exists() {
            let first = std::fs::read_to_string(&a.results)
                .ok()
                .and_then(|t| t.lines().next().map(str::to_owned))
                .unwrap_or_default();
            ensure!(
                format!("{first}\n") == HEADER,
                "{} has other columns than this version writes; move it away",
                a.results.display()
            );
        }
        Ok(())
    }

    fn write(&self, r: Row) -> Result<()> {
        let a = self.a;
        let new = !a.results.exists();
        if let Some(dir) = a.results.parent() {
            std::fs::create_dir_all(dir).ok();
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&a.results)
            .with_context(|| format!("cannot open {}", a.results.display()))?;
        if new {
            f.write_all(HEADER.as_bytes())?;
        }
        let load1 = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next().map(str::to_owned))
            .unwrap_or_default();
        let (n, p50, p99, mean, max) = match &r.lat {
            Some(l) => (
                Some(l.0.len()),
                Some(l.pct_ms(0.50)),
                Some(l.pct_ms(0.99)),
                Some(l.mean_ms()),
                Some(l.max_ms()),
            ),
            None => (None, None, None, None, None),
        };
        let line = [
            a.tag.clone(),
            now_utc(),
            a.backend.clone(),
            a.identities.clone(),
            r.case.clone(),
            r.cert.clone(),
            opt(r.cert_items),
            opt(r.campaign_items),
            opt(n),
            f3(p50),
            f3(p99),
            f3(mean),
            f3(max),
            r.rps.map(|v| format!("{v:.1}")).unwrap_or_default(),
            opt(r.concurrency),
            f3(r.seconds),
            opt(r.errors),
            f3(r.client_cpu),
            f3(r.server_cpu),
            f3(r.db_cpu),
            opt(r.body_bytes),
            load1.clone(),
        ]
        .join("\t");
        writeln!(f, "{line}")?;
        let mut msg = format!("{:<58}", r.case);
        if let (Some(n), Some(p50), Some(p99)) = (n, p50, p99) {
            let _ = write!(
                msg,
                " n={n} p50={p50:.2}ms p99={p99:.2}ms max={:.2}ms",
                max.unwrap_or(0.0)
            );
        }
        if let Some(rps) = r.rps {
            let _ = write!(
                msg,
                " {rps:.0} req/s errors={} client_cpu={} server_cpu={}",
                opt(r.errors),
                f3(r.client_cpu),
                f3(r.server_cpu)
            );
            if let Some(db) = r.db_cpu {
                let _ = write!(msg, " postgres_cpu={db:.3}");
            }
        } else if let Some(s) = r.seconds {
            let _ = write!(msg, " {s:.2}s");
            if let Some(cpu) = r.server_cpu {
                let _ = write!(msg, " server_cpu={cpu:.3}");
            }
        }
        eprintln!("{msg} (load {load1})");
        Ok(())
    }
}

fn now_utc() -> String {
    use recert_domain::Clock;
    recert_domain::SystemClock.now().to_string()
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn str_field<'v>(v: &'v Value, k: &str) -> Result<&'v str> {
    v.get(k)
        .and_then(Value::as_str)
        .with_context(|| format!("no string field {k} in {}", short(v)))
}

fn u64_field(v: &Value, k: &str) -> Result<u64> {
    v.get(k)
        .and_then(Value::as_u64)
        .with_context(|| format!("no number field {k} in {}", short(v)))
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    s.chars().take(400).collect()
}

/// Creates a campaign, waits until STAGED, activates it and waits until ACTIVE. Answers its id
/// and the seconds to STAGED and to ACTIVE.
async fn campaign(c: &mut Conn, body: Value, timeout: Duration) -> Result<(String, f64, f64)> {
    let t0 = Instant::now();
    let created = c
        .json(
            &Req::post_json("/v3/campaigns", &body),
            StatusCode::ACCEPTED,
        )
        .await?;
    let id = str_field(&created, "id")?.to_owned();
    wait_status(c, &id, "STAGED", t0, timeout).await?;
    let staged = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    c.expect(
        &Req::post_json(format!("/v3/campaigns/{id}/activate"), &json!({})),
        StatusCode::ACCEPTED,
    )
    .await?;
    wait_status(c, &id, "ACTIVE", t1, timeout).await?;
    Ok((id, staged, t1.elapsed().as_secs_f64()))
}

async fn wait_status(
    c: &mut Conn,
    id: &str,
    want: &str,
    since: Instant,
    timeout: Duration,
) -> Result<()> {
    loop {
        let v = c
            .json(&Req::get(format!("/v3/campaigns/{id}")), StatusCode::OK)
            .await?;
        let status = str_field(&v, "status")?;
        if status == want {
            return Ok(());
        }
        if status == "ERROR" {
            bail!("campaign {id} went to ERROR: {}", short(&v));
        }
        if since.elapsed() > timeout {
            bail!("campaign {id} is still {status} after {timeout:?} (waiting for {want})");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A certification: id and items.
#[derive(Debug, Clone)]
struct Cert {
    id: String,
    items: u64,
}

async fn certifications(c: &mut Conn, campaign: &str) -> Result<Vec<Cert>> {
    let filter = enc(&format!("campaign.id eq \"{campaign}\""));
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = c
            .json(
                &Req::get(format!(
                    "/v3/certifications?filters={filter}&limit=250&offset={offset}"
                )),
                StatusCode::OK,
            )
            .await?;
        let arr = page.as_array().context("certifications: not an array")?;
        for x in arr {
            out.push(Cert {
                id: str_field(x, "id")?.to_owned(),
                items: u64_field(x, "decisionsTotal")?,
            });
        }
        if arr.len() < 250 {
            return Ok(out);
        }
        offset += 250;
    }
}

/// Every item id of a certification, in the default order (item id).
async fn item_ids(c: &mut Conn, cert: &Cert) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(cert.items as usize);
    let mut offset = 0;
    loop {
        let page = c
            .json(
                &Req::get(format!(
                    "/v3/certifications/{}/access-review-items?limit=250&offset={offset}",
                    cert.id
                )),
                StatusCode::OK,
            )
            .await?;
        let arr = page.as_array().context("items: not an array")?;
        for x in arr {
            out.push(str_field(x, "id")?.to_owned());
        }
        if arr.len() < 250 {
            break;
        }
        offset += 250;
    }
    let distinct: HashSet<&String> = out.iter().collect();
    ensure!(
        distinct.len() == out.len() && out.len() as u64 == cert.items,
        "certification {}: paging read {} ids ({} distinct), decisionsTotal is {}",
        cert.id,
        out.len(),
        distinct.len(),
        cert.items
    );
    Ok(out)
}

/// What a list-items request asks besides the page: the measured shape (a filter and a
/// sorter), or, to see where the time goes, the filter alone or neither.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    FilterSorter,
    FilterOnly,
    Plain,
}

fn list_path(cert: &str, offset: u64, shape: Shape) -> String {
    let filter = enc("completed eq false");
    let q = match shape {
        Shape::FilterSorter => format!("&filters={filter}&sorters=access.name"),
        Shape::FilterOnly => format!("&filters={filter}"),
        Shape::Plain => String::new(),
    };
    format!("/v3/certifications/{cert}/access-review-items?limit=250&offset={offset}{q}")
}

/// N sequential list-items requests; `all_pages` cycles the offset over every page.
async fn list_latency(
    c: &mut Conn,
    cert: &Cert,
    n: usize,
    all_pages: bool,
    shape: Shape,
) -> Result<Latencies> {
    let pages = cert.items.div_ceil(250).max(1);
    let mut lat = Latencies::default();
    for i in 0..n {
        let page = if all_pages { i as u64 % pages } else { 0 };
        let req = Req::get(list_path(&cert.id, page * 250, shape));
        let t = Instant::now();
        let body = c.expect(&req, StatusCode::OK).await?;
        lat.push(t.elapsed());
        if i < pages as usize {
            // Check the answer's size once per page: 250 items, fewer on the last page.
            let v: Value = serde_json::from_slice(&body)?;
            let want = (cert.items - page * 250).min(250);
            let got = v.as_array().map_or(0, Vec::len) as u64;
            ensure!(
                got == want,
                "list-items page {page} of {} answered {got} items, expected {want}",
                cert.id
            );
        }
    }
    Ok(lat)
}

fn decide_body(batch: &[String], pass: usize) -> Value {
    // Pass 0, 2, ...: every tenth item REVOKE, the rest APPROVE; pass 1, 3, ...: all APPROVE.
    Value::Array(
        batch
            .iter()
            .enumerate()
            .map(|(j, id)| {
                let revoke = pass.is_multiple_of(2) && j.is_multiple_of(10);
                json!({
                    "id": id,
                    "decision": if revoke { "REVOKE" } else { "APPROVE" },
                    "bulk": true,
                    "comments": if revoke { Some("recert-bench review") } else { None },
                })
            })
            .collect(),
    )
}

async fn decide(c: &mut Conn, cert: &Cert, batch: &[String], pass: usize) -> Result<Duration> {
    let req = Req::post_json(
        format!("/v3/certifications/{}/decide", cert.id),
        &decide_body(batch, pass),
    );
    let t = Instant::now();
    c.expect(&req, StatusCode::OK).await?;
    Ok(t.elapsed())
}

async fn sign_off(c: &mut Conn, cert: &Cert) -> Result<Duration> {
    let v = c
        .json(
            &Req::get(format!("/v3/certifications/{}", cert.id)),
            StatusCode::OK,
        )
        .await?;
    ensure!(
        u64_field(&v, "decisionsMade")? == cert.items,
        "certification {} is not fully decided before sign-off: {}",
        cert.id,
        short(&v)
    );
    let req = Req::post_json(
        format!("/v3/certifications/{}/sign-off", cert.id),
        &json!({}),
    );
    let t = Instant::now();
    let v = c.json(&req, StatusCode::OK).await?;
    let d = t.elapsed();
    ensure!(
        str_field(&v, "phase")? == "SIGNED",
        "sign-off of {} answered {}",
        cert.id,
        short(&v)
    );
    Ok(d)
}

/// The bare handler, in its own process (this binary's `bare-serve`), killed on drop.
struct Bare(Child);
impl Drop for Bare {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_bare(
    port: u16,
    body_file: &std::path::Path,
    list_file: &std::path::Path,
) -> Result<(Bare, SocketAddr)> {
    let exe = std::env::current_exe()?;
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(exe)
        .args(["bare-serve", "--listen", &listen, "--body"])
        .arg(body_file)
        .arg("--list-body")
        .arg(list_file)
        .stdin(Stdio::null())
        .spawn()
        .context("cannot start bare-serve")?;
    let bare = Bare(child);
    let addr: SocketAddr = listen.parse()?;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok((bare, addr));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("bare-serve did not listen on {listen}")
}

fn load_row(
    case: String,
    cert: &Cert,
    campaign_items: Option<u64>,
    r: &LoadResult,
    conc: usize,
) -> Row {
    Row {
        case,
        cert: cert.id.clone(),
        cert_items: Some(cert.items),
        campaign_items,
        lat: Some(r.latencies.clone()),
        rps: Some(r.rps()),
        concurrency: Some(conc),
        seconds: Some(r.elapsed.as_secs_f64()),
        errors: Some(r.errors),
        client_cpu: r.client_cpu_s,
        server_cpu: r.server_cpu_s,
        db_cpu: r.db_cpu_s,
        body_bytes: Some(r.body_bytes),
    }
}

/// An access token for the client.
async fn token(c: &mut Conn, client_id: &str, secret: &str) -> Result<String> {
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        enc(client_id),
        enc(secret)
    );
    let tok = c
        .json(&Req::post_form("/oauth/token", form), StatusCode::OK)
        .await?;
    Ok(str_field(&tok, "access_token")?.to_owned())
}

#[derive(Debug, Args)]
pub(crate) struct LoadArgs {
    /// Base URL of the running `recert serve`.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:18182")]
    url: String,
    /// An API client; without one, requests carry no token.
    #[arg(long, value_name = "ID", requires = "client_secret")]
    client_id: Option<String>,
    #[arg(long, value_name = "SECRET")]
    client_secret: Option<String>,
    /// Path and query to GET, e.g. /v3/certifications/ID (query values percent-encoded).
    #[arg(long)]
    path: String,
    #[arg(long, value_name = "C", default_value_t = 32)]
    concurrency: usize,
    #[arg(long, value_name = "S", default_value_t = 10)]
    seconds: u64,
    /// The server's process id, for its CPU time.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// Also report the CPU time of the PostgreSQL processes on this machine.
    #[arg(long)]
    db_cpu: bool,
}

/// `recert-bench load`: one closed-loop run of GET PATH (after a 1-second warm-up), printed as
/// one line of JSON. For looking into a figure of `review` by hand.
pub(crate) async fn load(a: LoadArgs) -> Result<()> {
    let addr = loadgen::resolve(&a.url).await?;
    let token = match (&a.client_id, &a.client_secret) {
        (Some(id), Some(secret)) => Some(token(&mut Conn::new(addr, None)?, id, secret).await?),
        _ => None,
    };
    let req = Req::get(a.path.clone());
    let tok = token.as_deref();
    loadgen::closed_loop(
        addr,
        tok,
        req.clone(),
        a.concurrency,
        Duration::from_secs(1),
        None,
        false,
    )
    .await?;
    let dur = Duration::from_secs(a.seconds);
    let r =
        loadgen::closed_loop(addr, tok, req, a.concurrency, dur, a.server_pid, a.db_cpu).await?;
    println!(
        "{}",
        json!({
            "path": a.path, "concurrency": a.concurrency, "seconds": r.elapsed.as_secs_f64(),
            "requests": r.ok, "errors": r.errors, "rps": r.rps(),
            "p50_ms": r.latencies.pct_ms(0.5), "p99_ms": r.latencies.pct_ms(0.99),
            "client_cpu_s": r.client_cpu_s, "server_cpu_s": r.server_cpu_s,
            "postgres_cpu_s": r.db_cpu_s, "body_bytes": r.body_bytes, "first_error": r.first_error,
        })
    );
    Ok(())
}

/// One throughput run after a 1-second warm-up; PostgreSQL's CPU is counted for recert's
/// server on that backend.
async fn throughput(
    a: &ReviewArgs,
    at: SocketAddr,
    tok: Option<&str>,
    req: &Req,
    pid: Option<u32>,
) -> Result<LoadResult> {
    let with_db = a.backend == "postgres" && pid.is_some() && pid == a.server_pid;
    let warm = Duration::from_secs(1);
    loadgen::closed_loop(at, tok, req.clone(), a.concurrency, warm, pid, false).await?;
    let dur = Duration::from_secs(a.seconds);
    loadgen::closed_loop(at, tok, req.clone(), a.concurrency, dur, pid, with_db).await
}

pub(crate) async fn run(a: ReviewArgs) -> Result<()> {
    let out = Out { a: &a };
    out.check()?;
    let addr = loadgen::resolve(&a.url).await?;
    let timeout = Duration::from_secs(a.setup_timeout);
    let mut c = Conn::new(addr, None)?;
    let token = token(&mut c, &a.client_id, &a.client_secret).await?;
    c.set_token(&token)?;

    let ids: Vec<String> = std::fs::read_to_string(&a.search_identities)
        .with_context(|| format!("cannot read {}", a.search_identities.display()))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    ensure!(
        !ids.is_empty(),
        "{} lists no identity",
        a.search_identities.display()
    );

    // ---- set-up, through the API
    eprintln!("== set-up: MANAGER campaign over the organisation (generation and activation)");
    let (manager, staged, active) = campaign(
        &mut c,
        json!({"name": format!("bench manager {}", a.tag), "type": "MANAGER",
               "deadline": "2099-01-01T00:00:00.000Z"}),
        timeout,
    )
    .await?;
    let mcerts = certifications(&mut c, &manager).await?;
    let m_items: u64 = mcerts.iter().map(|x| x.items).sum();
    let largest = mcerts
        .iter()
        .max_by_key(|x| (x.items, x.id.clone()))
        .cloned()
        .context("the MANAGER campaign has no certification")?;
    let near = mcerts
        .iter()
        .min_by_key(|x| (x.items.abs_diff(10_000), x.id.clone()))
        .cloned()
        .context("the MANAGER campaign has no certification")?;
    let mut sizes: Vec<u64> = mcerts.iter().map(|x| x.items).collect();
    sizes.sort_unstable();
    eprintln!(
        "   campaign {manager}: {} certifications, {m_items} items; largest {} ({} items), \
         nearest 10,000 {} ({} items), median {} items",
        mcerts.len(),
        largest.id,
        largest.items,
        near.id,
        near.items,
        sizes[sizes.len() / 2]
    );
    let none = Cert {
        id: manager.clone(),
        items: m_items,
    };
    for (case, s) in [
        ("setup: MANAGER campaign create to STAGED (s)", staged),
        ("setup: MANAGER campaign activate to ACTIVE (s)", active),
    ] {
        out.write(Row {
            case: case.into(),
            cert: none.id.clone(),
            campaign_items: Some(m_items),
            seconds: Some(s),
            ..Default::default()
        })?;
    }

    let mut search = Vec::new();
    for k in 0..a.search_campaigns {
        eprintln!(
            "== set-up: SEARCH campaign {} of {} ({} identities)",
            k + 1,
            a.search_campaigns,
            ids.len()
        );
        let (id, staged, active) = campaign(
            &mut c,
            json!({"name": format!("bench search {} {}", a.tag, k + 1), "type": "SEARCH",
                   "deadline": "2099-01-01T00:00:00.000Z",
                   "searchCampaignInfo": {"type": "IDENTITY",
                       "reviewer": {"type": "IDENTITY", "id": a.search_reviewer},
                       "identityIds": ids}}),
            timeout,
        )
        .await?;
        let certs = certifications(&mut c, &id).await?;
        ensure!(
            certs.len() == 1,
            "SEARCH campaign {id} has {} certifications, expected one",
            certs.len()
        );
        let cert = certs[0].clone();
        eprintln!(
            "   campaign {id}: certification {} of {} items",
            cert.id, cert.items
        );
        for (case, s) in [
            ("setup: SEARCH campaign create to STAGED (s)", staged),
            ("setup: SEARCH campaign activate to ACTIVE (s)", active),
        ] {
            out.write(Row {
                case: case.into(),
                cert: cert.id.clone(),
                cert_items: Some(cert.items),
                campaign_items: Some(cert.items),
                seconds: Some(s),
                ..Default::default()
            })?;
        }
        search.push(cert);
    }
    let c10k = search[0].clone();

    // ---- 1. list-items latency
    eprintln!(
        "== list-items latency ({} sequential requests per case)",
        a.list_samples
    );
    for cert in [&c10k, &near, &largest] {
        list_latency(&mut c, cert, 20, true, Shape::FilterSorter).await?; // warm-up, not recorded
    }
    let m = Some(m_items);
    let cases = [
        (
            "list-items p1, SEARCH cert",
            &c10k,
            None,
            false,
            Shape::FilterSorter,
        ),
        (
            "list-items all pages, SEARCH cert",
            &c10k,
            None,
            true,
            Shape::FilterSorter,
        ),
        (
            "list-items p1, MANAGER cert nearest 10k",
            &near,
            m,
            false,
            Shape::FilterSorter,
        ),
        (
            "list-items all pages, MANAGER cert nearest 10k",
            &near,
            m,
            true,
            Shape::FilterSorter,
        ),
        (
            "list-items p1, largest MANAGER cert",
            &largest,
            m,
            false,
            Shape::FilterSorter,
        ),
        (
            "list-items all pages, largest MANAGER cert",
            &largest,
            m,
            true,
            Shape::FilterSorter,
        ),
        (
            "diagnosis: list-items p1 filter only, SEARCH cert",
            &c10k,
            None,
            false,
            Shape::FilterOnly,
        ),
        (
            "diagnosis: list-items p1 no filter/sorter, SEARCH cert",
            &c10k,
            None,
            false,
            Shape::Plain,
        ),
    ];
    for (case, cert, campaign_items, all, shape) in cases {
        let n = if cert.items > 20_000 {
            a.list_samples.min(100)
        } else {
            a.list_samples
        };
        let lat = list_latency(&mut c, cert, n, all, shape).await?;
        out.write(Row {
            case: case.into(),
            cert: cert.id.clone(),
            cert_items: Some(cert.items),
            campaign_items: campaign_items.or(Some(cert.items)),
            lat: Some(lat),
            ..Default::default()
        })?;
    }

    // ---- 2. throughput: bare handler, get-certification, list-items
    let get_req = Req::get(format!("/v3/certifications/{}", c10k.id));
    let cert_body = c.expect(&get_req, StatusCode::OK).await?;
    let body_file = a
        .results
        .parent()
        .unwrap_or(std::path::Path::new("/tmp"))
        .join("review-certification.json");
    std::fs::write(&body_file, &cert_body)?;
    let list_req = Req::get(list_path(&c10k.id, 0, Shape::FilterSorter));
    let list_body = c.expect(&list_req, StatusCode::OK).await?;
    let list_file = body_file.with_file_name("review-items-page.json");
    std::fs::write(&list_file, &list_body)?;
    let (bare, bare_addr) = start_bare(a.bare_port, &body_file, &list_file).await?;
    {
        let mut b = Conn::new(bare_addr, None)?;
        for (req, bytes) in [(&get_req, &cert_body), (&list_req, &list_body)] {
            let same = b.expect(req, StatusCode::OK).await?;
            ensure!(
                same == bytes,
                "the bare handler does not answer recert's bytes"
            );
        }
    }
    let bare_pid = bare.0.id();
    // The server's CPU while nobody calls it: background work would be counted below.
    if let Some(pid) = a.server_pid {
        let before = loadgen::cpu_seconds(Some(pid));
        let t = Instant::now();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let used = before
            .zip(loadgen::cpu_seconds(Some(pid)))
            .map(|(x, y)| y - x);
        out.write(Row {
            case: "diagnosis: server CPU while idle".into(),
            seconds: Some(t.elapsed().as_secs_f64()),
            server_cpu: used,
            ..Default::default()
        })?;
    }
    eprintln!(
        "== throughput: {} connections, {} s per run, {} rounds; get-certification body {} bytes, \
         list-items page {} bytes",
        a.concurrency,
        a.seconds,
        a.rounds,
        cert_body.len(),
        list_body.len()
    );
    for round in 1..=a.rounds {
        let runs = [
            (
                "throughput bare axum, get-certification bytes",
                bare_addr,
                None,
                &get_req,
                Some(bare_pid),
            ),
            (
                "throughput get-certification",
                addr,
                Some(token.as_str()),
                &get_req,
                a.server_pid,
            ),
            (
                "throughput bare axum, list-items bytes",
                bare_addr,
                None,
                &list_req,
                Some(bare_pid),
            ),
            (
                "throughput list-items p1",
                addr,
                Some(token.as_str()),
                &list_req,
                a.server_pid,
            ),
        ];
        for (case, at, tok, req, pid) in runs {
            let r = throughput(&a, at, tok, req, pid).await?;
            if let Some(e) = &r.first_error {
                eprintln!("   {case}: {} errors, first: {e}", r.errors);
            }
            out.write(load_row(
                format!("{case} (round {round})"),
                &c10k,
                Some(c10k.items),
                &r,
                a.concurrency,
            ))?;
        }
    }
    drop(bare);
    // Where get-certification's time goes: routing, the request log and a fixed body
    // (/healthz); that plus the token and the client read from the store (/oauth/info).
    for (case, tok, path) in [
        (
            "diagnosis: throughput GET /healthz (no token)",
            None,
            "/healthz",
        ),
        (
            "diagnosis: throughput GET /oauth/info",
            Some(token.as_str()),
            "/oauth/info",
        ),
    ] {
        let r = throughput(&a, addr, tok, &Req::get(path), a.server_pid).await?;
        out.write(load_row(case.into(), &c10k, None, &r, a.concurrency))?;
    }

    // ---- 3. decide-250
    eprintln!("== decide-250: {} sequential calls", a.decide_runs);
    let ids10k = item_ids(&mut c, &c10k).await?;
    let batches: Vec<&[String]> = ids10k.chunks(250).collect();
    let mut lat = Latencies::default();
    for run in 0..a.decide_runs.max(1) {
        let b = run % batches.len();
        lat.push(decide(&mut c, &c10k, batches[b], run / batches.len()).await?);
    }
    // Every item decided at least once before the sign-off (not measured).
    for batch in batches.iter().skip(a.decide_runs.max(1)) {
        decide(&mut c, &c10k, batch, 0).await?;
    }
    out.write(Row {
        case: "decide-250, SEARCH cert (cycling; later passes re-decide)".into(),
        cert: c10k.id.clone(),
        cert_items: Some(c10k.items),
        campaign_items: Some(c10k.items),
        lat: Some(lat),
        ..Default::default()
    })?;

    // ---- 4. sign-off; the other SEARCH certifications decided from scratch first
    let mut first = Latencies::default();
    for cert in &search[1..] {
        let ids = item_ids(&mut c, cert).await?;
        for batch in ids.chunks(250) {
            first.push(decide(&mut c, cert, batch, 0).await?);
        }
    }
    if !first.0.is_empty() {
        out.write(Row {
            case: "decide-250, SEARCH certs 2.., items never decided before".into(),
            cert: search[1].id.clone(),
            cert_items: Some(search[1].items),
            campaign_items: Some(search[1].items),
            lat: Some(first),
            ..Default::default()
        })?;
    }
    for (k, cert) in search.iter().enumerate() {
        let d = sign_off(&mut c, cert).await?;
        let mut l = Latencies::default();
        l.push(d);
        out.write(Row {
            case: format!("sign-off, SEARCH cert {}", k + 1),
            cert: cert.id.clone(),
            cert_items: Some(cert.items),
            campaign_items: Some(cert.items),
            lat: Some(l),
            seconds: Some(d.as_secs_f64()),
            ..Default::default()
        })?;
    }
    eprintln!("== done; rows appended to {}", a.results.display());
    Ok(())
}
