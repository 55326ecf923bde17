//! What a reviewer works with: a certification as the reviewer API shows it, its review items
//! with the snapshot of what is reviewed, and the rules of moving items to another reviewer.

use crate::campaign::{CampaignType, CommentRequirement, Decision};
use crate::review::CorrelatedStatus;
use crate::{Id, Timestamp};

/// The campaign a certification belongs to, as the certification shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignRef {
    pub id: Id,
    pub name: String,
    pub campaign_type: CampaignType,
    pub description: Option<String>,
    pub correlated_status: CorrelatedStatus,
    pub mandatory_comment_requirement: CommentRequirement,
}

/// Where a certification came from when it was (re)assigned to its reviewer.
#[derive(Debug, Clone, PartialEq)]
pub struct ReassignedFrom {
    pub certification_id: Id,
    pub certification_name: String,
    pub reviewer_id: Id,
    pub reviewer_name: String,
    pub reviewer_email: Option<String>,
    /// The reason given for the reassignment.
    pub comment: Option<String>,
}

/// The catalogue record of reviewed access as the campaign captured it (entitlements, access
/// profiles and roles; accounts reviewed as such have none).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccessSnapshot {
    pub description: Option<String>,
    pub privileged: bool,
    pub source_id: Option<Id>,
    pub source_name: Option<String>,
    pub source_type: Option<String>,
    pub attribute_name: Option<String>,
    pub attribute_value: Option<String>,
    pub owner_id: Option<Id>,
    pub owner_name: Option<String>,
    pub owner_email: Option<String>,
    /// Whether the entitlement carries permissions (listed by the item permissions route).
    pub has_permissions: bool,
    /// Entitlement ids (and, for roles, access profile ids) bundled in an access profile or
    /// role: `{"entitlements": [...], "accessProfiles": [...]}`.
    pub contents: serde_json::Value,
}

/// The account a grant is held through, as the campaign captured it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountSnapshot {
    pub id: Option<Id>,
    pub name: Option<String>,
    pub native_identity: Option<String>,
    pub source_id: Option<Id>,
    pub disabled: bool,
    pub locked: bool,
}

/// One review item as the reviewer API lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessReviewItem {
    pub id: Id,
    pub certification_id: Id,
    /// The identity summary (one per reviewed identity and certification).
    pub summary_id: Id,
    /// The reviewed identity (for an uncorrelated account: the account).
    pub identity_id: Id,
    pub identity_name: String,
    /// Every item of this identity in this certification is decided.
    pub identity_completed: bool,
    /// `ENTITLEMENT`, `ACCESS_PROFILE`, `ROLE` or `ACCOUNT`.
    pub access_type: String,
    pub access_id: Id,
    pub access_name: String,
    pub access: Option<AccessSnapshot>,
    pub account: Option<AccountSnapshot>,
    pub new_access: bool,
    pub decision: Option<Decision>,
    pub comments: Option<String>,
    pub proposed_end_date: Option<Timestamp>,
}

/// A reviewer as the certification's reviewer list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewerRef {
    pub id: Id,
    pub name: String,
    pub email: Option<String>,
}

/// What a reassignment reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReassignKind {
    /// One review item, by its id.
    Item,
    /// Every item of one reviewed identity: the identity summary's id (or the identity's id).
    IdentitySummary,
    /// Every item for one piece of access: the access id (`accessSummary.access.id`).
    TargetSummary,
}

impl ReassignKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Item => "ITEM",
            Self::IdentitySummary => "IDENTITY_SUMMARY",
            Self::TargetSummary => "TARGET_SUMMARY",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Item, Self::IdentitySummary, Self::TargetSummary]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One reference of a reassignment request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassignRef {
    pub id: Id,
    pub kind: ReassignKind,
}

/// The most references a synchronous reassignment takes.
pub const MAX_REASSIGN: usize = 50;
/// The most references an asynchronous reassignment takes.
pub const MAX_REASSIGN_ASYNC: usize = 500;
/// The most decisions one decide call takes.
pub const MAX_DECISIONS: usize = 250;

/// How a reassignment of items ended: all moved, or nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum ReassignOutcome {
    /// The items moved to `to_certification` (created for the new reviewer when `created`).
    Moved {
        to_certification: Id,
        created: bool,
        items: u64,
    },
    NoSuchCertification,
    /// Items move only while the certification is ACTIVE.
    NotActive(crate::campaign::CertificationPhase),
    /// The new reviewer is not an active identity.
    NoSuchReviewer,
    /// The new reviewer already reviews this certification.
    SameReviewer,
    /// These references match nothing in the certification (`"ITEM <id>"`, ...).
    Unmatched(Vec<String>),
    /// These identities' access would go to themselves.
    SelfReview(Vec<Id>),
}
