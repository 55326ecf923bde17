//! Closing the loop: every revoked item becomes a remediation item when its certification is
//! signed off (or its campaign completed), and is delivered to the configured webhook as JSON,
//! signed, at least once, with its id as the idempotency key. The receiver reports back
//! (`COMPLETED`/`FAILED`); an import that shows the access gone completes it too, and one that
//! shows it still there reopens a completed one.
//!
//! `OPEN` (waiting for delivery) → `IN_PROGRESS` (delivered) → `COMPLETED` | `FAILED`.

use std::sync::Arc;

use async_trait::async_trait;
use recert_domain::review::{DeliveryResult, RemediationDetails, RemediationItem};
use recert_domain::{Clock, Id, Job, NewJob};
use recert_store::{Store, StoreError};
use serde_json::{Value, json};

use crate::auth::CertAdmin;
use crate::jobs::{JobError, JobHandler, backoff};
use crate::webhook::{Delivery, DeliveryOutcome, WebhookSender};

/// The job that delivers due remediation items.
pub const DELIVER: &str = "remediation.deliver";

/// The event name deliveries carry (`X-Recert-Event`).
pub const EVENT: &str = "remediation.requested";

/// Items delivered per job run.
const BATCH: u32 = 200;

/// Why a remediation operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum RemediationError {
    #[error("{0}")]
    Invalid(String),
    #[error("remediation item {0} does not exist")]
    NotFound(Id),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The remediation use-cases.
#[derive(Debug, Clone)]
pub struct Remediation {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    sender: Option<Arc<WebhookSender>>,
}

/// The JSON a delivery carries.
pub fn payload(item: &RemediationItem, d: &RemediationDetails) -> Value {
    let id = |i: Option<Id>| i.map(|i| i.to_string());
    let account = item.account_id.map(|a| {
        json!({"id": a.to_string(), "nativeIdentity": d.native_identity, "name": d.account_name})
    });
    json!({
        "id": item.id.to_string(),
        "event": EVENT,
        "status": item.status,
        "attempt": item.attempts + 1,
        "campaign": {"id": item.campaign_id.to_string(), "name": d.campaign_name},
        "certification": {
            "id": item.certification_id.to_string(),
            "reviewer": {"id": id(d.reviewer_id), "name": d.reviewer_name, "email": d.reviewer_email},
        },
        "identity": {"id": item.identity_id.to_string(), "name": d.identity_name, "email": d.identity_email},
        "access": {
            "type": item.access_type,
            "id": item.access_id.to_string(),
            "name": d.access_name,
            "source": {"id": id(d.source_id), "name": d.source_name},
        },
        "account": account,
        "decision": "REVOKE",
        "comments": d.comments,
        "proposedEndDate": d.proposed_end_date.map(|t| t.to_string()),
        "decidedAt": d.decided_at.map(|t| t.to_string()),
        "reportTo": format!("/remediation/v1/items/{}", item.id),
    })
}

impl Remediation {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        sender: Option<WebhookSender>,
    ) -> Self {
        Remediation {
            store,
            clock,
            sender: sender.map(Arc::new),
        }
    }

    /// Whether a webhook is configured (without one, items wait for an import).
    pub fn delivers(&self) -> bool {
        self.sender.is_some()
    }

    /// Enqueues the delivery job for the current minute (once, across processes).
    pub async fn enqueue_delivery(&self) -> Result<bool, StoreError> {
        if self.sender.is_none() {
            return Ok(false);
        }
        let now = self.clock.now();
        let minute = now.unix_millis().div_euclid(60_000);
        let job = NewJob {
            id: Id::generate(),
            kind: DELIVER.into(),
            payload: json!({}),
            dedupe_key: Some(format!("remediation:{minute}")),
            max_attempts: 3,
            run_at: now,
        };
        self.store.enqueue_job(&job, now).await
    }

    /// Delivers every due item once; returns (delivered, retried, rejected).
    pub async fn deliver_due(&self) -> Result<(u64, u64, u64), StoreError> {
        let Some(sender) = &self.sender else {
            return Ok((0, 0, 0));
        };
        let mut counts = (0, 0, 0);
        let due = self.store.due_remediations(self.clock.now(), BATCH).await?;
        for (item, details) in due {
            let body = payload(&item, &details);
            let outcome = match Delivery::json(item.id, EVENT, &body) {
                Ok(d) => sender.deliver(&d).await,
                Err(e) => DeliveryOutcome::Rejected {
                    status: 0,
                    reason: e.to_string(),
                },
            };
            let now = self.clock.now();
            let result = match outcome {
                DeliveryOutcome::Delivered { .. } => {
                    counts.0 += 1;
                    DeliveryResult::Delivered
                }
                DeliveryOutcome::Retry { reason } => {
                    counts.1 += 1;
                    let attempts = u32::try_from(item.attempts + 1).unwrap_or(u32::MAX);
                    DeliveryResult::Retry {
                        error: reason,
                        next: now.plus(backoff(attempts)),
                    }
                }
                DeliveryOutcome::Rejected { reason, .. } => {
                    counts.2 += 1;
                    DeliveryResult::Rejected { error: reason }
                }
            };
            self.store.record_delivery(item.id, &result, now).await?;
        }
        Ok(counts)
    }

    /// The receiver's report: `COMPLETED` or `FAILED`, with an optional message and reference.
    pub async fn report(
        &self,
        _who: CertAdmin<'_>,
        id: Id,
        status: &str,
        message: Option<&str>,
        external_ref: Option<&str>,
    ) -> Result<RemediationItem, RemediationError> {
        if !matches!(status, "COMPLETED" | "FAILED") {
            return Err(RemediationError::Invalid(format!(
                "status '{status}' is not COMPLETED or FAILED"
            )));
        }
        if message.is_some_and(|m| m.chars().count() > 2000)
            || external_ref.is_some_and(|r| r.chars().count() > 255)
        {
            return Err(RemediationError::Invalid(
                "message is limited to 2000 characters and externalRef to 255".into(),
            ));
        }
        self.store
            .report_remediation(id, status, message, external_ref, self.clock.now())
            .await?
            .ok_or(RemediationError::NotFound(id))
    }

    /// A campaign's remediation items.
    pub async fn of_campaign(
        &self,
        _who: CertAdmin<'_>,
        campaign: Id,
    ) -> Result<Vec<(RemediationItem, RemediationDetails)>, RemediationError> {
        Ok(self.store.remediation_items(campaign).await?)
    }
}

/// Runs [`DELIVER`] jobs.
#[derive(Debug)]
pub struct RemediationJobs(pub Remediation);

#[async_trait]
impl JobHandler for RemediationJobs {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let (ok, retry, rejected) = self
            .0
            .deliver_due()
            .await
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        if ok + retry + rejected > 0 {
            tracing::info!(
                delivered = ok,
                retrying = retry,
                rejected,
                "remediation deliveries"
            );
        }
        Ok(())
    }
}
