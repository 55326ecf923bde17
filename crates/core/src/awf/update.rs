//! Changing one row (Update Certification Result and its forced form), and expiring overdue
//! certifications.

use recert_domain::awf::{
    CampaignRows, NewReviewers, NotificationStatus, Row, RowChange, RowDecision, RowOutcome,
    RowVersion, UserRef,
};
use recert_domain::campaign::CampaignStatus;
use recert_domain::{Id, Timestamp};
use recert_store::StoreError;

use super::rules::{self, Changes, Refusal, Role, State};
use super::{
    Awf, AwfCertification, AwfError, EXPIRY_NOTE, ExpirationAction, Reach, ReviewerInput,
    UpdateRequest,
};
use crate::auth::Principal;

impl Awf {
    fn state(&self, c: &AwfCertification, now: Timestamp) -> State {
        match c.state() {
            "PENDING" | "DRAFT" => State::NotStarted,
            "IN_PROGRESS" => State::InProgress,
            _ => State::Closed {
                in_grace: rules::in_grace(c.campaign.completed_at, now, self.settings.grace_period),
            },
        }
    }

    /// Checks the reviewers of a request against the identities they name.
    async fn check_reviewers(
        &self,
        list: &[ReviewerInput],
        row: &Row,
    ) -> Result<NewReviewers, AwfError> {
        if list.is_empty() {
            return Err(AwfError::Invalid(
                "value.reviewers must name at least one reviewer".into(),
            ));
        }
        let mut owner = None;
        let mut co = Vec::new();
        let mut seen = Vec::new();
        for (i, r) in list.iter().enumerate() {
            let field = |f: &str| format!("value.reviewers[{i}].{f}");
            let need = |v: &Option<String>, f: &str| {
                v.clone()
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| AwfError::Invalid(format!("{} is required", field(f))))
            };
            let (user_type, id, name) = (
                need(&r.user_type, "user_type")?,
                need(&r.id, "id")?,
                need(&r.name, "name")?,
            );
            let email = r
                .email
                .clone()
                .ok_or_else(|| AwfError::Invalid(format!("{} is required", field("email"))))?;
            if user_type != self.settings.user_type {
                return Err(AwfError::Invalid(format!(
                    "{} must be '{}' (the configured workflows IdP user type); got '{user_type}'",
                    field("user_type"),
                    self.settings.user_type
                )));
            }
            let unknown =
                || AwfError::Invalid(format!("{} '{id}' is not a known identity", field("id")));
            let ident = Id::parse(&id).map_err(|_| unknown())?;
            let identity = self.store.identity(ident).await?.ok_or_else(unknown)?;
            let same_email =
                |known: Option<&str>| known.unwrap_or("").eq_ignore_ascii_case(email.trim());
            // A reviewer the row shows can be sent back as shown.
            let shown = row
                .reviewers
                .iter()
                .any(|u| u.id == id && same_email(u.email.as_deref()) && u.name == name);
            if !shown && !same_email(identity.email.as_deref()) {
                return Err(AwfError::Invalid(format!(
                    "{} '{email}' is not the email of identity {id}",
                    field("email")
                )));
            }
            if !shown && identity.display_name != name {
                return Err(AwfError::Invalid(format!(
                    "{} '{name}' is not the name of identity {id} (expected its display name \
                     exactly)",
                    field("name")
                )));
            }
            if ident == row.item.identity_id {
                return Err(AwfError::Invalid(format!(
                    "{} names {id}, whose access this row reviews; nobody reviews their own \
                     access",
                    field("id")
                )));
            }
            if seen.contains(&ident) {
                return Err(AwfError::Invalid(format!(
                    "{} repeats reviewer {id}",
                    field("id")
                )));
            }
            seen.push(ident);
            if owner.is_none() {
                owner = Some(ident);
            } else {
                co.push(UserRef {
                    id: ident.to_string(),
                    email: identity.email.clone(),
                    name: identity.display_name.clone(),
                });
            }
        }
        Ok(NewReviewers {
            owner: owner.unwrap_or(row.item.identity_id),
            co_reviewers: co,
            reason: String::new(),
        })
    }

    /// Update Certification Result (`force`: `results:force_update`).
    pub async fn update(
        &self,
        p: &Principal,
        id: &str,
        req: &UpdateRequest,
        force: bool,
    ) -> Result<(), AwfError> {
        let c = self.campaign(id).await?;
        let reach = self.reach_in(p, &c).await?;
        let decision = req
            .decision
            .as_deref()
            .map(|d| {
                RowDecision::parse(d).ok_or_else(|| {
                    AwfError::Invalid(format!(
                        "value.decision '{d}' is not one of NONE, ACCEPTED, REJECTED, FIXED \
                         (or RESULT_DECISION_...)"
                    ))
                })
            })
            .transpose()?;
        let signed = req
            .signed_off_state
            .as_deref()
            .map(|s| match s.trim().to_ascii_uppercase().as_str() {
                "SIGNED_OFF" => Ok(true),
                "NOT_SIGNED_OFF" => Ok(false),
                _ => Err(AwfError::Invalid(format!(
                    "value.signed_off_state '{s}' is not SIGNED_OFF or NOT_SIGNED_OFF"
                ))),
            })
            .transpose()?;
        let notification = match (&req.notification_status, force) {
            (Some(_), false) => {
                return Err(AwfError::Invalid(
                    "value.notification_status is taken by results:force_update only".into(),
                ));
            }
            (Some(s), true) => Some(NotificationStatus::parse(s).ok_or_else(|| {
                AwfError::Invalid(format!(
                    "value.notification_status '{s}' is not UNKNOWN, PENDING, SUCCEED or FAILED"
                ))
            })?),
            (None, _) => None,
        };
        if let Some(n) = &req.notes
            && n.chars().count() > crate::certifications::MAX_COMMENT
        {
            return Err(AwfError::Invalid(format!(
                "value.notes is longer than {} characters",
                crate::certifications::MAX_COMMENT
            )));
        }
        if decision.is_none()
            && req.notes.is_none()
            && signed.is_none()
            && req.reviewers.is_none()
            && notification.is_none()
        {
            return Err(AwfError::Invalid(
                "value needs result_id and at least one of decision, notes, signed_off_state, \
                 reviewers"
                    .into(),
            ));
        }
        let item = self.item_of(&c, req.result_id).await?;
        // A concurrent change between reading and writing the row is retried on fresh data.
        for _ in 0..3 {
            let row = self.load_row(&c, item, req.result_id).await?;
            let role = match reach {
                Reach::All(role) => role,
                Reach::ReadAll => Role::Other,
                Reach::Rows(me) if row.reviewed_by(me) => Role::Reviewer,
                Reach::Rows(_) => Role::Other,
            };
            if let Reach::Rows(_) = reach
                && role == Role::Other
            {
                return Err(AwfError::Forbidden(format!(
                    "result {} is assigned to another reviewer",
                    row.result_id
                )));
            }
            let reviewers = match &req.reviewers {
                Some(list) => {
                    let mut r = self.check_reviewers(list, &row).await?;
                    let current_owner = row.reviewers.first().map(|u| u.id.clone());
                    let current_co: Vec<&String> =
                        row.reviewers.iter().skip(1).map(|u| &u.id).collect();
                    let wanted_co: Vec<&String> = r.co_reviewers.iter().map(|u| &u.id).collect();
                    if current_owner == Some(r.owner.to_string()) && current_co == wanted_co {
                        None
                    } else {
                        r.reason =
                            format!("Reassigned through the Access Workflows API by {}", p.name);
                        Some(r)
                    }
                }
                None => None,
            };
            // A move to another owner clears the decision, note and sign-off first: the rest
            // of the body is compared with the row as it will be then.
            let moves = reviewers.as_ref().is_some_and(|r| {
                row.reviewers.first().map(|u| u.id.clone()) != Some(r.owner.to_string())
            });
            let (base_decision, base_note, base_signed) = if moves {
                (RowDecision::None, String::new(), false)
            } else {
                (
                    row.decision(),
                    row.item.comments.clone().unwrap_or_default(),
                    row.signed_off,
                )
            };
            let notes = req.notes.as_ref().map(|n| {
                let n = if n.trim().is_empty() { "" } else { n.as_str() };
                (n != base_note).then(|| (!n.is_empty()).then(|| n.to_owned()))
            });
            let changes = Changes {
                reviewers: reviewers.is_some(),
                decision: decision.filter(|d| *d != base_decision),
                notes: matches!(notes, Some(Some(_))),
                sign: signed.filter(|s| *s != base_signed),
                notification_status: notification.is_some_and(|n| n != row.notification_status),
            };
            let now = self.clock.now();
            let cert = AwfCertification {
                campaign: c.clone(),
                rows: CampaignRows {
                    campaign_id: c.id,
                    first_item_id: None,
                    completed_by: None,
                    expired: false,
                    rows: 0,
                    decided: 0,
                    reviewers: Vec::new(),
                },
            };
            rules::check(
                self.state(&cert, now),
                role,
                base_decision,
                row.signed_off,
                &changes,
                force,
            )
            .map_err(|r| match r {
                Refusal::Forbidden(m) => AwfError::Forbidden(m),
                Refusal::Precondition(m) => AwfError::Precondition(m),
            })?;
            if changes.reviewers && c.status != CampaignStatus::Active {
                return Err(AwfError::Precondition(
                    "reviewers change only while the certification is IN_PROGRESS".into(),
                ));
            }
            if changes.is_empty() {
                return Ok(());
            }
            let change = RowChange {
                campaign_id: c.id,
                item_id: item,
                expect: RowVersion {
                    certification_id: row.item.certification_id,
                    decision: row.decision(),
                    signed_off: row.signed_off,
                    updated_at: row.updated_at,
                },
                by: p.identity_id.unwrap_or(p.client_id),
                now,
                reviewers,
                decision: changes.decision,
                notes: notes.flatten(),
                signed_off: changes.sign,
                notification_status: notification.filter(|_| changes.notification_status),
            };
            match self.store.awf_apply(&change).await? {
                RowOutcome::Applied => return Ok(()),
                RowOutcome::CannotMove(m) => return Err(AwfError::Invalid(m)),
                RowOutcome::Refused(m) => return Err(AwfError::Precondition(m)),
                RowOutcome::Changed => continue,
            }
        }
        Err(AwfError::Precondition(format!(
            "result {} kept changing while this update was applied; read it again and retry",
            req.result_id
        )))
    }

    /// Expires the overdue certifications, when the server is configured to; returns how many.
    pub async fn expire_overdue(&self) -> Result<u64, StoreError> {
        if !self.settings.expire_overdue {
            return Ok(0);
        }
        let now = self.clock.now();
        let note = match self.settings.expiration_action {
            ExpirationAction::DoNothing => None,
            ExpirationAction::AutoRejectIncompleteResults => Some(EXPIRY_NOTE),
        };
        let mut n = 0;
        for id in self.store.overdue_campaigns(now, 100).await? {
            if self.store.expire_campaign(id, note, now).await? {
                tracing::info!(campaign = %id, "certification expired at its due date");
                n += 1;
            }
        }
        Ok(n)
    }
}
