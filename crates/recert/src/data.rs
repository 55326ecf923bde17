//! `recert import` and `recert demo`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use recert_core::demo::{self, DemoOptions};
use recert_core::import;
use recert_domain::SystemClock;

use crate::config::Config;
use crate::open_store;

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// How many identities.
    #[arg(long, default_value_t = 1000)]
    identities: usize,
    /// The same seed always gives the same organisation.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Write an import document (JSON) here instead of loading the database.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) async fn import(cfg: &Config, path: &Path) -> Result<()> {
    let store = open_store(cfg).await?;
    let report = import::import_path(store.as_ref(), &SystemClock, path).await?;
    println!("imported {} (import {})", report.source, report.run_id);
    for line in report.lines() {
        println!("  {line}");
    }
    if report.summary.unchanged() {
        println!("  nothing changed");
    }
    Ok(())
}

pub(crate) async fn demo(cfg: &Config, args: DemoArgs) -> Result<()> {
    if args.identities == 0 {
        anyhow::bail!("--identities must be at least 1");
    }
    let opts = DemoOptions {
        identities: args.identities,
        seed: args.seed,
    };
    let started = std::time::Instant::now();
    let data = tokio::task::spawn_blocking(move || demo::generate(&opts)).await?;
    tracing::info!(
        identities = data.identities.len(),
        assignments = data.assignments.len(),
        millis = started.elapsed().as_millis() as u64,
        "demo organisation generated"
    );
    match args.output {
        Some(path) => {
            let file = std::fs::File::create(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
            serde_json::to_writer(&mut w, &data)?;
            std::io::Write::flush(&mut w)?;
            println!(
                "wrote {} ({} identities, {} assignments); load it with: recert import {}",
                path.display(),
                data.identities.len(),
                data.assignments.len(),
                path.display()
            );
        }
        None => {
            let store = open_store(cfg).await?;
            let source = format!("demo --identities {} --seed {}", args.identities, args.seed);
            let report =
                import::import_dataset(store.as_ref(), &SystemClock, data, &source).await?;
            println!("loaded the demo organisation (import {})", report.run_id);
            for line in report.lines() {
                println!("  {line}");
            }
        }
    }
    Ok(())
}
