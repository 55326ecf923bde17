//! `raw-items`: the reference a campaign generation is compared with. The plainest possible
//! write of N rows shaped like `review_items` rows, into recert's real `review_items` table of
//! an EMPTY database, in one transaction: the same columns and value sizes as a generation
//! writes (32-hex ids made of a prefix and a counter, in key order; a certification and a
//! person reviewed shared by consecutive rows; 32-hex ids of what is reviewed), and nothing
//! else: no candidate selection, no reviewer resolution, no certifications, no snapshot.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use recert_domain::Id;
use recert_store::campaigns::id_prefix;
use rusqlite::{TransactionBehavior, params};
use sqlx::{Connection, PgConnection};

use crate::postgres::{self, CopyBuf};
use crate::{Backend, Loaded, RawItemsArgs};

const COLUMNS: &str = "id, certification_id, campaign_id, summary_id, subject_id, access_type, \
    access_id, account_id, assignment_id, account_name, account_native_identity, \
    account_source_id, account_disabled, account_locked, new_access, access_name, source_name, \
    subject_name";
const NOT_EMPTY: &str = "review_items already holds rows: raw-items needs an empty (freshly \
    created and migrated) database";

/// The values of one row; the ids are ASCII hex.
struct Row {
    id: [u8; 32],
    certification: [u8; 32],
    summary: [u8; 32],
    subject: [u8; 32],
    access: [u8; 32],
    account: [u8; 32],
    assignment: [u8; 32],
    access_type: &'static str,
    has_account: bool,
    /// The account's snapshot, as a generation copies it into the item.
    account_name: String,
    native_identity: String,
    source: [u8; 32],
    /// The list keys a generation copies into the item: the access's name, its source's name
    /// and the reviewed person's name.
    access_name: String,
    source_name: String,
    subject_name: String,
}

fn text(b: &[u8; 32]) -> &str {
    // Only ASCII hex digits are ever written.
    std::str::from_utf8(b).unwrap_or_default()
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A generated id: a 16-hex prefix and a 16-hex counter, as recert's generation makes them.
fn counter_id(out: &mut [u8; 32], prefix: &[u8], n: u64) {
    out[..16].copy_from_slice(&prefix[..16]);
    for (i, b) in out[16..].iter_mut().enumerate() {
        *b = HEX[((n >> (60 - 4 * i)) & 0xf) as usize];
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// An id that looks random, the same for the same `seed` (subjects, access, grants).
fn random_id(out: &mut [u8; 32], seed: u64) {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&splitmix(seed).to_be_bytes());
    bytes[8..].copy_from_slice(&splitmix(seed ^ 0x5555_5555_5555_5555).to_be_bytes());
    Id::from_bytes(bytes).encode(out);
}

/// Spreads `rows` rows evenly over `certifications` certifications and `subjects` people
/// reviewed, in the order a generation writes them (by certification, then person).
struct Shape {
    rows: u64,
    certifications: u64,
    subjects: u64,
    item_prefix: String,
    certification_prefix: String,
    summary_prefix: String,
    campaign: String,
}

impl Shape {
    fn new(args: &RawItemsArgs) -> Self {
        let rows = args.rows;
        let per = |n: Option<u64>| n.unwrap_or(rows.div_ceil(20)).clamp(1, rows);
        Shape {
            rows,
            certifications: per(args.certifications),
            subjects: per(args.subjects),
            item_prefix: id_prefix(),
            certification_prefix: id_prefix(),
            summary_prefix: id_prefix(),
            campaign: Id::generate().to_string(),
        }
    }

    /// Which of `n` groups row `i` falls in.
    fn group(&self, i: u64, n: u64) -> u64 {
        (u128::from(i) * u128::from(n) / u128::from(self.rows)) as u64
    }

    fn fill(&self, i: u64, r: &mut Row) {
        let subject = self.group(i, self.subjects);
        counter_id(&mut r.id, self.item_prefix.as_bytes(), i + 1);
        counter_id(
            &mut r.certification,
            self.certification_prefix.as_bytes(),
            self.group(i, self.certifications) + 1,
        );
        counter_id(&mut r.summary, self.summary_prefix.as_bytes(), subject + 1);
        random_id(&mut r.subject, subject);
        // The demo organisation's mix: 84% entitlements, 10% access profiles, 5% roles (the
        // only grants without an account).
        (r.access_type, r.has_account) = match i % 20 {
            0 => ("ROLE", false),
            1 | 2 => ("ACCESS_PROFILE", true),
            _ => ("ENTITLEMENT", true),
        };
        random_id(&mut r.access, (1 << 40) + i % 20_000);
        random_id(&mut r.account, (2 << 40) + subject * 8 + i % 8);
        random_id(&mut r.assignment, (3 << 40) + i);
        random_id(&mut r.source, (4 << 40) + i % 40);
        use std::fmt::Write;
        r.account_name.clear();
        let _ = write!(r.account_name, "user.{subject:07}");
        r.native_identity.clear();
        let _ = write!(
            r.native_identity,
            "CN=user.{subject:07},OU=People,DC=example,DC=com"
        );
        r.access_name.clear();
        let _ = write!(r.access_name, "Access group {:05}", i % 20_000);
        r.source_name.clear();
        let _ = write!(r.source_name, "Source {:02}", i % 40);
        r.subject_name.clear();
        let _ = write!(r.subject_name, "Person {subject:07}");
    }
}

fn blank() -> Row {
    Row {
        id: [b'0'; 32],
        certification: [b'0'; 32],
        summary: [b'0'; 32],
        subject: [b'0'; 32],
        access: [b'0'; 32],
        account: [b'0'; 32],
        assignment: [b'0'; 32],
        access_type: "ENTITLEMENT",
        has_account: true,
        account_name: String::new(),
        native_identity: String::new(),
        source: [b'0'; 32],
        access_name: String::new(),
        source_name: String::new(),
        subject_name: String::new(),
    }
}

/// SQLite: recert's PRAGMAs, `BEGIN IMMEDIATE`, one prepared single-row INSERT per row.
fn load_sqlite(path: &std::path::Path, cache_mib: u32, shape: &Shape) -> Result<Loaded> {
    let mut conn = crate::sqlite::open(path, cache_mib)?;
    let any: bool = conn
        .query_row("SELECT EXISTS (SELECT 1 FROM review_items)", [], |r| {
            r.get(0)
        })
        .context("checking that review_items is empty (was the database migrated?)")?;
    if any {
        bail!(NOT_EMPTY);
    }
    let started = Instant::now();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .context("BEGIN")?;
    let mut rows = 0u64;
    {
        let mut st = tx.prepare(&format!(
            "INSERT INTO review_items ({COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18)"
        ))?;
        let mut r = blank();
        for i in 0..shape.rows {
            shape.fill(i, &mut r);
            rows += st
                .execute(params![
                    text(&r.id),
                    text(&r.certification),
                    shape.campaign,
                    text(&r.summary),
                    text(&r.subject),
                    r.access_type,
                    text(&r.access),
                    r.has_account.then(|| text(&r.account)),
                    text(&r.assignment),
                    r.has_account.then_some(r.account_name.as_str()),
                    r.has_account.then_some(r.native_identity.as_str()),
                    r.has_account.then(|| text(&r.source)),
                    r.has_account.then_some(0),
                    r.has_account.then_some(0),
                    0,
                    r.access_name,
                    (r.access_type != "ROLE").then_some(r.source_name.as_str()),
                    r.subject_name,
                ])
                .with_context(|| format!("inserting review item {i}"))? as u64;
        }
    }
    tx.commit().context("COMMIT")?;
    let load = started.elapsed();
    conn.close()
        .map_err(|(_, e)| e)
        .context("closing the database")?;
    Ok(Loaded { rows, load })
}

/// PostgreSQL: one transaction, one `COPY review_items (...) FROM STDIN` in the text format.
async fn load_postgres(url: &str, shape: &Shape) -> Result<Loaded> {
    postgres::migrate(url).await?;
    let mut conn = PgConnection::connect(url)
        .await
        .context("cannot connect to PostgreSQL")?;
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM review_items)")
        .fetch_one(&mut conn)
        .await
        .context("checking that review_items is empty")?;
    if any {
        bail!(NOT_EMPTY);
    }
    let started = Instant::now();
    let mut tx = conn.begin().await.context("BEGIN")?;
    let mut r = blank();
    let rows = postgres::copy(
        &mut tx,
        "review_items",
        COLUMNS,
        0..shape.rows,
        |w: &mut CopyBuf, i| {
            shape.fill(i, &mut r);
            w.plain(text(&r.id))
                .plain(text(&r.certification))
                .plain(&shape.campaign)
                .plain(text(&r.summary))
                .plain(text(&r.subject))
                .plain(r.access_type)
                .plain(text(&r.access));
            if r.has_account {
                w.plain(text(&r.account));
            } else {
                w.null();
            }
            w.plain(text(&r.assignment));
            if r.has_account {
                w.plain(&r.account_name)
                    .plain(&r.native_identity)
                    .plain(text(&r.source))
                    .flag(false)
                    .flag(false);
            } else {
                w.null().null().null().null().null();
            }
            w.flag(false).plain(&r.access_name);
            if r.access_type == "ROLE" {
                w.null();
            } else {
                w.plain(&r.source_name);
            }
            w.plain(&r.subject_name).end();
            Ok(())
        },
    )
    .await?;
    tx.commit().await.context("COMMIT")?;
    let load = started.elapsed();
    conn.close().await.context("closing the connection")?;
    Ok(Loaded { rows, load })
}

pub(crate) fn run(args: RawItemsArgs, started: Instant) -> Result<()> {
    let backend = Backend::from_url(&args.database)?;
    let shape = Shape::new(&args);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let loaded = match &backend {
        Backend::Sqlite(path) => {
            rt.block_on(crate::sqlite::migrate(&args.database, args.cache_mib))?;
            load_sqlite(path, args.cache_mib, &shape)?
        }
        Backend::Postgres => rt.block_on(load_postgres(&args.database, &shape))?,
    };
    drop(rt);
    println!(
        "{}",
        serde_json::json!({
            "backend": backend.name(),
            "rows": loaded.rows,
            "certifications": shape.certifications,
            "subjects": shape.subjects,
            "seconds_load": loaded.load.as_secs_f64(),
            "seconds_total": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_ids_are_prefix_then_hex_counter() {
        let mut b = [0u8; 32];
        counter_id(&mut b, b"0123456789abcdef", 0x2a);
        assert_eq!(text(&b), "0123456789abcdef000000000000002a");
    }

    #[test]
    fn rows_spread_evenly_over_groups() {
        let args = RawItemsArgs {
            database: String::new(),
            rows: 100,
            certifications: Some(5),
            subjects: None,
            cache_mib: 8,
        };
        let shape = Shape::new(&args);
        assert_eq!(shape.subjects, 5);
        assert_eq!(shape.group(0, 5), 0);
        assert_eq!(shape.group(19, 5), 0);
        assert_eq!(shape.group(20, 5), 1);
        assert_eq!(shape.group(99, 5), 4);
    }
}
