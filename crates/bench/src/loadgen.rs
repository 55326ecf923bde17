//! A small HTTP/1.1 client and closed-loop load generator for `recert-bench review`, on hyper's
//! connection API (one keep-alive TCP connection per worker, no pool, no TLS), and the bare axum
//! server it compares recert with (`recert-bench bare-serve`).
//!
//! Closed loop: each of C workers sends a request, reads the whole body, records the latency and
//! sends the next, until the deadline. Requests per second = completed requests / elapsed time.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One keep-alive connection to a server; reconnects when the server closed it.
#[derive(Debug)]
pub(crate) struct Conn {
    addr: SocketAddr,
    host: HeaderValue,
    bearer: Option<HeaderValue>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

/// A request as the generator repeats it.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub method: Method,
    pub path: String,
    pub body: Option<(&'static str, Bytes)>,
}

impl Req {
    pub fn get(path: impl Into<String>) -> Self {
        Req {
            method: Method::GET,
            path: path.into(),
            body: None,
        }
    }
    pub fn post_json(path: impl Into<String>, body: &serde_json::Value) -> Self {
        Req {
            method: Method::POST,
            path: path.into(),
            body: Some(("application/json", Bytes::from(body.to_string()))),
        }
    }
    pub fn post_form(path: impl Into<String>, form: String) -> Self {
        Req {
            method: Method::POST,
            path: path.into(),
            body: Some(("application/x-www-form-urlencoded", Bytes::from(form))),
        }
    }
}

/// `http://HOST:PORT[/]` to the address to connect to.
pub(crate) async fn resolve(base: &str) -> Result<SocketAddr> {
    let rest = base
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("'{base}' is not an http:// URL (TLS is not supported here)"))?;
    let hostport = rest.trim_end_matches('/');
    if hostport.contains('/') {
        bail!("'{base}': give the server's base URL, without a path");
    }
    tokio::net::lookup_host(hostport)
        .await
        .with_context(|| format!("cannot resolve {hostport}"))?
        .next()
        .ok_or_else(|| anyhow!("{hostport} resolves to no address"))
}

impl Conn {
    pub fn new(addr: SocketAddr, token: Option<&str>) -> Result<Self> {
        Ok(Conn {
            addr,
            host: HeaderValue::from_str(&addr.to_string())?,
            bearer: token
                .map(|t| HeaderValue::from_str(&format!("Bearer {t}")))
                .transpose()?,
            sender: None,
        })
    }

    pub fn set_token(&mut self, token: &str) -> Result<()> {
        self.bearer = Some(HeaderValue::from_str(&format!("Bearer {token}"))?);
        Ok(())
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("cannot connect to {}", self.addr))?;
            stream.set_nodelay(true)?;
            let (sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("connected above");
        sender.ready().await?;
        Ok(sender)
    }

    /// Sends the request and reads the whole answer.
    pub async fn send(&mut self, r: &Req) -> Result<(StatusCode, Bytes)> {
        let mut b = Request::builder()
            .method(r.method.clone())
            .uri(r.path.as_str())
            .header(HOST, self.host.clone());
        if let Some(t) = &self.bearer {
            b = b.header(AUTHORIZATION, t.clone());
        }
        let body = match &r.body {
            Some((ct, bytes)) => {
                b = b.header(CONTENT_TYPE, *ct);
                Full::new(bytes.clone())
            }
            None => Full::new(Bytes::new()),
        };
        let req = b.body(body)?;
        let sender = self.connect().await?;
        let out = async {
            let resp = sender.send_request(req).await?;
            let status = resp.status();
            let bytes = resp.into_body().collect().await?.to_bytes();
            Ok::<_, anyhow::Error>((status, bytes))
        }
        .await;
        if out.is_err() {
            self.sender = None;
        }
        out
    }

    /// Sends the request; an answer other than `want` is an error quoting the body.
    pub async fn expect(&mut self, r: &Req, want: StatusCode) -> Result<Bytes> {
        let (status, body) = self
            .send(r)
            .await
            .with_context(|| format!("{} {}", r.method, r.path))?;
        if status != want {
            bail!(
                "{} {} answered {status}, not {want}: {}",
                r.method,
                r.path,
                String::from_utf8_lossy(&body[..body.len().min(2000)])
            );
        }
        Ok(body)
    }

    pub async fn json(&mut self, r: &Req, want: StatusCode) -> Result<serde_json::Value> {
        let body = self.expect(r, want).await?;
        serde_json::from_slice(&body).with_context(|| {
            format!(
                "{} {} answered something that is not JSON",
                r.method, r.path
            )
        })
    }
}

/// Latencies in microseconds, and their order statistics.
#[derive(Debug, Default, Clone)]
pub(crate) struct Latencies(pub Vec<u64>);

impl Latencies {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_micros() as u64);
    }
    /// Nearest-rank percentile, in milliseconds.
    pub fn pct_ms(&self, q: f64) -> f64 {
        let mut v = self.0.clone();
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_unstable();
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1] as f64 / 1000.0
    }
    pub fn mean_ms(&self) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        self.0.iter().sum::<u64>() as f64 / self.0.len() as f64 / 1000.0
    }
    pub fn max_ms(&self) -> f64 {
        self.0
            .iter()
            .copied()
            .max()
            .map_or(f64::NAN, |m| m as f64 / 1000.0)
    }
}

/// CPU seconds (user + system) a process has used so far, from /proc (USER_HZ = 100).
pub(crate) fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `after` starts at field 3.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU seconds used so far by all processes named `postgres` on this machine (the server and
/// its backends), when /proc shows them; `None` when there is none.
pub(crate) fn postgres_cpu_seconds() -> Option<f64> {
    let mut total = None;
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end() == "postgres"
            && let Some(s) = cpu_seconds(Some(pid))
        {
            *total.get_or_insert(0.0) += s;
        }
    }
    total
}

/// What a closed-loop run measured.
#[derive(Debug)]
pub(crate) struct LoadResult {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub latencies: Latencies,
    pub body_bytes: usize,
    pub client_cpu_s: Option<f64>,
    pub server_cpu_s: Option<f64>,
    /// CPU of all PostgreSQL processes on this machine during the run (`with_db`).
    pub db_cpu_s: Option<f64>,
    pub first_error: Option<String>,
}

impl LoadResult {
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// C workers, each on its own connection, repeat `req` until `duration` has passed. Answers
/// other than 200 count as errors. `server_pid` is the process whose CPU time is reported;
/// `with_db` adds the CPU time of the PostgreSQL processes on this machine.
pub(crate) async fn closed_loop(
    addr: SocketAddr,
    token: Option<&str>,
    req: Req,
    concurrency: usize,
    duration: Duration,
    server_pid: Option<u32>,
    with_db: bool,
) -> Result<LoadResult> {
    let req = Arc::new(req);
    // Connect every worker first, so that connection set-up is outside the measured time.
    let mut conns = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let mut c = Conn::new(addr, token)?;
        c.connect().await?;
        conns.push(c);
    }
    let client_cpu0 = cpu_seconds(None);
    let server_cpu0 = server_pid.and_then(|p| cpu_seconds(Some(p)));
    let db_cpu0 = if with_db {
        postgres_cpu_seconds()
    } else {
        None
    };
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for mut c in conns {
        let req = Arc::clone(&req);
        tasks.push(tokio::spawn(async move {
            let mut lat = Latencies::default();
            let (mut ok, mut errors, mut bytes, mut first_error) = (0u64, 0u64, 0usize, None);
            while Instant::now() < deadline {
                let t = Instant::now();
                match c.send(&req).await {
                    Ok((StatusCode::OK, body)) => {
                        lat.push(t.elapsed());
                        ok += 1;
                        bytes = body.len();
                    }
                    Ok((status, body)) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| {
                            format!(
                                "{status}: {}",
                                String::from_utf8_lossy(&body[..body.len().min(300)])
                            )
                        });
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            (lat, ok, errors, bytes, first_error)
        }));
    }
    let mut out = LoadResult {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Latencies::default(),
        body_bytes: 0,
        client_cpu_s: None,
        server_cpu_s: None,
        db_cpu_s: None,
        first_error: None,
    };
    for t in tasks {
        let (lat, ok, errors, bytes, first_error) = t.await?;
        out.latencies.0.extend(lat.0);
        out.ok += ok;
        out.errors += errors;
        out.body_bytes = out.body_bytes.max(bytes);
        if out.first_error.is_none() {
            out.first_error = first_error;
        }
    }
    out.elapsed = start.elapsed();
    out.client_cpu_s = client_cpu0.zip(cpu_seconds(None)).map(|(a, b)| b - a);
    out.db_cpu_s = db_cpu0
        .zip(if with_db {
            postgres_cpu_seconds()
        } else {
            None
        })
        .map(|(a, b)| b - a);
    out.server_cpu_s = server_cpu0
        .zip(server_pid.and_then(|p| cpu_seconds(Some(p))))
        .map(|(a, b)| b - a);
    Ok(out)
}

/// `recert-bench bare-serve`: answers `GET /v3/certifications/{id}` (and `GET /cert`) with the
/// bytes of `body_file`, and `GET /v3/certifications/{id}/access-review-items` with those of
/// `list_file` (when given), as `Content-Type: application/json`, nothing else: no auth, no
/// store, no log. Query strings are ignored.
pub(crate) fn bare_serve(listen: &str, body_file: &Path, list_file: Option<&Path>) -> Result<()> {
    use axum::Router;
    use axum::routing::get;

    fn read(p: &Path) -> Result<Bytes> {
        Ok(Bytes::from(
            std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        ))
    }
    fn fixed(b: Bytes) -> axum::routing::MethodRouter {
        get(move || {
            let b = b.clone();
            async move { ([(CONTENT_TYPE, "application/json")], b) }
        })
    }
    let body = read(body_file)?;
    let list = list_file.map(read).transpose()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    rt.block_on(async move {
        let mut app = Router::new()
            .route("/v3/certifications/{id}", fixed(body.clone()))
            .route("/cert", fixed(body));
        if let Some(list) = list {
            app = app.route("/v3/certifications/{id}/access-review-items", fixed(list));
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        axum::serve(listener, app).await?;
        Ok(())
    })
}
