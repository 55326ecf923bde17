//! The background half of the reviewer API: asynchronous reassignment. The task records the
//! request; the job moves the items in one store transaction and then records how it ended.
//! A job that runs again after its task ended leaves it alone.

use async_trait::async_trait;
use recert_domain::certification::ReassignRef;
use recert_domain::review::{CertificationTask, TaskStatus};
use recert_domain::{Id, Job};

use super::{Certifications, REASSIGN_JOB, ReassignRequest, ReviewError, reassign_kind};
use crate::jobs::{JobError, JobHandler};

/// Every job kind [`ReviewJobs`] runs.
pub const REVIEW_JOB_KINDS: &[&str] = &[REASSIGN_JOB];

/// Runs the reviewer API's jobs.
#[derive(Debug)]
pub struct ReviewJobs {
    certifications: Certifications,
}

fn task_id(job: &Job) -> Result<Id, JobError> {
    job.payload
        .get("task")
        .and_then(|v| v.as_str())
        .and_then(|s| Id::parse(s).ok())
        .ok_or_else(|| JobError::Permanent(format!("job {} names no task", job.id)))
}

/// The reassignment a task was asked to do.
fn request_of(task: &CertificationTask) -> Result<ReassignRequest, String> {
    let r = &task.request;
    let id = |v: Option<&serde_json::Value>, what: &str| {
        v.and_then(|v| v.as_str())
            .and_then(|s| Id::parse(s).ok())
            .ok_or_else(|| format!("task {} has no valid {what}", task.id))
    };
    let refs = r
        .get("reassign")
        .and_then(|v| v.as_array())
        .ok_or_else(|| format!("task {} has no reassign list", task.id))?
        .iter()
        .map(|x| {
            Ok(ReassignRef {
                id: id(x.get("id"), "reference id")?,
                kind: reassign_kind(x.get("type").and_then(|t| t.as_str()).unwrap_or(""))
                    .map_err(|e| e.to_string())?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(ReassignRequest {
        refs,
        to: id(r.get("reassignTo"), "reassignTo")?,
        reason: r
            .get("reason")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned(),
    })
}

impl ReviewJobs {
    pub fn new(certifications: Certifications) -> Self {
        ReviewJobs { certifications }
    }

    async fn set(&self, task: Id, status: TaskStatus, errors: &[String]) -> Result<(), JobError> {
        let now = self.certifications.clock.now();
        self.certifications
            .store
            .set_task_status(task, status, errors, now)
            .await
            .map_err(|e| JobError::Retryable(e.to_string()))
    }

    async fn reassign(&self, job: &Job) -> Result<(), JobError> {
        let store = &self.certifications.store;
        let id = task_id(job)?;
        let Some(task) = store
            .certification_task(id)
            .await
            .map_err(|e| JobError::Retryable(e.to_string()))?
        else {
            return Ok(());
        };
        if matches!(task.status, TaskStatus::Success | TaskStatus::Error) {
            return Ok(());
        }
        let request = match request_of(&task) {
            Ok(r) => r,
            Err(e) => return self.set(id, TaskStatus::Error, &[e]).await,
        };
        self.set(id, TaskStatus::InProgress, &[]).await?;
        match self
            .certifications
            .move_items(
                task.target_id,
                &request,
                task.requested_by.unwrap_or(task.id),
            )
            .await
        {
            Ok(_) => self.set(id, TaskStatus::Success, &[]).await,
            Err(ReviewError::Store(e)) => Err(JobError::Retryable(e.to_string())),
            Err(e) => self.set(id, TaskStatus::Error, &[e.to_string()]).await,
        }
    }
}

#[async_trait]
impl JobHandler for ReviewJobs {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let result = match job.kind.as_str() {
            REASSIGN_JOB => self.reassign(job).await,
            other => Err(JobError::Permanent(format!(
                "no reviewer job of kind {other}"
            ))),
        };
        if let Err(e) = &result {
            let last = matches!(e, JobError::Permanent(_)) || job.attempts >= job.max_attempts;
            if last && let Ok(task) = task_id(job) {
                let _ = self.set(task, TaskStatus::Error, &[e.to_string()]).await;
            }
        }
        result
    }
}
