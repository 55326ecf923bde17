//! Filters to SQL: a parsed filter becomes a `WHERE` fragment whose every value is a bound
//! parameter, never text pasted into the statement. Field names map to column expressions
//! through the endpoint's own table, so a caller cannot name a column either.
//!
//! String comparisons are case-insensitive: the database's `lower()` on both sides, so that
//! column and value fold alike (on SQLite `lower()` folds ASCII letters only: `É` and `é` stay
//! different there). `co` and `sw` use `LIKE` with `%`, `_` and `\` escaped in the value. `ne`
//! and `not` keep SCIM's meaning for absent values: `name ne "x"` and `not (name eq "x")` both
//! include rows without a name.

use recert_domain::Timestamp;
use recert_domain::filter::{FieldKind, Filter, FilterError, Op, Value};

/// How a backend writes parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `?1`, `?2`, ... (SQLite)
    Question,
    /// `$1`, `$2`, ... (PostgreSQL)
    Dollar,
}

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Text(String),
    Int(i64),
    Bool(bool),
    Timestamp(Timestamp),
}

/// A column an endpoint exposes to filters: its SQL expression and the kind of its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub expr: &'static str,
    pub kind: FieldKind,
}

struct Out {
    sql: String,
    params: Vec<SqlValue>,
    first: usize,
    ph: Placeholder,
}

impl Out {
    fn param(&mut self, v: SqlValue) -> String {
        self.params.push(v);
        let n = self.first + self.params.len() - 1;
        match self.ph {
            Placeholder::Question => format!("?{n}"),
            Placeholder::Dollar => format!("${n}"),
        }
    }
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn bound(col: &Column, v: &Value) -> Result<SqlValue, FilterError> {
    let wrong = || FilterError(format!("value {v} does not fit column kind {:?}", col.kind));
    Ok(match (col.kind, v) {
        (FieldKind::String, Value::String(s)) => SqlValue::Text(s.clone()),
        (FieldKind::Id, Value::String(s)) => SqlValue::Text(s.to_ascii_lowercase()),
        (FieldKind::Enum(_), Value::String(s)) => SqlValue::Text(s.to_ascii_uppercase()),
        (FieldKind::Integer, Value::Number(n)) => SqlValue::Int(n.parse().map_err(|_| wrong())?),
        (FieldKind::Bool, Value::Bool(b)) => SqlValue::Bool(*b),
        (FieldKind::Timestamp, Value::String(s)) => {
            SqlValue::Timestamp(Timestamp::parse(s).map_err(|_| wrong())?)
        }
        _ => return Err(wrong()),
    })
}

fn render_into(
    f: &Filter,
    column: &dyn Fn(&str) -> Option<Column>,
    out: &mut Out,
) -> Result<(), FilterError> {
    match f {
        Filter::And(parts) | Filter::Or(parts) => {
            let word = if matches!(f, Filter::And(_)) {
                " AND "
            } else {
                " OR "
            };
            out.sql.push('(');
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.sql.push_str(word);
                }
                render_into(p, column, out)?;
            }
            out.sql.push(')');
        }
        Filter::Not(inner) => {
            // A condition on an absent value is unknown (NULL) in SQL; "not" of it must be true.
            out.sql.push_str("NOT coalesce((");
            render_into(inner, column, out)?;
            out.sql.push_str("), FALSE)");
        }
        Filter::Cond { field, op, values } => {
            let col = column(field)
                .ok_or_else(|| FilterError(format!("filter field '{field}' is not supported")))?;
            let text = col.kind == FieldKind::String;
            let lhs = if text {
                format!("lower({})", col.expr)
            } else {
                col.expr.to_owned()
            };
            let first = || {
                values
                    .first()
                    .ok_or_else(|| FilterError(format!("operator '{op}' needs a value")))
            };
            let rhs = |p: String| if text { format!("lower({p})") } else { p };
            let cmp = |out: &mut Out, sym: &str| -> Result<String, FilterError> {
                let p = out.param(bound(&col, first()?)?);
                Ok(format!("{lhs} {sym} {}", rhs(p)))
            };
            let piece = match op {
                Op::Eq => cmp(out, "=")?,
                Op::Ne => format!("({} IS NULL OR {})", col.expr, cmp(out, "<>")?),
                Op::Gt => cmp(out, ">")?,
                Op::Ge => cmp(out, ">=")?,
                Op::Lt => cmp(out, "<")?,
                Op::Le => cmp(out, "<=")?,
                Op::Co | Op::Sw if text => {
                    let Value::String(s) = first()? else {
                        return Err(FilterError(format!("'{op}' needs a string")));
                    };
                    let pattern = like_escape(s);
                    let pattern = if *op == Op::Co {
                        format!("%{pattern}%")
                    } else {
                        format!("{pattern}%")
                    };
                    let p = out.param(SqlValue::Text(pattern));
                    format!("{lhs} LIKE lower({p}) ESCAPE '\\'")
                }
                Op::In => {
                    let mut ps = Vec::with_capacity(values.len());
                    for v in values {
                        let b = bound(&col, v)?;
                        let p = out.param(b);
                        ps.push(rhs(p));
                    }
                    format!("{lhs} IN ({})", ps.join(", "))
                }
                Op::Pr => format!("{} IS NOT NULL", col.expr),
                Op::IsNull => format!("{} IS NULL", col.expr),
                Op::Co | Op::Sw | Op::Ca => {
                    return Err(FilterError(format!(
                        "filter operator '{op}' is not supported on field '{field}'"
                    )));
                }
            };
            out.sql.push_str(&piece);
        }
    }
    Ok(())
}

/// Renders `filter` as a SQL condition. Parameters are numbered from `first_param`.
pub fn render(
    filter: &Filter,
    column: &dyn Fn(&str) -> Option<Column>,
    placeholder: Placeholder,
    first_param: usize,
) -> Result<(String, Vec<SqlValue>), FilterError> {
    let mut out = Out {
        sql: String::new(),
        params: Vec::new(),
        first: first_param.max(1),
        ph: placeholder,
    };
    render_into(filter, column, &mut out)?;
    Ok((out.sql, out.params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use recert_domain::filter::parse;

    fn columns(name: &str) -> Option<Column> {
        Some(match name {
            "name" => Column {
                expr: "c.name",
                kind: FieldKind::String,
            },
            "id" => Column {
                expr: "c.id",
                kind: FieldKind::Id,
            },
            "status" => Column {
                expr: "c.status",
                kind: FieldKind::Enum(&["ACTIVE", "STAGED"]),
            },
            "n" => Column {
                expr: "c.n",
                kind: FieldKind::Integer,
            },
            _ => return None,
        })
    }

    #[test]
    fn values_are_always_parameters() {
        let f = parse(r#"(name co "50%_off\\" or status in ("active", "Staged")) and not n gt 3"#)
            .unwrap();
        let (sql, params) = render(&f, &columns, Placeholder::Dollar, 4).unwrap();
        assert_eq!(
            sql,
            "((lower(c.name) LIKE lower($4) ESCAPE '\\' OR c.status IN ($5, $6)) \
             AND NOT coalesce((c.n > $7), FALSE))"
        );
        assert_eq!(
            params,
            vec![
                SqlValue::Text("%50\\%\\_off\\\\%".into()),
                SqlValue::Text("ACTIVE".into()),
                SqlValue::Text("STAGED".into()),
                SqlValue::Int(3),
            ]
        );
        let hostile = parse(r#"name eq "x' OR '1'='1""#).unwrap();
        let (sql, params) = render(&hostile, &columns, Placeholder::Question, 1).unwrap();
        assert_eq!(sql, "lower(c.name) = lower(?1)");
        assert_eq!(params, vec![SqlValue::Text("x' OR '1'='1".into())]);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let f = parse(r#"password eq "x""#).unwrap();
        assert!(render(&f, &columns, Placeholder::Question, 1).is_err());
    }
}
