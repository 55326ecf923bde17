//! `generate`: one MANAGER campaign over an organisation already imported, generated exactly as
//! the job runner does it in `recert serve` (claim the job, run the campaign job handler with its
//! lease kept alive, record the outcome), timed from the claim to the recorded outcome. The
//! result is then checked against the database, so that a broken run cannot report a fast time.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use recert_core::auth::Principal;
use recert_core::campaigns::{CampaignOptions, Campaigns, JOB_KINDS, NewCampaign};
use recert_core::jobs::Runner;
use recert_domain::campaign::{CampaignStatus, CampaignType, CommentRequirement};
use recert_domain::review::CorrelatedStatus;
use recert_domain::{ClientRole, Clock, Id, JobOutcome, SystemClock};
use recert_store::Store;
use recert_store_postgres::{PostgresOptions, PostgresStore};
use recert_store_sqlite::{SqliteOptions, SqliteStore};
use sqlx::{Connection, PgConnection};

use crate::memory::{self, mib};
use crate::{Backend, GenerateArgs};

/// Who reviews the items of identities without a manager (`--fallback-reviewer`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fallback {
    /// The identity without a manager, read from the store.
    Auto,
    None,
    Id(Id),
}

pub(crate) fn parse_fallback(s: &str) -> Result<Fallback, String> {
    match s {
        "auto" => Ok(Fallback::Auto),
        "none" => Ok(Fallback::None),
        _ => Id::parse(s)
            .map(Fallback::Id)
            .map_err(|_| format!("'{s}' is neither auto, none nor a 32-hex identity id")),
    }
}

/// recert's defaults (`recert default-config`): what `recert serve` would open.
async fn open(url: &str, backend: &Backend, cache_mib: u32) -> Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match backend {
        Backend::Sqlite(_) => {
            let opts = SqliteOptions {
                cache_mib,
                ..Default::default()
            };
            Arc::new(SqliteStore::open_url(url, opts).await?)
        }
        Backend::Postgres => {
            Arc::new(PostgresStore::connect(url, PostgresOptions::default()).await?)
        }
    };
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

/// The identity nobody manages (the top of the demo organisation). `current_state` reads every
/// identity: pass the id instead to keep that memory out of the process's peak.
async fn top_identity(store: &dyn Store) -> Result<Id> {
    let state = store.current_state(false).await?;
    let mut tops = state
        .dataset
        .identities
        .iter()
        .filter(|i| i.manager_id.is_none())
        .map(|i| i.id);
    let Some(top) = tops.next() else {
        bail!("every identity has a manager: pass --fallback-reviewer ID or none");
    };
    let others = tops.count();
    if others > 0 {
        eprintln!(
            "recert-bench: {} identities have no manager; {top} reviews",
            others + 1
        );
    }
    Ok(top)
}

/// One number from the database, read outside the store, for the checks. `sql` binds its
/// text parameters as `$1`, `$2`, ... (rewritten to `?1`, ... for SQLite).
async fn count(url: &str, backend: &Backend, sql: &'static str, args: &[&str]) -> Result<i64> {
    match backend {
        Backend::Sqlite(path) => {
            let conn = crate::sqlite::open(path, 8)?;
            let sql = sql.replace('$', "?");
            Ok(conn.query_row(&sql, rusqlite::params_from_iter(args), |r| r.get(0))?)
        }
        Backend::Postgres => {
            let mut conn = PgConnection::connect(url).await?;
            let query = args.iter().fold(sqlx::query_scalar(sql), |q, a| q.bind(*a));
            let n: i64 = query.fetch_one(&mut conn).await?;
            conn.close().await?;
            Ok(n)
        }
    }
}

/// What a MANAGER campaign covers: every live grant of every live identity.
const CANDIDATES_SQL: &str = "SELECT count(*) FROM assignments a
    JOIN identities i ON i.id = a.identity_id
    WHERE a.removed_at IS NULL AND i.removed_at IS NULL";
const ITEMS_SQL: &str = "SELECT count(*) FROM review_items WHERE campaign_id = $1";

/// The campaign the benchmark generates: every manager reviews their reports' access.
fn manager_campaign() -> NewCampaign {
    NewCampaign {
        name: "Benchmark: every manager".into(),
        description: Some("recert-bench generate".into()),
        deadline: None,
        campaign_type: CampaignType::Manager,
        email_notification_enabled: false,
        auto_revoke_allowed: false,
        recommendations_enabled: false,
        sunset_comments_required: false,
        mandatory_comment_requirement: CommentRequirement::NoDecisions,
        correlated_status: CorrelatedStatus::Correlated,
        config: serde_json::json!({}),
        template_id: None,
    }
}

/// What a checked generation produced.
struct Generated {
    items: i64,
    certifications: i64,
    subjects: i64,
}

/// The checks: the campaign is STAGED, it counts the certifications the store lists, and their
/// decision totals add up to the rows really in review_items.
async fn check(store: &dyn Store, url: &str, backend: &Backend, id: Id) -> Result<Generated> {
    let k = store.campaign(id).await?.context("the campaign is gone")?;
    ensure!(
        k.status == CampaignStatus::Staged,
        "the campaign is {} after generation, not STAGED (alerts: {:?})",
        k.status,
        k.alerts
    );
    let certs = store.campaign_certifications(id).await?;
    ensure!(
        certs.len() as i64 == k.total_certifications,
        "the campaign counts {} certifications, the store lists {}",
        k.total_certifications,
        certs.len()
    );
    let items: i64 = certs.iter().map(|c| c.decisions_total).sum();
    let rows = count(url, backend, ITEMS_SQL, &[&id.to_string()]).await?;
    ensure!(
        rows == items && items > 0,
        "the certifications total {items} decisions, review_items holds {rows} rows"
    );
    Ok(Generated {
        items,
        certifications: k.total_certifications,
        subjects: certs.iter().map(|c| c.identities_total).sum(),
    })
}

pub(crate) async fn run(args: GenerateArgs, started: Instant) -> Result<()> {
    let url = &args.database;
    let backend = Backend::from_url(url)?;
    let store = open(url, &backend, args.cache_mib).await?;
    let counts = store.counts().await?;
    ensure!(
        counts.identities > 0 && counts.assignments > 0,
        "the database holds no organisation: run `recert import` first"
    );
    if let Some(n) = args.identities {
        ensure!(
            counts.identities == n,
            "the database holds {} identities, not the {n} of --identities",
            counts.identities
        );
    }
    let fallback = match args.fallback_reviewer {
        Fallback::Auto => Some(top_identity(store.as_ref()).await?),
        Fallback::None => None,
        Fallback::Id(id) => Some(id),
    };

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let options = CampaignOptions {
        fallback_reviewer: fallback,
    };
    let campaigns = Campaigns::new(store.clone(), clock.clone(), options);
    let admin = Principal {
        client_id: Id::generate(),
        name: "recert-bench".into(),
        roles: vec![ClientRole::CertAdmin],
        identity_id: None,
    };
    let Some(creator) = admin.campaign_creator() else {
        bail!("a CERT_ADMIN principal may not create campaigns");
    };
    let campaign = campaigns
        .create(creator, manager_campaign())
        .await
        .context("creating the campaign")?;

    // As `recert serve` runs jobs: a runner with the campaign handlers and the default lease,
    // which claims the job, runs it while renewing the lease, and records the outcome.
    let jobs = campaigns.jobs();
    let owner = format!("recert-bench-{}", std::process::id());
    let runner = JOB_KINDS
        .iter()
        .fold(Runner::new(store.clone(), clock, owner), |r, kind| {
            r.handle(kind, jobs.clone())
        });
    let before = memory::rss();
    let reset = memory::reset_peak();
    let job_started = Instant::now();
    let ran = runner.run_one().await.context("running the job")?;
    let seconds = job_started.elapsed().as_secs_f64();
    let during = memory::rss();

    let Some((job, outcome)) = ran else {
        bail!("no job was due: the campaign's generation job is missing");
    };
    let job_campaign = job.payload.get("campaignId").and_then(|v| v.as_str());
    ensure!(
        job_campaign == Some(campaign.id.to_string().as_str()),
        "the runner took another job ({} {})",
        job.kind,
        job.payload
    );
    ensure!(
        outcome == JobOutcome::Succeeded,
        "the generation job did not succeed: {outcome:?}"
    );
    let generated = check(store.as_ref(), url, &backend, campaign.id).await?;
    let candidates = count(url, &backend, CANDIDATES_SQL, &[]).await?;

    println!(
        "{}",
        serde_json::json!({
            "backend": backend.name(),
            "identities": counts.identities,
            "items": generated.items,
            "certifications": generated.certifications,
            "subjects": generated.subjects,
            "seconds_generate": seconds,
            "seconds_total": started.elapsed().as_secs_f64(),
            // live grants of live identities; the difference was left out (no reviewer)
            "candidates": candidates,
            "fallback_reviewer": fallback.map(|f| f.to_string()),
            // this process: RSS when the job started, and its peak while the job ran
            // (null when the peak could not be reset; then /usr/bin/time's peak is the one)
            "rss_before_mib": mib(before.now_kib),
            "rss_peak_job_mib": if reset { mib(during.peak_kib) } else { None },
        })
    );
    Ok(())
}
