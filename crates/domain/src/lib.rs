//! recert's domain: identifiers, timestamps and the clock, the records that get reviewed, API
//! client roles, and the rules about them. No I/O, no database, no HTTP: everything here is plain
//! data and pure functions, tested on its own.

pub mod awf;
pub mod campaign;
pub mod certification;
mod client;
pub mod filter;
mod id;
pub mod iso_duration;
mod job;
mod model;
pub mod placeholders;
pub mod review;
pub mod rules;
pub mod schedule;
mod time;
pub mod web;

pub use client::{ApiClient, ClientRole, InvalidClientRole, SigningKey};
pub use id::{Id, InvalidId};
pub use job::{InvalidJobState, Job, JobOutcome, JobState, NewJob};
pub use model::{
    AccessProfile, AccessType, Account, Assignment, AssignmentRecord, Dataset, Entitlement,
    Identity, InvalidAccessType, Permission, Role, Source,
};
pub use time::{Clock, InvalidTimestamp, ManualClock, SystemClock, Timestamp};

/// Re-exported so that callers can build durations without depending on `time` themselves.
pub use ::time::Duration;
