//! The reviewer's API on PostgreSQL: certifications and their items as a reviewer sees them,
//! item permissions, reviewers and certification tasks (moving items to another reviewer is in
//! `reassign.rs`).
//! Collections go through [`crate::queries::page_in`]: a fixed condition with its own bound
//! parameters, then the caller's filter, every value bound.

use recert_domain::certification::{
    AccessReviewItem, AccessSnapshot, AccountSnapshot, CampaignRef, ReassignedFrom, ReviewerRef,
};
use recert_domain::review::{Certification, CertificationTask, CorrelatedStatus};
use recert_domain::{ApiClient, Id, NewJob, Permission};
use recert_store::certifications::{
    CERTIFICATION_FROM, ITEM_FROM, ITEM_KEYS_FROM, certification_column, certification_sort_column,
    item_column, item_sort_column, reviewer_column, reviewer_sort_column, task_column,
};
use recert_store::{ListQuery, Page, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use crate::batch::PointReads;
use crate::campaigns::{TASK_COLUMNS, insert_task, int, parse, task_from_row};
use crate::db_err;
use crate::queries::{
    Arg, Base, Listing, Order, PREFIXED_CLIENT_COLUMNS, at, flag, id, json, opt_at, opt_id,
    opt_text, prefixed_client_from_row, text,
};

/// A certification with its campaign, over [`CERTIFICATION_FROM`] (`c`, `k`).
pub(crate) const CERTIFICATION_COLUMNS: &str = "c.id, c.campaign_id, c.name, c.reviewer_id, \
    c.reviewer_name, c.reviewer_email, c.phase, c.due, c.signed_at, c.decisions_made, \
    c.decisions_total, c.identities_completed, c.identities_total, c.reassigned_from_id, \
    c.reassigned_from_name, c.reassigned_from_reviewer_id, c.reassigned_from_reviewer_name, \
    c.reassigned_from_reviewer_email, c.reassignment_comment, c.created_at, c.modified_at, \
    k.name AS campaign_name, k.type AS campaign_type, k.description AS campaign_description, \
    k.correlated_status AS campaign_correlated_status, \
    k.mandatory_comment_requirement AS campaign_comment_requirement";

pub(crate) fn certification_from_row(r: &PgRow) -> Result<Certification, StoreError> {
    let t = "certifications";
    let reassigned_from = match opt_id(r, "reassigned_from_id", t)? {
        Some(from) => Some(ReassignedFrom {
            certification_id: from,
            certification_name: opt_text(r, "reassigned_from_name")?.unwrap_or_default(),
            reviewer_id: id(r, "reassigned_from_reviewer_id", t)?,
            reviewer_name: opt_text(r, "reassigned_from_reviewer_name")?.unwrap_or_default(),
            reviewer_email: opt_text(r, "reassigned_from_reviewer_email")?,
            comment: opt_text(r, "reassignment_comment")?,
        }),
        None => None,
    };
    let campaign_id = id(r, "campaign_id", t)?;
    Ok(Certification {
        id: id(r, "id", t)?,
        campaign_id,
        name: text(r, "name")?,
        reviewer_id: id(r, "reviewer_id", t)?,
        reviewer_name: text(r, "reviewer_name")?,
        reviewer_email: opt_text(r, "reviewer_email")?,
        phase: parse(r, "phase", t)?,
        due: opt_at(r, "due")?,
        signed: opt_at(r, "signed_at")?,
        decisions_made: int(r, "decisions_made")?,
        decisions_total: int(r, "decisions_total")?,
        identities_completed: int(r, "identities_completed")?,
        identities_total: int(r, "identities_total")?,
        campaign: CampaignRef {
            id: campaign_id,
            name: text(r, "campaign_name")?,
            campaign_type: parse(r, "campaign_type", "campaigns")?,
            description: opt_text(r, "campaign_description")?,
            correlated_status: CorrelatedStatus::parse(&text(r, "campaign_correlated_status")?)
                .ok_or_else(|| StoreError::corrupt("campaigns", "unknown correlated status"))?,
            mandatory_comment_requirement: parse(r, "campaign_comment_requirement", "campaigns")?,
        },
        reassigned_from,
        created: at(r, "created_at")?,
        modified: at(r, "modified_at")?,
    })
}

pub(crate) async fn certifications(
    pool: &PgPool,
    reviewer: Option<Id>,
    q: &ListQuery,
) -> Result<Page<Certification>, StoreError> {
    let mut base = Base::default();
    if let Some(r) = reviewer {
        let p = base.param(Arg::Text(r.to_string()));
        base.and(format!("c.reviewer_id = {p}"));
    }
    let l = Listing {
        table: CERTIFICATION_FROM,
        columns: CERTIFICATION_COLUMNS,
        column: certification_column,
        sort: certification_sort_column,
        default_order: "c.due, c.name, c.id",
        order: Order::Tie("c.id"),
        from_row: certification_from_row,
    };
    crate::queries::page_in(pool, &l, &base, q).await
}

/// Certifications by id, read in batches (the answer of get-certification and of every
/// decision).
pub(crate) fn certification_reads(
    pool: &PgPool,
    max_in_flight: usize,
) -> PointReads<Certification> {
    PointReads::new(
        pool.clone(),
        format!("SELECT {CERTIFICATION_COLUMNS} FROM {CERTIFICATION_FROM} WHERE c.id = ANY($1)"),
        certification_from_row,
        max_in_flight,
    )
}

/// An API client and a certification, both read by the key `client id || certification id`
/// (64 hex characters), in batches: the reads of get-certification, one round trip for both.
pub(crate) fn client_certification_reads(
    pool: &PgPool,
    max_in_flight: usize,
) -> PointReads<ClientAndCertification> {
    PointReads::new(
        pool.clone(),
        format!(
            "SELECT q.key, {PREFIXED_CLIENT_COLUMNS}, {CERTIFICATION_COLUMNS} \
             FROM unnest($1::text[]) AS q(key) \
             LEFT JOIN api_clients a ON a.id = substr(q.key, 1, 32) \
             LEFT JOIN ({CERTIFICATION_FROM}) ON c.id = substr(q.key, 33)"
        ),
        |r| {
            let client = prefixed_client_from_row(r)?;
            let certification = match opt_text(r, "id")? {
                Some(_) => Some(certification_from_row(r)?),
                None => None,
            };
            Ok((client, certification))
        },
        max_in_flight,
    )
}

pub(crate) type ClientAndCertification = (Option<ApiClient>, Option<Certification>);

/// The key of [`client_certification_reads`].
pub(crate) fn client_certification_key(client: Id, certification: Id) -> String {
    format!("{client}{certification}")
}

/// A review item with its summary and snapshots, over [`ITEM_FROM`] (`i`, `s`, `a`).
pub(crate) const ITEM_COLUMNS: &str = "i.id, i.certification_id, i.summary_id, i.subject_id, \
    s.name AS identity_name, (s.items_decided = s.items_total) AS identity_completed, \
    i.access_type, i.access_id, COALESCE(a.name, i.account_name, '') AS access_name, \
    (a.access_id IS NOT NULL) AS has_access, a.description, a.privileged, a.source_id, \
    a.source_name, a.source_type, a.attribute_name, a.attribute_value, a.owner_id, \
    a.owner_name, a.owner_email, \
    CASE WHEN jsonb_typeof(a.permissions) = 'array' \
        THEN jsonb_array_length(a.permissions) > 0 ELSE FALSE END AS has_permissions, \
    a.contents::text AS contents, i.account_id, i.account_name, i.account_native_identity, \
    i.account_source_id, i.account_disabled, i.account_locked, i.new_access, i.decision, \
    i.comments, i.proposed_end_date";

pub(crate) fn item_from_row(r: &PgRow) -> Result<AccessReviewItem, StoreError> {
    let t = "review_items";
    let access = if flag(r, "has_access")? {
        Some(AccessSnapshot {
            description: opt_text(r, "description")?,
            privileged: flag(r, "privileged")?,
            source_id: opt_id(r, "source_id", "campaign_access")?,
            source_name: opt_text(r, "source_name")?,
            source_type: opt_text(r, "source_type")?,
            attribute_name: opt_text(r, "attribute_name")?,
            attribute_value: opt_text(r, "attribute_value")?,
            owner_id: opt_id(r, "owner_id", "campaign_access")?,
            owner_name: opt_text(r, "owner_name")?,
            owner_email: opt_text(r, "owner_email")?,
            has_permissions: flag(r, "has_permissions")?,
            contents: json(r, "contents", "campaign_access")?,
        })
    } else {
        None
    };
    let opt_flag = |col: &str| -> Result<bool, StoreError> {
        r.try_get::<Option<bool>, _>(col)
            .map(|b| b.unwrap_or(false))
            .map_err(db_err)
    };
    let account = match opt_id(r, "account_id", t)? {
        Some(account_id) => Some(AccountSnapshot {
            id: Some(account_id),
            name: opt_text(r, "account_name")?,
            native_identity: opt_text(r, "account_native_identity")?,
            source_id: opt_id(r, "account_source_id", t)?,
            disabled: opt_flag("account_disabled")?,
            locked: opt_flag("account_locked")?,
        }),
        None => None,
    };
    Ok(AccessReviewItem {
        id: id(r, "id", t)?,
        certification_id: id(r, "certification_id", t)?,
        summary_id: id(r, "summary_id", t)?,
        identity_id: id(r, "subject_id", t)?,
        identity_name: text(r, "identity_name")?,
        identity_completed: flag(r, "identity_completed")?,
        access_type: text(r, "access_type")?,
        access_id: id(r, "access_id", t)?,
        access_name: text(r, "access_name")?,
        access,
        account,
        new_access: flag(r, "new_access")?,
        decision: opt_text(r, "decision")?
            .map(|d| d.parse().map_err(|e: String| StoreError::corrupt(t, e)))
            .transpose()?,
        comments: opt_text(r, "comments")?,
        proposed_end_date: opt_at(r, "proposed_end_date")?,
    })
}

fn id_texts(ids: &[Id]) -> Vec<String> {
    ids.iter().map(|i| i.to_string()).collect()
}

pub(crate) async fn access_review_items(
    pool: &PgPool,
    cert: Id,
    access: Option<(&str, &[Id])>,
    q: &ListQuery,
) -> Result<Page<AccessReviewItem>, StoreError> {
    // A plain first page walks the certification's items in id order, joining as it goes, and
    // stops at the page's end. Anything else (a filter, sorters, a total) visits every item of
    // the certification: then the page's keys are picked from review_items alone (every
    // filterable and sortable field is a column of the item), and only the page's rows are
    // joined to their summary and access snapshot.
    let plain = q.filter.is_none() && q.sorters.is_empty() && !q.paging.count;
    let mut base = Base::default();
    let p = base.param(Arg::Text(cert.to_string()));
    base.and(format!("i.certification_id = {p}"));
    if let Some((access_type, ids)) = access {
        let t = base.param(Arg::Text(access_type.to_owned()));
        let x = base.param(Arg::Texts(id_texts(ids)));
        base.and(format!("i.access_type = {t} AND i.access_id = ANY({x})"));
    }
    let l = Listing {
        table: ITEM_FROM,
        columns: ITEM_COLUMNS,
        column: item_column,
        sort: item_sort_column,
        default_order: "i.id",
        order: if plain {
            Order::Tie("i.id")
        } else {
            Order::KeysFirst {
                key: "i.id",
                from: ITEM_KEYS_FROM,
            }
        },
        from_row: item_from_row,
    };
    crate::queries::page_in(pool, &l, &base, q).await
}

pub(crate) async fn item_permissions(
    pool: &PgPool,
    cert: Id,
    item: Id,
) -> Result<Option<Vec<Permission>>, StoreError> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT i.access_type, a.permissions::text
         FROM review_items i
         LEFT JOIN campaign_access a ON a.campaign_id = i.campaign_id
            AND a.access_type = i.access_type AND a.access_id = i.access_id
         WHERE i.id = $1 AND i.certification_id = $2",
    )
    .bind(item.to_string())
    .bind(cert.to_string())
    .fetch_optional(pool)
    .await
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

fn reviewer_from_row(r: &PgRow) -> Result<ReviewerRef, StoreError> {
    Ok(ReviewerRef {
        id: id(r, "reviewer_id", "certifications")?,
        name: text(r, "reviewer_name")?,
        email: opt_text(r, "reviewer_email")?,
    })
}

pub(crate) async fn certification_reviewers(
    pool: &PgPool,
    cert: Id,
    q: &ListQuery,
) -> Result<Page<ReviewerRef>, StoreError> {
    let mut base = Base::default();
    let p = base.param(Arg::Text(cert.to_string()));
    base.and(format!("c.id = {p}"));
    let l = Listing {
        table: "certifications c",
        columns: "c.reviewer_id, c.reviewer_name, c.reviewer_email",
        column: reviewer_column,
        sort: reviewer_sort_column,
        default_order: "c.reviewer_name, c.id",
        order: Order::Tie("c.id"),
        from_row: reviewer_from_row,
    };
    crate::queries::page_in(pool, &l, &base, q).await
}

fn no_task_sorts(_: &str) -> Option<&'static str> {
    None
}

pub(crate) async fn certification_tasks(
    pool: &PgPool,
    reviewer: Option<Id>,
    pending_only: bool,
    q: &ListQuery,
) -> Result<Page<CertificationTask>, StoreError> {
    let mut base = Base::default();
    if pending_only {
        base.and("t.status IN ('QUEUED', 'IN_PROGRESS')");
    }
    if let Some(r) = reviewer {
        let p = base.param(Arg::Text(r.to_string()));
        base.and(format!(
            "t.target_type = 'CERTIFICATION' AND t.target_id IN
                (SELECT c.id FROM certifications c WHERE c.reviewer_id = {p})"
        ));
    }
    let l = Listing {
        table: "certification_tasks t",
        columns: TASK_COLUMNS,
        column: task_column,
        sort: no_task_sorts,
        default_order: "t.created_at, t.id",
        order: Order::Tie("t.id"),
        from_row: task_from_row,
    };
    crate::queries::page_in(pool, &l, &base, q).await
}

pub(crate) async fn create_task(
    pool: &PgPool,
    task: &CertificationTask,
    job: &NewJob,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    insert_task(&mut tx, task).await?;
    crate::jobs::enqueue(&mut *tx, job, task.created).await?;
    tx.commit().await.map_err(db_err)
}
