//! Closing campaigns on PostgreSQL: completion by an administrator, expiry at the due date,
//! and the remediation items their REVOKE decisions open.

use recert_domain::awf::SYSTEM_ACTOR;
use recert_domain::campaign::{CampaignStatus, Decision};
use recert_domain::review::TaskType;
use recert_domain::{Id, Timestamp};
use recert_store::StoreError;
use recert_store::campaigns::id_prefix;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use crate::campaigns::{campaign_status, finish_tasks};
use crate::{db_err, ts};

const IN_CAMPAIGN: &str =
    "certification_id IN (SELECT id FROM certifications WHERE campaign_id = $1)";

/// Turns the REVOKE decisions of the certifications `cert_condition` selects (by `$1` = `arg`)
/// into remediation items, once each; rows already FIXED by hand need none.
pub(crate) async fn open_remediations(
    c: &mut PgConnection,
    cert_condition: &str,
    arg: &str,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let sql = format!(
        "INSERT INTO remediation_items (id, item_id, campaign_id, certification_id, identity_id,
            access_type, access_id, account_id, assignment_id, status, next_attempt_at,
            created_at, updated_at)
         SELECT $2 || lpad(to_hex(row_number() OVER (ORDER BY ri.id)), 16, '0'), ri.id,
            ri.campaign_id, ri.certification_id, ri.subject_id, ri.access_type, ri.access_id,
            ri.account_id, ri.assignment_id, 'OPEN', $3, $3, $3
         FROM review_items ri
         WHERE {cert_condition} AND ri.decision = 'REVOKE' AND ri.fixed = 0
         ON CONFLICT (item_id) DO NOTHING"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(arg)
        .bind(id_prefix())
        .bind(ts(now))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
        .map_err(db_err)
}

/// How a campaign closes.
#[derive(Clone, Copy)]
enum Closing<'a> {
    /// An admin completes it: undecided rows get the decision with the default comment.
    Complete(Decision),
    /// Its deadline passed: undecided rows are REVOKEd with the note (unless they hold one)
    /// when there is one, else left undecided.
    Expire(Option<&'a str>),
}

pub(crate) async fn complete(
    pool: &PgPool,
    cid: Id,
    decision: Decision,
    now: Timestamp,
) -> Result<Option<u64>, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    if campaign_status(&mut tx, cid, true).await? != Some(CampaignStatus::Completing) {
        return Ok(None);
    }
    let auto = close(&mut tx, cid, Closing::Complete(decision), now).await?;
    finish_tasks(&mut tx, cid, TaskType::CompleteCampaign, now).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(Some(auto))
}

pub(crate) async fn overdue(
    pool: &PgPool,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Id>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM campaigns WHERE status = 'ACTIVE' AND deadline < $1
         ORDER BY deadline, id LIMIT $2",
    )
    .bind(ts(now))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    ids.iter()
        .map(|i| Id::parse(i).map_err(|e| StoreError::corrupt("campaigns", e)))
        .collect()
}

pub(crate) async fn expire(
    pool: &PgPool,
    cid: Id,
    reject_note: Option<&str>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let overdue: Option<bool> = sqlx::query_scalar(
        "SELECT coalesce(status = 'ACTIVE' AND deadline < $2, FALSE) FROM campaigns
         WHERE id = $1 FOR UPDATE",
    )
    .bind(cid.to_string())
    .bind(ts(now))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    if overdue != Some(true) {
        return Ok(false);
    }
    close(&mut tx, cid, Closing::Expire(reject_note), now).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

/// Completes a campaign whose row the caller has locked, by the system: decides what `how`
/// says, signs every row and certification off, turns the REVOKEs into remediation items.
/// Returns the number of rows decided here.
async fn close(
    c: &mut PgConnection,
    cid: Id,
    how: Closing<'_>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let k = cid.to_string();
    // Undecided rows: the admin's decision, or an expiry's REVOKE with its note (a row's own
    // note stays).
    let auto = match how {
        Closing::Complete(d) => Some((d, "Decided automatically when the campaign was completed")),
        Closing::Expire(note) => note.map(|n| (Decision::Revoke, n)),
    };
    let decided = match auto {
        Some((decision, comment)) => sqlx::query(AssertSqlSafe(format!(
            "UPDATE review_items SET decision = $2, decided_at = $3, decided_by = NULL,
                comments = coalesce(comments, $4), updated_at = $3, updated_by = $5
             WHERE {IN_CAMPAIGN} AND decision IS NULL"
        )))
        .bind(&k)
        .bind(decision.as_str())
        .bind(ts(now))
        .bind(comment)
        .bind(SYSTEM_ACTOR)
        .execute(&mut *c)
        .await
        .map_err(db_err)?
        .rows_affected(),
        None => 0,
    };
    // Every row is decided now, except when an expiry leaves them: then the progress the
    // decisions left stays as it is.
    let all_decided = auto.is_some();
    if all_decided {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE certification_subjects SET items_decided = items_total WHERE {IN_CAMPAIGN}"
        )))
        .bind(&k)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    sqlx::query(
        "UPDATE certifications SET
            decisions_made = CASE WHEN $3 THEN decisions_total ELSE decisions_made END,
            identities_completed =
                CASE WHEN $3 THEN identities_total ELSE identities_completed END,
            phase = 'SIGNED', signed_at = coalesce(signed_at, $2), modified_at = $2
         WHERE campaign_id = $1",
    )
    .bind(&k)
    .bind(ts(now))
    .bind(all_decided)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE review_items SET signed_off = 1, updated_at = $2, updated_by = $3
         WHERE {IN_CAMPAIGN} AND signed_off = 0"
    )))
    .bind(&k)
    .bind(ts(now))
    .bind(SYSTEM_ACTOR)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    open_remediations(&mut *c, IN_CAMPAIGN, &k, now).await?;
    // An admin's completion is by whoever asked for it (its task's requester).
    sqlx::query(
        "UPDATE campaigns SET status = 'COMPLETED', completed_at = $2, modified_at = $2,
            completed_certifications = total_certifications, expired = $3,
            completed_by = CASE WHEN $3 THEN 'System' ELSE coalesce(
                (SELECT t.requested_by FROM certification_tasks t
                 WHERE t.target_id = $1 AND t.type = 'COMPLETE_CAMPAIGN'
                 ORDER BY t.created_at DESC, t.id DESC LIMIT 1),
                'System') END
         WHERE id = $1",
    )
    .bind(&k)
    .bind(ts(now))
    .bind(matches!(how, Closing::Expire(_)))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(decided)
}
