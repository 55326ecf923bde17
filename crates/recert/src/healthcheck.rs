//! `recert healthcheck`: asks a running server whether it is ready, for container health checks.
//! A bare HTTP/1.1 GET over TCP: no HTTP client library is worth its build time for this.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::Config;

pub(crate) async fn run(cfg: &Config, url: Option<&str>) -> Result<ExitCode> {
    let url = url
        .map(str::to_owned)
        .unwrap_or_else(|| format!("http://{}/readyz", cfg.server.listen));
    let Some(rest) = url.strip_prefix("http://") else {
        bail!("'{url}' is not an http:// URL");
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let status = tokio::time::timeout(Duration::from_secs(5), async {
        let mut stream = tokio::net::TcpStream::connect(host)
            .await
            .with_context(|| format!("cannot connect to {host}"))?;
        let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await?;
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf).await?;
        let head = String::from_utf8_lossy(&buf);
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .context("not an HTTP answer")?;
        anyhow::Ok(status)
    })
    .await
    .context("no answer within 5 seconds")??;
    if status == 200 {
        println!("ready ({url})");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("not ready ({url}): HTTP {status}");
        Ok(ExitCode::FAILURE)
    }
}
