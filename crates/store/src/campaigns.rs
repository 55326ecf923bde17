//! Listing parameters shared by the collection methods of [`crate::Store`].

use recert_domain::filter::{Filter, Paging, Sorter};

/// A validated `filters`, `sorters` and page, as an endpoint accepted them.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    pub sorters: Vec<Sorter>,
    pub paging: Paging,
}

/// One page of a collection; `total` is counted only when the caller asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: Option<u64>,
}

use recert_domain::Id;
use recert_domain::filter::FieldKind;
use recert_domain::review::{Alert, AlertLevel, GenerationReport};

use crate::sql::Column;

/// A fresh 16-hex prefix for the ids of rows generated in bulk: a millisecond timestamp and 16
/// random bits, followed in each id by a 16-hex counter. Ids made this way ascend within one
/// generation (so bulk inserts go in key order) and two generations never share a prefix in
/// practice.
pub fn id_prefix() -> String {
    let b = *Id::generate().as_bytes();
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&b[..6]);
    // The last bytes of a UUIDv7: random in every call. The bytes right after the timestamp
    // hold the generator's counter, the same for two calls in one millisecond, which gave a
    // generation's certification, summary and item ids one prefix.
    bytes[6..8].copy_from_slice(&b[14..16]);
    Id::from_bytes(bytes).to_string()[..16].to_owned()
}

/// The filterable columns of the campaign list (the same on both backends).
pub fn campaign_column(field: &str) -> Option<Column> {
    Some(match field {
        "id" => Column {
            expr: "id",
            kind: FieldKind::Id,
        },
        "name" => Column {
            expr: "name",
            kind: FieldKind::String,
        },
        "status" => Column {
            expr: "status",
            kind: FieldKind::Enum(&[]),
        },
        _ => return None,
    })
}

/// The SQL of a validated sorter field of the campaign list.
pub fn campaign_sort_column(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => "name",
        "created" => "created_at",
        _ => return None,
    })
}

/// The filterable columns of the template list.
pub fn template_column(field: &str) -> Option<Column> {
    Some(match field {
        "id" => Column {
            expr: "id",
            kind: FieldKind::Id,
        },
        "name" => Column {
            expr: "name",
            kind: FieldKind::String,
        },
        _ => return None,
    })
}

/// The SQL of a validated sorter field of the template list.
pub fn template_sort_column(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => "name",
        "created" => "created_at",
        "modified" => "modified_at",
        _ => return None,
    })
}

/// `ORDER BY` for validated sorters (ids break ties so pages are stable); `default` when none.
pub fn order_by(
    sorters: &[recert_domain::filter::Sorter],
    column: fn(&str) -> Option<&'static str>,
    default: &str,
) -> String {
    let mut parts: Vec<String> = sorters
        .iter()
        .filter_map(|s| {
            column(s.field).map(|c| format!("{c} {}", if s.descending { "DESC" } else { "ASC" }))
        })
        .collect();
    if parts.is_empty() {
        return format!("ORDER BY {default}");
    }
    parts.push("id ASC".into());
    format!("ORDER BY {}", parts.join(", "))
}

/// The alerts a generation leaves on its campaign.
pub fn generation_alerts(r: &GenerationReport, has_fallback: bool) -> Vec<Alert> {
    let mut out = Vec::new();
    if r.unreviewed_subjects > 0 {
        out.push(Alert {
            level: AlertLevel::Warn,
            text: format!(
                "{} reviewed {} had no reviewer{}; their access is not in this campaign",
                r.unreviewed_subjects,
                if r.unreviewed_subjects == 1 {
                    "subject"
                } else {
                    "subjects"
                },
                if has_fallback {
                    " and the fallback reviewer could not take them"
                } else {
                    " and no fallback reviewer is configured (campaigns.fallback_reviewer)"
                }
            ),
        });
    }
    if r.unassigned_items > 0 {
        out.push(Alert {
            level: AlertLevel::Warn,
            text: format!(
                "{} items would have been self-reviews and had nobody else to review them; \
                 they are not in this campaign",
                r.unassigned_items
            ),
        });
    }
    if r.items == 0 {
        out.push(Alert {
            level: AlertLevel::Warn,
            text: "the campaign's scope matched no access: it has no certifications".into(),
        });
    }
    out
}

#[cfg(test)]
mod prefix_tests {
    #[test]
    fn prefixes_made_in_one_millisecond_differ() {
        let p: Vec<String> = (0..11).map(|_| super::id_prefix()).collect();
        assert!(p.iter().all(|x| x.len() == 16));
        let differing = p.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(differing >= 5, "{p:?}");
    }
}
