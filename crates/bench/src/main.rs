//! `recert-bench`: tooling for benchmarking recert against the plainest possible load.
//!
//! `raw-load` writes the rows a first `recert import` of a JSON document would write (the
//! records, their member tables and one assignment row per grant) into an empty database that
//! recert's own migrations created, in one transaction, with the fastest plain method of each
//! backend and nothing else: no validation, no diff against the stored state, no upsert, no
//! import log. On SQLite that is single-row prepared `INSERT`s through rusqlite with the same
//! PRAGMAs as recert's store; on PostgreSQL it is `COPY ... FROM STDIN` (text format) straight
//! into each table. `bench/import.sh` runs it beside `recert import` and reports the ratio.
//!
//! `generate` times the generation of a MANAGER campaign over an imported organisation, as the
//! job runner carries it out; `raw-items` is its reference, the same number of `review_items`
//! rows written the plain way. `bench/generate.sh` runs the two and reports the ratio.
//!
//! `review` measures the reviewer API over HTTP against a running `recert serve`, beside a bare
//! axum handler (`bare-serve`) answering the same bytes; `bench/review.sh` runs it.

mod generate;
mod limiter;
mod loadgen;
mod memory;
mod postgres;
mod raw_items;
mod review;
mod sqlite;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use recert_domain::{Clock, Dataset, SystemClock};

#[derive(Debug, Parser)]
#[command(
    name = "recert-bench",
    version,
    about = "Benchmark tooling for recert: raw bulk loads to compare recert's import and campaign \
             generation with"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Insert the rows of an import document into an EMPTY database (migrated here with recert's
    /// own migrations) in one transaction, with no validation, and print one line of JSON:
    /// {"backend", "rows", "seconds_load" (BEGIN to COMMIT done), "seconds_total"}.
    RawLoad(RawLoadArgs),
    /// Create a MANAGER campaign over the organisation already imported into the database and
    /// generate it as recert's job runner does, timed from claiming the job to recording its
    /// outcome; check the result and print one line of JSON: {"backend", "items",
    /// "certifications", "seconds_generate", ...}.
    Generate(GenerateArgs),
    /// Insert ROWS rows shaped like a generation's review items into the review_items table of
    /// an EMPTY database (migrated here with recert's own migrations) in one transaction, and
    /// print one line of JSON: {"backend", "rows", "seconds_load" (BEGIN to COMMIT done), ...}.
    RawItems(RawItemsArgs),
    /// Cost of one rate-limit check (recert's limiter, as each authenticated request pays it):
    /// CHECKS checks spread over 1,000 clients, on one thread and then on two threads sharing
    /// the limiter. Prints one line of JSON per case: {"threads", "checks", "ns_per_check"}.
    Limiter {
        #[arg(long, default_value_t = 5_000_000)]
        checks: u64,
    },
    /// The reviewer API over HTTP against a running `recert serve`: creates a MANAGER campaign
    /// and SEARCH campaigns of about 10,000 items through the API, then measures list-items and
    /// decide-250 latency (p50/p99), sign-off, and requests/s of get-certification and
    /// list-items beside a bare axum handler answering the same bytes (`bare-serve`, started
    /// here), with its own closed-loop HTTP/1.1 load generator. Appends rows to --results.
    Review(Box<review::ReviewArgs>),
    /// One closed-loop run of GET PATH against a running server (the generator of `review`),
    /// printed as one line of JSON: {"rps", "p50_ms", "p99_ms", "client_cpu_s", ...}.
    Load(review::LoadArgs),
    /// A bare axum server answering GET /v3/certifications/{id} and GET /cert with the bytes of
    /// FILE (and GET /v3/certifications/{id}/access-review-items with those of --list-body) as
    /// application/json: no auth, no store, no log (the reference of `review`).
    BareServe {
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:18190")]
        listen: String,
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// The bytes answered to GET /v3/certifications/{id}/access-review-items.
        #[arg(long, value_name = "FILE")]
        list_body: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct RawLoadArgs {
    /// sqlite://PATH or postgres://...
    #[arg(long = "database", value_name = "URL")]
    database: String,
    /// The import document (JSON), e.g. written by `recert demo --output FILE`.
    #[arg(long, value_name = "FILE.json")]
    input: PathBuf,
    /// SQLite page cache in MiB (recert's RECERT_SQLITE_CACHE_MIB; the same default).
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    cache_mib: u32,
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// sqlite://PATH or postgres://..., holding an organisation imported with `recert import`.
    #[arg(long = "database", value_name = "URL")]
    database: String,
    /// The organisation's size, as given to `recert demo` (checked against the database).
    #[arg(long, value_name = "N")]
    identities: Option<u64>,
    /// Reviews the items of people with no (active) manager: `auto` (the identity with no
    /// manager, read from the store), `none`, or an identity id.
    #[arg(long, value_name = "auto|none|ID", default_value = "auto",
          value_parser = generate::parse_fallback)]
    fallback_reviewer: generate::Fallback,
    /// SQLite page cache in MiB (recert's RECERT_SQLITE_CACHE_MIB; the same default).
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    cache_mib: u32,
}

#[derive(Debug, Args)]
struct RawItemsArgs {
    /// sqlite://PATH or postgres://...
    #[arg(long = "database", value_name = "URL")]
    database: String,
    /// How many rows: the items a `generate` run reported.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    rows: u64,
    /// Certifications the rows are spread over (default: one per 20 rows).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    certifications: Option<u64>,
    /// People reviewed the rows are spread over (default: one per 20 rows).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    subjects: Option<u64>,
    /// SQLite page cache in MiB (recert's RECERT_SQLITE_CACHE_MIB; the same default).
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    cache_mib: u32,
}

/// Where the rows go.
#[derive(Debug)]
enum Backend {
    Sqlite(PathBuf),
    Postgres,
}

impl Backend {
    fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            match recert_store_sqlite::path_from_url(url) {
                Some(path) => Ok(Backend::Sqlite(path)),
                None => bail!("'{url}' names no file: expected sqlite://PATH"),
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            bail!("'{url}' is neither a sqlite://PATH nor a postgres:// URL")
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Is any table a raw load writes already non-empty? (SQLite answers 0/1, PostgreSQL a boolean.)
pub(crate) const ANY_ROWS_SQL: &str = "SELECT EXISTS (SELECT 1 FROM identities)
    OR EXISTS (SELECT 1 FROM sources) OR EXISTS (SELECT 1 FROM accounts)
    OR EXISTS (SELECT 1 FROM entitlements) OR EXISTS (SELECT 1 FROM access_profiles)
    OR EXISTS (SELECT 1 FROM access_profile_entitlements) OR EXISTS (SELECT 1 FROM roles)
    OR EXISTS (SELECT 1 FROM role_access_profiles) OR EXISTS (SELECT 1 FROM role_entitlements)
    OR EXISTS (SELECT 1 FROM assignments)";

pub(crate) const NOT_EMPTY: &str =
    "the database already holds data: raw-load needs an empty (freshly created) database";

/// What a load did: rows inserted and the time from BEGIN until COMMIT returned.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub rows: u64,
    pub load: Duration,
}

fn raw_load(args: RawLoadArgs, started: Instant) -> Result<()> {
    let backend = Backend::from_url(&args.database)?;
    let file = args.input.display().to_string();
    let bytes = std::fs::read(&args.input).with_context(|| format!("cannot read {file}"))?;
    let data: Dataset = serde_json::from_slice(&bytes)
        .with_context(|| format!("{file} is not a recert import document (a JSON Dataset)"))?;
    drop(bytes);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    // One timestamp for every row, as recert's import uses its run's time.
    let at = SystemClock.now().to_string();
    let loaded = match &backend {
        Backend::Sqlite(path) => {
            rt.block_on(sqlite::migrate(&args.database, args.cache_mib))?;
            sqlite::load(path, args.cache_mib, &data, &at)?
        }
        Backend::Postgres => rt.block_on(postgres::load(&args.database, &data, &at))?,
    };
    drop(data);
    drop(rt);
    let total = started.elapsed();
    println!(
        "{}",
        serde_json::json!({
            "backend": backend.name(),
            "rows": loaded.rows,
            "seconds_load": loaded.load.as_secs_f64(),
            "seconds_total": total.as_secs_f64(),
        })
    );
    Ok(())
}

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    let out = match cli.command {
        Command::RawLoad(args) => raw_load(args, started),
        Command::Generate(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the tokio runtime")
            .and_then(|rt| rt.block_on(generate::run(args, started))),
        Command::RawItems(args) => raw_items::run(args, started),
        Command::Limiter { checks } => limiter::run(checks),
        Command::Review(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the tokio runtime")
            .and_then(|rt| rt.block_on(review::run(*args))),
        Command::Load(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the tokio runtime")
            .and_then(|rt| rt.block_on(review::load(args))),
        Command::BareServe {
            listen,
            body,
            list_body,
        } => loadgen::bare_serve(&listen, &body, list_body.as_deref()),
    };
    match out {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
