//! The storage seam. [`Store`] is what the core needs from a database, one method per use-case;
//! `recert-store-sqlite` and `recert-store-postgres` implement it, and `recert-store-conformance`
//! holds the one behaviour suite both must pass.

pub mod awf;
pub mod campaigns;
pub mod certifications;
mod error;
mod plan;
pub mod reports;
pub mod scope_sql;
pub mod sql;

use async_trait::async_trait;
use recert_domain::campaign::{CampaignStatus, Decision};
use recert_domain::certification::{AccessReviewItem, ReassignOutcome, ReassignRef, ReviewerRef};
use recert_domain::review::{
    Campaign, CampaignSettings, CampaignTemplate, Certification, CertificationTask, DecideOutcome,
    DecisionWrite, DeliveryResult, Generation, GenerationReport, RemediationDetails,
    RemediationItem, ReviewItem, SignOffOutcome, TaskStatus,
};
use recert_domain::{
    ApiClient, AssignmentRecord, Dataset, Id, Identity, Job, JobOutcome, NewJob, SigningKey,
    Timestamp,
};

pub use campaigns::{ListQuery, Page};

pub use error::StoreError;
pub use plan::{ImportKind, ImportPlan, ImportRun, ImportSummary, KindChanges, KindSummary};

/// How many active records of each kind the store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub identities: u64,
    pub sources: u64,
    pub accounts: u64,
    pub entitlements: u64,
    pub access_profiles: u64,
    pub roles: u64,
    pub assignments: u64,
    pub api_clients: u64,
}

/// The current state as an import sees it.
#[derive(Debug, Clone, Default)]
pub struct CurrentState {
    /// Active records; assignments are in `assignments` below with their ids.
    pub dataset: Dataset,
    /// Active assignments with the id of their record.
    pub assignment_ids: Vec<Id>,
    /// Bumped by every import; an import plan made from this state only applies if no other
    /// import ran in between.
    pub generation: i64,
}

/// A database recert can run on.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Which backend this is (`sqlite`, `postgres`), for logs and health output.
    fn backend(&self) -> &'static str;

    /// Applies the migrations not yet applied; returns the names of those it applied.
    async fn migrate(&self) -> Result<Vec<String>, StoreError>;

    /// Answers when the database can serve queries.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn counts(&self) -> Result<Counts, StoreError>;

    /// Everything active, for an import to compare against. When `with_assignments` is false the
    /// (potentially millions of) assignments are left out.
    async fn current_state(&self, with_assignments: bool) -> Result<CurrentState, StoreError>;

    /// Applies an import in one transaction, or nothing at all. Takes the plan by value: it can
    /// hold millions of rows, and a blocking store thread must own what it writes. Fails with
    /// [`StoreError::Conflict`] when another import ran since `plan.base_generation`.
    async fn apply_import(&self, plan: ImportPlan) -> Result<(), StoreError>;

    /// The most recent imports, newest first.
    async fn import_runs(&self, limit: u32) -> Result<Vec<ImportRun>, StoreError>;

    async fn identity(&self, id: Id) -> Result<Option<Identity>, StoreError>;

    /// Every assignment ever recorded for an identity, present and removed, oldest first.
    async fn assignment_history(
        &self,
        identity_id: Id,
    ) -> Result<Vec<AssignmentRecord>, StoreError>;

    /// Stores a new API client; a duplicate id is a [`StoreError::Conflict`].
    async fn create_api_client(&self, client: &ApiClient) -> Result<(), StoreError>;

    async fn api_client(&self, id: Id) -> Result<Option<ApiClient>, StoreError>;

    /// All clients, revoked ones included, oldest first.
    async fn api_clients(&self) -> Result<Vec<ApiClient>, StoreError>;

    /// Marks a client revoked; returns false when there is no such client or it was already revoked.
    async fn revoke_api_client(&self, id: Id, at: Timestamp) -> Result<bool, StoreError>;

    /// Token signing keys, newest first: the current one (not retired) and retired ones.
    async fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError>;

    /// Stores `candidate` as the current signing key unless there already is one; returns the
    /// current key either way. Safe when several processes start at once.
    async fn ensure_signing_key(&self, candidate: &SigningKey) -> Result<SigningKey, StoreError>;

    /// Retires the current key at `new.created_at` and makes `new` current, in one transaction.
    async fn rotate_signing_key(&self, new: &SigningKey) -> Result<(), StoreError>;

    /// Enqueues a job; returns false (and stores nothing) when a job with the same
    /// `dedupe_key` exists already.
    async fn enqueue_job(&self, job: &NewJob, at: Timestamp) -> Result<bool, StoreError>;

    /// Claims the next due job of one of `kinds` for `owner` until `lease_until`: a queued job
    /// whose `run_at` has come, or a running one whose lease ran out (its worker died) with
    /// attempts left. Each job goes to exactly one claimer, even with several processes on one
    /// database; a runner never takes a kind it cannot run (an older process in a rolling
    /// upgrade leaves newer kinds alone).
    async fn claim_job(
        &self,
        owner: &str,
        kinds: &[String],
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Job>, StoreError>;

    /// Extends a lease still held by `owner` for attempt `attempt`; false when it was lost.
    async fn extend_job_lease(
        &self,
        id: Id,
        owner: &str,
        attempt: u32,
        until: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Records how attempt `attempt` ended, if `owner` still holds the job for that attempt;
    /// false when the lease was lost (another worker has the job now; the outcome is dropped).
    async fn finish_job(
        &self,
        id: Id,
        owner: &str,
        attempt: u32,
        outcome: &JobOutcome,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Fails the running jobs whose lease ran out with no attempts left (a job that kills its
    /// worker every time); returns how many.
    async fn fail_abandoned_jobs(&self, now: Timestamp) -> Result<u64, StoreError>;

    async fn job(&self, id: Id) -> Result<Option<Job>, StoreError>;

    // ---- campaigns ----

    /// Stores a new (PENDING) campaign with its creation task and generation job, in one
    /// transaction.
    async fn create_campaign(
        &self,
        campaign: &Campaign,
        task: &CertificationTask,
        job: &NewJob,
    ) -> Result<(), StoreError>;

    async fn campaign(&self, id: Id) -> Result<Option<Campaign>, StoreError>;

    /// Campaigns by the endpoint's filter (`id`, `name`, `status`), sorters (`name`,
    /// `created`) and page; unsorted lists come newest first.
    async fn campaigns(&self, query: &ListQuery) -> Result<Page<Campaign>, StoreError>;

    /// Writes patched settings if the campaign is still in `expected`; false otherwise.
    async fn update_campaign_settings(
        &self,
        id: Id,
        expected: CampaignStatus,
        settings: &CampaignSettings,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Starts a background operation: moves the campaign from one of `from` to `to` and records
    /// `task` (if any) and `job`, all in one transaction. False (and nothing written) when the
    /// campaign's status is not one of `from`.
    async fn start_campaign_operation(
        &self,
        id: Id,
        from: &[CampaignStatus],
        to: CampaignStatus,
        task: Option<&CertificationTask>,
        job: &NewJob,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Generates a PENDING campaign's certifications, review items and snapshots and makes it
    /// STAGED, in one transaction: a crash leaves nothing half-made. A campaign no longer
    /// PENDING is left alone (`Ok(None)`).
    async fn generate_campaign(
        &self,
        generation: Generation,
    ) -> Result<Option<GenerationReport>, StoreError>;

    /// ACTIVATING → ACTIVE: the certifications become ACTIVE, due at `deadline`.
    async fn activate_campaign(
        &self,
        id: Id,
        deadline: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// COMPLETING → COMPLETED: undecided items get `decision` (by the system), every
    /// certification is signed, REVOKE decisions become remediation items. Returns how many
    /// items were decided automatically, or `None` when the campaign was not COMPLETING.
    async fn complete_campaign(
        &self,
        id: Id,
        decision: Decision,
        now: Timestamp,
    ) -> Result<Option<u64>, StoreError>;

    /// Removes a campaign and everything generated for it.
    async fn delete_campaign(&self, id: Id) -> Result<(), StoreError>;

    /// Marks a campaign ERROR with an alert saying why.
    async fn fail_campaign(&self, id: Id, message: &str, now: Timestamp) -> Result<(), StoreError>;

    /// Moves whole certifications of a campaign to another reviewer; returns one message per
    /// certification it could not move.
    async fn reassign_certifications(
        &self,
        campaign_id: Id,
        certification_ids: &[Id],
        to: Id,
        reason: &str,
        now: Timestamp,
    ) -> Result<Vec<String>, StoreError>;

    async fn certification_task(&self, id: Id) -> Result<Option<CertificationTask>, StoreError>;

    /// The tasks about a campaign or certification, oldest first.
    async fn tasks_of(&self, target_id: Id) -> Result<Vec<CertificationTask>, StoreError>;

    /// A campaign's remediation items, oldest first, each with the names and decision it came
    /// from.
    async fn remediation_items(
        &self,
        campaign_id: Id,
    ) -> Result<Vec<(RemediationItem, RemediationDetails)>, StoreError>;

    async fn set_task_status(
        &self,
        id: Id,
        status: TaskStatus,
        errors: &[String],
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// A campaign's certifications, by reviewer name.
    async fn campaign_certifications(
        &self,
        campaign_id: Id,
    ) -> Result<Vec<Certification>, StoreError>;

    /// A certification's items, in id order.
    async fn certification_items(
        &self,
        certification_id: Id,
    ) -> Result<Vec<ReviewItem>, StoreError>;

    // ---- templates ----

    async fn create_template(&self, template: &CampaignTemplate) -> Result<(), StoreError>;

    async fn template(&self, id: Id) -> Result<Option<CampaignTemplate>, StoreError>;

    /// Templates by filter (`name`, `id`), sorters (`name`, `created`, `modified`) and page.
    async fn templates(&self, query: &ListQuery) -> Result<Page<CampaignTemplate>, StoreError>;

    /// Overwrites a template; false when it does not exist.
    async fn update_template(&self, template: &CampaignTemplate) -> Result<bool, StoreError>;

    async fn delete_template(&self, id: Id) -> Result<bool, StoreError>;

    /// Scheduled templates whose next occurrence has come (at most `limit`), oldest first.
    async fn due_templates(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<CampaignTemplate>, StoreError>;

    /// Moves a template's next occurrence from `expected` to `next`; false when another
    /// process moved it first (then that process fired the occurrence).
    async fn advance_schedule(
        &self,
        id: Id,
        expected: Timestamp,
        next: Option<Timestamp>,
    ) -> Result<bool, StoreError>;

    // ---- decisions ----

    /// Writes decisions on items of one ACTIVE certification, all or none, and recounts its
    /// progress (`decisionsMade`, per-identity completion) exactly, also under concurrent calls.
    async fn decide(
        &self,
        certification_id: Id,
        decisions: &[DecisionWrite],
        by: Id,
        now: Timestamp,
    ) -> Result<DecideOutcome, StoreError>;

    /// Signs a fully decided ACTIVE certification off: it becomes SIGNED, its REVOKE decisions
    /// become remediation items, and the campaign completes with its last certification.
    /// `by` (an identity's or API client's id) is recorded in each row's action log and as
    /// the campaign's `completed_by` when it completes.
    async fn sign_off(
        &self,
        certification_id: Id,
        by: Id,
        now: Timestamp,
    ) -> Result<SignOffOutcome, StoreError>;

    // ---- the reviewer's API ----

    /// Certifications by the endpoint's filter (`id`, `campaign.id`, `phase`, `completed`),
    /// sorters (`name`, `due`, `signed`) and page; only `reviewer`'s when given. Unsorted lists
    /// come by due date, then name.
    async fn certifications(
        &self,
        reviewer: Option<Id>,
        query: &ListQuery,
    ) -> Result<Page<Certification>, StoreError>;

    async fn certification(&self, id: Id) -> Result<Option<Certification>, StoreError>;

    /// An API client and a certification, read together: what an authenticated read of one
    /// certification needs, in one round trip where the backend has round trips. Both are read
    /// no earlier than this call.
    async fn client_and_certification(
        &self,
        client: Id,
        certification: Id,
    ) -> Result<(Option<ApiClient>, Option<Certification>), StoreError> {
        Ok((
            self.api_client(client).await?,
            self.certification(certification).await?,
        ))
    }

    /// A certification's review items with their snapshots, by the endpoint's filter and
    /// sorters (see [`campaigns::item_column`]); `access` keeps only items for those access
    /// ids of that type (`ENTITLEMENT`, `ACCESS_PROFILE`, `ROLE`). Unsorted lists come in id
    /// order.
    async fn access_review_items(
        &self,
        certification_id: Id,
        access: Option<(&str, &[Id])>,
        query: &ListQuery,
    ) -> Result<Page<AccessReviewItem>, StoreError>;

    /// The permissions of an item's entitlement as the campaign captured them; `None` when
    /// the item is not in the certification.
    async fn item_permissions(
        &self,
        certification_id: Id,
        item_id: Id,
    ) -> Result<Option<Vec<recert_domain::Permission>>, StoreError>;

    /// A certification's reviewer(s), by filter (`id`, `name`, `email`), sorters (`name`,
    /// `email`) and page.
    async fn certification_reviewers(
        &self,
        certification_id: Id,
        query: &ListQuery,
    ) -> Result<Page<ReviewerRef>, StoreError>;

    /// Moves the items `refs` name from an ACTIVE certification to `to`'s certification in the
    /// same campaign (created when `to` has none, with the reassignment recorded), all or
    /// nothing; moved items lose their decisions (the new reviewer decides), and both
    /// certifications' counters are recounted.
    async fn reassign_items(
        &self,
        certification_id: Id,
        refs: &[ReassignRef],
        to: Id,
        reason: &str,
        by: Id,
        now: Timestamp,
    ) -> Result<ReassignOutcome, StoreError>;

    /// Certification tasks by filter (`id`, `targetId`, `type`) and page, oldest first;
    /// `pending_only` keeps QUEUED and IN_PROGRESS ones; `reviewer` keeps the tasks about that
    /// reviewer's certifications.
    async fn certification_tasks(
        &self,
        reviewer: Option<Id>,
        pending_only: bool,
        query: &ListQuery,
    ) -> Result<Page<CertificationTask>, StoreError>;

    /// Stores a task (a `REASSIGN` task of the reviewer API) with the job that carries it out,
    /// in one transaction.
    async fn create_task(&self, task: &CertificationTask, job: &NewJob) -> Result<(), StoreError>;

    // ---- the Access Workflows dialect ----

    /// Campaign ids for the dialect's certification list, newest first after `after` (an id
    /// from an earlier page): only those of `template` when given (`Some(None)`: campaigns
    /// made without a template), only the started ones (ACTIVE, COMPLETING, COMPLETED,
    /// ARCHIVED) where `reviewer` reviews a row (owner or co-reviewer) when given, only those
    /// `creator` (an API client) created when given. At most `limit`, with the total when
    /// `count`.
    async fn awf_campaign_ids(
        &self,
        template: Option<Option<Id>>,
        reviewer: Option<Id>,
        creator: Option<Id>,
        after: Option<Id>,
        limit: u32,
        count: bool,
    ) -> Result<Page<Id>, StoreError>;

    /// What the dialect shows of campaigns beyond the campaign itself, for each of `ids` that
    /// exists (in no particular order).
    async fn awf_campaign_rows(
        &self,
        ids: &[Id],
    ) -> Result<Vec<recert_domain::awf::CampaignRows>, StoreError>;

    /// A campaign's result rows, in result id order, with their action logs.
    async fn awf_rows(
        &self,
        query: &recert_domain::awf::RowQuery,
    ) -> Result<Page<recert_domain::awf::Row>, StoreError>;

    /// Applies a checked change to one row, whole or not at all: reviewers (moving the item to
    /// the first reviewer's certification in the campaign, created if needed, when the owner
    /// changes), decision (`FIXED` also completes the row's remediation item; a decision that
    /// leaves REVOKE withdraws a remediation item not yet delivered, and is refused once its
    /// delivery started or it completed), notes, sign-off
    /// (the last row of a certification signed off signs it, and the last certification
    /// completes the campaign; an un-sign-off reopens an ACTIVE campaign's certification),
    /// notification status. Every change lands in the row's action log.
    async fn awf_apply(
        &self,
        change: &recert_domain::awf::RowChange,
    ) -> Result<recert_domain::awf::RowOutcome, StoreError>;

    /// Per reviewer (owner or co-reviewer) of a campaign, the counts of their rows; only
    /// `reviewer`'s when given.
    async fn awf_reviewer_stats(
        &self,
        campaign_id: Id,
        reviewer: Option<Id>,
    ) -> Result<Vec<recert_domain::awf::ReviewerStats>, StoreError>;

    /// ACTIVE campaigns whose deadline has passed, oldest deadline first (at most `limit`).
    async fn overdue_campaigns(&self, now: Timestamp, limit: u32) -> Result<Vec<Id>, StoreError>;

    /// Completes an ACTIVE campaign whose deadline has passed as EXPIRED, by the system:
    /// undecided rows are REVOKEd with `reject_note` when given (else left undecided), every
    /// row and certification is signed off, REVOKEs go to remediation. False (and nothing
    /// written) when the campaign is not ACTIVE or not overdue.
    async fn expire_campaign(
        &self,
        id: Id,
        reject_note: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    // ---- the web interface ----

    /// Sets an identity's local password hash (`None` removes it) and, when given, its roles;
    /// creates the web user on first use. False when there is no such identity.
    async fn set_web_user(
        &self,
        identity_id: Id,
        password_hash: Option<&str>,
        roles: Option<&[recert_domain::ClientRole]>,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    async fn web_user(
        &self,
        identity_id: Id,
    ) -> Result<Option<recert_domain::web::WebUser>, StoreError>;

    /// The active identity whose name or email is `login` (case ignored); `None` when there is
    /// none or several share it.
    async fn identity_by_login(&self, login: &str) -> Result<Option<Identity>, StoreError>;

    async fn create_web_session(
        &self,
        session: &recert_domain::web::WebSession,
    ) -> Result<(), StoreError>;

    /// The session of a token hash, if it has not expired at `now`.
    async fn web_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<recert_domain::web::WebSession>, StoreError>;

    /// Ends a session; also removes every session expired at `now`.
    async fn delete_web_session(&self, token_hash: &str, now: Timestamp) -> Result<(), StoreError>;

    // ---- remediation ----

    /// OPEN remediation items due for delivery (`next_attempt_at` has come), oldest first, with
    /// what a delivery carries.
    async fn due_remediations(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<(RemediationItem, RemediationDetails)>, StoreError>;

    /// Records how a delivery attempt of an OPEN item ended.
    async fn record_delivery(
        &self,
        id: Id,
        result: &DeliveryResult,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// The receiver reports back on an item (`COMPLETED` or `FAILED`, with an optional message
    /// and its own reference); `None` when there is no such item.
    async fn report_remediation(
        &self,
        id: Id,
        status: &str,
        message: Option<&str>,
        external_ref: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<RemediationItem>, StoreError>;

    async fn remediation_item(&self, id: Id) -> Result<Option<RemediationItem>, StoreError>;

    /// A campaign's remediation scan: opens an item for every REVOKE of a signed certification
    /// that lacks one, and reconciles its items with the current grants (gone: COMPLETED;
    /// still there: a completed one reopens). Returns how many items it opened or changed.
    async fn rescan_remediation(&self, campaign_id: Id, now: Timestamp) -> Result<u64, StoreError>;

    /// The completion time of the newest COMPLETED campaign generated from a template.
    async fn last_completed_generation(
        &self,
        template_id: Id,
    ) -> Result<Option<Timestamp>, StoreError>;

    // ---- settings ----

    async fn setting(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError>;

    async fn put_setting(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError>;

    // ---- reports ----

    /// Starts a run of a campaign's report, in one transaction: its row (one per campaign and
    /// type) becomes PENDING, keeping its id (`report_id` is used for a first run), its old
    /// chunks go, and `job` (which builds it) is enqueued. Returns the report's id, or `None`
    /// (and writes nothing) when there is no such campaign.
    async fn start_report(
        &self,
        campaign_id: Id,
        report_type: recert_domain::review::ReportType,
        report_id: Id,
        job: &NewJob,
        now: Timestamp,
    ) -> Result<Option<Id>, StoreError>;

    /// Builds a report in one transaction: runs its query, streams the rows as CSV
    /// ([`reports::CsvChunks`]) into chunks of about a megabyte (never holding them all), and
    /// marks it SUCCESS with its row count. `attributes` are the identity attribute columns.
    /// Returns the number of rows, or `None` when the report does not exist (its campaign was
    /// deleted). Safe to run again: it replaces what an earlier build wrote.
    async fn build_report(
        &self,
        campaign_id: Id,
        report_type: recert_domain::review::ReportType,
        attributes: &[String],
        now: Timestamp,
    ) -> Result<Option<u64>, StoreError>;

    /// Marks a PENDING report ERROR, with the reason.
    async fn fail_report(
        &self,
        campaign_id: Id,
        report_type: recert_domain::review::ReportType,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// A campaign's reports, one per type that has been run, by type.
    async fn campaign_reports(
        &self,
        campaign_id: Id,
    ) -> Result<Vec<recert_domain::review::CampaignReport>, StoreError>;

    async fn report(
        &self,
        id: Id,
    ) -> Result<Option<recert_domain::review::CampaignReport>, StoreError>;

    /// Chunk `seq` (from 0) of a report's CSV; `None` past the last one.
    async fn report_chunk(&self, id: Id, seq: u32) -> Result<Option<String>, StoreError>;
}
