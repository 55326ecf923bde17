//! Moving review items to another reviewer on PostgreSQL, all or nothing. Locks are taken in
//! the order of sign-off and of every campaign-wide write: the campaign row, then the source
//! certification, then the target's. (The other way round, a move that creates a certification
//! and a sign-off of its source deadlock.)

use std::collections::{BTreeMap, BTreeSet};

use recert_domain::campaign::CertificationPhase;
use recert_domain::certification::{ReassignKind, ReassignOutcome, ReassignRef};
use recert_domain::{Id, Timestamp};
use recert_store::StoreError;
use sqlx::{PgConnection, PgPool, Row};

use crate::campaigns::{campaign_status, parse};
use crate::queries::{opt_text, text};
use crate::{db_err, ts};
use recert_domain::awf::SYSTEM_ACTOR;

/// The certification items move from, locked.
struct Source {
    campaign_id: String,
    campaign_name: String,
    phase: CertificationPhase,
    name: String,
    reviewer_id: String,
    reviewer_name: String,
    reviewer_email: Option<String>,
    due: Option<time::OffsetDateTime>,
}

/// Locks the certification's campaign, then the certification (the order of sign-off and of
/// every campaign-wide write: campaign row before certification rows).
async fn lock_source(c: &mut PgConnection, cert: &str) -> Result<Option<Source>, StoreError> {
    let campaign: Option<String> = sqlx::query_scalar(
        "SELECT k.id FROM campaigns k JOIN certifications c ON c.campaign_id = k.id
         WHERE c.id = $1 FOR UPDATE OF k",
    )
    .bind(cert)
    .fetch_optional(&mut *c)
    .await
    .map_err(db_err)?;
    if campaign.is_none() {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT c.campaign_id, k.name AS campaign_name, c.phase, c.name, c.reviewer_id,
            c.reviewer_name, c.reviewer_email, c.due
         FROM certifications c JOIN campaigns k ON k.id = c.campaign_id
         WHERE c.id = $1 FOR UPDATE OF c",
    )
    .bind(cert)
    .fetch_optional(&mut *c)
    .await
    .map_err(db_err)?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Source {
        campaign_id: text(&r, "campaign_id")?,
        campaign_name: text(&r, "campaign_name")?,
        phase: parse(&r, "phase", "certifications")?,
        name: text(&r, "name")?,
        reviewer_id: text(&r, "reviewer_id")?,
        reviewer_name: text(&r, "reviewer_name")?,
        reviewer_email: opt_text(&r, "reviewer_email")?,
        due: r.try_get("due").map_err(db_err)?,
    }))
}

/// The items `refs` name in the certification, by reference: (ref index, item id, subject id).
async fn resolve(
    c: &mut PgConnection,
    cert: &str,
    refs: &[ReassignRef],
) -> Result<Vec<(usize, String, String)>, StoreError> {
    // (kind, id) -> the references naming it
    let mut named: BTreeMap<(&str, String), Vec<usize>> = BTreeMap::new();
    for (n, r) in refs.iter().enumerate() {
        named
            .entry((r.kind.as_str(), r.id.to_string()))
            .or_default()
            .push(n);
    }
    let mut found: Vec<(usize, String, String)> = Vec::new();
    for (kind, sql) in [
        (
            ReassignKind::Item,
            "SELECT i.id, i.id, i.id, i.subject_id FROM review_items i
             WHERE i.certification_id = $1 AND i.id = ANY($2)",
        ),
        (
            ReassignKind::IdentitySummary,
            "SELECT s.id, s.subject_id, i.id, i.subject_id FROM certification_subjects s
             JOIN review_items i
                ON i.certification_id = s.certification_id AND i.subject_id = s.subject_id
             WHERE s.certification_id = $1 AND (s.id = ANY($2) OR s.subject_id = ANY($2))",
        ),
        (
            ReassignKind::TargetSummary,
            "SELECT i.access_id, i.access_id, i.id, i.subject_id FROM review_items i
             WHERE i.certification_id = $1 AND i.access_id = ANY($2)",
        ),
    ] {
        let keys: Vec<String> = named
            .keys()
            .filter(|(k, _)| *k == kind.as_str())
            .map(|(_, id)| id.clone())
            .collect();
        if keys.is_empty() {
            continue;
        }
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(sql)
            .bind(cert)
            .bind(&keys)
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
        // A summary matches by its own id or its identity's: each key once per row.
        for (key1, key2, item, subject) in rows {
            let both = [key1, key2];
            let keys = if both[0] == both[1] {
                &both[..1]
            } else {
                &both[..]
            };
            for key in keys {
                for &n in named
                    .get(&(kind.as_str(), key.clone()))
                    .into_iter()
                    .flatten()
                {
                    found.push((n, item.clone(), subject.clone()));
                }
            }
        }
    }
    Ok(found)
}

/// The name of a certification made for `to` from `source`'s: the old reviewer's name replaced
/// where it occurs, else "<campaign> - <reviewer>".
fn target_name(source: &Source, to_name: &str) -> String {
    if !source.reviewer_name.is_empty() && source.name.contains(&source.reviewer_name) {
        source.name.replace(&source.reviewer_name, to_name)
    } else {
        format!("{} - {to_name}", source.campaign_name)
    }
}

pub(crate) async fn reassign_items(
    pool: &PgPool,
    cert: Id,
    refs: &[ReassignRef],
    to: Id,
    reason: &str,
    by: Id,
    now: Timestamp,
) -> Result<ReassignOutcome, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let outcome = move_items(&mut tx, cert, refs, to, reason, by, None, now).await?;
    // Anything but a move wrote nothing worth keeping: dropping the transaction rolls it back.
    if matches!(outcome, ReassignOutcome::Moved { .. }) {
        tx.commit().await.map_err(db_err)?;
    }
    Ok(outcome)
}

/// Moves the items `refs` name to `to`'s certification in the same campaign (created if
/// needed), inside the caller's transaction; `by` is logged as the mover. The moved
/// items lose their decision, their FIXED mark and their sign-off, and get `co_reviewers`
/// (JSON; `None`: none) in the same change, so that the move is one REVIEWERS entry. On any outcome but
/// `Moved` the transaction may hold partial work: the caller must roll it back.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn move_items(
    tx: &mut PgConnection,
    cert: Id,
    refs: &[ReassignRef],
    to: Id,
    reason: &str,
    by: Id,
    co_reviewers: Option<&str>,
    now: Timestamp,
) -> Result<ReassignOutcome, StoreError> {
    let src = cert.to_string();
    let to_s = to.to_string();
    let Some(source) = lock_source(tx, &src).await? else {
        return Ok(ReassignOutcome::NoSuchCertification);
    };
    if source.phase != CertificationPhase::Active {
        return Ok(ReassignOutcome::NotActive(source.phase));
    }
    let reviewer: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT display_name, email FROM identities
         WHERE id = $1 AND active AND removed_at IS NULL",
    )
    .bind(&to_s)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some((to_name, to_email)) = reviewer else {
        return Ok(ReassignOutcome::NoSuchReviewer);
    };
    if source.reviewer_id == to_s {
        return Ok(ReassignOutcome::SameReviewer);
    }

    let found = resolve(tx, &src, refs).await?;
    let matched: BTreeSet<usize> = found.iter().map(|f| f.0).collect();
    let mut unmatched: Vec<String> = Vec::new();
    for (n, r) in refs.iter().enumerate() {
        if !matched.contains(&n) {
            unmatched.push(format!("{} {}", r.kind.as_str(), r.id));
        }
    }
    if !unmatched.is_empty() {
        return Ok(ReassignOutcome::Unmatched(unmatched));
    }
    // item id -> subject id, each item once however many references name it
    let items: BTreeMap<String, String> = found.into_iter().map(|(_, i, s)| (i, s)).collect();
    if items.values().any(|s| *s == to_s) {
        return Ok(ReassignOutcome::SelfReview(vec![to]));
    }

    let existing: Option<String> = sqlx::query_scalar(
        "SELECT id FROM certifications
         WHERE campaign_id = $1 AND reviewer_id = $2 AND phase = 'ACTIVE' AND id <> $3
         ORDER BY created_at, id LIMIT 1 FOR UPDATE",
    )
    .bind(&source.campaign_id)
    .bind(&to_s)
    .bind(&src)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let created = existing.is_none();
    let target = match existing {
        Some(t) => t,
        None => {
            let t = Id::generate().to_string();
            sqlx::query(
                "INSERT INTO certifications (id, campaign_id, name, reviewer_id, reviewer_name,
                    reviewer_email, phase, due, decisions_made, decisions_total,
                    identities_completed, identities_total, reassigned_from_id,
                    reassigned_from_name, reassigned_from_reviewer_id,
                    reassigned_from_reviewer_name, reassigned_from_reviewer_email,
                    reassignment_comment, created_at, modified_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'ACTIVE', $7, 0, 0, 0, 0, $8, $9, $10, $11, $12,
                    $13, $14, $14)",
            )
            .bind(&t)
            .bind(&source.campaign_id)
            .bind(target_name(&source, &to_name))
            .bind(&to_s)
            .bind(&to_name)
            .bind(&to_email)
            .bind(source.due)
            .bind(&src)
            .bind(&source.name)
            .bind(&source.reviewer_id)
            .bind(&source.reviewer_name)
            .bind(&source.reviewer_email)
            .bind(reason)
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            t
        }
    };

    let subjects: Vec<String> = items
        .values()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let have: Vec<String> = sqlx::query_scalar(
        "SELECT subject_id FROM certification_subjects
         WHERE certification_id = $1 AND subject_id = ANY($2)",
    )
    .bind(&target)
    .bind(&subjects)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let missing: Vec<String> = subjects
        .iter()
        .filter(|s| !have.contains(s))
        .cloned()
        .collect();
    if !missing.is_empty() {
        let ids: Vec<String> = missing.iter().map(|_| Id::generate().to_string()).collect();
        sqlx::query(
            "INSERT INTO certification_subjects (id, certification_id, subject_id, name,
                items_total, items_decided)
             SELECT n.id, $1, s.subject_id, s.name, 0, 0
             FROM unnest($3::text[], $4::text[]) AS n (id, subject_id)
             JOIN certification_subjects s
                ON s.certification_id = $2 AND s.subject_id = n.subject_id",
        )
        .bind(&target)
        .bind(&src)
        .bind(&ids)
        .bind(&missing)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }

    let item_ids: Vec<String> = items.keys().cloned().collect();
    let moved = sqlx::query(
        "UPDATE review_items i SET certification_id = $2, summary_id = t.id,
            subject_name = t.name, decision = NULL,
            comments = NULL, proposed_end_date = NULL, decided_by = NULL, decided_at = NULL,
            co_reviewers = $6::jsonb, fixed = 0, signed_off = 0, updated_at = $4,
            updated_by = $5
         FROM certification_subjects t
         WHERE i.certification_id = $1 AND i.id = ANY($3)
           AND t.certification_id = $2 AND t.subject_id = i.subject_id",
    )
    .bind(&src)
    .bind(&target)
    .bind(&item_ids)
    .bind(ts(now))
    .bind(crate::decisions::actor(&mut *tx, by).await?)
    .bind(co_reviewers)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    if moved != item_ids.len() as u64 {
        return Err(StoreError::Database(format!(
            "moving {} items of certification {src} moved {moved}",
            item_ids.len()
        )));
    }
    sqlx::query("DELETE FROM item_co_reviewers WHERE item_id = ANY($1)")
        .bind(&item_ids)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    sqlx::query(
        "DELETE FROM certification_subjects s
         WHERE s.certification_id = $1 AND s.subject_id = ANY($2)
           AND NOT EXISTS (SELECT 1 FROM review_items i
                           WHERE i.certification_id = s.certification_id
                             AND i.subject_id = s.subject_id)",
    )
    .bind(&src)
    .bind(&subjects)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    crate::decisions::recount(tx, &src, now).await?;
    crate::decisions::recount(tx, &target, now).await?;
    if created {
        sqlx::query(
            "UPDATE campaigns SET total_certifications = total_certifications + 1,
                modified_at = $2
             WHERE id = $1",
        )
        .bind(&source.campaign_id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    // A certification left with no row to sign off (all moved away, or the rest signed off
    // one by one) is done: it is signed, and may complete the campaign.
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM review_items WHERE certification_id = $1 AND signed_off = 0",
    )
    .bind(&src)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    if open == 0 {
        crate::decisions::sign_certification(tx, &src, &source.campaign_id, by, now).await?;
    }
    Ok(ReassignOutcome::Moved {
        to_certification: Id::parse(&target)
            .map_err(|e| StoreError::corrupt("certifications", e))?,
        created,
        items: moved,
    })
}

/// Moves whole certifications of a campaign to another reviewer (the administrator's
/// reassign); answers one message per certification it could not move.
pub(crate) async fn reassign_certifications(
    pool: &PgPool,
    campaign_id: Id,
    cert_ids: &[Id],
    to: Id,
    reason: &str,
    now: Timestamp,
) -> Result<Vec<String>, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    // The campaign row first, as sign-off, completion and item moves take it: certification
    // rows are locked only under it, so none of them deadlocks with this.
    campaign_status(&mut tx, campaign_id, true).await?;
    let reviewer = sqlx::query(
        "SELECT display_name, email FROM identities
         WHERE id = $1 AND active AND removed_at IS NULL",
    )
    .bind(to.to_string())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some(reviewer) = reviewer else {
        return Ok(vec![format!(
            "identity {to} is not an active identity and cannot review"
        )]);
    };
    let name = text(&reviewer, "display_name")?;
    let email = opt_text(&reviewer, "email")?;
    let mut errors = Vec::new();
    for cert in cert_ids {
        let row =
            sqlx::query("SELECT campaign_id, phase FROM certifications WHERE id = $1 FOR UPDATE")
                .bind(cert.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        let Some(row) = row else {
            errors.push(format!("certification {cert} does not exist"));
            continue;
        };
        if text(&row, "campaign_id")? != campaign_id.to_string() {
            errors.push(format!(
                "certification {cert} is not in campaign {campaign_id}"
            ));
            continue;
        }
        if text(&row, "phase")? == CertificationPhase::Signed.as_str() {
            errors.push(format!(
                "certification {cert} is signed off and cannot move"
            ));
            continue;
        }
        let own: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM certification_subjects
             WHERE certification_id = $1 AND subject_id = $2)",
        )
        .bind(cert.to_string())
        .bind(to.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if own {
            errors.push(format!(
                "certification {cert} reviews {to}'s own access; nobody reviews themselves"
            ));
            continue;
        }
        // Each of its rows changes reviewer: logged here, as the items themselves do not
        // change (their co-reviewers stay and are left out of the entry).
        sqlx::query(
            "INSERT INTO item_actions (item_id, campaign_id, at, actor, action, old_value,
                new_value)
             SELECT i.id, i.campaign_id, $5, $6, 'REVIEWERS',
                jsonb_build_array(jsonb_build_object('id', c.reviewer_id,
                    'email', c.reviewer_email, 'name', c.reviewer_name))::text,
                jsonb_build_array(jsonb_build_object('id', $2::text, 'email', $4::text,
                    'name', $3::text))::text
             FROM review_items i JOIN certifications c ON c.id = i.certification_id
             WHERE i.certification_id = $1 AND c.reviewer_id <> $2
             ORDER BY i.id",
        )
        .bind(cert.to_string())
        .bind(to.to_string())
        .bind(&name)
        .bind(&email)
        .bind(ts(now))
        .bind(SYSTEM_ACTOR)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "UPDATE certifications SET
                reassigned_from_id = id, reassigned_from_name = name,
                reassigned_from_reviewer_id = reviewer_id,
                reassigned_from_reviewer_name = reviewer_name,
                reassigned_from_reviewer_email = reviewer_email,
                reassignment_comment = $5,
                reviewer_id = $2, reviewer_name = $3, reviewer_email = $4, modified_at = $6
             WHERE id = $1",
        )
        .bind(cert.to_string())
        .bind(to.to_string())
        .bind(&name)
        .bind(&email)
        .bind(reason)
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(errors)
}
