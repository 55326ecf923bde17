//! The Access Workflows rows as SQL, the same on both backends: the row filter's fields and
//! the expressions that turn stored columns into the dialect's values.

use recert_domain::filter::FieldKind;

use crate::sql::Column;

/// A row's decision in the dialect's words, from `review_items i`.
pub const ROW_DECISION: &str = "CASE WHEN i.decision IS NULL THEN 'NONE' \
    WHEN i.decision = 'APPROVE' THEN 'ACCEPTED' WHEN i.fixed = 1 THEN 'FIXED' \
    ELSE 'REJECTED' END";

/// A row's sign-off in the dialect's words.
pub const ROW_SIGNED_OFF: &str =
    "CASE WHEN i.signed_off = 1 THEN 'SIGNED_OFF' ELSE 'NOT_SIGNED_OFF' END";

/// The row decisions a filter may name.
pub const ROW_DECISIONS: &[&str] = &["NONE", "ACCEPTED", "REJECTED", "FIXED"];
/// The sign-off states a filter may name.
pub const SIGNED_OFF_STATES: &[&str] = &["NOT_SIGNED_OFF", "SIGNED_OFF"];

/// Rows with the certification that owns them (`c`, for `reviewers.id`).
pub const ROW_KEYS_FROM: &str = "review_items i JOIN certifications c ON c.id = i.certification_id";

/// The filterable fields of the result rows.
pub fn row_column(field: &str) -> Option<Column> {
    let (expr, kind) = match field {
        "decision" => (ROW_DECISION, FieldKind::Enum(ROW_DECISIONS)),
        "signed_off_state" => (ROW_SIGNED_OFF, FieldKind::Enum(SIGNED_OFF_STATES)),
        "source.name" => ("i.subject_name", FieldKind::String),
        "source.id" => ("i.subject_id", FieldKind::Id),
        "destination.name" => ("i.access_name", FieldKind::String),
        "destination.type" => (
            "i.access_type",
            FieldKind::Enum(crate::certifications::ITEM_TYPES),
        ),
        "reviewers.id" => ("c.reviewer_id", FieldKind::Id),
        _ => return None,
    };
    Some(Column { expr, kind })
}
