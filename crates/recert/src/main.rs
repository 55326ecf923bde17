//! The `recert` binary: serve the API, migrate, import data, generate demo data, manage API
//! clients. Errors are reported with `anyhow` here and nowhere else.

mod admin;
mod config;
mod config_web;
mod data;
mod healthcheck;
mod serve;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use recert_store::Store;
use recert_store_postgres::{PostgresOptions, PostgresStore};
use recert_store_sqlite::{SqliteOptions, SqliteStore};

use config::{Config, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "recert",
    version,
    about = "Access certification (user access reviews) in one binary"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// TOML configuration file.
    #[arg(long, global = true, env = "RECERT_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    /// Database: sqlite://PATH (default sqlite://recert.db) or postgres://...
    #[arg(
        long = "database",
        global = true,
        env = "RECERT_DATABASE_URL",
        value_name = "URL"
    )]
    database_url: Option<String>,
    /// Log filter, e.g. info or debug.
    #[arg(long, global = true, env = "RECERT_LOG_LEVEL", value_name = "FILTER")]
    log_level: Option<String>,
    /// Log format: text or json.
    #[arg(long, global = true, env = "RECERT_LOG_FORMAT", value_name = "FORMAT")]
    log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(serve::ServeArgs),
    /// Apply database migrations (also done on every start).
    Migrate,
    /// Import identities, sources, accounts, entitlements, access profiles, roles and assignments
    /// from a JSON file or a folder of CSV files.
    Import {
        /// A .json document or a folder of CSV files.
        path: PathBuf,
    },
    /// Generate a synthetic organisation, into the database or to a file.
    Demo(data::DemoArgs),
    /// Exit 0 when a running server is ready, 1 otherwise.
    Healthcheck {
        /// The readiness URL; defaults to the configured listen address.
        #[arg(long)]
        url: Option<String>,
    },
    /// Print a commented example configuration.
    DefaultConfig,
    /// Administration: API clients.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
}

fn init_logging(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&cfg.log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if cfg.log.format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

/// Opens the configured database and brings its schema up to date.
pub(crate) async fn open_store(cfg: &Config) -> Result<Arc<dyn Store>> {
    let url = &cfg.database_url;
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        let opts = SqliteOptions {
            cache_mib: cfg.sqlite.cache_mib,
            readers: cfg.sqlite.readers,
        };
        Arc::new(SqliteStore::open_url(url, opts).await?)
    } else {
        let opts = PostgresOptions {
            max_connections: cfg.postgres.max_connections,
            ..Default::default()
        };
        Arc::new(PostgresStore::connect(url, opts).await?)
    };
    let applied = store
        .migrate()
        .await
        .with_context(|| format!("migrating {}", config::redact_url(url)))?;
    for name in &applied {
        tracing::info!(migration = name, "migration applied");
    }
    Ok(store)
}

/// mimalloc: the request path allocates many small, short-lived buffers from several threads,
/// where glibc's allocator spent a tenth of the server's CPU (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    let overrides = Overrides {
        database_url: cli.global.database_url.clone(),
        listen: match &cli.command {
            Command::Serve(a) => a.listen.clone(),
            _ => None,
        },
        log_level: cli.global.log_level.clone(),
        log_format: cli.global.log_format.clone(),
    };
    let env = |k: &str| std::env::var(k).ok();
    let cfg = Config::load(cli.global.config.as_deref(), &env, &overrides)?;
    if let Command::DefaultConfig = cli.command {
        print!("{}", config::EXAMPLE);
        return Ok(std::process::ExitCode::SUCCESS);
    }
    init_logging(&cfg);
    match cli.command {
        Command::Serve(args) => serve::run(&cfg, args).await?,
        Command::Migrate => {
            let store = open_store(&cfg).await?;
            println!(
                "database {} ({}) is up to date",
                config::redact_url(&cfg.database_url),
                store.backend()
            );
        }
        Command::Import { path } => data::import(&cfg, &path).await?,
        Command::Demo(args) => data::demo(&cfg, args).await?,
        Command::Healthcheck { url } => return healthcheck::run(&cfg, url.as_deref()).await,
        Command::Admin { command } => admin::run(&cfg, command).await?,
        Command::DefaultConfig => {}
    }
    Ok(std::process::ExitCode::SUCCESS)
}
