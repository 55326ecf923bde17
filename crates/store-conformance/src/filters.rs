//! Filter cases every backend must answer alike: a few rows, filters, and the names they select.

use recert_domain::filter::FieldKind;
use recert_store::sql::Column;

/// (name, status, n, created, note) of each row of the filter test table
/// `t (name TEXT, status TEXT, n INTEGER, created <timestamp>, note TEXT NULL)`.
pub const FILTER_ROWS: &[(&str, &str, i64, &str, Option<&str>)] = &[
    (
        "Alice Adams",
        "ACTIVE",
        1,
        "2026-01-01T00:00:00.000Z",
        Some("50% off"),
    ),
    ("bob brown", "STAGED", 2, "2026-02-01T00:00:00.000Z", None),
    (
        "Émile Zola",
        "STAGED",
        5,
        "2026-05-01T00:00:00.000Z",
        Some("Ünïcødé"),
    ),
    (
        "Carol_Clark",
        "ACTIVE",
        3,
        "2026-03-01T00:00:00.000Z",
        Some("back\\slash"),
    ),
    (
        "Dave O'Brien",
        "COMPLETED",
        4,
        "2026-04-01T00:00:00.000Z",
        Some(""),
    ),
];

/// A filter and the names it must select, in name order. Non-ASCII letters are matched in
/// their exact case only: SQLite's `lower()` folds ASCII alone, and both backends must agree.
pub const FILTER_CASES: &[(&str, &[&str])] = &[
    (r#"name eq "ALICE ADAMS""#, &["Alice Adams"]),
    (r#"name sw "b""#, &["bob brown"]),
    (r#"name co "_""#, &["Carol_Clark"]),
    (r#"note co "%""#, &["Alice Adams"]),
    (r#"note co "\\""#, &["Carol_Clark"]),
    (r#"name co "o'b""#, &["Dave O'Brien"]),
    (
        r#"status in ("active", "completed")"#,
        &["Alice Adams", "Carol_Clark", "Dave O'Brien"],
    ),
    (
        r#"not status eq "ACTIVE""#,
        &["Dave O'Brien", "bob brown", "Émile Zola"],
    ),
    ("n ge 2 and n lt 4", &["Carol_Clark", "bob brown"]),
    (r#"n eq 1 or name sw "d""#, &["Alice Adams", "Dave O'Brien"]),
    ("note isnull", &["bob brown"]),
    (
        "pr note",
        &["Alice Adams", "Carol_Clark", "Dave O'Brien", "Émile Zola"],
    ),
    (
        r#"created gt "2026-02-15T00:00:00Z""#,
        &["Carol_Clark", "Dave O'Brien", "Émile Zola"],
    ),
    (r#"name eq "x' OR '1'='1""#, &[]),
    (r#"name eq "Émile ZOLA""#, &["Émile Zola"]),
    (r#"note co "Ünïc""#, &["Émile Zola"]),
    (
        r#"note ne "50% off""#,
        &["Carol_Clark", "Dave O'Brien", "bob brown", "Émile Zola"],
    ),
    (
        r#"not note eq "50% OFF""#,
        &["Carol_Clark", "Dave O'Brien", "bob brown", "Émile Zola"],
    ),
];

/// The test table's columns, as an endpoint would map its filter fields.
pub fn filter_column(name: &str) -> Option<Column> {
    const STATUS: &[&str] = &["ACTIVE", "STAGED", "COMPLETED"];
    Some(match name {
        "name" => Column {
            expr: "name",
            kind: FieldKind::String,
        },
        "status" => Column {
            expr: "status",
            kind: FieldKind::Enum(STATUS),
        },
        "n" => Column {
            expr: "n",
            kind: FieldKind::Integer,
        },
        "created" => Column {
            expr: "created",
            kind: FieldKind::Timestamp,
        },
        "note" => Column {
            expr: "note",
            kind: FieldKind::String,
        },
        _ => return None,
    })
}
