//! Import: loading who-has-what from a JSON document or a folder of CSV files.
//!
//! Each kind present in an import is a complete list of that kind: records missing from it are
//! marked removed. A kind the import leaves out is kept as stored. The whole import is checked
//! against the data as it will be, then applied in one transaction, or refused with every
//! problem named (file, record, field) and nothing changed. Re-importing the same data changes
//! nothing.

mod check;
mod convert;
mod csv;
mod diff;
mod json;
mod problem;
mod raw;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use recert_domain::{Clock, Dataset, Id};
use recert_store::{ImportKind, ImportPlan, ImportSummary, Store, StoreError};

pub use convert::{Converted, Incoming};
pub use problem::{InvalidImport, MAX_PROBLEMS, Origin, Problem};
pub use raw::Document;

use check::{Final, Previous};
use problem::Problems;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub run_id: Id,
    pub source: String,
    pub kinds: Vec<ImportKind>,
    pub summary: ImportSummary,
}

impl ImportReport {
    /// One line per kind the import carried, e.g. `identities: 3 added, 1 changed, 0 removed`.
    pub fn lines(&self) -> Vec<String> {
        self.kinds
            .iter()
            .map(|k| {
                let s = self.summary.get(*k);
                format!(
                    "{}: {} added, {} changed, {} removed",
                    k.json_key(),
                    s.added,
                    s.changed,
                    s.removed
                )
            })
            .collect()
    }
}

/// Why an import did not happen. In every case nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Invalid(#[from] InvalidImport),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads `path`: a folder of CSV files, or a JSON document.
pub fn read(path: &Path) -> Result<Document, ImportError> {
    let name = path.display().to_string();
    if path.is_dir() {
        return Ok(csv::parse_dir(path)?);
    }
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: name.clone(),
        source,
    })?;
    Ok(json::parse(&name, &bytes)?)
}

/// Imports the file or folder at `path`.
pub async fn import_path(
    store: &dyn Store,
    clock: &dyn Clock,
    path: &Path,
) -> Result<ImportReport, ImportError> {
    let started = std::time::Instant::now();
    let owned = path.to_owned();
    let doc = tokio::task::spawn_blocking(move || read(&owned))
        .await
        .map_err(|e| ImportError::Read {
            path: path.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        })??;
    tracing::info!(path = %path.display(), millis = started.elapsed().as_millis() as u64, "import: file read");
    import_document(store, clock, doc, &path.display().to_string()).await
}

/// Imports a parsed document; `source` names it in the import log.
pub async fn import_document(
    store: &dyn Store,
    clock: &dyn Clock,
    doc: Document,
    source: &str,
) -> Result<ImportReport, ImportError> {
    let mut problems = Problems::default();
    let incoming = convert::convert(doc, &mut problems);
    problems.into_result()?;
    import_incoming(store, clock, incoming, source).await
}

/// Imports a whole dataset (every kind present), e.g. generated demo data.
pub async fn import_dataset(
    store: &dyn Store,
    clock: &dyn Clock,
    data: Dataset,
    source: &str,
) -> Result<ImportReport, ImportError> {
    fn all<T>(records: Vec<T>) -> Option<Converted<T>> {
        Some(Converted {
            records,
            origin: Origin::Generated,
        })
    }
    let incoming = Incoming {
        identities: all(data.identities),
        sources: all(data.sources),
        accounts: all(data.accounts),
        entitlements: all(data.entitlements),
        access_profiles: all(data.access_profiles),
        roles: all(data.roles),
        assignments: all(data.assignments),
    };
    import_incoming(store, clock, incoming, source).await
}

fn keep<T>(present: bool, v: Vec<T>) -> Vec<T> {
    if present { v } else { Vec::new() }
}

/// Splits one kind: the import's records go to the final state (and the stored ones stay for the
/// comparison), or, when the import left the kind out, the stored records go to the final state.
fn take<T>(
    incoming: Option<Converted<T>>,
    stored: &mut Vec<T>,
    kind: ImportKind,
    id: impl Fn(&T) -> Id,
    origins: &mut HashMap<ImportKind, Origin>,
    previous: &mut Previous,
) -> Vec<T> {
    match incoming {
        Some(c) => {
            origins.insert(kind, c.origin);
            previous.insert(kind, stored.iter().map(id).collect::<HashSet<Id>>());
            c.records
        }
        None => {
            origins.insert(kind, Origin::Stored);
            std::mem::take(stored)
        }
    }
}

/// Imports converted records: the kinds present replace what is stored, the others are kept.
pub async fn import_incoming(
    store: &dyn Store,
    clock: &dyn Clock,
    incoming: Incoming,
    source: &str,
) -> Result<ImportReport, ImportError> {
    let started = std::time::Instant::now();
    let kinds = incoming.kinds();
    let has = |k| kinds.contains(&k);
    let mut current = store.current_state(true).await?;
    tracing::info!(
        generation = current.generation,
        stored_assignments = current.dataset.assignments.len(),
        millis = started.elapsed().as_millis() as u64,
        "import: current state read"
    );
    let cur = &mut current.dataset;
    let mut origins = HashMap::new();
    let mut previous = Previous::new();
    let dataset = Dataset {
        identities: take(
            incoming.identities,
            &mut cur.identities,
            ImportKind::Identities,
            |x| x.id,
            &mut origins,
            &mut previous,
        ),
        sources: take(
            incoming.sources,
            &mut cur.sources,
            ImportKind::Sources,
            |x| x.id,
            &mut origins,
            &mut previous,
        ),
        accounts: take(
            incoming.accounts,
            &mut cur.accounts,
            ImportKind::Accounts,
            |x| x.id,
            &mut origins,
            &mut previous,
        ),
        entitlements: take(
            incoming.entitlements,
            &mut cur.entitlements,
            ImportKind::Entitlements,
            |x| x.id,
            &mut origins,
            &mut previous,
        ),
        access_profiles: take(
            incoming.access_profiles,
            &mut cur.access_profiles,
            ImportKind::AccessProfiles,
            |x| x.id,
            &mut origins,
            &mut previous,
        ),
        roles: take(
            incoming.roles,
            &mut cur.roles,
            ImportKind::Roles,
            |x| x.id,
            &mut origins,
            &mut previous,
        ),
        assignments: match incoming.assignments {
            Some(c) => {
                origins.insert(ImportKind::Assignments, c.origin);
                c.records
            }
            None => {
                origins.insert(ImportKind::Assignments, Origin::Stored);
                std::mem::take(&mut cur.assignments)
            }
        },
    };
    let fin = Final { dataset, origins };
    let mut problems = Problems::default();
    check::check(&fin, &previous, &mut problems);
    problems.into_result()?;

    let d = fin.dataset;
    let c = current.dataset;
    let (assignments_added, assignments_removed) = if has(ImportKind::Assignments) {
        diff::assignments(d.assignments, c.assignments, current.assignment_ids)
    } else {
        (Vec::new(), Vec::new())
    };
    let plan = ImportPlan {
        run_id: Id::generate(),
        at: clock.now(),
        source: source.to_owned(),
        kinds: kinds.clone(),
        base_generation: current.generation,
        identities: diff::kind(
            keep(has(ImportKind::Identities), d.identities),
            c.identities,
            |x| x.id,
        ),
        sources: diff::kind(keep(has(ImportKind::Sources), d.sources), c.sources, |x| {
            x.id
        }),
        accounts: diff::kind(
            keep(has(ImportKind::Accounts), d.accounts),
            c.accounts,
            |x| x.id,
        ),
        entitlements: diff::kind(
            keep(has(ImportKind::Entitlements), d.entitlements),
            c.entitlements,
            |x| x.id,
        ),
        access_profiles: diff::kind(
            keep(has(ImportKind::AccessProfiles), d.access_profiles),
            c.access_profiles,
            |x| x.id,
        ),
        roles: diff::kind(keep(has(ImportKind::Roles), d.roles), c.roles, |x| x.id),
        assignments_added,
        assignments_removed,
    };
    let summary = plan.summary();
    let run_id = plan.run_id;
    tracing::info!(import.id = %run_id, ?summary, millis = started.elapsed().as_millis() as u64, "import checked; applying");
    store.apply_import(plan).await?;
    tracing::info!(
        import.id = %run_id,
        import.source = source,
        millis = started.elapsed().as_millis() as u64,
        "import applied"
    );
    Ok(ImportReport {
        run_id,
        source: source.to_owned(),
        kinds,
        summary,
    })
}
