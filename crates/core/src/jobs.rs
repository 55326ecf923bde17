//! The durable job runner. Long operations (campaign generation, activation, completion,
//! reports, remediation) are jobs recorded in the database: a runner claims one with a lease,
//! keeps the lease alive while the handler works, and records the outcome. A runner that dies
//! lets its lease run out, and another (in this or another process) takes the job up again, so
//! handlers must be safe to run again from the start (clean up, or finish what was begun).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use recert_domain::{Clock, Duration, Id, Job, JobOutcome, NewJob, Timestamp};
use recert_store::{Store, StoreError};

/// How a handler failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt (a busy database, a peer not answering).
    #[error("{0}")]
    Retryable(String),
    /// Will fail the same way every time; the message is for people (it ends up in alerts).
    #[error("{0}")]
    Permanent(String),
}

/// Runs the jobs of one kind.
#[async_trait]
pub trait JobHandler: Send + Sync + std::fmt::Debug {
    async fn run(&self, job: &Job) -> Result<(), JobError>;
}

/// Enqueues a job to run now; `None` when `dedupe_key` says it was enqueued already.
pub async fn enqueue(
    store: &dyn Store,
    clock: &dyn Clock,
    kind: &str,
    payload: serde_json::Value,
    dedupe_key: Option<String>,
) -> Result<Option<Id>, StoreError> {
    let job = NewJob {
        id: Id::generate(),
        kind: kind.to_owned(),
        payload,
        dedupe_key,
        max_attempts: 5,
        run_at: clock.now(),
    };
    Ok(store
        .enqueue_job(&job, clock.now())
        .await?
        .then_some(job.id))
}

/// The wait before attempt `attempts + 1`: 5 s, doubling, at most 10 minutes.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 5i64.saturating_mul(1i64 << attempts.saturating_sub(1).min(16));
    Duration::seconds(secs.min(600))
}

/// Claims and runs jobs.
#[derive(Debug, Clone)]
pub struct Runner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    owner: String,
    lease: Duration,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
}

impl Runner {
    /// `owner` names this runner in leases (and logs); make it unique per process.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, owner: impl Into<String>) -> Self {
        Runner {
            store,
            clock,
            owner: owner.into(),
            lease: Duration::seconds(60),
            handlers: HashMap::new(),
        }
    }

    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    pub fn handle(mut self, kind: &str, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(kind.to_owned(), handler);
        self
    }

    fn lease_until(&self) -> Timestamp {
        self.clock.now().plus(self.lease)
    }

    /// Claims one due job and runs it to an outcome; `None` when nothing is due.
    pub async fn run_one(&self) -> Result<Option<(Job, JobOutcome)>, StoreError> {
        let kinds: Vec<String> = self.handlers.keys().cloned().collect();
        if kinds.is_empty() {
            return Ok(None);
        }
        let Some(job) = self
            .store
            .claim_job(&self.owner, &kinds, self.clock.now(), self.lease_until())
            .await?
        else {
            return Ok(None);
        };
        tracing::info!(job.id = %job.id, job.kind = job.kind, attempt = job.attempts, "job started");
        let outcome = match self.handlers.get(&job.kind) {
            // Only handled kinds are claimed; this is a bug's safety net.
            None => JobOutcome::Failed {
                error: format!("no handler for jobs of kind '{}'", job.kind),
            },
            Some(handler) => match self.run_with_heartbeat(handler.clone(), &job).await {
                Some(outcome) => outcome,
                None => {
                    return Ok(Some((
                        job,
                        JobOutcome::Failed {
                            error: "lease lost".into(),
                        },
                    )));
                }
            },
        };
        let recorded = self
            .store
            .finish_job(
                job.id,
                &self.owner,
                job.attempts,
                &outcome,
                self.clock.now(),
            )
            .await?;
        match (&outcome, recorded) {
            (_, false) => {
                tracing::warn!(job.id = %job.id, "job lease lost; its outcome was dropped")
            }
            (JobOutcome::Succeeded, true) => tracing::info!(job.id = %job.id, "job succeeded"),
            (JobOutcome::Retry { at, error }, true) => {
                tracing::warn!(job.id = %job.id, %error, retry_at = %at, "job will be retried")
            }
            (JobOutcome::Failed { error }, true) => {
                tracing::error!(job.id = %job.id, %error, "job failed")
            }
        }
        Ok(Some((job, outcome)))
    }

    /// Runs the handler on a task of its own (a panic becomes a retry, not a dead runner) while
    /// the lease is renewed every third of its length. If the lease is lost (another runner may
    /// have the job now), or cannot be renewed for a whole lease, the handler is stopped and
    /// `None` returned: two runs of one job must never overlap.
    async fn run_with_heartbeat(
        &self,
        handler: Arc<dyn JobHandler>,
        job: &Job,
    ) -> Option<JobOutcome> {
        let task = {
            let job = job.clone();
            tokio::spawn(async move { handler.run(&job).await })
        };
        tokio::pin!(task);
        let period = std::time::Duration::from_millis(
            (self.lease.whole_milliseconds() / 3).clamp(10, 60_000) as u64,
        );
        let mut beat = tokio::time::interval(period);
        beat.tick().await;
        let mut renewed_at = self.clock.now();
        let result = loop {
            tokio::select! {
                r = &mut task => break r,
                _ = beat.tick() => {
                    let until = self.lease_until();
                    let renewal = self
                        .store
                        .extend_job_lease(job.id, &self.owner, job.attempts, until)
                        .await;
                    let give_up = match renewal {
                        Ok(true) => {
                            renewed_at = self.clock.now();
                            false
                        }
                        Ok(false) => {
                            tracing::warn!(job.id = %job.id, "job lease lost; stopping the job");
                            true
                        }
                        Err(e) => {
                            tracing::warn!(job.id = %job.id, error = %e, "cannot renew job lease");
                            self.clock.now() >= renewed_at.plus(self.lease)
                        }
                    };
                    if give_up {
                        task.abort();
                        return None;
                    }
                }
            }
        };
        let retry = |error: String| JobOutcome::Retry {
            at: self.clock.now().plus(backoff(job.attempts)),
            error,
        };
        Some(match result {
            Ok(Ok(())) => JobOutcome::Succeeded,
            Ok(Err(JobError::Retryable(e))) => retry(e),
            Ok(Err(JobError::Permanent(e))) => JobOutcome::Failed { error: e },
            Err(join) => retry(format!("the job stopped unexpectedly: {join}")),
        })
    }

    /// Runs due jobs until `shutdown` completes, polling every `poll` when idle.
    pub async fn run(self, poll: std::time::Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.store.fail_abandoned_jobs(self.clock.now()).await {
                tracing::warn!(error = %e, "cannot sweep abandoned jobs");
            }
            loop {
                match self.run_one().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "job runner cannot reach the store");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        let secs: Vec<i64> = (1..=10).map(|a| backoff(a).whole_seconds()).collect();
        assert_eq!(secs, vec![5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
    }
}
