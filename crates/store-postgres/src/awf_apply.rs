//! One row's change on PostgreSQL: locks in the order of every campaign-wide write, the
//! expected version checked, then reviewers, decision, notes, sign-off and their consequences
//! (moves, remediation, signing the certification, completing the campaign).

use recert_domain::awf::{RowChange, RowDecision, RowOutcome, UserRef};
use recert_domain::campaign::{CampaignStatus, CertificationPhase, Decision};
use recert_domain::certification::{ReassignKind, ReassignOutcome, ReassignRef};
use recert_domain::{Id, Timestamp};
use recert_store::StoreError;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row as _};

use crate::awf::corrupt;
use crate::queries::{at, opt_text, text};
use crate::{db_err, ts};

/// The row as it is, locked.
struct Current {
    certification_id: String,
    decision: Option<Decision>,
    fixed: bool,
    signed_off: bool,
    comments: Option<String>,
    notification_status: Option<String>,
    updated_at: Timestamp,
}

async fn lock_row(
    c: &mut PgConnection,
    campaign: &str,
    item: &str,
) -> Result<Option<Current>, StoreError> {
    let r = sqlx::query(
        "SELECT i.certification_id, i.decision, i.fixed, i.signed_off, i.comments,
            i.notification_status, coalesce(i.updated_at, k.generated_at, k.created_at) AS v
         FROM review_items i JOIN campaigns k ON k.id = i.campaign_id
         WHERE i.id = $1 AND i.campaign_id = $2 FOR UPDATE OF i",
    )
    .bind(item)
    .bind(campaign)
    .fetch_optional(&mut *c)
    .await
    .map_err(db_err)?;
    let Some(r) = r else { return Ok(None) };
    let t = "review_items";
    Ok(Some(Current {
        certification_id: text(&r, "certification_id")?,
        decision: opt_text(&r, "decision")?
            .map(|d| d.parse().map_err(|e: String| corrupt(t, e)))
            .transpose()?,
        fixed: r.try_get::<i32, _>("fixed").map_err(db_err)? == 1,
        signed_off: r.try_get::<i32, _>("signed_off").map_err(db_err)? == 1,
        comments: opt_text(&r, "comments")?,
        notification_status: opt_text(&r, "notification_status")?,
        updated_at: at(&r, "v")?,
    }))
}

/// Locks a certification of the campaign: (phase, reviewer id).
async fn lock_certification(
    c: &mut PgConnection,
    campaign: &str,
    cert: &str,
) -> Result<Option<(CertificationPhase, String)>, StoreError> {
    let r: Option<(String, String)> = sqlx::query_as(
        "SELECT phase, reviewer_id FROM certifications
         WHERE id = $1 AND campaign_id = $2 FOR UPDATE",
    )
    .bind(cert)
    .bind(campaign)
    .fetch_optional(&mut *c)
    .await
    .map_err(db_err)?;
    r.map(|(p, who)| {
        p.parse()
            .map(|p| (p, who))
            .map_err(|e: String| corrupt("certifications", e))
    })
    .transpose()
}

async fn recount_campaign(
    c: &mut PgConnection,
    campaign: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
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
    Ok(())
}

fn cannot_move(outcome: ReassignOutcome, to: Id) -> String {
    match outcome {
        ReassignOutcome::Moved { .. } => String::new(),
        ReassignOutcome::NoSuchCertification => "the row's certification no longer exists".into(),
        ReassignOutcome::NotActive(p) => format!(
            "the row's certification is {} and its rows cannot move",
            p.as_str()
        ),
        ReassignOutcome::NoSuchReviewer => {
            format!("identity {to} is not an active identity and cannot review")
        }
        ReassignOutcome::SameReviewer => format!("identity {to} already reviews the row"),
        ReassignOutcome::Unmatched(_) => "the row is no longer in its certification".into(),
        ReassignOutcome::SelfReview(_) => {
            format!("the row reviews {to}'s own access; nobody reviews themselves")
        }
    }
}

/// Writes the co-reviewers of an item again (`co_reviewers` holds their JSON).
async fn set_co_reviewer_rows(
    c: &mut PgConnection,
    campaign: &str,
    item: &str,
    co: &[UserRef],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM item_co_reviewers WHERE item_id = $1")
        .bind(item)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    if co.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = co.iter().map(|u| u.id.clone()).collect();
    sqlx::query(
        "INSERT INTO item_co_reviewers (identity_id, campaign_id, item_id)
         SELECT DISTINCT x, $2, $3 FROM unnest($1::text[]) AS x
         ON CONFLICT DO NOTHING",
    )
    .bind(&ids)
    .bind(campaign)
    .bind(item)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn apply(pool: &PgPool, ch: &RowChange) -> Result<RowOutcome, StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let k = ch.campaign_id.to_string();
    let item = ch.item_id.to_string();
    let expected_cert = ch.expect.certification_id.to_string();
    // Locks in the order of sign-off and of every campaign-wide write: the campaign row (for
    // update when this change may sign, un-sign or move: those write the campaign or take its
    // certifications' locks), the certification, the row.
    let needs_campaign = ch.reviewers.is_some() || ch.signed_off.is_some();
    let status: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT status FROM campaigns WHERE id = $1{}",
        // FOR SHARE otherwise: a completion (which locks the campaign, then rows, then
        // certifications) and a decision then queue instead of deadlocking.
        if needs_campaign {
            " FOR UPDATE"
        } else {
            " FOR SHARE"
        }
    )))
    .bind(&k)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some(status) = status else {
        return Ok(RowOutcome::Changed);
    };
    let status: CampaignStatus = status
        .parse()
        .map_err(|e: String| corrupt("campaigns", e))?;
    let Some((mut phase, owner)) = lock_certification(&mut tx, &k, &expected_cert).await? else {
        return Ok(RowOutcome::Changed);
    };
    let Some(mut cur) = lock_row(&mut tx, &k, &item).await? else {
        return Ok(RowOutcome::Changed);
    };
    if cur.certification_id != expected_cert
        || RowDecision::of(cur.decision, cur.fixed) != ch.expect.decision
        || cur.signed_off != ch.expect.signed_off
        || cur.updated_at != ch.expect.updated_at
    {
        return Ok(RowOutcome::Changed);
    }
    let actor = crate::decisions::actor(&mut tx, ch.by).await?;
    let now = ts(ch.now);
    let mut cert = expected_cert;

    // (a) An un-sign-off first: the row can then be edited as in an open review.
    if ch.signed_off == Some(false) && cur.signed_off {
        sqlx::query(
            "UPDATE review_items SET signed_off = 0, updated_at = $2, updated_by = $3
             WHERE id = $1",
        )
        .bind(&item)
        .bind(now)
        .bind(&actor)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        cur.signed_off = false;
        if phase == CertificationPhase::Signed && status == CampaignStatus::Active {
            sqlx::query(
                "UPDATE certifications SET phase = 'ACTIVE', signed_at = NULL, modified_at = $2
                 WHERE id = $1",
            )
            .bind(&cert)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            phase = CertificationPhase::Active;
            recount_campaign(&mut tx, &k, ch.now).await?;
        }
    }

    // (b) Reviewers: the owner's certification takes the row, the others are co-reviewers.
    if let Some(nr) = &ch.reviewers {
        let co_json = if nr.co_reviewers.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&nr.co_reviewers).map_err(|e| corrupt("review_items", e))?)
        };
        if nr.owner.to_string() != owner {
            let refs = [ReassignRef {
                id: ch.item_id,
                kind: ReassignKind::Item,
            }];
            let from = Id::parse(&cert).map_err(|e| corrupt("certifications", e))?;
            let outcome = crate::reassign::move_items(
                &mut tx,
                from,
                &refs,
                nr.owner,
                &nr.reason,
                ch.by,
                co_json.as_deref(),
                ch.now,
            )
            .await?;
            let ReassignOutcome::Moved {
                to_certification, ..
            } = outcome
            else {
                // Dropping the transaction rolls back whatever was written.
                return Ok(RowOutcome::CannotMove(cannot_move(outcome, nr.owner)));
            };
            cert = to_certification.to_string();
            phase = CertificationPhase::Active;
            cur.decision = None;
            cur.fixed = false;
            cur.comments = None;
        }
        // A move set the co-reviewers with it (one REVIEWERS entry); without a move they
        // change here, when they differ.
        sqlx::query(
            "UPDATE review_items SET co_reviewers = $2::jsonb, updated_at = $3, updated_by = $4
             WHERE id = $1 AND co_reviewers IS DISTINCT FROM $2::jsonb",
        )
        .bind(&item)
        .bind(co_json.as_deref())
        .bind(now)
        .bind(&actor)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        set_co_reviewer_rows(&mut tx, &k, &item, &nr.co_reviewers).await?;
    }

    // (c) Decision, notes, sign-off and notification status in one UPDATE: one change of the
    // row, logged field by field by the trigger.
    let current = RowDecision::of(cur.decision, cur.fixed);
    let new_decision = ch.decision.filter(|d| *d != current);
    // The stored decision of the new one (None: unchanged; Some(None): cleared).
    let stored = new_decision.map(|d| d.stored());
    let recount = stored.is_some_and(|s| s != cur.decision);
    let notes = ch
        .notes
        .as_ref()
        .filter(|n| n.as_deref().unwrap_or("") != cur.comments.as_deref().unwrap_or(""));
    let sign = ch.signed_off == Some(true) && !cur.signed_off;
    let notification = ch
        .notification_status
        .filter(|n| cur.notification_status.as_deref() != Some(n.as_str()));
    if let Some(d) = new_decision {
        let r: Option<(String, bool)> = sqlx::query_as(
            "SELECT status, delivered_at IS NOT NULL OR attempts > 0
             FROM remediation_items WHERE item_id = $1",
        )
        .bind(&item)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some((status, started)) = r {
            match recert_domain::awf::remediation_gate(&status, started, d) {
                recert_domain::awf::RemediationGate::Keep => {}
                recert_domain::awf::RemediationGate::Withdraw => {
                    sqlx::query("DELETE FROM remediation_items WHERE item_id = $1")
                        .bind(&item)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                recert_domain::awf::RemediationGate::Refuse(m) => {
                    return Ok(RowOutcome::Refused(m));
                }
            }
        }
    }
    if new_decision.is_some() || notes.is_some() || sign || notification.is_some() {
        let stored = stored.flatten();
        // A proposed end date belongs to a REVOKE: it goes with any other decision.
        sqlx::query(
            "UPDATE review_items SET
                decision = CASE WHEN $2 THEN $3::text ELSE decision END,
                decided_by = CASE WHEN $2 THEN $4::text ELSE decided_by END,
                decided_at = CASE WHEN $2 THEN $5::timestamptz ELSE decided_at END,
                proposed_end_date = CASE WHEN $2 AND $3::text IS DISTINCT FROM 'REVOKE'
                    THEN NULL ELSE proposed_end_date END,
                fixed = CASE WHEN $6 THEN $7::integer ELSE fixed END,
                comments = CASE WHEN $8 THEN $9::text ELSE comments END,
                signed_off = CASE WHEN $10 THEN 1 ELSE signed_off END,
                notification_status = CASE WHEN $11 THEN $12::text ELSE notification_status END,
                updated_at = $13, updated_by = $14
             WHERE id = $1",
        )
        .bind(&item)
        .bind(new_decision.is_some())
        .bind(stored.map(|d| d.as_str()))
        .bind(stored.map(|_| ch.by.to_string()))
        .bind(stored.map(|_| now))
        .bind(new_decision.is_some())
        .bind(i32::from(new_decision == Some(RowDecision::Fixed)))
        .bind(notes.is_some())
        .bind(notes.cloned().flatten())
        .bind(sign)
        .bind(notification.is_some())
        .bind(notification.map(|n| n.as_str()))
        .bind(now)
        .bind(&actor)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if new_decision == Some(RowDecision::Fixed) {
            // After the row: the log says DECISION by the person, and the trigger on the
            // remediation item finds the row FIXED already.
            sqlx::query(
                "UPDATE remediation_items SET status = 'COMPLETED', completed_at = $2,
                    updated_at = $2, next_attempt_at = NULL,
                    external_ref = coalesce(external_ref, 'manual')
                 WHERE item_id = $1 AND status <> 'COMPLETED'",
            )
            .bind(&item)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        if recount {
            crate::decisions::recount(&mut tx, &cert, ch.now).await?;
        }
    }

    // (d) The last row of a certification signed off signs it (and may complete the
    // campaign); a row of a certification signed already goes to remediation on its own.
    if sign {
        match phase {
            CertificationPhase::Active => {
                let unsigned: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM review_items
                        WHERE certification_id = $1 AND signed_off = 0)",
                )
                .bind(&cert)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                if !unsigned {
                    crate::decisions::sign_certification(&mut tx, &cert, &k, ch.by, ch.now).await?;
                }
            }
            CertificationPhase::Signed => {
                crate::closing::open_remediations(&mut tx, "ri.id = $1", &item, ch.now).await?;
            }
            CertificationPhase::Staged => {}
        }
    }
    tx.commit().await.map_err(db_err)?;
    Ok(RowOutcome::Applied)
}

// ---- reviewer stats ----
