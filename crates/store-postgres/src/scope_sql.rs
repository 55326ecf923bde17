//! A campaign's scope as SQL on PostgreSQL: the grants (or, for role composition, the role
//! contents) it reviews, each with its subject and candidate reviewer, with bound parameters.

use recert_domain::Id;
use recert_domain::filter::FieldKind;
use recert_domain::review::Scope;
use recert_store::StoreError;
use recert_store::sql::{Column, Placeholder, SqlValue, render};
use sqlx::{AssertSqlSafe, PgConnection};

use crate::db_err;
use crate::params::bind_params;

/// The identity fields a SEARCH campaign's query may use, as PostgreSQL expressions over `i`.
fn identity_column(field: &str) -> Option<Column> {
    let (expr, kind) = match field {
        "id" => ("i.id", FieldKind::Id),
        "name" => ("i.name", FieldKind::String),
        "displayName" => ("i.display_name", FieldKind::String),
        "email" => ("i.email", FieldKind::String),
        "managerId" => ("i.manager_id", FieldKind::Id),
        "active" => ("i.active", FieldKind::Bool),
        "lifecycleState" => ("i.lifecycle_state", FieldKind::String),
        "attributes.department" => ("(i.attributes->>'department')", FieldKind::String),
        "attributes.title" => ("(i.attributes->>'title')", FieldKind::String),
        "attributes.location" => ("(i.attributes->>'location')", FieldKind::String),
        "attributes.employeeNumber" => ("(i.attributes->>'employeeNumber')", FieldKind::String),
        "attributes.costCenter" => ("(i.attributes->>'costCenter')", FieldKind::String),
        "attributes.employeeType" => ("(i.attributes->>'employeeType')", FieldKind::String),
        "attributes.company" => ("(i.attributes->>'company')", FieldKind::String),
        "attributes.country" => ("(i.attributes->>'country')", FieldKind::String),
        _ => return None,
    };
    Some(Column { expr, kind })
}

fn role_column(field: &str) -> Option<Column> {
    let (expr, kind) = match field {
        "id" => ("r.id", FieldKind::Id),
        "name" => ("r.name", FieldKind::String),
        "description" => ("r.description", FieldKind::String),
        "ownerId" => ("r.owner_id", FieldKind::Id),
        _ => return None,
    };
    Some(Column { expr, kind })
}

fn id_texts(ids: &[Id]) -> Vec<String> {
    ids.iter().map(|i| i.to_string()).collect()
}

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
    let mut args: Vec<Arg> = Vec::new();
    let before = first - 1;
    let p = |args: &mut Vec<Arg>, v: Arg| {
        args.push(v);
        format!("${}", args.len() + before)
    };
    let sql = match scope {
        Scope::Manager => "SELECT a.identity_id AS subject_id, a.access_type, a.access_id,
                a.account_id, a.id AS assignment_id, a.first_seen_at AS first_seen,
                i.manager_id AS candidate
             FROM assignments a JOIN identities i ON i.id = a.identity_id
             WHERE a.removed_at IS NULL AND i.removed_at IS NULL"
            .to_owned(),
        Scope::SourceOwner {
            source_ids,
            uncorrelated: false,
        } => {
            let s = p(&mut args, Arg::Texts(id_texts(source_ids)));
            format!(
                "SELECT a.identity_id AS subject_id, a.access_type, a.access_id, a.account_id,
                    a.id AS assignment_id, a.first_seen_at AS first_seen, s.owner_id AS candidate
                 FROM assignments a
                 JOIN identities i ON i.id = a.identity_id AND i.removed_at IS NULL
                 LEFT JOIN entitlements e ON a.access_type = 'ENTITLEMENT' AND e.id = a.access_id
                 LEFT JOIN access_profiles ap
                    ON a.access_type = 'ACCESS_PROFILE' AND ap.id = a.access_id
                 JOIN sources s ON s.id = coalesce(e.source_id, ap.source_id)
                 WHERE a.removed_at IS NULL AND s.id = ANY({s})"
            )
        }
        Scope::SourceOwner {
            source_ids,
            uncorrelated: true,
        } => {
            let s = p(&mut args, Arg::Texts(id_texts(source_ids)));
            format!(
                "SELECT ac.id AS subject_id, 'ACCOUNT' AS access_type, ac.id AS access_id,
                    ac.id AS account_id, NULL::text AS assignment_id, ac.created_at AS first_seen,
                    s.owner_id AS candidate
                 FROM accounts ac JOIN sources s ON s.id = ac.source_id
                 WHERE ac.identity_id IS NULL AND ac.removed_at IS NULL AND s.id = ANY({s})"
            )
        }
        Scope::Search {
            identity_ids,
            query,
            access,
            reviewer,
        } => {
            let r = p(
                &mut args,
                Arg::Text(reviewer.map(|r| r.to_string()).unwrap_or_default()),
            );
            let mut conds = vec![
                "a.removed_at IS NULL".to_owned(),
                "i.removed_at IS NULL".into(),
            ];
            if let Some(ids) = identity_ids {
                let x = p(&mut args, Arg::Texts(id_texts(ids)));
                conds.push(format!("i.id = ANY({x})"));
            }
            if let Some(f) = query {
                let (sql, values) =
                    render(f, &identity_column, Placeholder::Dollar, args.len() + first)
                        .map_err(filter_err)?;
                args.extend(values.into_iter().map(Arg::Sql));
                conds.push(sql);
            }
            if !access.is_empty() {
                let mut any = Vec::new();
                for a in access {
                    let t = p(&mut args, Arg::Text(a.access_type.as_str().to_owned()));
                    let mut one = format!("(a.access_type = {t}");
                    if let Some(ids) = &a.ids {
                        let x = p(&mut args, Arg::Texts(id_texts(ids)));
                        one.push_str(&format!(" AND a.access_id = ANY({x})"));
                    }
                    one.push(')');
                    any.push(one);
                }
                conds.push(format!("({})", any.join(" OR ")));
            }
            format!(
                "SELECT a.identity_id AS subject_id, a.access_type, a.access_id, a.account_id,
                    a.id AS assignment_id, a.first_seen_at AS first_seen,
                    coalesce(nullif({r}, ''), i.manager_id) AS candidate
                 FROM assignments a JOIN identities i ON i.id = a.identity_id
                 WHERE {}",
                conds.join(" AND ")
            )
        }
        Scope::RoleComposition {
            role_ids,
            query,
            reviewer,
        } => {
            let r = p(
                &mut args,
                Arg::Text(reviewer.map(|r| r.to_string()).unwrap_or_default()),
            );
            let mut conds = vec!["r.removed_at IS NULL".to_owned()];
            if let Some(ids) = role_ids {
                let x = p(&mut args, Arg::Texts(id_texts(ids)));
                conds.push(format!("r.id = ANY({x})"));
            }
            if let Some(f) = query {
                let (sql, values) =
                    render(f, &role_column, Placeholder::Dollar, args.len() + first)
                        .map_err(filter_err)?;
                args.extend(values.into_iter().map(Arg::Sql));
                conds.push(sql);
            }
            let cond = conds.join(" AND ");
            format!(
                "SELECT r.id AS subject_id, 'ENTITLEMENT' AS access_type,
                    x.entitlement_id AS access_id, NULL::text AS account_id,
                    NULL::text AS assignment_id, NULL::timestamptz AS first_seen,
                    coalesce(nullif({r}, ''), r.owner_id) AS candidate
                 FROM roles r JOIN role_entitlements x ON x.role_id = r.id
                 JOIN entitlements e ON e.id = x.entitlement_id AND e.removed_at IS NULL
                 WHERE {cond}
                 UNION ALL
                 SELECT r.id, 'ACCESS_PROFILE', x.access_profile_id, NULL, NULL, NULL,
                    coalesce(nullif({r}, ''), r.owner_id)
                 FROM roles r JOIN role_access_profiles x ON x.role_id = r.id
                 JOIN access_profiles ap ON ap.id = x.access_profile_id AND ap.removed_at IS NULL
                 WHERE {cond}"
            )
        }
    };
    Ok((sql, args))
}
