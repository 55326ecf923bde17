//! The reviewer's API on SQLite: certifications and their items as a reviewer lists them, an
//! item's permissions, a certification's reviewers, moving items to another reviewer, and the
//! certification tasks. The collections' tables and columns are shared with PostgreSQL
//! ([`recert_store::certifications`]); every filter and sorter value is a bound parameter.

use recert_domain::certification::{
    AccessReviewItem, AccessSnapshot, AccountSnapshot, CampaignRef, ReassignedFrom, ReviewerRef,
};
use recert_domain::review::{Certification, CertificationTask, CorrelatedStatus};
use recert_domain::{Id, NewJob, Permission};
use recert_store::certifications::{
    CERTIFICATION_FROM, ITEM_FROM, ITEM_KEYS_FROM, certification_column, certification_sort_column,
    item_column, item_sort_column, reviewer_column, reviewer_sort_column, task_column,
};
use recert_store::{ListQuery, Page, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::db_err;
use crate::queries::{
    Listing, Within, get_id, get_json, get_opt_id, get_opt_ts, get_ts, page_within,
};

fn bad(i: usize, e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        Box::<dyn std::error::Error + Send + Sync>::from(e.to_string()),
    )
}

fn parsed<T: std::str::FromStr>(r: &Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T::Err: std::fmt::Display,
{
    let s: String = r.get(i)?;
    s.parse().map_err(|e| bad(i, e))
}

/// The columns [`certification_from_row`] reads, over [`CERTIFICATION_FROM`].
pub(crate) const CERTIFICATION_COLUMNS: &str = "c.id, c.campaign_id, c.name, c.reviewer_id, \
    c.reviewer_name, c.reviewer_email, c.phase, c.due, c.signed_at, c.decisions_made, \
    c.decisions_total, c.identities_completed, c.identities_total, c.created_at, c.modified_at, \
    k.name, k.type, k.description, k.correlated_status, k.mandatory_comment_requirement, \
    c.reassigned_from_id, c.reassigned_from_name, c.reassigned_from_reviewer_id, \
    c.reassigned_from_reviewer_name, c.reassigned_from_reviewer_email, c.reassignment_comment";

pub(crate) fn certification_from_row(r: &Row<'_>) -> rusqlite::Result<Certification> {
    let correlated: String = r.get(18)?;
    let reassigned_from = match get_opt_id(r, 20)? {
        Some(certification_id) => Some(ReassignedFrom {
            certification_id,
            certification_name: r.get::<_, Option<String>>(21)?.unwrap_or_default(),
            reviewer_id: get_opt_id(r, 22)?
                .ok_or_else(|| bad(22, "a reassignment without its former reviewer"))?,
            reviewer_name: r.get::<_, Option<String>>(23)?.unwrap_or_default(),
            reviewer_email: r.get(24)?,
            comment: r.get(25)?,
        }),
        None => None,
    };
    Ok(Certification {
        id: get_id(r, 0)?,
        campaign_id: get_id(r, 1)?,
        name: r.get(2)?,
        reviewer_id: get_id(r, 3)?,
        reviewer_name: r.get(4)?,
        reviewer_email: r.get(5)?,
        phase: parsed(r, 6)?,
        due: get_opt_ts(r, 7)?,
        signed: get_opt_ts(r, 8)?,
        decisions_made: r.get(9)?,
        decisions_total: r.get(10)?,
        identities_completed: r.get(11)?,
        identities_total: r.get(12)?,
        created: get_ts(r, 13)?,
        modified: get_ts(r, 14)?,
        campaign: CampaignRef {
            id: get_id(r, 1)?,
            name: r.get(15)?,
            campaign_type: parsed(r, 16)?,
            description: r.get(17)?,
            correlated_status: CorrelatedStatus::parse(&correlated)
                .ok_or_else(|| bad(18, "unknown correlated status"))?,
            mandatory_comment_requirement: parsed(r, 19)?,
        },
        reassigned_from,
    })
}

const CERTIFICATIONS: Listing<Certification> = Listing {
    table: CERTIFICATION_FROM,
    columns: CERTIFICATION_COLUMNS,
    column: certification_column,
    sort: certification_sort_column,
    // Due date first (none last), then name.
    default_order: "c.due IS NULL, c.due, c.name, c.id",
    from_row: certification_from_row,
};

pub(crate) fn certifications(
    c: &Connection,
    reviewer: Option<Id>,
    q: &ListQuery,
) -> Result<Page<Certification>, StoreError> {
    let within = match reviewer {
        Some(r) => Within {
            cond: "c.reviewer_id = ?1".into(),
            params: vec![Value::Text(r.to_string())],
            tie: "c.id",
            keys_from: None,
        },
        None => Within {
            cond: "1 = 1".into(),
            params: Vec::new(),
            tie: "c.id",
            keys_from: None,
        },
    };
    page_within(c, &CERTIFICATIONS, Some(&within), q)
}

pub(crate) fn certification(c: &Connection, id: Id) -> Result<Option<Certification>, StoreError> {
    // Read by every reviewer call: the statement is compiled once per connection.
    c.prepare_cached(&format!(
        "SELECT {CERTIFICATION_COLUMNS} FROM {CERTIFICATION_FROM} WHERE c.id = ?1"
    ))
    .map_err(db_err)?
    .query_row([id.to_string()], certification_from_row)
    .optional()
    .map_err(db_err)
}

/// The columns [`item_from_row`] reads, over [`ITEM_FROM`].
pub(crate) const ITEM_COLUMNS: &str = "i.id, i.certification_id, i.summary_id, i.subject_id, s.name, \
    (s.items_decided = s.items_total), i.access_type, i.access_id, \
    COALESCE(a.name, i.account_name, ''), a.access_id IS NOT NULL, a.description, a.privileged, \
    a.source_id, a.source_name, a.source_type, a.attribute_name, a.attribute_value, a.owner_id, \
    a.owner_name, a.owner_email, json_array_length(a.permissions) > 0, a.contents, \
    i.account_id, i.account_name, i.account_native_identity, i.account_source_id, \
    i.account_disabled, i.account_locked, i.new_access, i.decision, i.comments, \
    i.proposed_end_date";

pub(crate) fn item_from_row(r: &Row<'_>) -> rusqlite::Result<AccessReviewItem> {
    let snapshot: bool = r.get(9)?;
    let access = if snapshot {
        Some(AccessSnapshot {
            description: r.get(10)?,
            privileged: r.get(11)?,
            source_id: get_opt_id(r, 12)?,
            source_name: r.get(13)?,
            source_type: r.get(14)?,
            attribute_name: r.get(15)?,
            attribute_value: r.get(16)?,
            owner_id: get_opt_id(r, 17)?,
            owner_name: r.get(18)?,
            owner_email: r.get(19)?,
            has_permissions: r.get::<_, Option<bool>>(20)?.unwrap_or(false),
            contents: get_json(r, 21)?,
        })
    } else {
        None
    };
    let account = match get_opt_id(r, 22)? {
        Some(id) => Some(AccountSnapshot {
            id: Some(id),
            name: r.get(23)?,
            native_identity: r.get(24)?,
            source_id: get_opt_id(r, 25)?,
            disabled: r.get::<_, Option<bool>>(26)?.unwrap_or(false),
            locked: r.get::<_, Option<bool>>(27)?.unwrap_or(false),
        }),
        None => None,
    };
    let decision: Option<String> = r.get(29)?;
    Ok(AccessReviewItem {
        id: get_id(r, 0)?,
        certification_id: get_id(r, 1)?,
        summary_id: get_id(r, 2)?,
        identity_id: get_id(r, 3)?,
        identity_name: r.get(4)?,
        identity_completed: r.get(5)?,
        access_type: r.get(6)?,
        access_id: get_id(r, 7)?,
        access_name: r.get(8)?,
        access,
        account,
        new_access: r.get(28)?,
        decision: decision
            .map(|d| d.parse().map_err(|e: String| bad(29, e)))
            .transpose()?,
        comments: r.get(30)?,
        proposed_end_date: get_opt_ts(r, 31)?,
    })
}

const ITEMS: Listing<AccessReviewItem> = Listing {
    table: ITEM_FROM,
    columns: ITEM_COLUMNS,
    column: item_column,
    sort: item_sort_column,
    default_order: "i.id",
    from_row: item_from_row,
};

pub(crate) fn access_review_items(
    c: &Connection,
    cert: Id,
    access: Option<(&str, &[Id])>,
    q: &ListQuery,
) -> Result<Page<AccessReviewItem>, StoreError> {
    let mut within = Within {
        cond: "i.certification_id = ?1".into(),
        params: vec![Value::Text(cert.to_string())],
        tie: "i.id",
        keys_from: Some(ITEM_KEYS_FROM),
    };
    if let Some((access_type, ids)) = access {
        within.params.push(Value::Text(access_type.to_owned()));
        within
            .cond
            .push_str(&format!(" AND i.access_type = ?{}", within.params.len()));
        if ids.is_empty() {
            within.cond.push_str(" AND 1 = 0");
        } else {
            let mut ps = Vec::with_capacity(ids.len());
            for id in ids {
                within.params.push(Value::Text(id.to_string()));
                ps.push(format!("?{}", within.params.len()));
            }
            within
                .cond
                .push_str(&format!(" AND i.access_id IN ({})", ps.join(", ")));
        }
    }
    page_within(c, &ITEMS, Some(&within), q)
}

pub(crate) fn item_permissions(
    c: &Connection,
    cert: Id,
    item: Id,
) -> Result<Option<Vec<Permission>>, StoreError> {
    let row: Option<(String, Option<String>)> = c
        .query_row(
            "SELECT i.access_type, a.permissions FROM review_items i
             LEFT JOIN campaign_access a ON a.campaign_id = i.campaign_id
                AND a.access_type = i.access_type AND a.access_id = i.access_id
             WHERE i.id = ?1 AND i.certification_id = ?2",
            params![item.to_string(), cert.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((access_type, permissions)) = row else {
        return Ok(None);
    };
    match permissions {
        Some(p) if access_type == "ENTITLEMENT" => serde_json::from_str(&p)
            .map(Some)
            .map_err(|e| StoreError::corrupt("campaign_access", e)),
        _ => Ok(Some(Vec::new())),
    }
}

const REVIEWERS: Listing<ReviewerRef> = Listing {
    table: "certifications c",
    columns: "c.reviewer_id, c.reviewer_name, c.reviewer_email",
    column: reviewer_column,
    sort: reviewer_sort_column,
    default_order: "c.reviewer_name, c.reviewer_id",
    from_row: |r| {
        Ok(ReviewerRef {
            id: get_id(r, 0)?,
            name: r.get(1)?,
            email: r.get(2)?,
        })
    },
};

pub(crate) fn certification_reviewers(
    c: &Connection,
    cert: Id,
    q: &ListQuery,
) -> Result<Page<ReviewerRef>, StoreError> {
    let within = Within {
        cond: "c.id = ?1".into(),
        params: vec![Value::Text(cert.to_string())],
        tie: "c.id",
        keys_from: None,
    };
    page_within(c, &REVIEWERS, Some(&within), q)
}

const TASKS: Listing<CertificationTask> = Listing {
    table: "certification_tasks t",
    columns: "t.id, t.type, t.target_type, t.target_id, t.status, t.errors, \
        t.reassignment_trails, t.request, t.requested_by, t.created_at, t.updated_at",
    column: task_column,
    // Tasks have no sorters: always oldest first.
    sort: |_| None,
    default_order: "t.created_at, t.id",
    from_row: crate::campaigns::task_from_row,
};

pub(crate) fn certification_tasks(
    c: &Connection,
    reviewer: Option<Id>,
    pending_only: bool,
    q: &ListQuery,
) -> Result<Page<CertificationTask>, StoreError> {
    let mut within = Within {
        cond: "1 = 1".into(),
        params: Vec::new(),
        tie: "t.id",
        keys_from: None,
    };
    if pending_only {
        within
            .cond
            .push_str(" AND t.status IN ('QUEUED', 'IN_PROGRESS')");
    }
    if let Some(r) = reviewer {
        within.params.push(Value::Text(r.to_string()));
        within.cond.push_str(&format!(
            " AND t.target_type = 'CERTIFICATION'
              AND t.target_id IN (SELECT id FROM certifications WHERE reviewer_id = ?{})",
            within.params.len()
        ));
    }
    page_within(c, &TASKS, Some(&within), q)
}

pub(crate) fn create_task(
    c: &mut Connection,
    task: &CertificationTask,
    job: &NewJob,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(db_err)?;
    crate::campaigns::insert_task(&tx, task)?;
    crate::jobs::enqueue(&tx, job, task.created)?;
    tx.commit().map_err(db_err)
}
