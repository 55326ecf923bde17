//! Durable background jobs: what they are and the states they go through.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Id, Timestamp};

/// Where a job is in its life: `QUEUED` → `RUNNING` → `SUCCEEDED` | `FAILED`, and back to
/// `QUEUED` for a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a [`JobState`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a job state")]
pub struct InvalidJobState(pub String);

impl FromStr for JobState {
    type Err = InvalidJobState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Queued, Self::Running, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| InvalidJobState(s.to_owned()))
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub id: Id,
    /// Which handler runs it, e.g. `campaign.generate`.
    pub kind: String,
    pub payload: serde_json::Value,
    /// Jobs with the same key are enqueued once, whichever process tries first.
    pub dedupe_key: Option<String>,
    pub max_attempts: u32,
    /// Not before.
    pub run_at: Timestamp,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: Id,
    pub kind: String,
    pub payload: serde_json::Value,
    pub dedupe_key: Option<String>,
    pub state: JobState,
    /// Claims so far, the current one included.
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: Timestamp,
    /// The worker holding the job, and until when.
    pub lease_owner: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Succeeded,
    /// Try again at `at` (or fail for good if no attempts are left).
    Retry {
        at: Timestamp,
        error: String,
    },
    /// Fail for good.
    Failed {
        error: String,
    },
}
