//! Point reads and the small writes (API clients). Bulk import writes live in `import.rs`.

use std::collections::BTreeMap;

use recert_domain::{
    AccessType, ApiClient, Assignment, AssignmentRecord, ClientRole, Id, Identity, SigningKey,
    Timestamp,
};
use recert_store::{Counts, ImportRun, StoreError};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::db_err;

fn conversion(i: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e))
}

pub(crate) fn get_id(row: &Row<'_>, i: usize) -> rusqlite::Result<Id> {
    let s: String = row.get(i)?;
    Id::parse(&s).map_err(|e| conversion(i, e))
}

pub(crate) fn get_opt_id(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<Id>> {
    let s: Option<String> = row.get(i)?;
    s.map(|s| Id::parse(&s).map_err(|e| conversion(i, e)))
        .transpose()
}

pub(crate) fn get_ts(row: &Row<'_>, i: usize) -> rusqlite::Result<Timestamp> {
    let s: String = row.get(i)?;
    Timestamp::parse(&s).map_err(|e| conversion(i, e))
}

pub(crate) fn get_opt_ts(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<Timestamp>> {
    let s: Option<String> = row.get(i)?;
    s.map(|s| Timestamp::parse(&s).map_err(|e| conversion(i, e)))
        .transpose()
}

pub(crate) fn get_json<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    i: usize,
) -> rusqlite::Result<T> {
    let s: String = row.get(i)?;
    serde_json::from_str(&s).map_err(|e| conversion(i, e))
}

pub(crate) fn get_access_type(row: &Row<'_>, i: usize) -> rusqlite::Result<AccessType> {
    let s: String = row.get(i)?;
    s.parse().map_err(|e| conversion(i, e))
}

pub(crate) fn counts(c: &Connection) -> Result<Counts, StoreError> {
    let n = |sql: &str| -> Result<u64, StoreError> {
        c.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|v| v as u64)
            .map_err(db_err)
    };
    Ok(Counts {
        identities: n("SELECT count(*) FROM identities WHERE removed_at IS NULL")?,
        sources: n("SELECT count(*) FROM sources WHERE removed_at IS NULL")?,
        accounts: n("SELECT count(*) FROM accounts WHERE removed_at IS NULL")?,
        entitlements: n("SELECT count(*) FROM entitlements WHERE removed_at IS NULL")?,
        access_profiles: n("SELECT count(*) FROM access_profiles WHERE removed_at IS NULL")?,
        roles: n("SELECT count(*) FROM roles WHERE removed_at IS NULL")?,
        assignments: n("SELECT count(*) FROM assignments WHERE removed_at IS NULL")?,
        api_clients: n("SELECT count(*) FROM api_clients WHERE revoked_at IS NULL")?,
    })
}

pub(crate) const IDENTITY_COLUMNS: &str =
    "id, name, display_name, email, manager_id, active, lifecycle_state, attributes";

pub(crate) fn identity_from_row(r: &Row<'_>) -> rusqlite::Result<Identity> {
    Ok(Identity {
        id: get_id(r, 0)?,
        name: r.get(1)?,
        display_name: r.get(2)?,
        email: r.get(3)?,
        manager_id: get_opt_id(r, 4)?,
        active: r.get(5)?,
        lifecycle_state: r.get(6)?,
        attributes: get_json::<BTreeMap<String, String>>(r, 7)?,
    })
}

pub(crate) fn identity(c: &Connection, id: Id) -> Result<Option<Identity>, StoreError> {
    c.query_row(
        &format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE id = ?1 AND removed_at IS NULL"),
        [id.to_string()],
        identity_from_row,
    )
    .optional()
    .map_err(db_err)
}

pub(crate) fn assignment_history(
    c: &Connection,
    identity_id: Id,
) -> Result<Vec<AssignmentRecord>, StoreError> {
    let mut st = c
        .prepare(
            "SELECT id, identity_id, access_type, access_id, account_id,
                    first_seen_at, last_seen_at, removed_at
             FROM assignments WHERE identity_id = ?1 ORDER BY first_seen_at, id",
        )
        .map_err(db_err)?;
    let rows = st
        .query_map([identity_id.to_string()], |r| {
            Ok(AssignmentRecord {
                id: get_id(r, 0)?,
                assignment: Assignment {
                    identity_id: get_id(r, 1)?,
                    access_type: get_access_type(r, 2)?,
                    access_id: get_id(r, 3)?,
                    account_id: get_opt_id(r, 4)?,
                },
                first_seen_at: get_ts(r, 5)?,
                last_seen_at: get_opt_ts(r, 6)?,
                removed_at: get_opt_ts(r, 7)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(crate) fn import_runs(c: &Connection, limit: u32) -> Result<Vec<ImportRun>, StoreError> {
    let mut st = c
        .prepare(
            "SELECT id, at, source, kinds, summary FROM import_runs
             ORDER BY generation DESC LIMIT ?1",
        )
        .map_err(db_err)?;
    let rows = st
        .query_map([i64::from(limit)], |r| {
            Ok(ImportRun {
                id: get_id(r, 0)?,
                at: get_ts(r, 1)?,
                source: r.get(2)?,
                kinds: get_json(r, 3)?,
                summary: get_json(r, 4)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(crate) fn create_api_client(c: &Connection, client: &ApiClient) -> Result<(), StoreError> {
    let res = c.execute(
        "INSERT INTO api_clients (id, name, secret_hash, roles, identity_id, created_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            client.id.to_string(),
            client.name,
            client.secret_hash,
            ClientRole::encode_list(&client.roles),
            client.identity_id.map(|i| i.to_string()),
            client.created_at.to_string(),
            client.revoked_at.map(|t| t.to_string()),
        ],
    );
    match res {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(StoreError::Conflict(format!(
                "an API client with id {} already exists",
                client.id
            )))
        }
        Err(e) => Err(db_err(e)),
    }
}

const CLIENT_COLUMNS: &str = "id, name, secret_hash, roles, identity_id, created_at, revoked_at";

fn client_from_row(r: &Row<'_>) -> rusqlite::Result<(ApiClient, String)> {
    Ok((
        ApiClient {
            id: get_id(r, 0)?,
            name: r.get(1)?,
            secret_hash: r.get(2)?,
            roles: Vec::new(),
            identity_id: get_opt_id(r, 4)?,
            created_at: get_ts(r, 5)?,
            revoked_at: get_opt_ts(r, 6)?,
        },
        r.get(3)?,
    ))
}

fn with_roles((mut client, roles): (ApiClient, String)) -> Result<ApiClient, StoreError> {
    client.roles =
        ClientRole::decode_list(&roles).map_err(|e| StoreError::corrupt("api_clients", e))?;
    Ok(client)
}

pub(crate) fn api_client(c: &Connection, id: Id) -> Result<Option<ApiClient>, StoreError> {
    // Every authenticated request reads its client: the statement is compiled once per
    // connection.
    c.prepare_cached(&format!(
        "SELECT {CLIENT_COLUMNS} FROM api_clients WHERE id = ?1"
    ))
    .map_err(db_err)?
    .query_row([id.to_string()], client_from_row)
    .optional()
    .map_err(db_err)?
    .map(with_roles)
    .transpose()
}

pub(crate) fn api_clients(c: &Connection) -> Result<Vec<ApiClient>, StoreError> {
    let mut st = c
        .prepare(&format!(
            "SELECT {CLIENT_COLUMNS} FROM api_clients ORDER BY created_at, id"
        ))
        .map_err(db_err)?;
    let rows = st.query_map([], client_from_row).map_err(db_err)?;
    rows.map(|r| r.map_err(db_err).and_then(with_roles))
        .collect()
}

pub(crate) fn revoke_api_client(c: &Connection, id: Id, at: Timestamp) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE api_clients SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id.to_string(), at.to_string()],
        )
        .map_err(db_err)?;
    Ok(n == 1)
}

fn signing_key_from_row(r: &Row<'_>) -> rusqlite::Result<(SigningKey, String)> {
    Ok((
        SigningKey {
            kid: get_id(r, 0)?,
            private_key: [0; 32],
            created_at: get_ts(r, 2)?,
            retired_at: get_opt_ts(r, 3)?,
        },
        r.get(1)?,
    ))
}

fn with_seed((mut key, hex): (SigningKey, String)) -> Result<SigningKey, StoreError> {
    key.private_key = SigningKey::parse_private_key_hex(&hex)
        .ok_or_else(|| StoreError::corrupt("signing_keys", "a private key is not 64 hex"))?;
    Ok(key)
}

pub(crate) fn signing_keys(c: &Connection) -> Result<Vec<SigningKey>, StoreError> {
    let mut st = c
        .prepare(
            "SELECT kid, private_key, created_at, retired_at FROM signing_keys
             ORDER BY created_at DESC, kid DESC",
        )
        .map_err(db_err)?;
    let rows = st.query_map([], signing_key_from_row).map_err(db_err)?;
    rows.map(|r| r.map_err(db_err).and_then(with_seed))
        .collect()
}

fn insert_signing_key(c: &Connection, k: &SigningKey) -> rusqlite::Result<usize> {
    c.execute(
        "INSERT INTO signing_keys (kid, algorithm, private_key, created_at, retired_at)
         VALUES (?1, 'EdDSA', ?2, ?3, NULL) ON CONFLICT DO NOTHING",
        params![
            k.kid.to_string(),
            k.private_key_hex(),
            k.created_at.to_string()
        ],
    )
}

fn current_signing_key(c: &Connection) -> Result<Option<SigningKey>, StoreError> {
    c.query_row(
        "SELECT kid, private_key, created_at, retired_at FROM signing_keys
         WHERE retired_at IS NULL",
        [],
        signing_key_from_row,
    )
    .optional()
    .map_err(db_err)?
    .map(with_seed)
    .transpose()
}

pub(crate) fn ensure_signing_key(
    c: &mut Connection,
    candidate: &SigningKey,
) -> Result<SigningKey, StoreError> {
    let tx = c
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db_err)?;
    if let Some(current) = current_signing_key(&tx)? {
        return Ok(current);
    }
    insert_signing_key(&tx, candidate).map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(candidate.clone())
}

pub(crate) fn rotate_signing_key(c: &mut Connection, new: &SigningKey) -> Result<(), StoreError> {
    let tx = c
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db_err)?;
    tx.execute(
        "UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL",
        [new.created_at.to_string()],
    )
    .map_err(db_err)?;
    if insert_signing_key(&tx, new).map_err(db_err)? != 1 {
        return Err(StoreError::Conflict(format!(
            "signing key {} already exists",
            new.kid
        )));
    }
    tx.commit().map_err(db_err)
}

/// Where and how a collection endpoint reads its rows.
pub(crate) struct Listing<T> {
    pub table: &'static str,
    pub columns: &'static str,
    pub column: fn(&str) -> Option<recert_store::sql::Column>,
    pub sort: fn(&str) -> Option<&'static str>,
    pub default_order: &'static str,
    pub from_row: fn(&Row<'_>) -> rusqlite::Result<T>,
}

/// What narrows a listing before its filter: a fixed condition with its own parameters
/// (`?1` to `?n`, in `params`), and the unique column that breaks ties between sorted rows.
pub(crate) struct Within {
    /// A SQL condition over the listing's table, e.g. `i.certification_id = ?1`.
    pub cond: String,
    pub params: Vec<rusqlite::types::Value>,
    /// A unique, qualified column (`i.id`): sorted pages order by it last, so they are stable
    /// and unambiguous over joins.
    pub tie: &'static str,
    /// Where the page's keys are picked and the rows counted, when narrower than the listing's
    /// table (`review_items i` for items: the condition, filter and sorters then read one
    /// table, and only the page's rows are joined); `None`: the listing's table.
    pub keys_from: Option<&'static str>,
}

/// One page of a collection: the filter rendered with bound parameters, the total when asked.
pub(crate) fn page<T>(
    c: &Connection,
    l: &Listing<T>,
    q: &recert_store::ListQuery,
) -> Result<recert_store::Page<T>, StoreError> {
    page_within(c, l, None, q)
}

/// [`page`] narrowed by `within`; the filter's parameters follow its own.
pub(crate) fn page_within<T>(
    c: &Connection,
    l: &Listing<T>,
    within: Option<&Within>,
    q: &recert_store::ListQuery,
) -> Result<recert_store::Page<T>, StoreError> {
    use recert_store::sql::{Placeholder, render};
    use rusqlite::params_from_iter;
    use rusqlite::types::Value;
    let mut args: Vec<Value> = within.map(|w| w.params.clone()).unwrap_or_default();
    let (filter, vals) = match &q.filter {
        Some(f) => render(f, &l.column, Placeholder::Question, args.len() + 1)
            .map_err(|e| StoreError::Database(e.0))?,
        None => ("1 = 1".to_owned(), Vec::new()),
    };
    args.extend(crate::params::sql_params(&vals));
    let cond = match within {
        Some(w) => format!("({}) AND {filter}", w.cond),
        None => filter,
    };
    let keys_from = within.and_then(|w| w.keys_from).unwrap_or(l.table);
    let total = if q.paging.count {
        // Counting the ties of a subquery SQLite does not flatten (`LIMIT -1`) lets it leave
        // out the LEFT JOINs that neither the filter nor the result needs.
        let sql = match within {
            Some(w) => format!(
                "SELECT count(*) FROM (SELECT {} FROM {keys_from} WHERE {cond} LIMIT -1)",
                w.tie
            ),
            None => format!("SELECT count(*) FROM {} WHERE {cond}", l.table),
        };
        let n: i64 = c
            .query_row(&sql, params_from_iter(args.iter()), |r| r.get(0))
            .map_err(db_err)?;
        Some(n as u64)
    } else {
        None
    };
    if q.paging.limit == 0 {
        return Ok(recert_store::Page {
            items: Vec::new(),
            total,
        });
    }
    let order = match within {
        Some(w) => {
            recert_store::certifications::order_by(&q.sorters, l.sort, l.default_order, w.tie)
        }
        None => recert_store::campaigns::order_by(&q.sorters, l.sort, l.default_order),
    };
    let n = args.len();
    args.push(Value::Integer(i64::from(q.paging.limit)));
    args.push(Value::Integer(q.paging.offset.min(i64::MAX as u64) as i64));
    let (limit, offset) = (n + 1, n + 2);
    let sql = match within {
        // The page's keys first, sorted on what the filter and sorters need (over the narrow
        // `keys_from`); then the wide rows of those keys only, not of every row the sort went
        // through.
        Some(w) => format!(
            "SELECT {} FROM {} WHERE {tie} IN (SELECT {tie} FROM {keys_from} WHERE {cond} {order}
                LIMIT ?{limit} OFFSET ?{offset}) {order}",
            l.columns,
            l.table,
            tie = w.tie,
        ),
        None => format!(
            "SELECT {} FROM {} WHERE {cond} {order} LIMIT ?{limit} OFFSET ?{offset}",
            l.columns, l.table,
        ),
    };
    let mut stmt = c.prepare(&sql).map_err(db_err)?;
    let items = stmt
        .query_map(params_from_iter(args.iter()), l.from_row)
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    Ok(recert_store::Page { items, total })
}
