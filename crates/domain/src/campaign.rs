//! The rules of a campaign's life and of a reviewer's decisions, as pure functions: which status
//! changes are allowed from where, which fields may change in which status, and what makes a
//! decision acceptable. Every refusal says why, in words a caller can act on.

use std::fmt;
use std::str::FromStr;

use crate::Timestamp;

macro_rules! names {
    ($(#[$doc:meta])* $name:ident {
        $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        format!("'{s}' is not one of {}", all.join(", "))
                    })
            }
        }
    };
}

names!(
    /// What a campaign reviews, and so who reviews it.
    CampaignType {
        Manager = "MANAGER",
        SourceOwner = "SOURCE_OWNER",
        Search = "SEARCH",
        RoleComposition = "ROLE_COMPOSITION",
    }
);

names!(
    /// Where a campaign is in its life.
    CampaignStatus {
        /// Certifications are being generated.
        Pending = "PENDING",
        /// Generated; can be previewed and edited, not yet visible to reviewers.
        Staged = "STAGED",
        Canceling = "CANCELING",
        Activating = "ACTIVATING",
        Active = "ACTIVE",
        Completing = "COMPLETING",
        Completed = "COMPLETED",
        /// A background operation failed; the campaign's alerts say why.
        Error = "ERROR",
        Archived = "ARCHIVED",
    }
);

names!(
    /// Where one reviewer's certification is.
    CertificationPhase {
        Staged = "STAGED",
        Active = "ACTIVE",
        Signed = "SIGNED",
    }
);

names!(
    /// A reviewer's decision on one item.
    Decision {
        Approve = "APPROVE",
        Revoke = "REVOKE",
    }
);

names!(
    /// Which decisions need a comment.
    CommentRequirement {
        AllDecisions = "ALL_DECISIONS",
        RevokeOnlyDecisions = "REVOKE_ONLY_DECISIONS",
        NoDecisions = "NO_DECISIONS",
    }
);

/// A status change or an edit refused, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn refuse<T>(msg: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(msg.into()))
}

/// Activation: only a STAGED campaign, and only with a deadline still ahead.
pub fn check_activate(
    status: CampaignStatus,
    deadline: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), Refused> {
    if status != CampaignStatus::Staged {
        return refuse(format!(
            "the campaign is {status}; only a STAGED campaign can be activated"
        ));
    }
    match deadline {
        Some(d) if d > now => Ok(()),
        Some(d) => refuse(format!(
            "the campaign's deadline {d} has passed; set a later deadline before activating it"
        )),
        None => refuse("the campaign has no deadline; set one before activating it"),
    }
}

/// Completion by an administrator: only an ACTIVE campaign, and only once its deadline passed.
pub fn check_complete(
    status: CampaignStatus,
    deadline: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), Refused> {
    if status != CampaignStatus::Active {
        return refuse(format!(
            "the campaign is {status}; only an ACTIVE campaign can be completed"
        ));
    }
    match deadline {
        Some(d) if d <= now => Ok(()),
        Some(d) => refuse(format!(
            "the campaign is not past due until {d}; it completes by itself when every \
             certification is signed off"
        )),
        None => Ok(()),
    }
}

/// What happens to undecided items when an administrator completes a campaign: REVOKE only
/// where the campaign allows automatic revocation.
pub fn check_auto_complete_action(
    action: Decision,
    auto_revoke_allowed: bool,
) -> Result<(), Refused> {
    if action == Decision::Revoke && !auto_revoke_allowed {
        return refuse(
            "autoCompleteAction REVOKE needs a campaign with autoRevokeAllowed; use APPROVE or \
             allow automatic revocation first",
        );
    }
    Ok(())
}

/// Deletion: not while a background operation runs on the campaign.
pub fn check_delete(status: CampaignStatus) -> Result<(), Refused> {
    match status {
        CampaignStatus::Pending | CampaignStatus::Activating | CampaignStatus::Completing => {
            refuse(format!(
                "the campaign is {status}; wait until the operation in progress has finished"
            ))
        }
        _ => Ok(()),
    }
}

/// The fields a JSON Patch may change in each status.
pub fn patchable_fields(status: CampaignStatus) -> &'static [&'static str] {
    match status {
        CampaignStatus::Staged => &[
            "name",
            "description",
            "recommendationsEnabled",
            "deadline",
            "emailNotificationEnabled",
            "autoRevokeAllowed",
        ],
        CampaignStatus::Active => &["deadline"],
        _ => &[],
    }
}

/// Checks that `field` may be patched in `status`.
pub fn check_patch(status: CampaignStatus, field: &str) -> Result<(), Refused> {
    let allowed = patchable_fields(status);
    if allowed.contains(&field) {
        Ok(())
    } else if allowed.is_empty() {
        refuse(format!("a {status} campaign cannot be changed"))
    } else {
        refuse(format!(
            "'{field}' cannot be changed while the campaign is {status}; changeable now: {}",
            allowed.join(", ")
        ))
    }
}

/// One decision as a reviewer sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput<'a> {
    pub decision: Decision,
    pub comments: Option<&'a str>,
    pub proposed_end_date: Option<Timestamp>,
}

/// Checks one decision against the campaign's comment requirement and the clock.
pub fn check_decision(
    d: &DecisionInput<'_>,
    requirement: CommentRequirement,
    now: Timestamp,
) -> Result<(), Refused> {
    let has_comment = d.comments.is_some_and(|c| !c.trim().is_empty());
    let needs_comment = match requirement {
        CommentRequirement::AllDecisions => true,
        CommentRequirement::RevokeOnlyDecisions => d.decision == Decision::Revoke,
        CommentRequirement::NoDecisions => false,
    };
    if needs_comment && !has_comment {
        return refuse(format!(
            "this campaign requires a comment on {} decisions",
            if requirement == CommentRequirement::AllDecisions {
                "all"
            } else {
                "REVOKE"
            }
        ));
    }
    if let Some(end) = d.proposed_end_date {
        if d.decision != Decision::Revoke {
            return refuse("proposedEndDate is only allowed on a REVOKE decision");
        }
        if end <= now {
            return refuse(format!("proposedEndDate {end} must be in the future"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Duration;

    fn now() -> Timestamp {
        Timestamp::parse("2026-06-01T12:00:00.000Z").unwrap()
    }

    #[test]
    fn names_round_trip_and_refuse_unknowns() {
        for s in CampaignStatus::ALL {
            assert_eq!(s.as_str().parse::<CampaignStatus>().unwrap(), *s);
        }
        let e = "DONE".parse::<CampaignStatus>().unwrap_err();
        assert!(e.contains("PENDING, STAGED"), "{e}");
        assert_eq!(
            serde_json::to_string(&CampaignType::SourceOwner).unwrap(),
            "\"SOURCE_OWNER\""
        );
    }

    #[test]
    fn activation_needs_staged_and_a_future_deadline() {
        let later = Some(now().plus(Duration::days(14)));
        assert!(check_activate(CampaignStatus::Staged, later, now()).is_ok());
        let e = check_activate(CampaignStatus::Active, later, now())
            .unwrap_err()
            .0;
        assert!(e.contains("only a STAGED campaign"), "{e}");
        let e = check_activate(CampaignStatus::Staged, Some(now()), now())
            .unwrap_err()
            .0;
        assert!(e.contains("has passed"), "{e}");
        assert!(check_activate(CampaignStatus::Staged, None, now()).is_err());
    }

    #[test]
    fn completion_needs_active_and_past_due() {
        let before = Some(now().plus(Duration::seconds(-1)));
        let after = Some(now().plus(Duration::seconds(1)));
        assert!(check_complete(CampaignStatus::Active, before, now()).is_ok());
        assert!(check_complete(CampaignStatus::Active, Some(now()), now()).is_ok());
        let e = check_complete(CampaignStatus::Active, after, now())
            .unwrap_err()
            .0;
        assert!(e.contains("not past due"), "{e}");
        assert!(check_complete(CampaignStatus::Staged, before, now()).is_err());
        assert!(check_auto_complete_action(Decision::Revoke, false).is_err());
        assert!(check_auto_complete_action(Decision::Revoke, true).is_ok());
        assert!(check_auto_complete_action(Decision::Approve, false).is_ok());
    }

    #[test]
    fn patches_follow_the_status() {
        assert!(check_patch(CampaignStatus::Staged, "name").is_ok());
        assert!(check_patch(CampaignStatus::Active, "deadline").is_ok());
        let e = check_patch(CampaignStatus::Active, "name").unwrap_err().0;
        assert!(e.contains("changeable now: deadline"), "{e}");
        let e = check_patch(CampaignStatus::Completed, "deadline")
            .unwrap_err()
            .0;
        assert!(e.contains("cannot be changed"), "{e}");
        assert!(check_delete(CampaignStatus::Pending).is_err());
        assert!(check_delete(CampaignStatus::Completed).is_ok());
    }

    #[test]
    fn decisions_follow_the_comment_rule_and_the_clock() {
        let approve = DecisionInput {
            decision: Decision::Approve,
            comments: None,
            proposed_end_date: None,
        };
        let revoke = DecisionInput {
            decision: Decision::Revoke,
            comments: Some("  "),
            proposed_end_date: None,
        };
        use CommentRequirement::*;
        assert!(check_decision(&approve, RevokeOnlyDecisions, now()).is_ok());
        assert!(check_decision(&approve, AllDecisions, now()).is_err());
        let e = check_decision(&revoke, RevokeOnlyDecisions, now())
            .unwrap_err()
            .0;
        assert!(e.contains("comment on REVOKE"), "{e}");
        assert!(check_decision(&revoke, NoDecisions, now()).is_ok());
        let mut dated = DecisionInput {
            decision: Decision::Revoke,
            comments: Some("leaver"),
            proposed_end_date: Some(now().plus(Duration::days(1))),
        };
        assert!(check_decision(&dated, AllDecisions, now()).is_ok());
        dated.proposed_end_date = Some(now());
        assert!(
            check_decision(&dated, AllDecisions, now())
                .unwrap_err()
                .0
                .contains("future")
        );
        dated.decision = Decision::Approve;
        dated.proposed_end_date = Some(now().plus(Duration::days(1)));
        assert!(
            check_decision(&dated, AllDecisions, now())
                .unwrap_err()
                .0
                .contains("only allowed on a REVOKE")
        );
    }
}
