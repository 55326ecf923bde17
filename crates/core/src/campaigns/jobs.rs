//! The background half of campaign operations. Each job writes its result in one store
//! transaction and checks the campaign's status first, so running it again (after a crash, or
//! by a second runner) either finishes the work or finds it done.

use async_trait::async_trait;
use recert_domain::campaign::Decision;
use recert_domain::review::{Generation, TaskStatus};
use recert_domain::{Id, Job, Timestamp};
use recert_store::StoreError;

use super::templates::{SCHEDULED, scheduled_payload};
use super::{ACTIVATE, COMPLETE, CampaignError, Campaigns, DELETE, GENERATE, REASSIGN, scope_of};
use crate::jobs::{JobError, JobHandler};

/// Every job kind [`CampaignJobs`] runs.
pub const JOB_KINDS: &[&str] = &[GENERATE, ACTIVATE, COMPLETE, DELETE, REASSIGN, SCHEDULED];

/// Runs the campaign jobs.
#[derive(Debug)]
pub struct CampaignJobs {
    campaigns: Campaigns,
}

fn retryable(e: StoreError) -> JobError {
    JobError::Retryable(e.to_string())
}

fn field<'a>(job: &'a Job, name: &str) -> Result<&'a str, JobError> {
    job.payload
        .get(name)
        .and_then(|v| v.as_str())
        .ok_or_else(|| JobError::Permanent(format!("job {} has no {name}", job.id)))
}

fn id_field(job: &Job, name: &str) -> Result<Id, JobError> {
    let s = field(job, name)?;
    Id::parse(s)
        .map_err(|_| JobError::Permanent(format!("job {}: {name} '{s}' is not an id", job.id)))
}

impl CampaignJobs {
    pub fn new(campaigns: Campaigns) -> Self {
        CampaignJobs { campaigns }
    }

    fn now(&self) -> Timestamp {
        self.campaigns.clock.now()
    }

    async fn generate(&self, id: Id) -> Result<(), JobError> {
        let store = &self.campaigns.store;
        let Some(k) = store.campaign(id).await.map_err(retryable)? else {
            return Ok(());
        };
        let scope = scope_of(k.campaign_type, k.correlated_status, &k.config)
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        let new_access_since = match k.template_id {
            Some(t) => store
                .last_completed_generation(t)
                .await
                .map_err(retryable)?,
            None => None,
        };
        let generation = Generation {
            campaign_id: id,
            scope,
            fallback_reviewer: self.campaigns.options.fallback_reviewer,
            new_access_since,
            certification_name: format!("{} - {{reviewer}}", k.name),
            now: self.now(),
        };
        match store
            .generate_campaign(generation)
            .await
            .map_err(retryable)?
        {
            Some(r) => tracing::info!(
                campaign = %id,
                certifications = r.certifications,
                items = r.items,
                "campaign generated"
            ),
            None => tracing::info!(campaign = %id, "campaign already generated"),
        }
        Ok(())
    }

    async fn reassign(&self, job: &Job) -> Result<(), JobError> {
        let store = &self.campaigns.store;
        let campaign = id_field(job, "campaignId")?;
        let task_id = id_field(job, "taskId")?;
        let Some(task) = store.certification_task(task_id).await.map_err(retryable)? else {
            return Ok(());
        };
        if matches!(task.status, TaskStatus::Success | TaskStatus::Error) {
            return Ok(());
        }
        store
            .set_task_status(task_id, TaskStatus::InProgress, &[], self.now())
            .await
            .map_err(retryable)?;
        let req = &task.request;
        let ids: Vec<Id> = req
            .get("certificationIds")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().and_then(|s| Id::parse(s).ok()))
                    .collect()
            })
            .unwrap_or_default();
        let to = req
            .get("reassignTo")
            .and_then(|v| v.as_str())
            .and_then(|s| Id::parse(s).ok())
            .ok_or_else(|| JobError::Permanent("the task names no reassignTo".into()))?;
        let reason = req.get("reason").and_then(|v| v.as_str()).unwrap_or("");
        let errors = store
            .reassign_certifications(campaign, &ids, to, reason, self.now())
            .await
            .map_err(retryable)?;
        let status = if errors.is_empty() {
            TaskStatus::Success
        } else {
            TaskStatus::Error
        };
        store
            .set_task_status(task_id, status, &errors, self.now())
            .await
            .map_err(retryable)
    }

    async fn run_kind(&self, job: &Job) -> Result<(), JobError> {
        let store = &self.campaigns.store;
        match job.kind.as_str() {
            GENERATE => self.generate(id_field(job, "campaignId")?).await,
            ACTIVATE => {
                let id = id_field(job, "campaignId")?;
                let deadline = Timestamp::parse(field(job, "deadline")?)
                    .map_err(|e| JobError::Permanent(e.to_string()))?;
                store
                    .activate_campaign(id, deadline, self.now())
                    .await
                    .map_err(retryable)?;
                Ok(())
            }
            COMPLETE => {
                let id = id_field(job, "campaignId")?;
                let decision: Decision = field(job, "decision")?
                    .parse()
                    .map_err(JobError::Permanent)?;
                store
                    .complete_campaign(id, decision, self.now())
                    .await
                    .map_err(retryable)?;
                Ok(())
            }
            DELETE => store
                .delete_campaign(id_field(job, "campaignId")?)
                .await
                .map_err(retryable),
            REASSIGN => self.reassign(job).await,
            SCHEDULED => {
                let template = scheduled_payload(&job.payload).ok_or_else(|| {
                    JobError::Permanent(format!("job {} names no template", job.id))
                })?;
                self.campaigns
                    .generate_scheduled(job.id, template)
                    .await
                    .map_err(|e| match e {
                        CampaignError::Store(s) => JobError::Retryable(s.to_string()),
                        other => JobError::Permanent(other.to_string()),
                    })
            }
            other => Err(JobError::Permanent(format!(
                "no campaign job of kind {other}"
            ))),
        }
    }
}

#[async_trait]
impl JobHandler for CampaignJobs {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let result = self.run_kind(job).await;
        if let Err(e) = &result {
            let last = matches!(e, JobError::Permanent(_)) || job.attempts >= job.max_attempts;
            if last
                && job.kind == REASSIGN
                && let Ok(task) = id_field(job, "taskId")
            {
                let _ = self
                    .campaigns
                    .store
                    .set_task_status(task, TaskStatus::Error, &[e.to_string()], self.now())
                    .await;
            } else if last
                && job.kind != SCHEDULED
                && let Ok(id) = id_field(job, "campaignId")
            {
                // The campaign shows why it stopped; the job records the same message.
                let what = match job.kind.as_str() {
                    GENERATE => "generating the certifications",
                    ACTIVATE => "activating the campaign",
                    COMPLETE => "completing the campaign",
                    DELETE => "deleting the campaign",
                    _ => "a background operation",
                };
                let msg = format!("{what} failed: {e}");
                if let Err(se) = self
                    .campaigns
                    .store
                    .fail_campaign(id, &msg, self.now())
                    .await
                {
                    tracing::error!(campaign = %id, error = %se, "could not record a failure");
                }
            }
        }
        result
    }
}
