//! The raw SQLite load: one rusqlite connection with recert's PRAGMAs, one `BEGIN IMMEDIATE`
//! transaction, a single-row prepared `INSERT` per table.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use recert_domain::{Dataset, Id};
use recert_store::Store;
use recert_store_sqlite::{SqliteOptions, SqliteStore};
use rusqlite::{Connection, TransactionBehavior, params};

use crate::{ANY_ROWS_SQL, Loaded, NOT_EMPTY};

/// Creates recert's schema through its own store (a no-op when it is already there).
pub(crate) async fn migrate(url: &str, cache_mib: u32) -> Result<()> {
    let opts = SqliteOptions {
        cache_mib,
        readers: 1,
    };
    let store = SqliteStore::open_url(url, opts)
        .await
        .with_context(|| format!("cannot open {url}"))?;
    store
        .migrate()
        .await
        .with_context(|| format!("migrating {url}"))?;
    Ok(())
}

/// The same settings as recert's `open_connection` (crates/store-sqlite/src/lib.rs).
pub(crate) fn open(path: &Path, cache_mib: u32) -> Result<Connection> {
    let conn = Connection::open(path)
        .with_context(|| format!("cannot open SQLite file {}", path.display()))?;
    let cache_kib = i64::from(cache_mib) * 1024;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000;
         PRAGMA cache_size = -{cache_kib};"
    ))
    .context("setting the connection's PRAGMAs")?;
    Ok(conn)
}

fn hex<'a>(id: &Id, buf: &'a mut [u8; 32]) -> &'a str {
    id.encode(buf)
}

fn opt_hex<'a>(id: Option<&Id>, buf: &'a mut [u8; 32]) -> Option<&'a str> {
    id.map(|i| i.encode(buf))
}

/// Inserts every row of `d`; the clock runs from BEGIN until COMMIT has returned. Closing the
/// connection afterwards (the final WAL checkpoint) is outside it but inside the process's time.
pub(crate) fn load(path: &Path, cache_mib: u32, d: &Dataset, at: &str) -> Result<Loaded> {
    let mut conn = open(path, cache_mib)?;
    let any: bool = conn
        .query_row(ANY_ROWS_SQL, [], |r| r.get(0))
        .context("checking that the database is empty (was it migrated?)")?;
    if any {
        anyhow::bail!(NOT_EMPTY);
    }
    let started = Instant::now();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .context("BEGIN")?;
    let mut rows = 0u64;
    let mut b = [[0u8; 32]; 4];

    {
        let mut st = tx.prepare(
            "INSERT INTO identities (id, name, display_name, email, manager_id, active,
                lifecycle_state, attributes, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        )?;
        for i in &d.identities {
            let [b0, b1, ..] = &mut b;
            let json = serde_json::to_string(&i.attributes)?;
            rows +=
                st.execute(params![
                    hex(&i.id, b0),
                    i.name,
                    i.display_name,
                    i.email,
                    opt_hex(i.manager_id.as_ref(), b1),
                    i.active,
                    i.lifecycle_state,
                    json,
                    at
                ])
                .with_context(|| format!("inserting identity {}", i.id))? as u64;
        }
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO sources (id, name, source_type, description, owner_id, created_at,
                updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )?;
        for x in &d.sources {
            let [b0, b1, ..] = &mut b;
            rows += st
                .execute(params![
                    hex(&x.id, b0),
                    x.name,
                    x.source_type,
                    x.description,
                    opt_hex(x.owner_id.as_ref(), b1),
                    at
                ])
                .with_context(|| format!("inserting source {}", x.id))? as u64;
        }
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO accounts (id, source_id, identity_id, native_identity, name, disabled,
                locked, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        )?;
        for x in &d.accounts {
            let [b0, b1, b2, _] = &mut b;
            rows += st
                .execute(params![
                    hex(&x.id, b0),
                    hex(&x.source_id, b1),
                    opt_hex(x.identity_id.as_ref(), b2),
                    x.native_identity,
                    x.name,
                    x.disabled,
                    x.locked,
                    at
                ])
                .with_context(|| format!("inserting account {}", x.id))? as u64;
        }
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO entitlements (id, source_id, name, attribute_name, attribute_value,
                description, privileged, owner_id, permissions, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        )?;
        for x in &d.entitlements {
            let [b0, b1, b2, _] = &mut b;
            let json = serde_json::to_string(&x.permissions)?;
            rows +=
                st.execute(params![
                    hex(&x.id, b0),
                    hex(&x.source_id, b1),
                    x.name,
                    x.attribute_name,
                    x.attribute_value,
                    x.description,
                    x.privileged,
                    opt_hex(x.owner_id.as_ref(), b2),
                    json,
                    at
                ])
                .with_context(|| format!("inserting entitlement {}", x.id))? as u64;
        }
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO access_profiles (id, source_id, name, description, owner_id,
                created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )?;
        let mut members = tx.prepare(
            "INSERT INTO access_profile_entitlements (access_profile_id, entitlement_id)
             VALUES (?1, ?2)",
        )?;
        for x in &d.access_profiles {
            let [b0, b1, b2, _] = &mut b;
            rows += st
                .execute(params![
                    hex(&x.id, b0),
                    hex(&x.source_id, b1),
                    x.name,
                    x.description,
                    opt_hex(x.owner_id.as_ref(), b2),
                    at
                ])
                .with_context(|| format!("inserting access profile {}", x.id))?
                as u64;
            for e in &x.entitlement_ids {
                let [b0, b1, ..] = &mut b;
                rows += members
                    .execute([hex(&x.id, b0), hex(e, b1)])
                    .with_context(|| format!("inserting access profile {} member {e}", x.id))?
                    as u64;
            }
        }
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO roles (id, name, description, owner_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )?;
        let mut profiles = tx.prepare(
            "INSERT INTO role_access_profiles (role_id, access_profile_id) VALUES (?1, ?2)",
        )?;
        let mut entitlements =
            tx.prepare("INSERT INTO role_entitlements (role_id, entitlement_id) VALUES (?1, ?2)")?;
        for x in &d.roles {
            let [b0, b1, ..] = &mut b;
            rows += st
                .execute(params![
                    hex(&x.id, b0),
                    x.name,
                    x.description,
                    opt_hex(x.owner_id.as_ref(), b1),
                    at
                ])
                .with_context(|| format!("inserting role {}", x.id))? as u64;
            for p in &x.access_profile_ids {
                let [b0, b1, ..] = &mut b;
                rows += profiles
                    .execute([hex(&x.id, b0), hex(p, b1)])
                    .with_context(|| format!("inserting role {} access profile {p}", x.id))?
                    as u64;
            }
            for e in &x.entitlement_ids {
                let [b0, b1, ..] = &mut b;
                rows += entitlements
                    .execute([hex(&x.id, b0), hex(e, b1)])
                    .with_context(|| format!("inserting role {} entitlement {e}", x.id))?
                    as u64;
            }
        }
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO assignments (id, identity_id, access_type, access_id, account_id,
                first_seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for a in &d.assignments {
            let [b0, b1, b2, b3] = &mut b;
            rows += st
                .execute(params![
                    hex(&Id::generate(), b0),
                    hex(&a.identity_id, b1),
                    a.access_type.as_str(),
                    hex(&a.access_id, b2),
                    opt_hex(a.account_id.as_ref(), b3),
                    at
                ])
                .with_context(|| {
                    format!(
                        "inserting assignment of {} {} to identity {}",
                        a.access_type, a.access_id, a.identity_id
                    )
                })? as u64;
        }
    }
    tx.commit()
        .context("COMMIT (deferred foreign keys are checked here)")?;
    let load = started.elapsed();
    conn.close()
        .map_err(|(_, e)| e)
        .context("closing the database")?;
    Ok(Loaded { rows, load })
}
