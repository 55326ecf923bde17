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
    /// The campaign, as the certification shows it.
    pub campaign: crate::certification::CampaignRef,
    /// Set when the certification was reassigned or created by a reassignment.
    pub reassigned_from: Option<crate::certification::ReassignedFrom>,
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

/// The four reports SailPoint defines for a campaign, each a CSV built in the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportType {
    /// One row per review item: who reviews what.
    CampaignComposition,
    /// One row per remediation item: where each revoked grant is on its way out.
    CampaignRemediationStatus,
    /// One row per review item, with its decision.
    CampaignStatus,
    /// One row per certification: each reviewer's progress and sign-off.
    CertificationSignoff,
}

impl ReportType {
    pub const ALL: [ReportType; 4] = [
        Self::CampaignComposition,
        Self::CampaignRemediationStatus,
        Self::CampaignStatus,
        Self::CertificationSignoff,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CampaignComposition => "CAMPAIGN_COMPOSITION_REPORT",
            Self::CampaignRemediationStatus => "CAMPAIGN_REMEDIATION_STATUS_REPORT",
            Self::CampaignStatus => "CAMPAIGN_STATUS_REPORT",
            Self::CertificationSignoff => "CERTIFICATION_SIGNOFF_REPORT",
        }
    }

    /// The report's name, as SailPoint shows it (and as its file is named).
    pub fn title(&self) -> &'static str {
        match self {
            Self::CampaignComposition => "Campaign Composition Report",
            Self::CampaignRemediationStatus => "Campaign Remediation Status Report",
            Self::CampaignStatus => "Campaign Status Report",
            Self::CertificationSignoff => "Certification Signoff Report",
        }
    }
}

impl std::fmt::Display for ReportType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ReportType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
                format!("'{s}' is not a report type; use one of {}", all.join(", "))
            })
    }
}

/// Where a report is: `PENDING` while it is built, then `SUCCESS` or `ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportStatus {
    Pending,
    Success,
    Error,
}

impl ReportStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Success => "SUCCESS",
            Self::Error => "ERROR",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Success, Self::Error]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A campaign report as stored: one per campaign and type. Running it again rebuilds it under
/// the same id; its CSV is stored in chunks of about a megabyte.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignReport {
    pub id: Id,
    pub campaign_id: Id,
    pub report_type: ReportType,
    pub status: ReportStatus,
    /// Data rows (the header not counted) of the last successful build.
    pub row_count: u64,
    /// Why the last build failed, when `status` is `ERROR`.
    pub error: Option<String>,
    pub created: Timestamp,
    /// When the run in progress was asked for, or when the last build finished.
    pub last_run_at: Option<Timestamp>,
}

/// The most identity attribute columns a campaign report may add.
pub const MAX_REPORT_ATTRIBUTE_COLUMNS: usize = 50;

/// Checks the identity attributes configured as extra report columns: each a name of 1 to 100
/// ASCII letters, digits, `_`, `-` or `.`, none twice, at most
/// [`MAX_REPORT_ATTRIBUTE_COLUMNS`]. (The stores look the names up in the identities' attribute
/// snapshots; the character set keeps them valid as JSON path keys on every backend.)
pub fn check_report_columns(columns: &[String]) -> Result<(), String> {
    if columns.len() > MAX_REPORT_ATTRIBUTE_COLUMNS {
        return Err(format!(
            "identityAttributeColumns names {} attributes; at most {MAX_REPORT_ATTRIBUTE_COLUMNS} are allowed",
            columns.len()
        ));
    }
    for (n, c) in columns.iter().enumerate() {
        let ok = (1..=100).contains(&c.len())
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !ok {
            return Err(format!(
                "identityAttributeColumns[{n}] '{c}' is not an attribute name (1 to 100 letters, \
                 digits, '_', '-' or '.')"
            ));
        }
        if columns[..n].contains(c) {
            return Err(format!(
                "identityAttributeColumns[{n}] '{c}' is named twice"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod report_tests {
    use super::*;

    #[test]
    fn report_types_read_back_and_unknown_ones_name_the_four() {
        for t in ReportType::ALL {
            assert_eq!(t.as_str().parse::<ReportType>(), Ok(t));
        }
        let e = "DAILY".parse::<ReportType>().unwrap_err();
        for t in ReportType::ALL {
            assert!(e.contains(t.as_str()), "{e}");
        }
    }

    #[test]
    fn report_columns_are_plain_distinct_names() {
        let ok =
            |v: &[&str]| check_report_columns(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(ok(&[]).is_ok());
        assert!(ok(&["department", "cost.center", "employee_type-2"]).is_ok());
        assert!(ok(&[""]).unwrap_err().contains("[0]"));
        assert!(ok(&["a", "x\"y"]).unwrap_err().contains("[1] 'x\"y'"));
        assert!(ok(&["a b"]).is_err());
        assert!(ok(&["dept", "dept"]).unwrap_err().contains("twice"));
        let many: Vec<String> = (0..51).map(|n| format!("a{n}")).collect();
        assert!(
            check_report_columns(&many)
                .unwrap_err()
                .contains("at most 50")
        );
    }
}

/// What a remediation delivery carries: the revoked grant as it was reviewed (from the
/// campaign's snapshot, so a later import does not change it), and the decision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemediationDetails {
    pub campaign_name: Option<String>,
    pub reviewer_id: Option<Id>,
    pub reviewer_name: Option<String>,
    pub reviewer_email: Option<String>,
    pub identity_name: Option<String>,
    pub identity_email: Option<String>,
    pub access_name: Option<String>,
    pub source_id: Option<Id>,
    pub source_name: Option<String>,
    pub native_identity: Option<String>,
    pub account_name: Option<String>,
    pub comments: Option<String>,
    pub proposed_end_date: Option<Timestamp>,
    pub decided_at: Option<Timestamp>,
}

/// How one delivery attempt of a remediation item ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    /// The receiver took it (2xx): the item is IN_PROGRESS until it reports back or an import
    /// shows the access gone.
    Delivered,
    /// Try again at `next` (network error, timeout, 408, 429, 5xx).
    Retry { error: String, next: Timestamp },
    /// The receiver refused it for good (another 4xx): FAILED.
    Rejected { error: String },
}

/// One decision as a store writes it (already checked against the campaign's rules).
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionWrite {
    pub item_id: Id,
    pub decision: Decision,
    pub comments: Option<String>,
    pub proposed_end_date: Option<Timestamp>,
}

/// How a batch of decisions ended: all written, or none.
#[derive(Debug, Clone, PartialEq)]
pub enum DecideOutcome {
    Written,
    NoSuchCertification,
    /// Decisions are taken only while the certification is ACTIVE.
    NotActive(crate::campaign::CertificationPhase),
    /// These items are not in the certification.
    ForeignItems(Vec<Id>),
    /// These items are signed off (each row's own sign-off, through the Access Workflows
    /// dialect) and locked.
    LockedItems(Vec<Id>),
}

/// How a sign-off ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SignOffOutcome {
    /// Signed; `campaign_completed` when it was the campaign's last certification.
    Signed {
        campaign_completed: bool,
    },
    NoSuchCertification,
    NotActive(crate::campaign::CertificationPhase),
    /// This many items are still undecided.
    Undecided(i64),
}
