//! Binding the values of a rendered filter ([`recert_store::sql`]) to a sqlx query.

use recert_store::sql::SqlValue;
use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;

/// Binds the parameters, in order.
pub fn bind_params<'q>(
    mut q: Query<'q, Postgres, PgArguments>,
    values: &[SqlValue],
) -> Query<'q, Postgres, PgArguments> {
    for v in values {
        q = match v {
            SqlValue::Text(s) => q.bind(s.clone()),
            SqlValue::Int(n) => q.bind(*n),
            SqlValue::Bool(b) => q.bind(*b),
            SqlValue::Timestamp(t) => q.bind(t.datetime()),
        };
    }
    q
}
