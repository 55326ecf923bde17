//! A campaign's scope as SQL on PostgreSQL (the query itself is written once, in
//! `recert_store::scope_sql`), and the binding of generated statements' parameters.

use recert_domain::review::Scope;
use recert_store::StoreError;
use recert_store::scope_sql::{self, ScopeArg, ScopeDialect};
use recert_store::sql::{Placeholder, SqlValue};
use sqlx::{AssertSqlSafe, PgConnection};

use crate::db_err;
use crate::params::bind_params;

/// How PostgreSQL spells a scope query (see [`recert_store::scope_sql`]).
const DIALECT: ScopeDialect = ScopeDialect {
    placeholder: Placeholder::Dollar,
    attributes: &[
        ("attributes.department", "(i.attributes->>'department')"),
        ("attributes.title", "(i.attributes->>'title')"),
        ("attributes.location", "(i.attributes->>'location')"),
        (
            "attributes.employeeNumber",
            "(i.attributes->>'employeeNumber')",
        ),
        ("attributes.costCenter", "(i.attributes->>'costCenter')"),
        ("attributes.employeeType", "(i.attributes->>'employeeType')"),
        ("attributes.company", "(i.attributes->>'company')"),
        ("attributes.country", "(i.attributes->>'country')"),
    ],
    in_ids: |expr, p| format!("{expr} = ANY({p})"),
    null_text: "NULL::text",
    null_time: "NULL::timestamptz",
};

fn filter_err(e: recert_domain::filter::FilterError) -> StoreError {
    StoreError::Database(format!("campaign query: {}", e.0))
}

/// A parameter of a generated statement: text, a text array, or a rendered filter's value.
pub(crate) enum Arg {
    Text(String),
    Opt(Option<String>),
    Texts(Vec<String>),
    Sql(SqlValue),
}

pub(crate) async fn exec_args(
    c: &mut PgConnection,
    sql: String,
    args: Vec<Arg>,
) -> Result<u64, StoreError> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s),
            Arg::Opt(s) => q.bind(s),
            Arg::Texts(v) => q.bind(v),
            Arg::Sql(v) => bind_params(q, std::slice::from_ref(&v)),
        };
    }
    q.execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
        .map_err(db_err)
}

/// The scope as a SELECT of (subject_id, access_type, access_id, account_id, assignment_id,
/// first_seen, candidate), its parameters numbered from `$first` (the statement it goes into
/// binds `$1` .. `$first - 1` itself, before these).
pub(crate) fn candidates(scope: &Scope, first: usize) -> Result<(String, Vec<Arg>), StoreError> {
    let (sql, args) = scope_sql::candidates(scope, &DIALECT, first).map_err(filter_err)?;
    let args = args
        .into_iter()
        .map(|a| match a {
            ScopeArg::Text(s) => Arg::Text(s),
            ScopeArg::Ids(ids) => Arg::Texts(ids.iter().map(|i| i.to_string()).collect()),
            ScopeArg::Value(v) => Arg::Sql(v),
        })
        .collect();
    Ok((sql, args))
}
