//! Point reads and the small writes (API clients). Bulk import writes live in `import.rs`.

use std::collections::BTreeMap;

use recert_domain::{
    AccessType, ApiClient, Assignment, AssignmentRecord, ClientRole, Id, Identity, SigningKey,
    Timestamp,
};
use recert_store::{Counts, ImportRun, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool, Row};
use time::OffsetDateTime;

use crate::batch::PointReads;
use crate::{db_err, ts};

fn corrupt(table: &'static str, e: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(table, e)
}

pub(crate) fn id(r: &PgRow, col: &str, table: &'static str) -> Result<Id, StoreError> {
    let s: String = r.try_get(col).map_err(db_err)?;
    Id::parse(&s).map_err(|e| corrupt(table, e))
}

pub(crate) fn opt_id(r: &PgRow, col: &str, table: &'static str) -> Result<Option<Id>, StoreError> {
    let s: Option<String> = r.try_get(col).map_err(db_err)?;
    s.map(|s| Id::parse(&s).map_err(|e| corrupt(table, e)))
        .transpose()
}

pub(crate) fn at(r: &PgRow, col: &str) -> Result<Timestamp, StoreError> {
    let t: OffsetDateTime = r.try_get(col).map_err(db_err)?;
    Ok(Timestamp::from_datetime(t))
}

pub(crate) fn opt_at(r: &PgRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    let t: Option<OffsetDateTime> = r.try_get(col).map_err(db_err)?;
    Ok(t.map(Timestamp::from_datetime))
}

/// Reads a JSONB column selected as `col::text`.
pub(crate) fn json<T: serde::de::DeserializeOwned>(
    r: &PgRow,
    col: &str,
    table: &'static str,
) -> Result<T, StoreError> {
    let s: String = r.try_get(col).map_err(db_err)?;
    serde_json::from_str(&s).map_err(|e| corrupt(table, e))
}

pub(crate) fn text(r: &PgRow, col: &str) -> Result<String, StoreError> {
    r.try_get(col).map_err(db_err)
}

pub(crate) fn opt_text(r: &PgRow, col: &str) -> Result<Option<String>, StoreError> {
    r.try_get(col).map_err(db_err)
}

pub(crate) fn flag(r: &PgRow, col: &str) -> Result<bool, StoreError> {
    r.try_get(col).map_err(db_err)
}

pub(crate) fn access_type(r: &PgRow, col: &str) -> Result<AccessType, StoreError> {
    text(r, col)?.parse().map_err(|e| corrupt("assignments", e))
}

pub(crate) async fn counts(pool: &PgPool) -> Result<Counts, StoreError> {
    let r = sqlx::query(
        "SELECT
            (SELECT count(*) FROM identities WHERE removed_at IS NULL) AS identities,
            (SELECT count(*) FROM sources WHERE removed_at IS NULL) AS sources,
            (SELECT count(*) FROM accounts WHERE removed_at IS NULL) AS accounts,
            (SELECT count(*) FROM entitlements WHERE removed_at IS NULL) AS entitlements,
            (SELECT count(*) FROM access_profiles WHERE removed_at IS NULL) AS access_profiles,
            (SELECT count(*) FROM roles WHERE removed_at IS NULL) AS roles,
            (SELECT count(*) FROM assignments WHERE removed_at IS NULL) AS assignments,
            (SELECT count(*) FROM api_clients WHERE revoked_at IS NULL) AS api_clients",
    )
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    let n = |c: &str| -> Result<u64, StoreError> {
        r.try_get::<i64, _>(c).map(|v| v as u64).map_err(db_err)
    };
    Ok(Counts {
        identities: n("identities")?,
        sources: n("sources")?,
        accounts: n("accounts")?,
        entitlements: n("entitlements")?,
        access_profiles: n("access_profiles")?,
        roles: n("roles")?,
        assignments: n("assignments")?,
        api_clients: n("api_clients")?,
    })
}

pub(crate) const IDENTITY_COLUMNS: &str = "id, name, display_name, email, manager_id, active, \
     lifecycle_state, attributes::text AS attributes";

pub(crate) fn identity_from_row(r: &PgRow) -> Result<Identity, StoreError> {
    Ok(Identity {
        id: id(r, "id", "identities")?,
        name: text(r, "name")?,
        display_name: text(r, "display_name")?,
        email: opt_text(r, "email")?,
        manager_id: opt_id(r, "manager_id", "identities")?,
        active: flag(r, "active")?,
        lifecycle_state: opt_text(r, "lifecycle_state")?,
        attributes: json::<BTreeMap<String, String>>(r, "attributes", "identities")?,
    })
}

pub(crate) async fn identity(pool: &PgPool, want: Id) -> Result<Option<Identity>, StoreError> {
    let sql =
        format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE id = $1 AND removed_at IS NULL");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(want.to_string())
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(identity_from_row).transpose()
}

pub(crate) async fn assignment_history(
    pool: &PgPool,
    identity_id: Id,
) -> Result<Vec<AssignmentRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, identity_id, access_type, access_id, account_id,
                first_seen_at, last_seen_at, removed_at
         FROM assignments WHERE identity_id = $1 ORDER BY first_seen_at, id",
    )
    .bind(identity_id.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(AssignmentRecord {
                id: id(r, "id", "assignments")?,
                assignment: Assignment {
                    identity_id: id(r, "identity_id", "assignments")?,
                    access_type: access_type(r, "access_type")?,
                    access_id: id(r, "access_id", "assignments")?,
                    account_id: opt_id(r, "account_id", "assignments")?,
                },
                first_seen_at: at(r, "first_seen_at")?,
                last_seen_at: opt_at(r, "last_seen_at")?,
                removed_at: opt_at(r, "removed_at")?,
            })
        })
        .collect()
}

pub(crate) async fn import_runs(pool: &PgPool, limit: u32) -> Result<Vec<ImportRun>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, at, source, kinds::text AS kinds, summary::text AS summary
         FROM import_runs ORDER BY generation DESC LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(ImportRun {
                id: id(r, "id", "import_runs")?,
                at: at(r, "at")?,
                source: text(r, "source")?,
                kinds: json(r, "kinds", "import_runs")?,
                summary: json(r, "summary", "import_runs")?,
            })
        })
        .collect()
}

pub(crate) async fn create_api_client(pool: &PgPool, c: &ApiClient) -> Result<(), StoreError> {
    let res = sqlx::query(
        "INSERT INTO api_clients (id, name, secret_hash, roles, identity_id, created_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.id.to_string())
    .bind(&c.name)
    .bind(&c.secret_hash)
    .bind(ClientRole::encode_list(&c.roles))
    .bind(c.identity_id.map(|i| i.to_string()))
    .bind(ts(c.created_at))
    .bind(c.revoked_at.map(ts))
    .execute(pool)
    .await;
    match res {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("23505") => Err(
            StoreError::Conflict(format!("an API client with id {} already exists", c.id)),
        ),
        Err(e) => Err(db_err(e)),
    }
}

const CLIENT_COLUMNS: &str = "id, name, secret_hash, roles, identity_id, created_at, revoked_at";

/// The names of [`CLIENT_COLUMNS`] in a row: as they are, or as [`PREFIXED_CLIENT_COLUMNS`]
/// names them beside another table's columns.
const CLIENT_NAMES: [&str; 7] = [
    "id",
    "name",
    "secret_hash",
    "roles",
    "identity_id",
    "created_at",
    "revoked_at",
];
const PREFIXED_CLIENT_NAMES: [&str; 7] = [
    "client_id",
    "client_name",
    "client_secret_hash",
    "client_roles",
    "client_identity_id",
    "client_created_at",
    "client_revoked_at",
];

/// [`CLIENT_COLUMNS`] of `api_clients a`, renamed to [`PREFIXED_CLIENT_NAMES`].
pub(crate) const PREFIXED_CLIENT_COLUMNS: &str = "a.id AS client_id, a.name AS client_name, \
    a.secret_hash AS client_secret_hash, a.roles AS client_roles, \
    a.identity_id AS client_identity_id, a.created_at AS client_created_at, \
    a.revoked_at AS client_revoked_at";

fn client_from_row(r: &PgRow) -> Result<ApiClient, StoreError> {
    client_from_named(r, &CLIENT_NAMES)
}

/// The client of a row read with [`PREFIXED_CLIENT_COLUMNS`], if the row has one.
pub(crate) fn prefixed_client_from_row(r: &PgRow) -> Result<Option<ApiClient>, StoreError> {
    match opt_text(r, PREFIXED_CLIENT_NAMES[0])? {
        Some(_) => client_from_named(r, &PREFIXED_CLIENT_NAMES).map(Some),
        None => Ok(None),
    }
}

fn client_from_named(r: &PgRow, n: &[&str; 7]) -> Result<ApiClient, StoreError> {
    let roles = ClientRole::decode_list(&text(r, n[3])?).map_err(|e| corrupt("api_clients", e))?;
    Ok(ApiClient {
        id: id(r, n[0], "api_clients")?,
        name: text(r, n[1])?,
        secret_hash: text(r, n[2])?,
        roles,
        identity_id: opt_id(r, n[4], "api_clients")?,
        created_at: at(r, n[5])?,
        revoked_at: opt_at(r, n[6])?,
    })
}

/// API clients by id, read in batches (the client of every authenticated request).
pub(crate) fn api_client_reads(pool: &PgPool, max_in_flight: usize) -> PointReads<ApiClient> {
    PointReads::new(
        pool.clone(),
        format!("SELECT {CLIENT_COLUMNS} FROM api_clients WHERE id = ANY($1)"),
        client_from_row,
        max_in_flight,
    )
}

pub(crate) async fn api_clients(pool: &PgPool) -> Result<Vec<ApiClient>, StoreError> {
    let sql = format!("SELECT {CLIENT_COLUMNS} FROM api_clients ORDER BY created_at, id");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    rows.iter().map(client_from_row).collect()
}

pub(crate) async fn revoke_api_client(
    pool: &PgPool,
    want: Id,
    when: Timestamp,
) -> Result<bool, StoreError> {
    let r =
        sqlx::query("UPDATE api_clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(want.to_string())
            .bind(ts(when))
            .execute(pool)
            .await
            .map_err(db_err)?;
    Ok(r.rows_affected() == 1)
}

fn signing_key_from_row(r: &PgRow) -> Result<SigningKey, StoreError> {
    let hex = text(r, "private_key")?;
    Ok(SigningKey {
        kid: id(r, "kid", "signing_keys")?,
        private_key: SigningKey::parse_private_key_hex(&hex)
            .ok_or_else(|| corrupt("signing_keys", "a private key is not 64 hex"))?,
        created_at: at(r, "created_at")?,
        retired_at: opt_at(r, "retired_at")?,
    })
}

pub(crate) async fn signing_keys(pool: &PgPool) -> Result<Vec<SigningKey>, StoreError> {
    let rows = sqlx::query(
        "SELECT kid, private_key, created_at, retired_at FROM signing_keys
         ORDER BY created_at DESC, kid DESC",
    )
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(signing_key_from_row).collect()
}

async fn insert_signing_key(
    conn: &mut sqlx::PgConnection,
    k: &SigningKey,
) -> Result<u64, StoreError> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, algorithm, private_key, created_at, retired_at)
         VALUES ($1, 'EdDSA', $2, $3, NULL) ON CONFLICT DO NOTHING",
    )
    .bind(k.kid.to_string())
    .bind(k.private_key_hex())
    .bind(ts(k.created_at))
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
    .map_err(db_err)
}

pub(crate) async fn ensure_signing_key(
    pool: &PgPool,
    candidate: &SigningKey,
) -> Result<SigningKey, StoreError> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    // ON CONFLICT DO NOTHING against the one-current-key index: the first process wins, the
    // others read its key.
    insert_signing_key(&mut conn, candidate).await?;
    let row = sqlx::query(
        "SELECT kid, private_key, created_at, retired_at FROM signing_keys
         WHERE retired_at IS NULL",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    signing_key_from_row(&row)
}

pub(crate) async fn rotate_signing_key(pool: &PgPool, new: &SigningKey) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
        .bind(ts(new.created_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if insert_signing_key(&mut tx, new).await? != 1 {
        return Err(StoreError::Conflict(format!(
            "signing key {} already exists",
            new.kid
        )));
    }
    tx.commit().await.map_err(db_err)
}

/// Where and how a collection endpoint reads its rows.
pub(crate) struct Listing<T> {
    pub table: &'static str,
    pub columns: &'static str,
    pub column: fn(&str) -> Option<recert_store::sql::Column>,
    pub sort: fn(&str) -> Option<&'static str>,
    pub default_order: &'static str,
    pub order: Order,
    pub from_row: fn(&PgRow) -> Result<T, StoreError>,
}

/// How a listing sorts, and which unique column breaks ties so that pages are stable.
#[derive(Clone, Copy)]
pub(crate) enum Order {
    /// [`recert_store::campaigns::order_by`]: ties broken by the table's `id`.
    IdTie,
    /// [`recert_store::certifications::order_by`] with this tie column (NULLs last ascending).
    Tie(&'static str),
    /// Like `Tie`, and a page first picks its keys (the tie column `key`) from the narrow
    /// `from` (the listing's table without the joins only its columns need), counting them all
    /// on the way when the total is asked for, then reads the full rows of those keys only.
    /// Thousands of rows are filtered and sorted as keys of one table (a large offset does not
    /// spill every column to disk), the joined tables are read for the page's rows only, and
    /// rows are filtered once, not once more to count them.
    KeysFirst {
        key: &'static str,
        from: &'static str,
    },
}

/// A value of a listing's fixed condition.
pub(crate) enum Arg {
    Text(String),
    Texts(Vec<String>),
}

/// A listing's fixed condition (the certification whose items are listed, ...): SQL fragments
/// ANDed before the caller's filter, with parameters of their own numbered from `$1`.
#[derive(Default)]
pub(crate) struct Base {
    conds: Vec<String>,
    args: Vec<Arg>,
}

impl Base {
    /// Binds a value; returns its placeholder.
    pub fn param(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    /// Adds a condition (values only through [`Base::param`]).
    pub fn and(&mut self, cond: impl Into<String>) {
        self.conds.push(cond.into());
    }

    /// The statement with the condition's values, then the filter's. Not kept prepared: a
    /// listing's statement changes with its filter, and a plan made once for any values (which
    /// PostgreSQL switches to after a few runs) does not see how many rows one certification
    /// has, and went from milliseconds to hundreds of them on a big one.
    fn bind<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
        values: &[recert_store::sql::SqlValue],
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        let mut q = q.persistent(false);
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Texts(v) => q.bind(v.clone()),
            };
        }
        crate::params::bind_params(q, values)
    }
}

/// One page of a collection: the filter rendered with bound parameters, the total when asked.
pub(crate) async fn page<T>(
    pool: &PgPool,
    l: &Listing<T>,
    q: &recert_store::ListQuery,
) -> Result<recert_store::Page<T>, StoreError> {
    page_in(pool, l, &Base::default(), q).await
}

/// One page of the rows of a collection that `base` keeps.
pub(crate) async fn page_in<T>(
    pool: &PgPool,
    l: &Listing<T>,
    base: &Base,
    q: &recert_store::ListQuery,
) -> Result<recert_store::Page<T>, StoreError> {
    use recert_store::sql::{Placeholder, render};
    let first = base.args.len() + 1;
    let mut conds = base.conds.clone();
    let mut values = Vec::new();
    if let Some(f) = &q.filter {
        let (cond, v) = render(f, &l.column, Placeholder::Dollar, first)
            .map_err(|e| StoreError::Database(e.0))?;
        conds.push(format!("({cond})"));
        values = v;
    }
    let cond = if conds.is_empty() {
        "TRUE".to_owned()
    } else {
        conds.join(" AND ")
    };
    let counted_from = match l.order {
        Order::KeysFirst { from, .. } => from,
        Order::IdTie | Order::Tie(_) => l.table,
    };
    let count = || async {
        let sql = format!("SELECT count(*) FROM {counted_from} WHERE {cond}");
        let row = base
            .bind(sqlx::query(AssertSqlSafe(sql)), &values)
            .fetch_one(pool)
            .await
            .map_err(db_err)?;
        Ok::<_, StoreError>(row.try_get::<i64, _>(0).map_err(db_err)? as u64)
    };
    if q.paging.limit == 0 {
        let total = if q.paging.count {
            Some(count().await?)
        } else {
            None
        };
        return Ok(recert_store::Page {
            items: Vec::new(),
            total,
        });
    }
    let (order, keys_first) = match l.order {
        Order::IdTie => (
            recert_store::campaigns::order_by(&q.sorters, l.sort, l.default_order),
            None,
        ),
        Order::Tie(tie) => (
            recert_store::certifications::order_by(&q.sorters, l.sort, l.default_order, tie),
            None,
        ),
        Order::KeysFirst { key, from } => (
            recert_store::certifications::order_by(&q.sorters, l.sort, l.default_order, key),
            Some((key, from)),
        ),
    };
    let n = first + values.len();
    let (columns, table, m) = (l.columns, l.table, n + 1);
    let (sql, counted) = match keys_first {
        // The keys of the page over narrow rows (counting them all on the way when asked),
        // then the full rows of those keys, in the same order (the tie makes it total).
        Some((key, from)) => {
            let total = if q.paging.count {
                ", count(*) OVER () AS page_total"
            } else {
                ""
            };
            let sql = format!(
                "SELECT {columns}{} FROM {table} JOIN (SELECT {key} AS page_key{total}
                    FROM {from} WHERE {cond} {order} LIMIT ${n} OFFSET ${m}) page
                    ON page.page_key = {key}
                 {order}",
                if q.paging.count {
                    ", page.page_total"
                } else {
                    ""
                }
            );
            (sql, q.paging.count)
        }
        None => (
            format!("SELECT {columns} FROM {table} WHERE {cond} {order} LIMIT ${n} OFFSET ${m}"),
            false,
        ),
    };
    let rows = base
        .bind(sqlx::query(AssertSqlSafe(sql)), &values)
        .bind(i64::from(q.paging.limit))
        .bind(q.paging.offset.min(i64::MAX as u64) as i64)
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    let total = match (q.paging.count, counted, rows.first()) {
        (false, _, _) => None,
        (true, true, Some(r)) => Some(r.try_get::<i64, _>("page_total").map_err(db_err)? as u64),
        // Nothing matched at all, or the page is past the end: only then count on its own.
        (true, true, None) if q.paging.offset == 0 => Some(0),
        (true, _, _) => Some(count().await?),
    };
    let items = rows.iter().map(l.from_row).collect::<Result<_, _>>()?;
    Ok(recert_store::Page { items, total })
}
