//! A campaign's scope as SQL, written once for both backends: the grants (or, for role
//! composition, the role contents) it reviews, each with its subject and candidate reviewer.
//! Every value is a bound parameter; a [`ScopeDialect`] says how a backend spells the few things
//! that differ (placeholders, "one of these ids", identity attributes, typed NULLs).

use recert_domain::Id;
use recert_domain::filter::{FieldKind, FilterError};
use recert_domain::review::Scope;

use crate::sql::{Column, Placeholder, SqlValue, render};

/// How a backend writes the parts of a scope query that differ between SQL dialects.
#[derive(Debug)]
pub struct ScopeDialect {
    pub placeholder: Placeholder,
    /// The SEARCH query's `attributes.*` fields and their expressions over `i.attributes`.
    pub attributes: &'static [(&'static str, &'static str)],
    /// A condition: `expr` is one of the ids bound (as [`ScopeArg::Ids`]) at placeholder `p`.
    pub in_ids: fn(expr: &str, p: &str) -> String,
    /// A NULL where a union needs one, typed as text and as a timestamp.
    pub null_text: &'static str,
    pub null_time: &'static str,
}

/// A parameter of a scope query.
#[derive(Debug, Clone, PartialEq)]
pub enum ScopeArg {
    Text(String),
    /// A list of ids, bound as the dialect's `in_ids` expects.
    Ids(Vec<Id>),
    /// A value of a rendered filter.
    Value(SqlValue),
}

/// The identity fields a SEARCH campaign's query may use, as expressions over `i`.
fn identity_column(field: &str, d: &ScopeDialect) -> Option<Column> {
    let (expr, kind) = match field {
        "id" => ("i.id", FieldKind::Id),
        "name" => ("i.name", FieldKind::String),
        "displayName" => ("i.display_name", FieldKind::String),
        "email" => ("i.email", FieldKind::String),
        "managerId" => ("i.manager_id", FieldKind::Id),
        "active" => ("i.active", FieldKind::Bool),
        "lifecycleState" => ("i.lifecycle_state", FieldKind::String),
        _ => {
            let (_, expr) = d.attributes.iter().find(|(name, _)| *name == field)?;
            (*expr, FieldKind::String)
        }
    };
    Some(Column { expr, kind })
}

/// The role fields a ROLE_COMPOSITION campaign's query may use, as expressions over `r`.
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

struct Params<'d> {
    args: Vec<ScopeArg>,
    first: usize,
    d: &'d ScopeDialect,
}

impl Params<'_> {
    /// Binds `v` and answers its placeholder.
    fn bind(&mut self, v: ScopeArg) -> String {
        self.args.push(v);
        let n = self.first + self.args.len() - 1;
        match self.d.placeholder {
            Placeholder::Question => format!("?{n}"),
            Placeholder::Dollar => format!("${n}"),
        }
    }

    fn in_ids(&mut self, expr: &str, ids: &[Id]) -> String {
        let p = self.bind(ScopeArg::Ids(ids.to_vec()));
        (self.d.in_ids)(expr, &p)
    }

    /// The campaign's reviewer, or '' when the scope names none.
    fn reviewer(&mut self, reviewer: Option<Id>) -> String {
        self.bind(ScopeArg::Text(
            reviewer.map(|r| r.to_string()).unwrap_or_default(),
        ))
    }

    fn filter(
        &mut self,
        f: &recert_domain::filter::Filter,
        column: &dyn Fn(&str) -> Option<Column>,
    ) -> Result<String, FilterError> {
        let next = self.first + self.args.len();
        let (sql, values) = render(f, column, self.d.placeholder, next)?;
        self.args.extend(values.into_iter().map(ScopeArg::Value));
        Ok(sql)
    }
}

/// The scope as a SELECT of (subject_id, access_type, access_id, account_id, assignment_id,
/// first_seen, candidate), its parameters numbered from `first` (the statement it goes into binds
/// the ones before itself).
pub fn candidates(
    scope: &Scope,
    d: &ScopeDialect,
    first: usize,
) -> Result<(String, Vec<ScopeArg>), FilterError> {
    let mut p = Params {
        args: Vec::new(),
        first,
        d,
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
            let s = p.in_ids("s.id", source_ids);
            format!(
                "SELECT a.identity_id AS subject_id, a.access_type, a.access_id, a.account_id,
                    a.id AS assignment_id, a.first_seen_at AS first_seen, s.owner_id AS candidate
                 FROM assignments a
                 JOIN identities i ON i.id = a.identity_id AND i.removed_at IS NULL
                 LEFT JOIN entitlements e ON a.access_type = 'ENTITLEMENT' AND e.id = a.access_id
                 LEFT JOIN access_profiles ap
                    ON a.access_type = 'ACCESS_PROFILE' AND ap.id = a.access_id
                 JOIN sources s ON s.id = coalesce(e.source_id, ap.source_id)
                 WHERE a.removed_at IS NULL AND {s}"
            )
        }
        Scope::SourceOwner {
            source_ids,
            uncorrelated: true,
        } => {
            let s = p.in_ids("s.id", source_ids);
            format!(
                "SELECT ac.id AS subject_id, 'ACCOUNT' AS access_type, ac.id AS access_id,
                    ac.id AS account_id, {} AS assignment_id, ac.created_at AS first_seen,
                    s.owner_id AS candidate
                 FROM accounts ac JOIN sources s ON s.id = ac.source_id
                 WHERE ac.identity_id IS NULL AND ac.removed_at IS NULL AND {s}",
                d.null_text
            )
        }
        Scope::Search {
            identity_ids,
            query,
            access,
            reviewer,
        } => {
            let r = p.reviewer(*reviewer);
            let mut conds = vec![
                "a.removed_at IS NULL".to_owned(),
                "i.removed_at IS NULL".into(),
            ];
            if let Some(ids) = identity_ids {
                conds.push(p.in_ids("i.id", ids));
            }
            if let Some(f) = query {
                conds.push(p.filter(f, &|field| identity_column(field, d))?);
            }
            if !access.is_empty() {
                let mut any = Vec::new();
                for a in access {
                    let t = p.bind(ScopeArg::Text(a.access_type.as_str().to_owned()));
                    let mut one = format!("(a.access_type = {t}");
                    if let Some(ids) = &a.ids {
                        one.push_str(&format!(" AND {}", p.in_ids("a.access_id", ids)));
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
            let r = p.reviewer(*reviewer);
            let mut conds = vec!["r.removed_at IS NULL".to_owned()];
            if let Some(ids) = role_ids {
                conds.push(p.in_ids("r.id", ids));
            }
            if let Some(f) = query {
                conds.push(p.filter(f, &role_column)?);
            }
            let cond = conds.join(" AND ");
            let (text, time) = (d.null_text, d.null_time);
            format!(
                "SELECT r.id AS subject_id, 'ENTITLEMENT' AS access_type,
                    x.entitlement_id AS access_id, {text} AS account_id,
                    {text} AS assignment_id, {time} AS first_seen,
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
    Ok((sql, p.args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use recert_domain::filter::parse;

    const DOLLAR: ScopeDialect = ScopeDialect {
        placeholder: Placeholder::Dollar,
        attributes: &[("attributes.department", "(i.attributes->>'department')")],
        in_ids: |expr, p| format!("{expr} = ANY({p})"),
        null_text: "NULL::text",
        null_time: "NULL::timestamptz",
    };

    #[test]
    fn parameters_are_numbered_from_first_in_order_of_use() {
        let who = Id::from_bytes([7; 16]);
        let scope = Scope::Search {
            identity_ids: Some(vec![who]),
            query: Some(parse("attributes.department eq \"sales\"").unwrap()),
            access: vec![],
            reviewer: Some(who),
        };
        let (sql, args) = candidates(&scope, &DOLLAR, 3).unwrap();
        assert!(sql.contains("nullif($3, '')"), "{sql}");
        assert!(sql.contains("i.id = ANY($4)"), "{sql}");
        assert!(sql.contains("(i.attributes->>'department')"), "{sql}");
        assert!(sql.contains("$5"), "{sql}");
        assert!(
            !sql.contains("sales"),
            "values are bound, never in the text: {sql}"
        );
        assert_eq!(
            args,
            vec![
                ScopeArg::Text(who.to_string()),
                ScopeArg::Ids(vec![who]),
                ScopeArg::Value(SqlValue::Text("sales".into())),
            ]
        );
    }

    #[test]
    fn an_unknown_field_is_refused_by_name() {
        let scope = Scope::Search {
            identity_ids: None,
            query: Some(parse("attributes.shoeSize eq \"9\"").unwrap()),
            access: vec![],
            reviewer: None,
        };
        let e = candidates(&scope, &DOLLAR, 1).unwrap_err();
        assert!(e.0.contains("attributes.shoeSize"), "{e:?}");
    }
}
