//! `recert serve`: the HTTP server, optionally with the demo organisation loaded on first start.

use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use recert_core::auth::Auth;
use recert_core::auth::ratelimit::{RateLimit, RateLimiter};
use recert_core::clients::{self, NewClient};
use recert_core::demo::{self, DemoOptions};
use recert_core::import;
use recert_core::jobs::Runner;
use recert_domain::{ClientRole, Duration, Identity, SystemClock};
use recert_server::AppState;
use recert_store::Store;

use crate::config::{Config, redact_url};
use crate::open_store;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, env = "RECERT_LISTEN", value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// On an empty database, load the demo organisation and create an admin and a reviewer
    /// client, printing their credentials.
    #[arg(long)]
    demo: bool,
}

pub(crate) async fn run(cfg: &Config, args: ServeArgs) -> Result<()> {
    let store = open_store(cfg).await?;
    if args.demo {
        load_demo(store.as_ref(), &cfg.server.listen).await?;
    }
    let listener = tokio::net::TcpListener::bind(&cfg.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.server.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        database = %redact_url(&cfg.database_url),
        backend = store.backend(),
        version = env!("CARGO_PKG_VERSION"),
        "recert is serving"
    );
    let clock: Arc<dyn recert_domain::Clock> = Arc::new(SystemClock);
    let auth = Auth::start(
        store.clone(),
        clock.clone(),
        Duration::seconds(cfg.auth.token_lifetime_seconds),
    )
    .await?;
    let limiter = cfg.rate_limit.enabled.then(|| {
        Arc::new(RateLimiter::new(RateLimit {
            requests: cfg.rate_limit.requests,
            window_millis: i64::from(cfg.rate_limit.window_seconds) * 1000,
        }))
    });
    // One shutdown signal for the HTTP server and the job runner.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        recert_server::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let owner = format!(
        "serve-{}-{}",
        std::process::id(),
        &recert_domain::Id::generate().to_string()[20..]
    );
    tracing::info!(runner = owner, "job runner started");
    let campaigns = recert_core::campaigns::Campaigns::new(
        store.clone(),
        clock.clone(),
        recert_core::campaigns::CampaignOptions {
            fallback_reviewer: cfg.fallback_reviewer(),
        },
    );
    let sender = if cfg.remediation.webhook_url.is_empty() {
        None
    } else {
        Some(
            recert_core::webhook::WebhookSender::new(
                recert_core::webhook::WebhookConfig {
                    url: cfg.remediation.webhook_url.clone(),
                    secret: cfg.remediation.webhook_secret.clone(),
                    timeout: std::time::Duration::from_secs(u64::from(
                        cfg.remediation.webhook_timeout_seconds,
                    )),
                },
                clock.clone(),
            )
            .context("remediation.webhook_url")?,
        )
    };
    let remediation =
        recert_core::remediation::Remediation::new(store.clone(), clock.clone(), sender);
    let mut runner = Runner::new(store.clone(), clock.clone(), owner)
        .with_lease(Duration::seconds(i64::from(cfg.jobs.lease_seconds)));
    let campaign_jobs = campaigns.jobs();
    for kind in recert_core::campaigns::JOB_KINDS {
        runner = runner.handle(kind, campaign_jobs.clone());
    }
    let report_jobs = recert_core::reports::Reports::new(store.clone(), clock.clone()).jobs();
    for kind in recert_core::reports::REPORT_JOB_KINDS {
        runner = runner.handle(kind, report_jobs.clone());
    }
    let certifications =
        recert_core::certifications::Certifications::new(store.clone(), clock.clone());
    let review_jobs = certifications.jobs();
    for kind in recert_core::certifications::REVIEW_JOB_KINDS {
        runner = runner.handle(kind, review_jobs.clone());
    }
    runner = runner.handle(
        recert_core::remediation::DELIVER,
        Arc::new(recert_core::remediation::RemediationJobs(
            remediation.clone(),
        )),
    );
    let jobs =
        tokio::spawn(runner.run(std::time::Duration::from_secs(1), stopped(stop_rx.clone())));
    let auth = Arc::new(auth);
    let awf = recert_core::awf::Awf::new(
        store.clone(),
        clock.clone(),
        auth.clone(),
        cfg.workflows.settings(),
    );
    // The schedules of campaign templates: each due occurrence is enqueued once, whichever
    // process sees it first; overdue certifications expire when so configured.
    let scheduler = {
        let awf = awf.clone();
        let campaigns = campaigns.clone();
        let remediation = remediation.clone();
        let stop = stopped(stop_rx.clone());
        tokio::spawn(async move {
            tokio::pin!(stop);
            loop {
                if let Err(e) = campaigns.run_due_schedules().await {
                    tracing::warn!(error = %e, "campaign schedules could not be checked");
                }
                if let Err(e) = awf.expire_overdue().await {
                    tracing::warn!(error = %e, "overdue certifications could not be expired");
                }
                if let Err(e) = remediation.enqueue_delivery().await {
                    tracing::warn!(error = %e, "remediation deliveries could not be queued");
                }
                tokio::select! {
                    _ = &mut stop => break,
                    _ = tokio::time::sleep(std::time::Duration::from_secs(15)) => {}
                }
            }
        })
    };
    let web = recert_core::web::WebAuth::new(
        store.clone(),
        clock.clone(),
        Duration::hours(i64::from(cfg.web.session_hours)),
    )?
    .with_secure_cookies(cfg.web.public_url.starts_with("https://"));
    let oidc = match cfg.web.oidc() {
        Some(c) => Some(
            recert_core::oidc::Oidc::new(c, store.clone(), clock.clone())
                .map_err(|e| anyhow::anyhow!("web.oidc_issuer: {e}"))?,
        ),
        None => None,
    };
    let state = AppState {
        oidc,
        web,
        awf: awf.clone(),
        store,
        clock,
        auth,
        limiter,
        campaigns,
        certifications,
        remediation,
    };
    recert_server::serve(listener, state, stopped(stop_rx)).await?;
    // The runner finishes the job in hand before it stops.
    let _ = jobs.await;
    let _ = scheduler.await;
    tracing::info!("stopped");
    Ok(())
}

/// A random password for a demo sign-in (shown once).
fn demo_password() -> Result<String> {
    let mut b = [0u8; 12];
    recert_core::web::random_fill(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The reviewer shown in the demo: the manager with the most direct reports after the top.
fn demo_reviewer(identities: &[Identity]) -> Option<&Identity> {
    let mut reports = std::collections::HashMap::new();
    for i in identities {
        if let Some(m) = i.manager_id {
            *reports.entry(m).or_insert(0usize) += 1;
        }
    }
    identities
        .iter()
        .filter(|i| i.manager_id.is_some())
        .max_by_key(|i| {
            (
                reports.get(&i.id).copied().unwrap_or(0),
                std::cmp::Reverse(i.id),
            )
        })
}

async fn load_demo(store: &dyn Store, listen: &str) -> Result<()> {
    if store.counts().await?.identities > 0 {
        println!(
            "The database already holds data; the demo organisation was not loaded again.\n\
             Create a client with: recert admin client create --role ORG_ADMIN"
        );
        return Ok(());
    }
    let data = tokio::task::spawn_blocking(|| demo::generate(&DemoOptions::default())).await?;
    let reviewer = demo_reviewer(&data.identities).cloned();
    // The web's administrator: someone at the top (no manager), with an email.
    let top = data
        .identities
        .iter()
        .find(|i| i.manager_id.is_none() && i.active && i.email.is_some())
        .cloned();
    let report = import::import_dataset(store, &SystemClock, data, "serve --demo").await?;
    println!("Loaded the demo organisation:");
    for line in report.lines() {
        println!("  {line}");
    }
    let admin = clients::create(
        store,
        &SystemClock,
        NewClient {
            name: Some("demo admin".into()),
            roles: vec![ClientRole::OrgAdmin],
            identity_id: None,
        },
    )
    .await?;
    println!("\nAdmin API client (ORG_ADMIN):");
    println!("  client_id: {}", admin.client.id);
    println!("  client_secret: {}", admin.secret);
    let token_help = format!(
        "\nGet a token and make a first call:\n  \
         TOKEN=$(curl -s -X POST http://{listen}/oauth/token \\\n    \
         -d grant_type=client_credentials -d client_id={} -d client_secret={} \\\n    \
         | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n  \
         curl -s -H \"Authorization: Bearer $TOKEN\" http://{listen}/oauth/info",
        admin.client.id, admin.secret
    );
    if let Some(r) = &reviewer {
        let rev = clients::create(
            store,
            &SystemClock,
            NewClient {
                name: Some(format!("demo reviewer {}", r.name)),
                roles: vec![ClientRole::User],
                identity_id: Some(r.id),
            },
        )
        .await?;
        println!(
            "\nReviewer API client (USER, acting as {} <{}>):",
            r.display_name,
            r.email.as_deref().unwrap_or("-")
        );
        println!("  client_id: {}", rev.client.id);
        println!("  client_secret: {}", rev.secret);
    }
    println!("{token_help}");
    // Web sign-ins: the administrator creates and activates a campaign in the pages, the
    // reviewer then reviews it.
    let people = [
        (top.as_ref(), Some(ClientRole::OrgAdmin), "administrator"),
        (reviewer.as_ref(), None, "reviewer"),
    ];
    let mut shown = false;
    for (who, role, what) in people {
        let Some(i) = who else { continue };
        let password = demo_password()?;
        let roles = role.map(|r| vec![r]);
        recert_core::web::set_password(store, &SystemClock, i.id, &password, roles.as_deref())
            .await?;
        if !shown {
            println!("\nWeb sign-in at http://{listen}/login:");
            shown = true;
        }
        println!(
            "  {what}: {} / {password}",
            i.email.as_deref().unwrap_or(&i.name)
        );
    }
    println!("\nThe secrets are shown only this once. Check the server with:");
    println!("  curl -s http://{listen}/readyz\n");
    Ok(())
}
