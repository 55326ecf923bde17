//! The PostgreSQL store, for when one machine is not enough: several stateless `recert serve`
//! processes share one database. Queries are checked at run time (no database is needed to
//! build); bulk writes use `COPY`, the fastest load path measured on the project's machine.

mod awf;
mod awf_apply;
mod batch;
mod campaigns;
mod closing;
mod connect;
mod copy;
mod decisions;
mod generate;
mod import;
mod jobs;
mod migrate;
mod params;
mod queries;
mod reassign;
mod remediation;
mod reports;
mod reviews;
mod scope_sql;
mod state;
mod templates;
pub mod testing;
mod web;

pub use connect::PostgresOptions;
pub use params::bind_params;

use async_trait::async_trait;
use recert_domain::awf::{CampaignRows, ReviewerStats, Row, RowChange, RowOutcome, RowQuery};
use recert_domain::campaign::{CampaignStatus, Decision};
use recert_domain::certification::{AccessReviewItem, ReassignOutcome, ReassignRef, ReviewerRef};
use recert_domain::review::{
    Campaign, CampaignSettings, CampaignTemplate, Certification, CertificationTask, DecideOutcome,
    DecisionWrite, DeliveryResult, Generation, GenerationReport, RemediationDetails,
    RemediationItem, ReviewItem, SignOffOutcome, TaskStatus,
};
use recert_domain::{
    ApiClient, AssignmentRecord, Id, Identity, Job, JobOutcome, NewJob, SigningKey, Timestamp,
};
use recert_store::{
    Counts, CurrentState, ImportPlan, ImportRun, ListQuery, Page, Store, StoreError,
};
use sqlx::postgres::PgPool;

/// A store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The reads every request makes (its API client, the certification it names), batched.
    clients: batch::PointReads<ApiClient>,
    certifications: batch::PointReads<Certification>,
    client_certifications: batch::PointReads<reviews::ClientAndCertification>,
    /// The connections of those reads (see `connect::point_read_pool`).
    reads: PgPool,
    analyze_after_items: u64,
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(ref d) => match d.code().as_deref() {
            // serialization_failure, deadlock_detected, unique_violation: a concurrent writer won
            Some("40001") | Some("40P01") | Some("23505") => StoreError::Conflict(d.to_string()),
            _ => StoreError::Database(e.to_string()),
        },
        other => StoreError::Database(other.to_string()),
    }
}

pub(crate) fn ts(t: Timestamp) -> time::OffsetDateTime {
    t.datetime()
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<Vec<String>, StoreError> {
        migrate::run(&self.pool).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db_err)
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        queries::counts(&self.pool).await
    }

    async fn current_state(&self, with_assignments: bool) -> Result<CurrentState, StoreError> {
        state::current_state(&self.pool, with_assignments).await
    }

    async fn apply_import(&self, plan: ImportPlan) -> Result<(), StoreError> {
        import::apply(&self.pool, &plan).await
    }

    async fn import_runs(&self, limit: u32) -> Result<Vec<ImportRun>, StoreError> {
        queries::import_runs(&self.pool, limit).await
    }

    async fn identity(&self, id: Id) -> Result<Option<Identity>, StoreError> {
        queries::identity(&self.pool, id).await
    }

    async fn assignment_history(
        &self,
        identity_id: Id,
    ) -> Result<Vec<AssignmentRecord>, StoreError> {
        queries::assignment_history(&self.pool, identity_id).await
    }

    async fn create_api_client(&self, client: &ApiClient) -> Result<(), StoreError> {
        queries::create_api_client(&self.pool, client).await
    }

    async fn api_client(&self, id: Id) -> Result<Option<ApiClient>, StoreError> {
        self.clients.get(id.to_string()).await
    }

    async fn api_clients(&self) -> Result<Vec<ApiClient>, StoreError> {
        queries::api_clients(&self.pool).await
    }

    async fn revoke_api_client(&self, id: Id, at: Timestamp) -> Result<bool, StoreError> {
        queries::revoke_api_client(&self.pool, id, at).await
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        queries::signing_keys(&self.pool).await
    }

    async fn ensure_signing_key(&self, candidate: &SigningKey) -> Result<SigningKey, StoreError> {
        queries::ensure_signing_key(&self.pool, candidate).await
    }

    async fn rotate_signing_key(&self, new: &SigningKey) -> Result<(), StoreError> {
        queries::rotate_signing_key(&self.pool, new).await
    }

    async fn enqueue_job(&self, job: &NewJob, at: Timestamp) -> Result<bool, StoreError> {
        jobs::enqueue(&self.pool, job, at).await
    }

    async fn claim_job(
        &self,
        owner: &str,
        kinds: &[String],
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Job>, StoreError> {
        jobs::claim(&self.pool, owner, kinds, now, lease_until).await
    }

    async fn extend_job_lease(
        &self,
        id: Id,
        owner: &str,
        attempt: u32,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        jobs::extend(&self.pool, id, owner, attempt, until).await
    }

    async fn finish_job(
        &self,
        id: Id,
        owner: &str,
        attempt: u32,
        outcome: &JobOutcome,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        jobs::finish(&self.pool, id, owner, attempt, outcome, now).await
    }

    async fn fail_abandoned_jobs(&self, now: Timestamp) -> Result<u64, StoreError> {
        jobs::fail_abandoned(&self.pool, now).await
    }

    async fn job(&self, id: Id) -> Result<Option<Job>, StoreError> {
        jobs::get(&self.pool, id).await
    }

    async fn create_campaign(
        &self,
        campaign: &Campaign,
        task: &CertificationTask,
        job: &NewJob,
    ) -> Result<(), StoreError> {
        campaigns::create(&self.pool, campaign, task, job).await
    }

    async fn campaign(&self, id: Id) -> Result<Option<Campaign>, StoreError> {
        campaigns::get(&self.pool, id).await
    }

    async fn campaigns(&self, query: &ListQuery) -> Result<Page<Campaign>, StoreError> {
        campaigns::list(&self.pool, query).await
    }

    async fn update_campaign_settings(
        &self,
        id: Id,
        expected: CampaignStatus,
        settings: &CampaignSettings,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        campaigns::update_settings(&self.pool, id, expected, settings, now).await
    }

    async fn start_campaign_operation(
        &self,
        id: Id,
        from: &[CampaignStatus],
        to: CampaignStatus,
        task: Option<&CertificationTask>,
        job: &NewJob,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        campaigns::start_operation(&self.pool, id, from, to, task, job, now).await
    }

    async fn generate_campaign(
        &self,
        generation: Generation,
    ) -> Result<Option<GenerationReport>, StoreError> {
        generate::generate(&self.pool, &generation, self.analyze_after_items).await
    }

    async fn activate_campaign(
        &self,
        id: Id,
        deadline: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        campaigns::activate(&self.pool, id, deadline, now).await
    }

    async fn complete_campaign(
        &self,
        id: Id,
        decision: Decision,
        now: Timestamp,
    ) -> Result<Option<u64>, StoreError> {
        closing::complete(&self.pool, id, decision, now).await
    }

    async fn delete_campaign(&self, id: Id) -> Result<(), StoreError> {
        campaigns::delete(&self.pool, id).await
    }

    async fn fail_campaign(&self, id: Id, message: &str, now: Timestamp) -> Result<(), StoreError> {
        campaigns::fail(&self.pool, id, message, now).await
    }

    async fn reassign_certifications(
        &self,
        campaign_id: Id,
        certification_ids: &[Id],
        to: Id,
        reason: &str,
        now: Timestamp,
    ) -> Result<Vec<String>, StoreError> {
        reassign::reassign_certifications(
            &self.pool,
            campaign_id,
            certification_ids,
            to,
            reason,
            now,
        )
        .await
    }

    async fn certification_task(&self, id: Id) -> Result<Option<CertificationTask>, StoreError> {
        campaigns::task(&self.pool, id).await
    }

    async fn tasks_of(&self, target_id: Id) -> Result<Vec<CertificationTask>, StoreError> {
        campaigns::tasks_of(&self.pool, target_id).await
    }

    async fn remediation_items(
        &self,
        campaign_id: Id,
    ) -> Result<Vec<(RemediationItem, RemediationDetails)>, StoreError> {
        remediation::of_campaign(&self.pool, campaign_id).await
    }

    async fn set_task_status(
        &self,
        id: Id,
        status: TaskStatus,
        errors: &[String],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        campaigns::set_task_status(&self.pool, id, status, errors, now).await
    }

    async fn campaign_certifications(
        &self,
        campaign_id: Id,
    ) -> Result<Vec<Certification>, StoreError> {
        campaigns::certifications(&self.pool, campaign_id).await
    }

    async fn certification_items(
        &self,
        certification_id: Id,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        campaigns::items(&self.pool, certification_id).await
    }

    async fn create_template(&self, template: &CampaignTemplate) -> Result<(), StoreError> {
        templates::create(&self.pool, template).await
    }

    async fn template(&self, id: Id) -> Result<Option<CampaignTemplate>, StoreError> {
        templates::get(&self.pool, id).await
    }

    async fn templates(&self, query: &ListQuery) -> Result<Page<CampaignTemplate>, StoreError> {
        templates::list(&self.pool, query).await
    }

    async fn update_template(&self, template: &CampaignTemplate) -> Result<bool, StoreError> {
        templates::update(&self.pool, template).await
    }

    async fn delete_template(&self, id: Id) -> Result<bool, StoreError> {
        templates::delete(&self.pool, id).await
    }

    async fn due_templates(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<CampaignTemplate>, StoreError> {
        templates::due(&self.pool, now, limit).await
    }

    async fn advance_schedule(
        &self,
        id: Id,
        expected: Timestamp,
        next: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        templates::advance(&self.pool, id, expected, next).await
    }

    async fn decide(
        &self,
        certification_id: Id,
        decisions: &[DecisionWrite],
        by: Id,
        now: Timestamp,
    ) -> Result<DecideOutcome, StoreError> {
        decisions::decide(&self.pool, certification_id, decisions, by, now).await
    }

    async fn sign_off(
        &self,
        certification_id: Id,
        by: Id,
        now: Timestamp,
    ) -> Result<SignOffOutcome, StoreError> {
        decisions::sign_off(&self.pool, certification_id, by, now).await
    }

    async fn certifications(
        &self,
        reviewer: Option<Id>,
        query: &ListQuery,
    ) -> Result<Page<Certification>, StoreError> {
        reviews::certifications(&self.pool, reviewer, query).await
    }

    async fn certification(&self, id: Id) -> Result<Option<Certification>, StoreError> {
        self.certifications.get(id.to_string()).await
    }

    async fn client_and_certification(
        &self,
        client: Id,
        certification: Id,
    ) -> Result<(Option<ApiClient>, Option<Certification>), StoreError> {
        let key = reviews::client_certification_key(client, certification);
        Ok(self
            .client_certifications
            .get(key)
            .await?
            .unwrap_or((None, None)))
    }

    async fn access_review_items(
        &self,
        certification_id: Id,
        access: Option<(&str, &[Id])>,
        query: &ListQuery,
    ) -> Result<Page<AccessReviewItem>, StoreError> {
        reviews::access_review_items(&self.pool, certification_id, access, query).await
    }

    async fn item_permissions(
        &self,
        certification_id: Id,
        item_id: Id,
    ) -> Result<Option<Vec<recert_domain::Permission>>, StoreError> {
        reviews::item_permissions(&self.pool, certification_id, item_id).await
    }

    async fn certification_reviewers(
        &self,
        certification_id: Id,
        query: &ListQuery,
    ) -> Result<Page<ReviewerRef>, StoreError> {
        reviews::certification_reviewers(&self.pool, certification_id, query).await
    }

    async fn reassign_items(
        &self,
        certification_id: Id,
        refs: &[ReassignRef],
        to: Id,
        reason: &str,
        by: Id,
        now: Timestamp,
    ) -> Result<ReassignOutcome, StoreError> {
        reassign::reassign_items(&self.pool, certification_id, refs, to, reason, by, now).await
    }

    async fn set_web_user(
        &self,
        identity_id: Id,
        password_hash: Option<&str>,
        roles: Option<&[recert_domain::ClientRole]>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        web::set_user(&self.pool, identity_id, password_hash, roles, now).await
    }

    async fn web_user(
        &self,
        identity_id: Id,
    ) -> Result<Option<recert_domain::web::WebUser>, StoreError> {
        web::user(&self.pool, identity_id).await
    }

    async fn identity_by_login(&self, login: &str) -> Result<Option<Identity>, StoreError> {
        web::identity_by_login(&self.pool, login).await
    }

    async fn create_web_session(
        &self,
        session: &recert_domain::web::WebSession,
    ) -> Result<(), StoreError> {
        web::create_session(&self.pool, session).await
    }

    async fn web_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<recert_domain::web::WebSession>, StoreError> {
        web::session(&self.pool, token_hash, now).await
    }

    async fn delete_web_session(&self, token_hash: &str, now: Timestamp) -> Result<(), StoreError> {
        web::delete_session(&self.pool, token_hash, now).await
    }

    async fn certification_tasks(
        &self,
        reviewer: Option<Id>,
        pending_only: bool,
        query: &ListQuery,
    ) -> Result<Page<CertificationTask>, StoreError> {
        reviews::certification_tasks(&self.pool, reviewer, pending_only, query).await
    }

    async fn create_task(&self, task: &CertificationTask, job: &NewJob) -> Result<(), StoreError> {
        reviews::create_task(&self.pool, task, job).await
    }

    async fn awf_campaign_ids(
        &self,
        template: Option<Option<Id>>,
        reviewer: Option<Id>,
        creator: Option<Id>,
        after: Option<Id>,
        limit: u32,
        count: bool,
    ) -> Result<Page<Id>, StoreError> {
        awf::campaign_ids(&self.pool, template, reviewer, creator, after, limit, count).await
    }

    async fn awf_campaign_rows(&self, ids: &[Id]) -> Result<Vec<CampaignRows>, StoreError> {
        awf::campaign_rows(&self.pool, ids).await
    }

    async fn awf_rows(&self, query: &RowQuery) -> Result<Page<Row>, StoreError> {
        awf::rows(&self.pool, query).await
    }

    async fn awf_apply(&self, change: &RowChange) -> Result<RowOutcome, StoreError> {
        awf_apply::apply(&self.pool, change).await
    }

    async fn awf_reviewer_stats(
        &self,
        campaign_id: Id,
        reviewer: Option<Id>,
    ) -> Result<Vec<ReviewerStats>, StoreError> {
        awf::reviewer_stats(&self.pool, campaign_id, reviewer).await
    }

    async fn overdue_campaigns(&self, now: Timestamp, limit: u32) -> Result<Vec<Id>, StoreError> {
        closing::overdue(&self.pool, now, limit).await
    }

    async fn expire_campaign(
        &self,
        id: Id,
        reject_note: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        closing::expire(&self.pool, id, reject_note, now).await
    }

    async fn due_remediations(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<(RemediationItem, RemediationDetails)>, StoreError> {
        remediation::due(&self.pool, now, limit).await
    }

    async fn record_delivery(
        &self,
        id: Id,
        result: &DeliveryResult,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        remediation::record(&self.pool, id, result, now).await
    }

    async fn report_remediation(
        &self,
        id: Id,
        status: &str,
        message: Option<&str>,
        external_ref: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<RemediationItem>, StoreError> {
        remediation::report(&self.pool, id, status, message, external_ref, now).await
    }

    async fn rescan_remediation(&self, campaign_id: Id, now: Timestamp) -> Result<u64, StoreError> {
        remediation::rescan(&self.pool, campaign_id, now).await
    }

    async fn remediation_item(&self, id: Id) -> Result<Option<RemediationItem>, StoreError> {
        remediation::get(&self.pool, id).await
    }

    async fn last_completed_generation(
        &self,
        template_id: Id,
    ) -> Result<Option<Timestamp>, StoreError> {
        templates::last_completed_generation(&self.pool, template_id).await
    }

    async fn setting(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        templates::setting(&self.pool, key).await
    }

    async fn put_setting(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        templates::put_setting(&self.pool, key, value).await
    }

    async fn start_report(
        &self,
        campaign_id: Id,
        report_type: recert_domain::review::ReportType,
        report_id: Id,
        job: &NewJob,
        now: Timestamp,
    ) -> Result<Option<Id>, StoreError> {
        reports::start(&self.pool, campaign_id, report_type, report_id, job, now).await
    }

    async fn build_report(
        &self,
        campaign_id: Id,
        report_type: recert_domain::review::ReportType,
        attributes: &[String],
        now: Timestamp,
    ) -> Result<Option<u64>, StoreError> {
        reports::build(&self.pool, campaign_id, report_type, attributes, now).await
    }

    async fn fail_report(
        &self,
        campaign_id: Id,
        report_type: recert_domain::review::ReportType,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        reports::fail(&self.pool, campaign_id, report_type, error, now).await
    }

    async fn campaign_reports(
        &self,
        campaign_id: Id,
    ) -> Result<Vec<recert_domain::review::CampaignReport>, StoreError> {
        reports::of_campaign(&self.pool, campaign_id).await
    }

    async fn report(
        &self,
        id: Id,
    ) -> Result<Option<recert_domain::review::CampaignReport>, StoreError> {
        reports::get(&self.pool, id).await
    }

    async fn report_chunk(&self, id: Id, seq: u32) -> Result<Option<String>, StoreError> {
        reports::chunk(&self.pool, id, seq).await
    }
}
