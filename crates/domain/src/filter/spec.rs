//! What each endpoint allows: its filterable fields, the operators on each, and the type of
//! value each takes. Everything else is refused, naming the field or operator.

use super::{Filter, FilterError, Op, Value};

/// The type of a field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    String,
    /// A 32-hex id: compared exactly, never with `co` or `sw`.
    Id,
    Integer,
    Bool,
    /// An RFC 3339 timestamp, given as a string.
    Timestamp,
    /// One of a fixed set of upper-case names (`ACTIVE`, `STAGED`, ...).
    Enum(&'static [&'static str]),
}

/// One filterable field of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ops: &'static [Op],
    pub kind: FieldKind,
}

impl FieldSpec {
    /// A field, the operators it takes and the kind of its values (for endpoint tables).
    pub const fn new(name: &'static str, ops: &'static [Op], kind: FieldKind) -> Self {
        FieldSpec { name, ops, kind }
    }
}

fn check_value(spec: &FieldSpec, v: &Value) -> Result<(), FilterError> {
    let bad = |want: &str| {
        Err(FilterError(format!(
            "filter field '{}' takes {want}, not {v}",
            spec.name
        )))
    };
    match (spec.kind, v) {
        (_, Value::Null) => bad("a value (use isnull to test for none)"),
        (FieldKind::String, Value::String(_)) => Ok(()),
        (FieldKind::String, _) => bad("a \"quoted string\""),
        (FieldKind::Id, Value::String(s)) if crate::Id::parse(s).is_ok() => Ok(()),
        (FieldKind::Id, _) => bad("a quoted id of 32 hexadecimal characters"),
        (FieldKind::Integer, Value::Number(n)) if n.parse::<i64>().is_ok() => Ok(()),
        (FieldKind::Integer, _) => bad("a whole number"),
        (FieldKind::Bool, Value::Bool(_)) => Ok(()),
        (FieldKind::Bool, _) => bad("true or false"),
        (FieldKind::Timestamp, Value::String(s)) if crate::Timestamp::parse(s).is_ok() => Ok(()),
        (FieldKind::Timestamp, _) => {
            bad("a quoted RFC 3339 timestamp such as \"2026-01-01T00:00:00Z\"")
        }
        (FieldKind::Enum(names), Value::String(s))
            if names.iter().any(|n| n.eq_ignore_ascii_case(s)) =>
        {
            Ok(())
        }
        (FieldKind::Enum(names), _) => bad(&format!("one of {}", names.join(", "))),
    }
}

/// Checks every condition of `filter` against the endpoint's `fields`.
pub fn validate(filter: &Filter, fields: &[FieldSpec]) -> Result<(), FilterError> {
    match filter {
        Filter::And(parts) | Filter::Or(parts) => {
            parts.iter().try_for_each(|p| validate(p, fields))
        }
        Filter::Not(inner) => validate(inner, fields),
        Filter::Cond { field, op, values } => {
            let Some(spec) = fields.iter().find(|f| f.name == field) else {
                let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                return Err(FilterError(if names.is_empty() {
                    format!("filter field '{field}' is not supported: this endpoint has no filters")
                } else {
                    format!(
                        "filter field '{field}' is not supported; supported fields: {}",
                        names.join(", ")
                    )
                }));
            };
            if !spec.ops.contains(op) {
                let ops: Vec<&str> = spec.ops.iter().map(|o| o.as_str()).collect();
                return Err(FilterError(format!(
                    "filter operator '{op}' is not supported on field '{field}'; supported: {}",
                    ops.join(", ")
                )));
            }
            values.iter().try_for_each(|v| check_value(spec, v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse;

    const STATUSES: &[&str] = &["STAGED", "ACTIVE", "COMPLETED"];
    const CAMPAIGNS: &[FieldSpec] = &[
        FieldSpec {
            name: "id",
            ops: &[Op::Eq, Op::In],
            kind: FieldKind::Id,
        },
        FieldSpec {
            name: "name",
            ops: &[Op::Eq, Op::Sw],
            kind: FieldKind::String,
        },
        FieldSpec {
            name: "status",
            ops: &[Op::Eq, Op::In],
            kind: FieldKind::Enum(STATUSES),
        },
    ];

    fn check(input: &str) -> Result<(), FilterError> {
        validate(&parse(input).unwrap(), CAMPAIGNS)
    }

    #[test]
    fn allows_what_the_table_lists() {
        check(r#"name sw "Q" and status in ("ACTIVE", "staged")"#).unwrap();
        check(r#"id eq "0123456789abcdef0123456789abcdef""#).unwrap();
    }

    #[test]
    fn refusals_name_the_field_or_operator() {
        let e = check(r#"owner eq "x""#).unwrap_err().0;
        assert!(
            e.contains("filter field 'owner' is not supported; supported fields: id, name, status"),
            "{e}"
        );
        let e = check(r#"name co "x""#).unwrap_err().0;
        assert!(
            e.contains("filter operator 'co' is not supported on field 'name'; supported: eq, sw"),
            "{e}"
        );
        let e = check(r#"status eq "DONE""#).unwrap_err().0;
        assert!(e.contains("one of STAGED, ACTIVE, COMPLETED"), "{e}");
        let e = check(r#"id eq "nope""#).unwrap_err().0;
        assert!(e.contains("32 hexadecimal"), "{e}");
        let e = check("name eq 5").unwrap_err().0;
        assert!(e.contains("quoted string"), "{e}");
        let e = check("not (name eq null)").unwrap_err().0;
        assert!(e.contains("isnull"), "{e}");
    }
}
