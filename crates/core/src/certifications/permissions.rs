//! The item permissions route's filter: `target` (`eq`, `sw`) and `rights` (`ca`), values
//! compared without regard to case, and at most one `and` or `or`, between a `target` and a
//! `rights` condition. Permissions of one entitlement are few, so they are filtered in memory.

use recert_domain::Permission;
use recert_domain::filter::{FieldKind, FieldSpec, Filter, Op, Value};

/// The fields and operators of the permissions filter.
pub const PERMISSION_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("target", &[Op::Eq, Op::Sw], FieldKind::String),
    FieldSpec::new("rights", &[Op::Ca], FieldKind::String),
];

/// The rule beyond fields and operators: one `and`/`or` at most, joining `target` and
/// `rights`; no `not`.
pub fn check_permission_filter(f: &Filter) -> Result<(), String> {
    let field_of = |f: &Filter| match f {
        Filter::Cond { field, .. } => Some(field.clone()),
        _ => None,
    };
    match f {
        Filter::Cond { .. } => Ok(()),
        Filter::Not(_) => Err("the permissions filter does not take 'not'".into()),
        Filter::And(parts) | Filter::Or(parts) => {
            let fields: Vec<Option<String>> = parts.iter().map(field_of).collect();
            if parts.len() != 2 || fields.iter().any(Option::is_none) {
                return Err(
                    "the permissions filter takes at most one 'and' or 'or', between a target \
                     condition and a rights condition"
                        .into(),
                );
            }
            if fields[0] == fields[1] {
                return Err(format!(
                    "'and'/'or' must join a target condition and a rights condition, not two \
                     {} conditions",
                    fields[0].as_deref().unwrap_or_default()
                ));
            }
            Ok(())
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) | Value::Number(s) => s.to_lowercase(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
    }
}

fn matches(p: &Permission, f: &Filter) -> bool {
    match f {
        Filter::And(parts) => parts.iter().all(|x| matches(p, x)),
        Filter::Or(parts) => parts.iter().any(|x| matches(p, x)),
        Filter::Not(inner) => !matches(p, inner),
        Filter::Cond { field, op, values } => {
            let target = p.target.to_lowercase();
            match (field.as_str(), op) {
                ("target", Op::Eq) => values.first().is_some_and(|v| target == text(v)),
                ("target", Op::Sw) => values.first().is_some_and(|v| target.starts_with(&text(v))),
                ("rights", Op::Ca) => values.iter().all(|v| {
                    let want = text(v);
                    p.rights.iter().any(|r| r.to_lowercase() == want)
                }),
                _ => false,
            }
        }
    }
}

/// The permissions the filter keeps, in their order.
pub fn filter_permissions(all: Vec<Permission>, filter: Option<&Filter>) -> Vec<Permission> {
    match filter {
        None => all,
        Some(f) => all.into_iter().filter(|p| matches(p, f)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recert_domain::filter::{parse, validate};

    fn perms() -> Vec<Permission> {
        vec![
            Permission {
                rights: vec!["SELECT".into(), "CREATE".into()],
                target: "SYS.OBJAUTH2".into(),
            },
            Permission {
                rights: vec!["SELECT".into()],
                target: "SYS.GV_$TRANSACTION".into(),
            },
        ]
    }

    fn run(f: &str) -> Result<Vec<String>, String> {
        let f = parse(f).map_err(|e| e.0)?;
        validate(&f, PERMISSION_FIELDS).map_err(|e| e.0)?;
        check_permission_filter(&f)?;
        Ok(filter_permissions(perms(), Some(&f))
            .into_iter()
            .map(|p| p.target)
            .collect())
    }

    #[test]
    fn the_documented_filters_work_without_regard_to_case() {
        assert_eq!(
            run(r#"target eq "sys.objauth2""#).unwrap(),
            ["SYS.OBJAUTH2"]
        );
        assert_eq!(run(r#"target sw "SYS.""#).unwrap().len(), 2);
        assert_eq!(run(r#"rights ca ("create")"#).unwrap(), ["SYS.OBJAUTH2"]);
        assert_eq!(
            run(r#"rights ca ("CREATE") and target eq "SYS.OBJAUTH2""#).unwrap(),
            ["SYS.OBJAUTH2"]
        );
        assert_eq!(
            run(r#"rights ca ("CREATE") or target sw "SYS.GV""#)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn composites_are_limited_as_documented() {
        assert!(run(r#"rights ca ("CREATE") and rights ca ("SELECT")"#).is_err());
        assert!(run(r#"not target eq "x""#).is_err());
        assert!(
            run(r#"target eq "a" and rights ca ("B") and target sw "c""#)
                .unwrap_err()
                .contains("at most one")
        );
        assert!(run(r#"rights eq "SELECT""#).unwrap_err().contains("rights"));
        assert!(run(r#"name eq "x""#).unwrap_err().contains("name"));
    }
}
