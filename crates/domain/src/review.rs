//! The records of a review: campaigns, what each type of campaign covers, certification tasks
//! and campaign templates. Wire formats live in the server; these are the values the core and
//! the stores exchange.

use serde::{Deserialize, Serialize};

use crate::campaign::{CampaignStatus, CampaignType, CommentRequirement, Decision};
use crate::filter::Filter;
use crate::{Id, Timestamp};

/// Whether a SOURCE_OWNER campaign reviews correlated identities' access or uncorrelated accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CorrelatedStatus {
    #[default]
    Correlated,
    Uncorrelated,
}

impl CorrelatedStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Correlated => "CORRELATED",
            Self::Uncorrelated => "UNCORRELATED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CORRELATED" => Some(Self::Correlated),
            "UNCORRELATED" => Some(Self::Uncorrelated),
            _ => None,
        }
    }
}

/// How serious a campaign alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertLevel {
    Error,
    Warn,
    Info,
}

/// A message accumulated on a campaign (a failed background operation, identities nobody could
/// review, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub level: AlertLevel,
    pub text: String,
}

/// A campaign as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: Id,
    pub name: String,
    pub description: Option<String>,
    pub campaign_type: CampaignType,
    pub status: CampaignStatus,
    pub correlated_status: CorrelatedStatus,
    pub deadline: Option<Timestamp>,
    pub email_notification_enabled: bool,
    pub auto_revoke_allowed: bool,
    pub recommendations_enabled: bool,
    pub sunset_comments_required: bool,
    pub mandatory_comment_requirement: CommentRequirement,
    /// The type's own options as the caller gave them (`sourceOwnerCampaignInfo`, ...), JSON.
    pub config: serde_json::Value,
    pub alerts: Vec<Alert>,
    pub template_id: Option<Id>,
    /// The API client that created it (an OPERATOR acts only on its own campaigns).
    pub created_by: Option<Id>,
    pub total_certifications: i64,
    pub completed_certifications: i64,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub generated_at: Option<Timestamp>,
    pub activated_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
}

/// One constraint of a SEARCH campaign on the access it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessConstraint {
    pub access_type: crate::AccessType,
    /// `None` for ALL; the selected ids for SELECTED.
    pub ids: Option<Vec<Id>>,
}

/// Which subjects and access a campaign covers, and who reviews them: everything a store needs
/// to generate the certifications.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// Every identity's access, reviewed by their manager.
    Manager,
    /// Access on these sources, reviewed by each source's owner; or, uncorrelated, the accounts
    /// on these sources that belong to no identity.
    SourceOwner {
        source_ids: Vec<Id>,
        uncorrelated: bool,
    },
    /// The access of chosen identities (by id, or by a filter over identity fields), optionally
    /// narrowed to some access; reviewed by `reviewer`, else each identity's manager.
    Search {
        identity_ids: Option<Vec<Id>>,
        query: Option<Filter>,
        access: Vec<AccessConstraint>,
        reviewer: Option<Id>,
    },
    /// What roles contain (entitlements and access profiles), reviewed by `reviewer`, else each
    /// role's owner.
    RoleComposition {
        role_ids: Option<Vec<Id>>,
        query: Option<Filter>,
        reviewer: Option<Id>,
    },
}

/// Everything a store needs to generate a campaign's certifications in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub campaign_id: Id,
    pub scope: Scope,
    /// Reviews whoever has no reviewer (no manager, an owner-less source) and takes items
    /// that would otherwise be self-reviews with no manager above.
    pub fallback_reviewer: Option<Id>,
    /// Access first seen after this instant is marked new (the last completed campaign of the
    /// same template); `None` marks nothing new.
    pub new_access_since: Option<Timestamp>,
    /// Name of each certification; `{reviewer}` is replaced with the reviewer's display name.
    pub certification_name: String,
    pub now: Timestamp,
}

/// What a generation produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerationReport {
    pub certifications: u64,
    pub items: u64,
    /// Items left out because nobody but the person themselves could review them.
    pub unassigned_items: u64,
    /// Subjects left out because they had no reviewer and there is no fallback reviewer.
    pub unreviewed_subjects: u64,
    /// Self-reviews routed elsewhere: (would-be reviewer, new reviewer).
    pub reassignments: Vec<(Id, Id)>,
}

/// The kind of a certification task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskType {
    Reassign,
    AdminReassign,
    CompleteCertification,
    FinishCertification,
    CompleteCampaign,
    ActivateCampaign,
    CampaignCreate,
    CampaignDelete,
}

impl TaskType {
    pub const ALL: [TaskType; 8] = [
        Self::Reassign,
        Self::AdminReassign,
        Self::CompleteCertification,
        Self::FinishCertification,
        Self::CompleteCampaign,
        Self::ActivateCampaign,
        Self::CampaignCreate,
        Self::CampaignDelete,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Reassign => "REASSIGN",
            Self::AdminReassign => "ADMIN_REASSIGN",
            Self::CompleteCertification => "COMPLETE_CERTIFICATION",
            Self::FinishCertification => "FINISH_CERTIFICATION",
            Self::CompleteCampaign => "COMPLETE_CAMPAIGN",
            Self::ActivateCampaign => "ACTIVATE_CAMPAIGN",
            Self::CampaignCreate => "CAMPAIGN_CREATE",
            Self::CampaignDelete => "CAMPAIGN_DELETE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Where a certification task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    Queued,
    InProgress,
    Success,
    Error,
}

impl TaskStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::InProgress => "IN_PROGRESS",
            Self::Success => "SUCCESS",
            Self::Error => "ERROR",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Queued, Self::InProgress, Self::Success, Self::Error]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A self-review routed to someone else, or a reviewer change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReassignmentTrail {
    pub previous_owner: Id,
    pub new_owner: Id,
    pub reassignment_type: String,
}

/// A background operation on a campaign or a certification, as callers can poll it.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificationTask {
    pub id: Id,
    pub task_type: TaskType,
    /// `CAMPAIGN` or `CERTIFICATION`.
    pub target_type: &'static str,
    pub target_id: Id,
    pub status: TaskStatus,
    pub errors: Vec<String>,
    pub trails: Vec<ReassignmentTrail>,
    /// What the task was asked to do, JSON.
    pub request: serde_json::Value,
    pub requested_by: Option<Id>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// The fields of a campaign a JSON Patch may change (which ones, per status, is
/// [`crate::campaign::patchable_fields`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignSettings {
    pub name: String,
    pub description: Option<String>,
    pub deadline: Option<Timestamp>,
    pub email_notification_enabled: bool,
    pub auto_revoke_allowed: bool,
    pub recommendations_enabled: bool,
}

impl Campaign {
    pub fn settings(&self) -> CampaignSettings {
        CampaignSettings {
            name: self.name.clone(),
            description: self.description.clone(),
            deadline: self.deadline,
            email_notification_enabled: self.email_notification_enabled,
            auto_revoke_allowed: self.auto_revoke_allowed,
            recommendations_enabled: self.recommendations_enabled,
        }
    }
}

/// How an administrator completes a campaign: the decision given to undecided items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    pub auto_decision: Decision,
}

/// A campaign template as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignTemplate {
    pub id: Id,
    pub name: String,
    pub description: String,
    pub owner_id: Option<Id>,
    /// ISO 8601 duration, e.g. `P2W`.
    pub deadline_duration: Option<String>,
    /// The campaign it generates, as JSON (the API's Campaign object).
    pub campaign: serde_json::Value,
    /// The schedule as JSON, when scheduled.
    pub schedule: Option<serde_json::Value>,
    pub next_run_at: Option<Timestamp>,
    pub created: Timestamp,
    pub modified: Option<Timestamp>,
}

/// One reviewer's certification in a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Certification {
    pub id: Id,
    pub campaign_id: Id,
    pub name: String,
    pub reviewer_id: Id,
    pub reviewer_name: String,
    pub reviewer_email: Option<String>,
    pub phase: crate::campaign::CertificationPhase,
    pub due: Option<Timestamp>,
    pub signed: Option<Timestamp>,
    pub decisions_made: i64,
    pub decisions_total: i64,
    pub identities_completed: i64,
    pub identities_total: i64,
    pub reassignment_comment: Option<String>,
    pub created: Timestamp,
    pub modified: Timestamp,
}

/// One reviewed grant (or, in a role composition campaign, one thing a role contains).
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewItem {
    pub id: Id,
    pub certification_id: Id,
    pub subject_id: Id,
    /// `ENTITLEMENT`, `ACCESS_PROFILE`, `ROLE` or `ACCOUNT`.
    pub access_type: String,
    pub access_id: Id,
    pub account_id: Option<Id>,
    pub new_access: bool,
    pub decision: Option<Decision>,
    pub comments: Option<String>,
}

/// A revoked grant on its way out: `OPEN` → `IN_PROGRESS` (delivered) → `COMPLETED` | `FAILED`.
#[derive(Debug, Clone, PartialEq)]
pub struct RemediationItem {
    pub id: Id,
    pub item_id: Id,
    pub campaign_id: Id,
    pub certification_id: Id,
    pub identity_id: Id,
    pub access_type: String,
    pub access_id: Id,
    pub account_id: Option<Id>,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub completed: Option<Timestamp>,
}
