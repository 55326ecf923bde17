//! Binding the values of a rendered filter ([`recert_store::sql`]) to a rusqlite statement.

use recert_store::sql::SqlValue;
use rusqlite::types::Value;

/// The parameters, in order, as rusqlite values.
pub fn sql_params(values: &[SqlValue]) -> Vec<Value> {
    values.iter().map(sql_value).collect()
}

/// One parameter as a rusqlite value.
pub fn sql_value(v: &SqlValue) -> Value {
    match v {
        SqlValue::Text(s) => Value::Text(s.clone()),
        SqlValue::Int(n) => Value::Integer(*n),
        SqlValue::Bool(b) => Value::Integer(i64::from(*b)),
        SqlValue::Timestamp(t) => Value::Text(t.to_string()),
    }
}
