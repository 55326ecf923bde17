//! The reviewer API's collections as SQL, the same on both backends: the tables their rows come
//! from, and the column each filterable or sortable field maps to. Field names reach SQL only
//! through these tables; values only as bound parameters.

use recert_domain::filter::FieldKind;

use crate::sql::Column;

/// Certifications with their campaign (`c`, `k`).
pub const CERTIFICATION_FROM: &str = "certifications c JOIN campaigns k ON k.id = c.campaign_id";

/// The phases a certification filter may name.
pub const PHASES: &[&str] = &["STAGED", "ACTIVE", "SIGNED"];

/// The filterable fields of the certification list.
pub fn certification_column(field: &str) -> Option<Column> {
    let (expr, kind) = match field {
        "id" => ("c.id", FieldKind::Id),
        "campaign.id" => ("c.campaign_id", FieldKind::Id),
        "phase" => ("c.phase", FieldKind::Enum(PHASES)),
        "completed" => ("(c.decisions_made = c.decisions_total)", FieldKind::Bool),
        _ => return None,
    };
    Some(Column { expr, kind })
}

/// The sortable fields of the certification list.
pub fn certification_sort_column(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => "c.name",
        "due" => "c.due",
        "signed" => "c.signed_at",
        _ => return None,
    })
}

/// Review items with their identity summary (`s`) and access snapshot (`a`; none for
/// accounts reviewed as such).
pub const ITEM_FROM: &str = "review_items i \
    JOIN certification_subjects s ON s.id = i.summary_id \
    LEFT JOIN campaign_access a ON a.campaign_id = i.campaign_id \
        AND a.access_type = i.access_type AND a.access_id = i.access_id";

/// The access types an item filter may name.
pub const ITEM_TYPES: &[&str] = &["ENTITLEMENT", "ACCESS_PROFILE", "ROLE", "ACCOUNT"];

/// The filterable fields of the access review item list.
pub fn item_column(field: &str) -> Option<Column> {
    let (expr, kind) = match field {
        "id" => ("i.id", FieldKind::Id),
        "type" | "access.type" => ("i.access_type", FieldKind::Enum(ITEM_TYPES)),
        "completed" => ("(i.decision IS NOT NULL)", FieldKind::Bool),
        "identitySummary.id" => ("s.id", FieldKind::Id),
        "identitySummary.name" => ("s.name", FieldKind::String),
        "access.id" => ("i.access_id", FieldKind::Id),
        "access.name" => ("COALESCE(a.name, i.account_name)", FieldKind::String),
        "entitlement.sourceName" => (
            "CASE WHEN i.access_type = 'ENTITLEMENT' THEN a.source_name END",
            FieldKind::String,
        ),
        "accessProfile.sourceName" => (
            "CASE WHEN i.access_type = 'ACCESS_PROFILE' THEN a.source_name END",
            FieldKind::String,
        ),
        _ => return None,
    };
    Some(Column { expr, kind })
}

/// The sortable fields of the access review item list.
pub fn item_sort_column(field: &str) -> Option<&'static str> {
    Some(match field {
        "identitySummary.name" => "s.name",
        "access.name" => "COALESCE(a.name, i.account_name)",
        "access.type" => "i.access_type",
        "entitlement.sourceName" => {
            "CASE WHEN i.access_type = 'ENTITLEMENT' THEN a.source_name END"
        }
        "accessProfile.sourceName" => {
            "CASE WHEN i.access_type = 'ACCESS_PROFILE' THEN a.source_name END"
        }
        _ => return None,
    })
}

/// The filterable fields of a certification's reviewer list (over `certifications c`).
pub fn reviewer_column(field: &str) -> Option<Column> {
    let (expr, kind) = match field {
        "id" => ("c.reviewer_id", FieldKind::Id),
        "name" => ("c.reviewer_name", FieldKind::String),
        "email" => ("c.reviewer_email", FieldKind::String),
        _ => return None,
    };
    Some(Column { expr, kind })
}

/// The sortable fields of a certification's reviewer list.
pub fn reviewer_sort_column(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => "c.reviewer_name",
        "email" => "c.reviewer_email",
        _ => return None,
    })
}

/// The task types a task filter may name.
pub const TASK_TYPES: &[&str] = &[
    "REASSIGN",
    "ADMIN_REASSIGN",
    "COMPLETE_CERTIFICATION",
    "FINISH_CERTIFICATION",
    "COMPLETE_CAMPAIGN",
    "ACTIVATE_CAMPAIGN",
    "CAMPAIGN_CREATE",
    "CAMPAIGN_DELETE",
];

/// The filterable fields of the certification task list (over `certification_tasks t`).
pub fn task_column(field: &str) -> Option<Column> {
    let (expr, kind) = match field {
        "id" => ("t.id", FieldKind::Id),
        "targetId" => ("t.target_id", FieldKind::Id),
        "type" => ("t.type", FieldKind::Enum(TASK_TYPES)),
        _ => return None,
    };
    Some(Column { expr, kind })
}

/// `ORDER BY` for validated sorters, `tie` (a unique column) breaking ties so pages are stable;
/// `default` when there are none.
pub fn order_by(
    sorters: &[recert_domain::filter::Sorter],
    column: fn(&str) -> Option<&'static str>,
    default: &str,
    tie: &str,
) -> String {
    let mut parts: Vec<String> = sorters
        .iter()
        .filter_map(|s| {
            // NULLs last ascending, first descending, on both backends.
            column(s.field).map(|c| {
                if s.descending {
                    format!("{c} IS NULL DESC, {c} DESC")
                } else {
                    format!("{c} IS NULL, {c} ASC")
                }
            })
        })
        .collect();
    if parts.is_empty() {
        return format!("ORDER BY {default}");
    }
    parts.push(format!("{tie} ASC"));
    format!("ORDER BY {}", parts.join(", "))
}
