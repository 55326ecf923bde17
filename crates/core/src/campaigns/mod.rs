//! Campaign use-cases: create, read, patch, activate, complete, delete, reassign, and the
//! background jobs that carry the long ones out. Every operation takes the caller's facet, so
//! none can be reached without its authorization check.

mod input;
mod jobs;
mod patch;
mod scope;
mod templates;

use std::sync::Arc;

use recert_domain::campaign::{
    self, CampaignStatus, CampaignType, CommentRequirement, Decision, Refused,
};
use recert_domain::review::{Campaign, CertificationTask, CorrelatedStatus, TaskStatus, TaskType};
use recert_domain::{Clock, Id, NewJob, Timestamp};
use recert_store::{ListQuery, Page, Store, StoreError};

use crate::auth::{CampaignCreator, CertAdmin, ReportReader};

pub use input::{campaign_json, parse_campaign};
pub use jobs::{CampaignJobs, JOB_KINDS};
pub use patch::{PatchOp, apply_patch};
pub use scope::{IDENTITY_QUERY_FIELDS, ROLE_QUERY_FIELDS, scope_of};
pub use templates::TemplateInput;

/// Why a campaign operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// The request is wrong, or the campaign's state does not allow it; the text says which.
    #[error("{0}")]
    Invalid(String),
    #[error("campaign {0} does not exist")]
    NotFound(Id),
    #[error("campaign template {0} does not exist")]
    NotFoundTemplate(Id),
    /// The caller may not act on this campaign.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Refused> for CampaignError {
    fn from(r: Refused) -> Self {
        CampaignError::Invalid(r.0)
    }
}

/// Campaign settings from the configuration.
#[derive(Debug, Clone, Default)]
pub struct CampaignOptions {
    /// Reviews whoever has no reviewer, and self-reviews with nobody above.
    pub fallback_reviewer: Option<Id>,
}

/// A campaign as a caller asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    pub name: String,
    pub description: Option<String>,
    pub deadline: Option<Timestamp>,
    pub campaign_type: CampaignType,
    pub email_notification_enabled: bool,
    pub auto_revoke_allowed: bool,
    pub recommendations_enabled: bool,
    pub sunset_comments_required: bool,
    pub mandatory_comment_requirement: CommentRequirement,
    pub correlated_status: CorrelatedStatus,
    /// The type's options (`sourceOwnerCampaignInfo`, `searchCampaignInfo`,
    /// `roleCompositionCampaignInfo`), keyed by those names, as JSON.
    pub config: serde_json::Value,
    pub template_id: Option<Id>,
}

/// The job kinds' payloads name the campaign (and what the operation needs).
pub(crate) const GENERATE: &str = "campaign.generate";
pub(crate) const ACTIVATE: &str = "campaign.activate";
pub(crate) const COMPLETE: &str = "campaign.complete";
pub(crate) const DELETE: &str = "campaign.delete";
pub(crate) const REASSIGN: &str = "campaign.reassign";

/// The campaign use-cases over one store.
#[derive(Debug, Clone)]
pub struct Campaigns {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    options: CampaignOptions,
}

fn new_job(kind: &str, payload: serde_json::Value, now: Timestamp) -> NewJob {
    NewJob {
        id: Id::generate(),
        kind: kind.to_owned(),
        payload,
        dedupe_key: None,
        max_attempts: 5,
        run_at: now,
    }
}

fn new_task(
    t: TaskType,
    target: Id,
    request: serde_json::Value,
    by: Option<Id>,
    now: Timestamp,
) -> CertificationTask {
    CertificationTask {
        id: Id::generate(),
        task_type: t,
        target_type: "CAMPAIGN",
        target_id: target,
        status: TaskStatus::Queued,
        errors: Vec::new(),
        trails: Vec::new(),
        request,
        requested_by: by,
        created: now,
        updated: now,
    }
}

/// Parses an ISO 8601 offset as the activate call takes it: `Z`, `+hh:mm`, `+hhmm`, `+hh`.
pub fn parse_offset(s: &str) -> Result<time::UtcOffset, CampaignError> {
    let bad = || {
        CampaignError::Invalid(format!(
            "timeZone '{s}' is not an ISO 8601 offset such as Z, -05:00, +0530 or +01"
        ))
    };
    let t = s.trim();
    if t.eq_ignore_ascii_case("z") || t.is_empty() {
        return Ok(time::UtcOffset::UTC);
    }
    let (sign, rest) = match t.as_bytes()[0] {
        b'+' => (1i8, &t[1..]),
        b'-' => (-1i8, &t[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4) {
        return Err(bad());
    }
    if rest.contains(':') && rest.len() != 5 {
        return Err(bad());
    }
    let h: i8 = digits[..2].parse().map_err(|_| bad())?;
    let m: i8 = if digits.len() == 4 {
        digits[2..].parse().map_err(|_| bad())?
    } else {
        0
    };
    if h > 18 || m > 59 {
        return Err(bad());
    }
    time::UtcOffset::from_hms(sign * h, sign * m, 0).map_err(|_| bad())
}

/// The deadline an activation sets: the end of the deadline's calendar day as the caller's
/// time zone sees it (23:59:59.999 local), so the date the administrator chose holds for them.
pub fn deadline_in_zone(deadline: Timestamp, offset: time::UtcOffset) -> Timestamp {
    let local = deadline.datetime().to_offset(offset);
    let end = local
        .replace_time(time::Time::from_hms_milli(23, 59, 59, 999).unwrap_or(time::Time::MIDNIGHT));
    Timestamp::from_datetime(end)
}

impl Campaigns {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, options: CampaignOptions) -> Self {
        Campaigns {
            store,
            clock,
            options,
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn options(&self) -> &CampaignOptions {
        &self.options
    }

    /// The job handlers of campaign operations, for the runner.
    pub fn jobs(&self) -> Arc<CampaignJobs> {
        Arc::new(CampaignJobs::new(self.clone()))
    }

    async fn load(&self, id: Id) -> Result<Campaign, CampaignError> {
        self.store
            .campaign(id)
            .await?
            .ok_or(CampaignError::NotFound(id))
    }

    async fn load_for(&self, who: &CampaignCreator<'_>, id: Id) -> Result<Campaign, CampaignError> {
        let k = self.load(id).await?;
        if !who.may_act_on_all() && !k.created_by.is_some_and(|c| who.may_act_on(c)) {
            return Err(CampaignError::Forbidden(
                "an OPERATOR acts only on the campaigns it created".into(),
            ));
        }
        Ok(k)
    }

    /// Creates a campaign: stored PENDING, its certifications generated in the background.
    pub async fn create(
        &self,
        who: CampaignCreator<'_>,
        input: NewCampaign,
    ) -> Result<Campaign, CampaignError> {
        self.create_as(Id::generate(), Some(who.client_id()), input)
            .await
    }

    /// Creates a campaign under a chosen id (a scheduled one takes its job's id), for a creator
    /// (`None`: the scheduler).
    pub(crate) async fn create_as(
        &self,
        id: Id,
        created_by: Option<Id>,
        input: NewCampaign,
    ) -> Result<Campaign, CampaignError> {
        let name = input.name.trim();
        if name.is_empty() {
            return Err(CampaignError::Invalid("name must not be empty".into()));
        }
        if name.chars().count() > 255 {
            return Err(CampaignError::Invalid(
                "name is longer than 255 characters".into(),
            ));
        }
        if input.correlated_status == CorrelatedStatus::Uncorrelated
            && input.campaign_type != CampaignType::SourceOwner
        {
            return Err(CampaignError::Invalid(
                "correlatedStatus UNCORRELATED is only for SOURCE_OWNER campaigns".into(),
            ));
        }
        // The scope must make sense now, not fail later in the background.
        scope_of(input.campaign_type, input.correlated_status, &input.config)?;
        let now = self.clock.now();
        if let Some(d) = input.deadline
            && d <= now
        {
            return Err(CampaignError::Invalid(format!(
                "deadline {d} is not in the future"
            )));
        }
        let k = Campaign {
            id,
            name: name.to_owned(),
            description: input.description,
            campaign_type: input.campaign_type,
            status: CampaignStatus::Pending,
            correlated_status: input.correlated_status,
            deadline: input.deadline,
            email_notification_enabled: input.email_notification_enabled,
            auto_revoke_allowed: input.auto_revoke_allowed,
            recommendations_enabled: input.recommendations_enabled,
            sunset_comments_required: input.sunset_comments_required,
            mandatory_comment_requirement: input.mandatory_comment_requirement,
            config: input.config,
            alerts: Vec::new(),
            template_id: input.template_id,
            created_by,
            total_certifications: 0,
            completed_certifications: 0,
            created: now,
            modified: now,
            generated_at: None,
            activated_at: None,
            completed_at: None,
        };
        let task = new_task(
            TaskType::CampaignCreate,
            k.id,
            serde_json::json!({}),
            created_by,
            now,
        );
        let job = new_job(
            GENERATE,
            serde_json::json!({ "campaignId": k.id.to_string() }),
            now,
        );
        self.store.create_campaign(&k, &task, &job).await?;
        Ok(k)
    }

    pub async fn get(&self, who: ReportReader<'_>, id: Id) -> Result<Campaign, CampaignError> {
        let k = self.load(id).await?;
        if !who.may_read_all() && !k.created_by.is_some_and(|c| who.may_read(c)) {
            return Err(CampaignError::NotFound(id));
        }
        Ok(k)
    }

    /// Lists campaigns. An OPERATOR sees only the campaigns it created.
    pub async fn list(
        &self,
        who: ReportReader<'_>,
        query: &ListQuery,
    ) -> Result<Page<Campaign>, CampaignError> {
        if !who.may_read_all() {
            // SailPoint lists campaigns for ORG_ADMIN, CERT_ADMIN and REPORT_ADMIN only.
            return Err(CampaignError::Forbidden(
                "listing every campaign needs ORG_ADMIN, CERT_ADMIN or REPORT_ADMIN".into(),
            ));
        }
        Ok(self.store.campaigns(query).await?)
    }

    /// Applies a JSON Patch to the fields the campaign's status allows.
    pub async fn patch(
        &self,
        who: CampaignCreator<'_>,
        id: Id,
        ops: &[PatchOp],
    ) -> Result<Campaign, CampaignError> {
        let k = self.load_for(&who, id).await?;
        let now = self.clock.now();
        let settings = patch::patched_settings(&k, ops, now)?;
        if !self
            .store
            .update_campaign_settings(id, k.status, &settings, now)
            .await?
        {
            return Err(CampaignError::Invalid(
                "the campaign changed status while it was being patched; read it and try again"
                    .into(),
            ));
        }
        self.load(id).await
    }

    /// Starts activation: STAGED → ACTIVATING, then ACTIVE in the background.
    pub async fn activate(
        &self,
        who: CampaignCreator<'_>,
        id: Id,
        time_zone: Option<&str>,
    ) -> Result<(), CampaignError> {
        let k = self.load_for(&who, id).await?;
        let now = self.clock.now();
        let offset = parse_offset(time_zone.unwrap_or("Z"))?;
        campaign::check_activate(k.status, k.deadline, now)?;
        let deadline = deadline_in_zone(k.deadline.unwrap_or(now), offset);
        let task = new_task(
            TaskType::ActivateCampaign,
            id,
            serde_json::json!({ "timeZone": time_zone }),
            Some(who.client_id()),
            now,
        );
        let job = new_job(
            ACTIVATE,
            serde_json::json!({ "campaignId": id.to_string(), "deadline": deadline.to_string() }),
            now,
        );
        self.transition(
            id,
            &[CampaignStatus::Staged],
            CampaignStatus::Activating,
            task,
            job,
        )
        .await
    }

    /// Starts completion of a past-due campaign: ACTIVE → COMPLETING, then COMPLETED.
    pub async fn complete(
        &self,
        who: CampaignCreator<'_>,
        id: Id,
        action: Decision,
    ) -> Result<(), CampaignError> {
        let k = self.load_for(&who, id).await?;
        let now = self.clock.now();
        campaign::check_complete(k.status, k.deadline, now)?;
        campaign::check_auto_complete_action(action, k.auto_revoke_allowed)?;
        let task = new_task(
            TaskType::CompleteCampaign,
            id,
            serde_json::json!({ "autoCompleteAction": action.as_str() }),
            Some(who.client_id()),
            now,
        );
        let job = new_job(
            COMPLETE,
            serde_json::json!({ "campaignId": id.to_string(), "decision": action.as_str() }),
            now,
        );
        self.transition(
            id,
            &[CampaignStatus::Active],
            CampaignStatus::Completing,
            task,
            job,
        )
        .await
    }

    /// Deletes campaigns in the background. Every id is checked first: one that cannot be
    /// deleted refuses the whole request.
    pub async fn delete(&self, who: CampaignCreator<'_>, ids: &[Id]) -> Result<(), CampaignError> {
        if ids.is_empty() {
            return Err(CampaignError::Invalid(
                "ids must name at least one campaign".into(),
            ));
        }
        if ids.len() > 250 {
            return Err(CampaignError::Invalid(format!(
                "ids names {} campaigns; at most 250 can be deleted at once",
                ids.len()
            )));
        }
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            let k = self.load_for(&who, *id).await?;
            campaign::check_delete(k.status)
                .map_err(|r| CampaignError::Invalid(format!("campaign {id}: {}", r.0)))?;
            found.push(k);
        }
        let now = self.clock.now();
        for k in found {
            if k.status == CampaignStatus::Canceling {
                continue;
            }
            let task = new_task(
                TaskType::CampaignDelete,
                k.id,
                serde_json::json!({}),
                Some(who.client_id()),
                now,
            );
            let job = new_job(
                DELETE,
                serde_json::json!({ "campaignId": k.id.to_string() }),
                now,
            );
            self.transition(k.id, &[k.status], CampaignStatus::Canceling, task, job)
                .await?;
        }
        Ok(())
    }

    /// Moves whole certifications to another reviewer, as a background task.
    pub async fn reassign(
        &self,
        who: CertAdmin<'_>,
        id: Id,
        certification_ids: &[Id],
        to: Id,
        reason: Option<&str>,
    ) -> Result<CertificationTask, CampaignError> {
        if certification_ids.is_empty() || certification_ids.len() > 250 {
            return Err(CampaignError::Invalid(format!(
                "certificationIds must name 1 to 250 certifications, not {}",
                certification_ids.len()
            )));
        }
        let k = self.load(id).await?;
        if !matches!(k.status, CampaignStatus::Staged | CampaignStatus::Active) {
            return Err(CampaignError::Invalid(format!(
                "the campaign is {}; certifications can be reassigned only while it is STAGED \
                 or ACTIVE",
                k.status
            )));
        }
        if self.store.identity(to).await?.is_none() {
            return Err(CampaignError::Invalid(format!(
                "reassignTo: identity {to} does not exist"
            )));
        }
        let now = self.clock.now();
        let ids: Vec<String> = certification_ids.iter().map(|c| c.to_string()).collect();
        let mut task = new_task(
            TaskType::AdminReassign,
            id,
            serde_json::json!({
                "certificationIds": ids,
                "reassignTo": to.to_string(),
                "reason": reason.unwrap_or(""),
            }),
            Some(who.principal().client_id),
            now,
        );
        let job = new_job(
            REASSIGN,
            serde_json::json!({ "campaignId": id.to_string(), "taskId": task.id.to_string() }),
            now,
        );
        self.transition(id, &[k.status], k.status, task.clone(), job)
            .await?;
        task.status = TaskStatus::Queued;
        Ok(task)
    }

    async fn transition(
        &self,
        id: Id,
        from: &[CampaignStatus],
        to: CampaignStatus,
        task: CertificationTask,
        job: NewJob,
    ) -> Result<(), CampaignError> {
        let now = self.clock.now();
        if self
            .store
            .start_campaign_operation(id, from, to, Some(&task), &job, now)
            .await?
        {
            Ok(())
        } else {
            let status = self.load(id).await?.status;
            Err(CampaignError::Invalid(format!(
                "the campaign is {status} now; the request no longer applies"
            )))
        }
    }

    /// A campaign's remediation scan (see [`Store::rescan_remediation`]); returns how many
    /// remediation items it opened or changed.
    pub async fn run_remediation_scan(
        &self,
        who: ReportReader<'_>,
        id: Id,
    ) -> Result<u64, CampaignError> {
        let k = self.get(who, id).await?;
        if matches!(
            k.status,
            CampaignStatus::Pending | CampaignStatus::Canceling
        ) {
            return Err(CampaignError::Invalid(format!(
                "the campaign is {}; it has nothing to remediate yet",
                k.status
            )));
        }
        Ok(self.store.rescan_remediation(id, self.clock.now()).await?)
    }

    pub async fn task(&self, id: Id) -> Result<Option<CertificationTask>, CampaignError> {
        Ok(self.store.certification_task(id).await?)
    }
}
