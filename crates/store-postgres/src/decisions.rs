//! Decisions and sign-off on PostgreSQL. A batch locks its certification row first (a sign-off
//! locks the campaign row first), so concurrent batches on one certification run one after the
//! other and each recount sees the others' committed work: progress is exact.

use recert_domain::campaign::CertificationPhase;
use recert_domain::review::{DecideOutcome, DecisionWrite, SignOffOutcome};
use recert_domain::{Id, Timestamp};
use recert_store::StoreError;
use sqlx::{PgConnection, PgPool};

use crate::{db_err, ts};

pub(crate) async fn phase(
    c: &mut PgConnection,
    cert: &str,
) -> Result<Option<(CertificationPhase, String)>, StoreError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT phase, campaign_id FROM certifications WHERE id = $1 FOR UPDATE")
            .bind(cert)
            .fetch_optional(&mut *c)
            .await
            .map_err(db_err)?;
    row.map(|(p, k)| {
        p.parse()
            .map(|p| (p, k))
            .map_err(|e: String| StoreError::corrupt("certifications", e))
    })
    .transpose()
}

/// Recounts a certification's totals and progress from its items: each identity summary's
/// items and decisions (rows that did not change are not rewritten), the certification's
/// decisions and identities. Exact whatever moved in or out (a reassignment moves items).
pub(crate) async fn recount(
    c: &mut PgConnection,
    cert: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE certification_subjects s SET items_total = n.total, items_decided = n.decided
         FROM (SELECT i.subject_id, count(*) AS total,
                      count(i.decision) AS decided
               FROM review_items i WHERE i.certification_id = $1 GROUP BY i.subject_id) n
         WHERE s.certification_id = $1 AND s.subject_id = n.subject_id
           AND (s.items_total <> n.total OR s.items_decided <> n.decided)",
    )
    .bind(cert)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    sqlx::query(
        "UPDATE certifications SET
            (decisions_total, decisions_made) = (SELECT count(*), count(decision)
                FROM review_items WHERE certification_id = $1),
            (identities_total, identities_completed) = (SELECT count(*),
                count(*) FILTER (WHERE items_decided = items_total)
                FROM certification_subjects WHERE certification_id = $1),
            modified_at = $2
         WHERE id = $1",
    )
    .bind(cert)
    .bind(ts(now))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The actor JSON of `by` for the action log: the identity's id, email and name, or the API
/// client's id and name (the id itself as the name when neither exists).
pub(crate) async fn actor(c: &mut PgConnection, by: Id) -> Result<String, StoreError> {
    sqlx::query_scalar(
        "SELECT coalesce(
            (SELECT jsonb_build_object('id', id, 'email', email, 'name', display_name)::text
             FROM identities WHERE id = $1),
            jsonb_build_object('id', $1::text, 'email', NULL,
                'name', coalesce((SELECT name FROM api_clients WHERE id = $1), $1::text))::text)",
    )
    .bind(by.to_string())
    .fetch_one(&mut *c)
    .await
    .map_err(db_err)
}

pub(crate) async fn decide(
    pool: &PgPool,
    cert: Id,
    decisions: &[DecisionWrite],
    by: Id,
    now: Timestamp,
) -> Result<DecideOutcome, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let cid = cert.to_string();
    let Some((p, _)) = phase(&mut tx, &cid).await? else {
        return Ok(DecideOutcome::NoSuchCertification);
    };
    if p != CertificationPhase::Active {
        return Ok(DecideOutcome::NotActive(p));
    }
    let actor = actor(&mut tx, by).await?;
    // One statement for the whole batch (the core sends each item once), not a round trip per
    // decision: 250 of them per call, each slower with the database on another host.
    let ids: Vec<String> = decisions.iter().map(|d| d.item_id.to_string()).collect();
    let kinds: Vec<&str> = decisions.iter().map(|d| d.decision.as_str()).collect();
    let comments: Vec<Option<&str>> = decisions.iter().map(|d| d.comments.as_deref()).collect();
    let ends: Vec<Option<time::OffsetDateTime>> = decisions
        .iter()
        .map(|d| d.proposed_end_date.map(ts))
        .collect();
    let written: Vec<String> = sqlx::query_scalar(
        "UPDATE review_items i SET decision = d.decision, comments = d.comments,
            proposed_end_date = d.proposed_end_date, decided_by = $6, decided_at = $7,
            updated_at = $7, updated_by = $8,
            fixed = CASE WHEN d.decision = 'REVOKE' THEN i.fixed ELSE 0 END
         FROM unnest($1::text[], $3::text[], $4::text[], $5::timestamptz[])
            AS d(id, decision, comments, proposed_end_date)
         WHERE i.id = d.id AND i.certification_id = $2 AND i.signed_off = 0
         RETURNING i.id",
    )
    .bind(&ids)
    .bind(&cid)
    .bind(&kinds)
    .bind(&comments)
    .bind(&ends)
    .bind(by.to_string())
    .bind(ts(now))
    .bind(&actor)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let (mut foreign, mut locked) = (Vec::new(), Vec::new());
    if written.len() < decisions.len() {
        // Which of the others are this certification's (signed off, so locked) and which not.
        let written: std::collections::HashSet<String> = written.into_iter().collect();
        let missing: Vec<&str> = ids
            .iter()
            .filter(|id| !written.contains(*id))
            .map(String::as_str)
            .collect();
        let here: std::collections::HashSet<String> = sqlx::query_scalar(
            "SELECT id FROM review_items WHERE id = ANY($1) AND certification_id = $2",
        )
        .bind(&missing)
        .bind(&cid)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .into_iter()
        .collect();
        for (d, id) in decisions.iter().zip(&ids) {
            if written.contains(id) {
                continue;
            }
            if here.contains(id) {
                locked.push(d.item_id);
            } else {
                foreign.push(d.item_id);
            }
        }
    }
    if !foreign.is_empty() {
        return Ok(DecideOutcome::ForeignItems(foreign));
    }
    if !locked.is_empty() {
        return Ok(DecideOutcome::LockedItems(locked));
    }
    recount(&mut tx, &cid, now).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(DecideOutcome::Written)
}

pub(crate) async fn sign_off(
    pool: &PgPool,
    cert: Id,
    by: Id,
    now: Timestamp,
) -> Result<SignOffOutcome, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let cid = cert.to_string();
    // The campaign first: concurrent sign-offs of its certifications take turns, so the last
    // one sees all the others and completes the campaign.
    let campaign: Option<String> = sqlx::query_scalar(
        "SELECT k.id FROM campaigns k JOIN certifications c ON c.campaign_id = k.id
         WHERE c.id = $1 FOR UPDATE OF k",
    )
    .bind(&cid)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    if campaign.is_none() {
        return Ok(SignOffOutcome::NoSuchCertification);
    }
    let Some((p, campaign)) = phase(&mut tx, &cid).await? else {
        return Ok(SignOffOutcome::NoSuchCertification);
    };
    if p != CertificationPhase::Active {
        return Ok(SignOffOutcome::NotActive(p));
    }
    let undecided: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM review_items WHERE certification_id = $1 AND decision IS NULL",
    )
    .bind(&cid)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    if undecided > 0 {
        return Ok(SignOffOutcome::Undecided(undecided));
    }
    let actor = actor(&mut tx, by).await?;
    sqlx::query(
        "UPDATE review_items SET signed_off = 1, updated_at = $2, updated_by = $3
         WHERE certification_id = $1 AND signed_off = 0",
    )
    .bind(&cid)
    .bind(ts(now))
    .bind(&actor)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let done = sign_certification(&mut tx, &cid, &campaign, by, now).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(SignOffOutcome::Signed {
        campaign_completed: done,
    })
}

/// Makes an ACTIVE certification whose rows are all signed off SIGNED: its REVOKEs go to
/// remediation, and its campaign completes (by `by`) with its last certification. The caller
/// holds the campaign's lock, then the certification's. Returns whether the campaign completed.
pub(crate) async fn sign_certification(
    c: &mut PgConnection,
    cid: &str,
    campaign: &str,
    by: Id,
    now: Timestamp,
) -> Result<bool, StoreError> {
    sqlx::query(
        "UPDATE certifications SET phase = 'SIGNED', signed_at = $2, modified_at = $2
         WHERE id = $1",
    )
    .bind(cid)
    .bind(ts(now))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    crate::closing::open_remediations(&mut *c, "certification_id = $1", cid, now).await?;
    sqlx::query(
        "UPDATE campaigns SET completed_certifications = (SELECT count(*) FROM certifications
            WHERE campaign_id = $1 AND phase = 'SIGNED'), modified_at = $2
         WHERE id = $1",
    )
    .bind(campaign)
    .bind(ts(now))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    let done = sqlx::query(
        "UPDATE campaigns SET status = 'COMPLETED', completed_at = $2, completed_by = $3
         WHERE id = $1 AND status = 'ACTIVE' AND completed_certifications = total_certifications",
    )
    .bind(campaign)
    .bind(ts(now))
    .bind(by.to_string())
    .execute(&mut *c)
    .await
    .map_err(db_err)?
    .rows_affected()
        == 1;
    Ok(done)
}
