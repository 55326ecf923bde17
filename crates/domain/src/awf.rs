//! The Access Workflows (Veza) view of the one store: a campaign is a certification, each of its
//! review items a numbered result row with a per-row sign-off, co-reviewers and an action log,
//! and the rules of who may change what, when (the grace period after completion).

use std::fmt;

use crate::certification::AccessReviewItem;
use crate::{Id, Permission, Timestamp};

/// A row's decision as the dialect names it. `Fixed` is a rejection whose removal is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowDecision {
    None,
    Accepted,
    Rejected,
    Fixed,
}

impl RowDecision {
    pub const ALL: [RowDecision; 4] = [
        RowDecision::None,
        RowDecision::Accepted,
        RowDecision::Rejected,
        RowDecision::Fixed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RowDecision::None => "NONE",
            RowDecision::Accepted => "ACCEPTED",
            RowDecision::Rejected => "REJECTED",
            RowDecision::Fixed => "FIXED",
        }
    }

    /// Both spellings: `ACCEPTED` and `RESULT_DECISION_ACCEPTED` (ASCII case ignored).
    pub fn parse(s: &str) -> Option<RowDecision> {
        let u = s.trim().to_ascii_uppercase();
        let short = u.strip_prefix("RESULT_DECISION_").unwrap_or(&u);
        Self::ALL.into_iter().find(|d| d.as_str() == short)
    }

    /// The row decision of an item's stored decision and remediation mark.
    pub fn of(decision: Option<crate::campaign::Decision>, fixed: bool) -> RowDecision {
        use crate::campaign::Decision;
        match decision {
            None => RowDecision::None,
            Some(Decision::Approve) => RowDecision::Accepted,
            Some(Decision::Revoke) if fixed => RowDecision::Fixed,
            Some(Decision::Revoke) => RowDecision::Rejected,
        }
    }

    /// The SailPoint decision this row decision is stored as (`None` for `NONE`).
    pub fn stored(self) -> Option<crate::campaign::Decision> {
        use crate::campaign::Decision;
        match self {
            RowDecision::None => None,
            RowDecision::Accepted => Some(Decision::Approve),
            RowDecision::Rejected | RowDecision::Fixed => Some(Decision::Revoke),
        }
    }
}

impl fmt::Display for RowDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The delivery status of a row's remediation webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationStatus {
    Unknown,
    Pending,
    Succeed,
    Failed,
}

impl NotificationStatus {
    pub const ALL: [NotificationStatus; 4] = [
        NotificationStatus::Unknown,
        NotificationStatus::Pending,
        NotificationStatus::Succeed,
        NotificationStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Unknown => "UNKNOWN",
            NotificationStatus::Pending => "PENDING",
            NotificationStatus::Succeed => "SUCCEED",
            NotificationStatus::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationStatus> {
        let u = s.trim().to_ascii_uppercase();
        let short = u.strip_prefix("NOTIFICATION_STATUS_").unwrap_or(&u);
        Self::ALL.into_iter().find(|d| d.as_str() == short)
    }
}

/// A person a row names (reviewer, actor): an identity's id, email and display name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserRef {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    pub name: String,
}

/// Who made a change: a person or API client, or recert itself (`{"name": "System"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(UserRef),
    System,
}

impl Actor {
    /// The JSON the store keeps (and the action log's triggers copy).
    pub fn to_json(&self) -> String {
        match self {
            Actor::User(u) => serde_json::to_string(u).unwrap_or_else(|_| "{}".into()),
            Actor::System => SYSTEM_ACTOR.to_owned(),
        }
    }
}

/// The stored form of the system actor; the schema's triggers write the same text.
pub const SYSTEM_ACTOR: &str = r#"{"name":"System"}"#;

/// What an action log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Decision,
    Notes,
    SignOff,
    Reviewers,
    ForceUpdate,
    Remediation,
}

impl ActionKind {
    pub const ALL: [ActionKind; 6] = [
        ActionKind::Decision,
        ActionKind::Notes,
        ActionKind::SignOff,
        ActionKind::Reviewers,
        ActionKind::ForceUpdate,
        ActionKind::Remediation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Decision => "DECISION",
            ActionKind::Notes => "NOTES",
            ActionKind::SignOff => "SIGN_OFF",
            ActionKind::Reviewers => "REVIEWERS",
            ActionKind::ForceUpdate => "FORCE_UPDATE",
            ActionKind::Remediation => "REMEDIATION",
        }
    }

    pub fn parse(s: &str) -> Option<ActionKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One entry of a row's action log: written by the database itself on every change of a row,
/// never updated or deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionEntry {
    pub at: Timestamp,
    /// `{"id", "email", "name"}` of the person, or `{"name": "System"}`.
    pub actor: serde_json::Value,
    pub action: ActionKind,
    /// A string, an array of `{"id", "email", "name"}` (reviewers), or null.
    pub old_value: serde_json::Value,
    pub new_value: serde_json::Value,
}

/// A review item as a result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The item's ordinal in its campaign, from 0.
    pub result_id: u64,
    pub item: AccessReviewItem,
    pub campaign_id: Id,
    /// The reviewed identity's email and attributes as the campaign captured them (none for
    /// roles and uncorrelated accounts).
    pub subject_email: Option<String>,
    pub subject_attributes: serde_json::Value,
    pub permissions: Vec<Permission>,
    pub fixed: bool,
    pub signed_off: bool,
    /// The owner (the reviewer of the item's certification) first, then co-reviewers.
    pub reviewers: Vec<UserRef>,
    /// The identity ids of the co-reviewers (the reviewers after the first).
    pub notification_status: NotificationStatus,
    pub updated_at: Timestamp,
    /// Oldest first.
    pub action_log: Vec<ActionEntry>,
}

impl Row {
    pub fn decision(&self) -> RowDecision {
        RowDecision::of(self.item.decision, self.fixed)
    }

    /// Whether `identity` is one of the row's reviewers.
    pub fn reviewed_by(&self, identity: Id) -> bool {
        let id = identity.to_string();
        self.reviewers.iter().any(|r| r.id == id)
    }
}

/// The rows of one campaign a query asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct RowQuery {
    pub campaign_id: Id,
    /// Only the rows this identity reviews (owner or co-reviewer); `None` is every row.
    pub viewer: Option<Id>,
    pub filter: Option<crate::filter::Filter>,
    /// Only this row.
    pub item: Option<Id>,
    /// Keyset paging: rows after this item id, in id (= result id) order.
    pub after: Option<Id>,
    pub limit: u32,
    /// Count the rows that match (ignoring `after` and `limit`).
    pub count: bool,
}

/// A change to one row, checked by the core and applied by the store whole or not at all, in
/// the order reviewers, decision, notes, sign-off (an un-sign-off comes first).
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    pub campaign_id: Id,
    pub item_id: Id,
    /// The row as the core saw it when it checked the change; the store refuses
    /// ([`RowOutcome::Changed`]) when the row moved on meanwhile.
    pub expect: RowVersion,
    /// Who changes it: an identity's or API client's id (the store records the identity's
    /// id, email and name, or the client's id and name, as the actor).
    pub by: Id,
    pub now: Timestamp,
    /// New reviewers: the first owns the item (it moves to that identity's certification in
    /// the campaign when the owner changes, with `reason`), the others are co-reviewers.
    pub reviewers: Option<NewReviewers>,
    pub decision: Option<RowDecision>,
    /// `Some(None)` clears the note.
    pub notes: Option<Option<String>>,
    pub signed_off: Option<bool>,
    pub notification_status: Option<NotificationStatus>,
}

/// The reviewers a change sets, checked against the identities by the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReviewers {
    pub owner: Id,
    pub co_reviewers: Vec<UserRef>,
    /// Recorded on the certification the item moves to, when it moves.
    pub reason: String,
}

/// What the core saw of a row when it checked a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowVersion {
    pub certification_id: Id,
    pub decision: RowDecision,
    pub signed_off: bool,
    pub updated_at: Timestamp,
}

/// How applying a [`RowChange`] went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Applied,
    /// The row is not (or no longer) as the core saw it; nothing was written.
    Changed,
    /// The new owner has no certification it can take the row into; nothing was written.
    CannotMove(String),
    /// The row's remediation is under way or done, so its decision cannot change that way;
    /// nothing was written.
    Refused(String),
}

/// One reviewer's share of a campaign's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewerStats {
    pub reviewer: UserRef,
    pub total: u64,
    pub no_decision: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub fixed: u64,
    pub signed_off: u64,
}

/// What the dialect shows of a campaign beyond the campaign itself.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignRows {
    pub campaign_id: Id,
    /// The id of the campaign's row 0 (`None` while it has no items).
    pub first_item_id: Option<Id>,
    /// Who completed it: an API client's id, an identity's id, or `System`.
    pub completed_by: Option<String>,
    /// Completed because its due date passed.
    pub expired: bool,
    pub rows: u64,
    pub decided: u64,
    /// The distinct reviewers of its rows (owners and co-reviewers), by name.
    pub reviewers: Vec<UserRef>,
}

/// What a decision change does to a row's remediation item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemediationGate {
    /// Nothing to do.
    Keep,
    /// The item was not delivered yet: it goes, with the REVOKE it came from.
    Withdraw,
    /// Its delivery started or it completed: the decision cannot change this way.
    Refuse(String),
}

/// Whether a row whose remediation item is `status` (delivered or tried when `started`) can
/// take decision `to`.
pub fn remediation_gate(status: &str, started: bool, to: RowDecision) -> RemediationGate {
    match to {
        RowDecision::Fixed => RemediationGate::Keep,
        RowDecision::Rejected if status != "COMPLETED" => RemediationGate::Keep,
        _ if status == "OPEN" && !started => RemediationGate::Withdraw,
        _ => RemediationGate::Refuse(format!(
            "the removal of this access is already {} (its remediation item is {status}); the \
             row cannot become {to}",
            if status == "COMPLETED" {
                "done"
            } else {
                "under way"
            }
        )),
    }
}

/// The 16-hex counter of a generated item id as a number.
pub fn item_counter(id: Id) -> u64 {
    u64::from_be_bytes(id.as_bytes()[8..16].try_into().unwrap_or([0; 8]))
}

/// The result id of `item` in a campaign whose row 0 is `first`; `None` when the item is not
/// one of that generation's.
pub fn result_id(first: Id, item: Id) -> Option<u64> {
    (first.as_bytes()[..8] == item.as_bytes()[..8])
        .then(|| item_counter(item).checked_sub(item_counter(first)))
        .flatten()
}

/// The item id of result `n` in a campaign whose row 0 is `first`.
pub fn item_of_result(first: Id, n: u64) -> Option<Id> {
    let counter = item_counter(first).checked_add(n)?;
    let mut bytes = *first.as_bytes();
    bytes[8..16].copy_from_slice(&counter.to_be_bytes());
    Some(Id::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_read_both_spellings() {
        assert_eq!(RowDecision::parse("ACCEPTED"), Some(RowDecision::Accepted));
        assert_eq!(
            RowDecision::parse("RESULT_DECISION_REJECTED"),
            Some(RowDecision::Rejected)
        );
        assert_eq!(RowDecision::parse("fixed"), Some(RowDecision::Fixed));
        assert_eq!(RowDecision::parse("RESULT_DECISION_"), None);
        assert_eq!(RowDecision::parse("APPROVE"), None);
    }

    #[test]
    fn decisions_leaving_revoke_withdraw_or_refuse_the_remediation() {
        use RemediationGate::*;
        assert_eq!(
            remediation_gate("OPEN", false, RowDecision::Accepted),
            Withdraw
        );
        assert_eq!(remediation_gate("OPEN", false, RowDecision::None), Withdraw);
        assert_eq!(remediation_gate("OPEN", false, RowDecision::Rejected), Keep);
        assert_eq!(remediation_gate("OPEN", true, RowDecision::Fixed), Keep);
        assert!(matches!(
            remediation_gate("OPEN", true, RowDecision::Accepted),
            Refuse(_)
        ));
        assert!(matches!(
            remediation_gate("FAILED", true, RowDecision::Accepted),
            Refuse(_)
        ));
        assert!(matches!(
            remediation_gate("COMPLETED", true, RowDecision::Rejected),
            Refuse(_)
        ));
        assert_eq!(
            remediation_gate("COMPLETED", true, RowDecision::Fixed),
            Keep
        );
    }

    #[test]
    fn result_ids_round_trip_through_item_ids() {
        let first = Id::parse("0192aaaabbbb1234000000000000002a").unwrap();
        let tenth = item_of_result(first, 10).unwrap();
        assert_eq!(tenth.to_string(), "0192aaaabbbb12340000000000000034");
        assert_eq!(result_id(first, tenth), Some(10));
        assert_eq!(result_id(first, first), Some(0));
        let other = Id::parse("0192aaaabbbb99990000000000000034").unwrap();
        assert_eq!(result_id(first, other), None);
        let before = Id::parse("0192aaaabbbb12340000000000000001").unwrap();
        assert_eq!(result_id(first, before), None);
    }
}
