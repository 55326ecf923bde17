//! The raw PostgreSQL load: one connection, one transaction, one `COPY table (...) FROM STDIN`
//! (text format) per table, streamed in 1 MiB chunks.

use std::time::Instant;

use anyhow::{Context, Result};
use recert_domain::{Dataset, Id};
use recert_store::Store;
use recert_store_postgres::{PostgresOptions, PostgresStore};
use sqlx::{Connection, PgConnection};

use crate::{ANY_ROWS_SQL, Loaded, NOT_EMPTY};

const CHUNK: usize = 1 << 20;

/// One COPY's data in the text format.
pub(crate) struct CopyBuf {
    buf: Vec<u8>,
    first: bool,
}

impl CopyBuf {
    pub(crate) fn new() -> Self {
        CopyBuf {
            buf: Vec::with_capacity(CHUNK + 64 * 1024),
            first: true,
        }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
    }

    pub(crate) fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        for &c in s.as_bytes() {
            match c {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(c),
            }
        }
        self
    }

    pub(crate) fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(b"\\N");
        self
    }

    pub(crate) fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    /// An id needs no escaping: 32 hex characters.
    pub(crate) fn id(&mut self, id: &Id) -> &mut Self {
        let mut b = [0u8; 32];
        self.plain(id.encode(&mut b))
    }

    /// Text known to need no escaping (hex ids, fixed words).
    pub(crate) fn plain(&mut self, s: &str) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(s.as_bytes());
        self
    }

    pub(crate) fn opt_id(&mut self, id: Option<&Id>) -> &mut Self {
        match id {
            Some(id) => self.id(id),
            None => self.null(),
        }
    }

    pub(crate) fn flag(&mut self, v: bool) -> &mut Self {
        self.sep();
        self.buf.push(if v { b't' } else { b'f' });
        self
    }

    pub(crate) fn end(&mut self) {
        self.buf.push(b'\n');
        self.first = true;
    }
}

/// Runs `COPY {table} ({columns}) FROM STDIN` with one row per item, written by `row`. Returns
/// the number of rows the server took.
pub(crate) async fn copy<T>(
    conn: &mut PgConnection,
    table: &str,
    columns: &str,
    items: impl Iterator<Item = T>,
    mut row: impl FnMut(&mut CopyBuf, T) -> Result<()>,
) -> Result<u64> {
    let statement = format!("COPY {table} ({columns}) FROM STDIN");
    let mut copy = conn
        .copy_in_raw(&statement)
        .await
        .with_context(|| format!("starting COPY into {table}"))?;
    let mut w = CopyBuf::new();
    for item in items {
        let sent = match row(&mut w, item) {
            Ok(()) if w.buf.len() < CHUNK => Ok(()),
            Ok(()) => {
                let out = copy.send(w.buf.as_slice()).await.map(|_| ());
                w.buf.clear();
                out.with_context(|| format!("sending COPY data for {table}"))
            }
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            let _ = copy.abort("recert-bench: client error").await;
            return Err(e);
        }
    }
    if !w.buf.is_empty()
        && let Err(e) = copy.send(w.buf.as_slice()).await
    {
        let _ = copy.abort("recert-bench: client error").await;
        return Err(e).with_context(|| format!("sending COPY data for {table}"));
    }
    copy.finish()
        .await
        .with_context(|| format!("COPY into {table}"))
}

/// Creates recert's schema through its own store (a no-op when it is already there).
pub(crate) async fn migrate(url: &str) -> Result<()> {
    let opts = PostgresOptions {
        max_connections: 1,
        ..Default::default()
    };
    let store = PostgresStore::connect(url, opts).await?;
    store.migrate().await.context("migrating the database")?;
    store.close().await;
    Ok(())
}

/// Migrates, then copies every row of `d` in one transaction; the clock runs from BEGIN until
/// COMMIT has returned.
pub(crate) async fn load(url: &str, d: &Dataset, at: &str) -> Result<Loaded> {
    migrate(url).await?;
    let mut conn = PgConnection::connect(url)
        .await
        .context("cannot connect to PostgreSQL")?;
    let any: bool = sqlx::query_scalar(ANY_ROWS_SQL)
        .fetch_one(&mut conn)
        .await
        .context("checking that the database is empty")?;
    if any {
        anyhow::bail!(NOT_EMPTY);
    }

    let started = Instant::now();
    let mut tx = conn.begin().await.context("BEGIN")?;
    let c = &mut *tx;
    let mut rows = 0u64;

    rows += copy(
        c,
        "identities",
        "id, name, display_name, email, manager_id, active, lifecycle_state, attributes, \
         created_at, updated_at",
        d.identities.iter(),
        |w, i| {
            let attributes = serde_json::to_string(&i.attributes)?;
            w.id(&i.id)
                .text(&i.name)
                .text(&i.display_name)
                .opt_text(i.email.as_deref())
                .opt_id(i.manager_id.as_ref())
                .flag(i.active)
                .opt_text(i.lifecycle_state.as_deref())
                .text(&attributes)
                .text(at)
                .text(at)
                .end();
            Ok(())
        },
    )
    .await?;
    rows += copy(
        c,
        "sources",
        "id, name, source_type, description, owner_id, created_at, updated_at",
        d.sources.iter(),
        |w, x| {
            w.id(&x.id)
                .text(&x.name)
                .opt_text(x.source_type.as_deref())
                .opt_text(x.description.as_deref())
                .opt_id(x.owner_id.as_ref())
                .text(at)
                .text(at)
                .end();
            Ok(())
        },
    )
    .await?;
    rows += copy(
        c,
        "accounts",
        "id, source_id, identity_id, native_identity, name, disabled, locked, created_at, \
         updated_at",
        d.accounts.iter(),
        |w, x| {
            w.id(&x.id)
                .id(&x.source_id)
                .opt_id(x.identity_id.as_ref())
                .text(&x.native_identity)
                .text(&x.name)
                .flag(x.disabled)
                .flag(x.locked)
                .text(at)
                .text(at)
                .end();
            Ok(())
        },
    )
    .await?;
    rows += copy(
        c,
        "entitlements",
        "id, source_id, name, attribute_name, attribute_value, description, privileged, \
         owner_id, permissions, created_at, updated_at",
        d.entitlements.iter(),
        |w, x| {
            let permissions = serde_json::to_string(&x.permissions)?;
            w.id(&x.id)
                .id(&x.source_id)
                .text(&x.name)
                .text(&x.attribute_name)
                .text(&x.attribute_value)
                .opt_text(x.description.as_deref())
                .flag(x.privileged)
                .opt_id(x.owner_id.as_ref())
                .text(&permissions)
                .text(at)
                .text(at)
                .end();
            Ok(())
        },
    )
    .await?;
    rows += copy(
        c,
        "access_profiles",
        "id, source_id, name, description, owner_id, created_at, updated_at",
        d.access_profiles.iter(),
        |w, x| {
            w.id(&x.id)
                .id(&x.source_id)
                .text(&x.name)
                .opt_text(x.description.as_deref())
                .opt_id(x.owner_id.as_ref())
                .text(at)
                .text(at)
                .end();
            Ok(())
        },
    )
    .await?;
    rows += copy(
        c,
        "access_profile_entitlements",
        "access_profile_id, entitlement_id",
        d.access_profiles
            .iter()
            .flat_map(|p| p.entitlement_ids.iter().map(move |e| (&p.id, e))),
        pair,
    )
    .await?;
    rows += copy(
        c,
        "roles",
        "id, name, description, owner_id, created_at, updated_at",
        d.roles.iter(),
        |w, x| {
            w.id(&x.id)
                .text(&x.name)
                .opt_text(x.description.as_deref())
                .opt_id(x.owner_id.as_ref())
                .text(at)
                .text(at)
                .end();
            Ok(())
        },
    )
    .await?;
    rows += copy(
        c,
        "role_access_profiles",
        "role_id, access_profile_id",
        d.roles
            .iter()
            .flat_map(|r| r.access_profile_ids.iter().map(move |p| (&r.id, p))),
        pair,
    )
    .await?;
    rows += copy(
        c,
        "role_entitlements",
        "role_id, entitlement_id",
        d.roles
            .iter()
            .flat_map(|r| r.entitlement_ids.iter().map(move |e| (&r.id, e))),
        pair,
    )
    .await?;
    rows += copy(
        c,
        "assignments",
        "id, identity_id, access_type, access_id, account_id, first_seen_at",
        d.assignments.iter(),
        |w, a| {
            w.id(&Id::generate())
                .id(&a.identity_id)
                .text(a.access_type.as_str())
                .id(&a.access_id)
                .opt_id(a.account_id.as_ref())
                .text(at)
                .end();
            Ok(())
        },
    )
    .await?;
    tx.commit()
        .await
        .context("COMMIT (deferred foreign keys are checked here)")?;
    let load = started.elapsed();
    conn.close().await.context("closing the connection")?;
    Ok(Loaded { rows, load })
}

fn pair(w: &mut CopyBuf, (owner, member): (&Id, &Id)) -> Result<()> {
    w.id(owner).id(member).end();
    Ok(())
}
