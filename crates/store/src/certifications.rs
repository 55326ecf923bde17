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
/// accounts reviewed as such): the full rows of a page.
pub const ITEM_FROM: &str = "review_items i \
    JOIN certification_subjects s ON s.id = i.summary_id \
    LEFT JOIN campaign_access a ON a.campaign_id = i.campaign_id \
        AND a.access_type = i.access_type AND a.access_id = i.access_id";

/// Where a page of items picks its keys (and counts its rows): review_items alone. Every
/// filterable and sortable item field is a column of the item (the access's and the identity's
/// names are copied onto it at generation), so a certification's items are filtered and
/// sorted without a join.
pub const ITEM_KEYS_FROM: &str = "review_items i";

/// The access types an item filter may name.
pub const ITEM_TYPES: &[&str] = &["ENTITLEMENT", "ACCESS_PROFILE", "ROLE", "ACCOUNT"];

/// The source of an entitlement item, as a filter or sort key.
const ENTITLEMENT_SOURCE: &str = "CASE WHEN i.access_type = 'ENTITLEMENT' THEN i.source_name END";
/// The source of an access profile item, as a filter or sort key.
const ACCESS_PROFILE_SOURCE: &str =
    "CASE WHEN i.access_type = 'ACCESS_PROFILE' THEN i.source_name END";

/// The filterable fields of the access review item list: columns of `review_items i` only
/// (see [`ITEM_KEYS_FROM`]).
pub fn item_column(field: &str) -> Option<Column> {
    let (expr, kind) = match field {
        "id" => ("i.id", FieldKind::Id),
        "type" | "access.type" => ("i.access_type", FieldKind::Enum(ITEM_TYPES)),
        "completed" => ("(i.decision IS NOT NULL)", FieldKind::Bool),
        "identitySummary.id" => ("i.summary_id", FieldKind::Id),
        "identitySummary.name" => ("i.subject_name", FieldKind::String),
        "access.id" => ("i.access_id", FieldKind::Id),
        "access.name" => ("i.access_name", FieldKind::String),
        "entitlement.sourceName" => (ENTITLEMENT_SOURCE, FieldKind::String),
        "accessProfile.sourceName" => (ACCESS_PROFILE_SOURCE, FieldKind::String),
        // Not one of SailPoint's item fields (its table refuses it): the web interface's
        // "privileged only" filter, looked up in the access snapshot.
        "privileged" => (ITEM_PRIVILEGED, FieldKind::Bool),
        _ => return None,
    };
    Some(Column { expr, kind })
}

/// Whether an item's access is privileged, from the campaign's snapshot.
const ITEM_PRIVILEGED: &str = "coalesce((SELECT p.privileged FROM campaign_access p \
    WHERE p.campaign_id = i.campaign_id AND p.access_type = i.access_type \
    AND p.access_id = i.access_id), FALSE)";

/// Sort keys that are never NULL: the item's names (written as '' when there is none, migration
/// 0009) and its type. The index `review_items_by_access_name` holds a certification's items
/// in access name order.
const NEVER_NULL: &[&str] = &["i.access_name", "i.subject_name", "i.access_type"];

/// The sortable fields of the access review item list: columns of `review_items i` only.
pub fn item_sort_column(field: &str) -> Option<&'static str> {
    Some(match field {
        "identitySummary.name" => "i.subject_name",
        "access.name" => "i.access_name",
        "access.type" => "i.access_type",
        "entitlement.sourceName" => ENTITLEMENT_SOURCE,
        "accessProfile.sourceName" => ACCESS_PROFILE_SOURCE,
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
            // NULLs last ascending, first descending, on both backends. A key that is never
            // NULL is ordered by itself, so that an index on it serves the order.
            column(s.field).map(|c| {
                if NEVER_NULL.contains(&c) {
                    format!("{c} {}", if s.descending { "DESC" } else { "ASC" })
                } else if s.descending {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The table aliases an SQL expression qualifies columns with (`i` in `i.id`).
    fn aliases(expr: &str) -> Vec<&str> {
        let b = expr.as_bytes();
        let mut out = Vec::new();
        for (dot, _) in expr.match_indices('.') {
            let start = expr[..dot]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |p| p + 1);
            let quoted = start > 0 && b[start - 1] == b'\'';
            if start < dot && !quoted {
                out.push(&expr[start..dot]);
            }
        }
        out
    }

    const ITEM_FIELDS: &[&str] = &[
        "id",
        "type",
        "access.type",
        "completed",
        "identitySummary.id",
        "identitySummary.name",
        "access.id",
        "access.name",
        "entitlement.sourceName",
        "accessProfile.sourceName",
    ];

    #[test]
    fn item_keys_need_no_join() {
        for field in ITEM_FIELDS {
            let filter = item_column(field).unwrap_or_else(|| panic!("{field} not filterable"));
            assert!(
                aliases(filter.expr).iter().all(|a| *a == "i"),
                "{field}: {}",
                filter.expr
            );
            if let Some(sort) = item_sort_column(field) {
                assert!(aliases(sort).iter().all(|a| *a == "i"), "{field}: {sort}");
            }
        }
        assert_eq!(aliases("COALESCE(a.name, i.account_name)"), ["a", "i"]);
    }

    fn sorted(fields: &[(&'static str, bool)]) -> String {
        let sorters: Vec<_> = fields
            .iter()
            .map(|&(field, descending)| recert_domain::filter::Sorter { field, descending })
            .collect();
        order_by(&sorters, item_sort_column, "i.id", "i.id")
    }

    #[test]
    fn names_are_ordered_as_an_index_holds_them() {
        assert_eq!(
            sorted(&[("access.name", false)]),
            "ORDER BY i.access_name ASC, i.id ASC"
        );
        assert_eq!(
            sorted(&[("identitySummary.name", false), ("access.name", true)]),
            "ORDER BY i.subject_name ASC, i.access_name DESC, i.id ASC"
        );
        // A key that may be NULL keeps its NULLs last ascending, first descending.
        assert_eq!(
            sorted(&[("entitlement.sourceName", true)]),
            format!(
                "ORDER BY {ENTITLEMENT_SOURCE} IS NULL DESC, {ENTITLEMENT_SOURCE} DESC, i.id ASC"
            )
        );
        assert_eq!(sorted(&[]), "ORDER BY i.id");
    }
}
