//! SailPoint's standard collection parameters: the `filters` grammar, `sorters`, and paging
//! (`limit`, `offset`, `count`).
//!
//! One parser for every endpoint. Grammar (precedence `not` > `and` > `or`, parentheses group):
//!
//! ```text
//! expr     := or
//! or       := and ("or" and)*
//! and      := unary ("and" unary)*
//! unary    := "not" unary | "(" expr ")" | "pr" FIELD | FIELD "isnull" | FIELD OP value
//!           | FIELD ("in" | "ca") "(" value ("," value)* ")"
//! OP       := eq | ne | gt | ge | lt | le | co | sw
//! value    := "string with \" and \\ escapes" | number | true | false | null
//! ```
//!
//! Keywords and operators are case-insensitive; string comparisons are too (that is for the SQL
//! rendering to honour). Each endpoint lists the fields and operators it allows
//! ([`FieldSpec`]); anything else is refused with a message naming the field or operator.
//! Limits keep hostile input cheap: 4,096 characters, nesting depth 32, 1,000 list values.

mod lexer;
mod paging;
mod parser;
mod sorters;
mod spec;

use std::fmt;

pub use paging::{MAX_LIMIT, Paging};
pub use parser::parse;
pub use sorters::{Sorter, parse_sorters};
pub use spec::{FieldKind, FieldSpec, validate};

/// The most characters a `filters` parameter may have.
pub const MAX_LENGTH: usize = 4096;
/// The deepest nesting of `not` and parentheses.
pub const MAX_DEPTH: usize = 32;
/// The most values in an `in` or `ca` list.
pub const MAX_LIST: usize = 1000;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    /// Contains (a substring).
    Co,
    /// Starts with.
    Sw,
    /// One of a list.
    In,
    /// Contains all (a multi-valued field holds every listed value).
    Ca,
    /// Present: the field has a value.
    Pr,
    /// The field has no value.
    IsNull,
}

impl Op {
    pub fn as_str(&self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Co => "co",
            Op::Sw => "sw",
            Op::In => "in",
            Op::Ca => "ca",
            Op::Pr => "pr",
            Op::IsNull => "isnull",
        }
    }

    /// The binary operators that take one value.
    pub(crate) fn binary(word: &str) -> Option<Op> {
        Some(match word {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            "co" => Op::Co,
            "sw" => Op::Sw,
            _ => return None,
        })
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    /// Kept as written (validated as a number), so nothing is lost to floating point.
    Number(String),
    Bool(bool),
    Null,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
            Value::Number(n) => f.write_str(n),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Null => f.write_str("null"),
        }
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// `field op value`; for `in` and `ca` the values are the list; for `pr` and `isnull` none.
    Cond {
        field: String,
        op: Op,
        values: Vec<Value>,
    },
}

impl fmt::Display for Filter {
    /// Writes the filter back in the grammar, fully parenthesised.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, parts: &[Filter], word: &str| {
            f.write_str("(")?;
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    write!(f, " {word} ")?;
                }
                write!(f, "{p}")?;
            }
            f.write_str(")")
        };
        match self {
            Filter::And(parts) => join(f, parts, "and"),
            Filter::Or(parts) => join(f, parts, "or"),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::Cond { field, op, values } => match op {
                Op::Pr => write!(f, "pr {field}"),
                Op::IsNull => write!(f, "{field} isnull"),
                Op::In | Op::Ca => {
                    write!(f, "{field} {op} (")?;
                    for (i, v) in values.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{v}")?;
                    }
                    f.write_str(")")
                }
                _ => write!(f, "{field} {op} {}", values.first().unwrap_or(&Value::Null)),
            },
        }
    }
}

/// Why a `filters` or `sorters` parameter was refused. The message is for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

impl FilterError {
    pub(crate) fn at(pos: usize, what: impl fmt::Display) -> Self {
        FilterError(format!("invalid filter at character {}: {what}", pos + 1))
    }
}
