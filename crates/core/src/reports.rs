//! Campaign reports: running one (a durable job builds its CSV in the background), listing a
//! campaign's reports, reading a finished report's CSV chunk by chunk, and the configuration
//! of the identity attribute columns the reports add. Every operation takes the caller's facet:
//! reports are read and run with `report_reader` (an OPERATOR only on the campaigns it
//! created; another's campaign is not found, as with campaigns themselves), the configuration
//! is changed with `cert_admin`.

use std::sync::Arc;

use async_trait::async_trait;
use recert_domain::campaign::CampaignStatus;
use recert_domain::review::{
    Campaign, CampaignReport, ReportStatus, ReportType, check_report_columns,
};
use recert_domain::{Clock, Id, Job, NewJob};
use recert_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::auth::{CertAdmin, ReportReader};
use crate::jobs::{JobError, JobHandler};

/// The job that builds a report; its payload names the campaign and the report type.
pub const BUILD: &str = "report.build";

/// Every job kind [`ReportJobs`] runs.
pub const REPORT_JOB_KINDS: &[&str] = &[BUILD];

/// Where the reports configuration is kept (`Store::setting`).
pub const CONFIG_KEY: &str = "campaign_reports_config";

/// Why a report operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The request is wrong, or the campaign's state does not allow it; the text says which.
    #[error("{0}")]
    Invalid(String),
    /// No such campaign or report, or one the caller may not see.
    #[error("{0}")]
    NotFound(String),
    /// The report exists but has no file to give: it is being built, or its build failed.
    #[error("{0}")]
    NotReady(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The identity attributes every report that lists identities adds as columns, in this order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportsConfig {
    #[serde(default)]
    pub identity_attribute_columns: Vec<String>,
}

/// The report use-cases over one store.
#[derive(Debug, Clone)]
pub struct Reports {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Reports {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Reports { store, clock }
    }

    /// The job handler that builds reports, for the runner.
    pub fn jobs(&self) -> Arc<ReportJobs> {
        Arc::new(ReportJobs {
            reports: self.clone(),
        })
    }

    /// The campaign, if this caller may see it.
    async fn campaign(&self, who: &ReportReader<'_>, id: Id) -> Result<Campaign, ReportError> {
        match self.store.campaign(id).await? {
            Some(k) if who.may_read_all() || k.created_by.is_some_and(|c| who.may_read(c)) => Ok(k),
            _ => Err(ReportError::NotFound(format!(
                "campaign {id} does not exist"
            ))),
        }
    }

    /// Runs a report: it becomes PENDING at once (its previous file goes) and is built in the
    /// background. Returns the report's id, the same for every run of one type on one campaign.
    pub async fn run(
        &self,
        who: ReportReader<'_>,
        campaign_id: Id,
        report_type: ReportType,
    ) -> Result<Id, ReportError> {
        let k = self.campaign(&who, campaign_id).await?;
        match k.status {
            CampaignStatus::Pending => {
                return Err(ReportError::Invalid(
                    "the campaign is PENDING: its certifications are still being generated; run \
                     the report once it is STAGED"
                        .into(),
                ));
            }
            CampaignStatus::Canceling => {
                return Err(ReportError::Invalid(
                    "the campaign is CANCELING: it is being deleted".into(),
                ));
            }
            _ => {}
        }
        let now = self.clock.now();
        let job = NewJob {
            id: Id::generate(),
            kind: BUILD.to_owned(),
            payload: serde_json::json!({
                "campaignId": campaign_id.to_string(),
                "reportType": report_type.as_str(),
            }),
            dedupe_key: None,
            max_attempts: 5,
            run_at: now,
        };
        self.store
            .start_report(campaign_id, report_type, Id::generate(), &job, now)
            .await?
            .ok_or_else(|| ReportError::NotFound(format!("campaign {campaign_id} does not exist")))
    }

    /// A campaign's reports, one per type that has been run.
    pub async fn list(
        &self,
        who: ReportReader<'_>,
        campaign_id: Id,
    ) -> Result<Vec<CampaignReport>, ReportError> {
        self.campaign(&who, campaign_id).await?;
        let mut reports = self.store.campaign_reports(campaign_id).await?;
        reports.sort_by_key(|r| r.report_type);
        Ok(reports)
    }

    /// A finished report's CSV, to read chunk by chunk. A report still being built, or whose
    /// build failed, is [`ReportError::NotReady`].
    pub async fn file(
        &self,
        who: ReportReader<'_>,
        report_id: Id,
    ) -> Result<ReportFile, ReportError> {
        let not_found = || ReportError::NotFound(format!("report {report_id} does not exist"));
        let report = self.store.report(report_id).await?.ok_or_else(not_found)?;
        match self.campaign(&who, report.campaign_id).await {
            Ok(_) => {}
            Err(ReportError::NotFound(_)) => return Err(not_found()),
            Err(e) => return Err(e),
        }
        match report.status {
            ReportStatus::Success => Ok(ReportFile {
                store: self.store.clone(),
                report,
                next: 0,
                done: false,
            }),
            ReportStatus::Pending => Err(ReportError::NotReady(format!(
                "report {report_id} is still being built (status PENDING); download it once the \
                 campaign's reports show it as SUCCESS"
            ))),
            ReportStatus::Error => Err(ReportError::NotReady(format!(
                "report {report_id} failed ({}); run it again",
                report.error.as_deref().unwrap_or("no reason recorded")
            ))),
        }
    }

    /// The reports configuration (no attribute columns until one is set).
    pub async fn config(&self, _who: ReportReader<'_>) -> Result<ReportsConfig, ReportError> {
        Ok(self.load_config().await?)
    }

    /// Replaces the reports configuration; later runs use it.
    pub async fn set_config(
        &self,
        _who: CertAdmin<'_>,
        config: ReportsConfig,
    ) -> Result<ReportsConfig, ReportError> {
        check_report_columns(&config.identity_attribute_columns).map_err(ReportError::Invalid)?;
        let value =
            serde_json::to_value(&config).map_err(|e| StoreError::Database(e.to_string()))?;
        self.store.put_setting(CONFIG_KEY, &value).await?;
        Ok(config)
    }

    async fn load_config(&self) -> Result<ReportsConfig, StoreError> {
        match self.store.setting(CONFIG_KEY).await? {
            None => Ok(ReportsConfig::default()),
            Some(v) => serde_json::from_value(v).map_err(|e| StoreError::corrupt("settings", e)),
        }
    }
}

/// A finished report's CSV, read one chunk (about a megabyte) at a time.
#[derive(Debug)]
pub struct ReportFile {
    store: Arc<dyn Store>,
    report: CampaignReport,
    next: u32,
    done: bool,
}

impl ReportFile {
    pub fn report(&self) -> &CampaignReport {
        &self.report
    }

    /// `<report name>.csv`.
    pub fn file_name(&self) -> String {
        format!("{}.csv", self.report.report_type.title())
    }

    /// The next piece of the CSV, `None` after the last. Fails when the report was run again
    /// since the download began (its file is being replaced): a file is never cut short or
    /// mixed from two builds without an error.
    pub async fn next_chunk(&mut self) -> Result<Option<String>, ReportError> {
        if self.done {
            return Ok(None);
        }
        let id = self.report.id;
        let chunk = self.store.report_chunk(id, self.next).await?;
        // Checked after the read: a new run marks the report PENDING in the transaction that
        // removes its chunks, and a new build changes `last_run_at`; unchanged now means the
        // chunk just read belongs to the build the download started with.
        let unchanged = self.store.report(id).await?.is_some_and(|r| {
            r.status == ReportStatus::Success && r.last_run_at == self.report.last_run_at
        });
        if !unchanged {
            self.done = true;
            return Err(ReportError::NotReady(format!(
                "report {id} was run again during the download; download it again once it is \
                 ready"
            )));
        }
        match chunk {
            Some(c) => {
                self.next += 1;
                Ok(Some(c))
            }
            None if self.next == 0 => {
                self.done = true;
                Err(
                    StoreError::corrupt("report_chunks", format!("report {id} has no chunks"))
                        .into(),
                )
            }
            None => {
                self.done = true;
                Ok(None)
            }
        }
    }
}

/// Builds reports in the background. A build is one store transaction that replaces what an
/// earlier attempt wrote, so running it again is safe; the last failed attempt marks the report
/// ERROR with the reason.
#[derive(Debug)]
pub struct ReportJobs {
    reports: Reports,
}

fn payload(job: &Job) -> Result<(Id, ReportType), JobError> {
    let field = |name: &str| {
        job.payload
            .get(name)
            .and_then(|v| v.as_str())
            .ok_or_else(|| JobError::Permanent(format!("job {} has no {name}", job.id)))
    };
    let campaign = field("campaignId")?;
    let campaign = Id::parse(campaign).map_err(|_| {
        JobError::Permanent(format!(
            "job {}: campaignId '{campaign}' is not an id",
            job.id
        ))
    })?;
    let t = field("reportType")?
        .parse()
        .map_err(|e| JobError::Permanent(format!("job {}: {e}", job.id)))?;
    Ok((campaign, t))
}

impl ReportJobs {
    async fn build(&self, campaign: Id, t: ReportType) -> Result<(), JobError> {
        let retryable = |e: StoreError| JobError::Retryable(e.to_string());
        let config = self.reports.load_config().await.map_err(retryable)?;
        let columns = config.identity_attribute_columns;
        check_report_columns(&columns).map_err(JobError::Permanent)?;
        let now = self.reports.clock.now();
        match self
            .reports
            .store
            .build_report(campaign, t, &columns, now)
            .await
            .map_err(retryable)?
        {
            Some(rows) => {
                tracing::info!(campaign.id = %campaign, report.type = %t, rows, "report built")
            }
            None => tracing::info!(
                campaign.id = %campaign,
                report.type = %t,
                "the report is gone (its campaign was deleted); nothing to build"
            ),
        }
        Ok(())
    }
}

#[async_trait]
impl JobHandler for ReportJobs {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let (campaign, t) = payload(job)?;
        let result = self.build(campaign, t).await;
        if let Err(e) = &result {
            let last = matches!(e, JobError::Permanent(_)) || job.attempts >= job.max_attempts;
            if last {
                let store = &self.reports.store;
                let msg = format!("building the report failed: {e}");
                if let Err(se) = store
                    .fail_report(campaign, t, &msg, self.reports.clock.now())
                    .await
                {
                    tracing::error!(campaign.id = %campaign, error = %se, "could not record a failure");
                }
            }
        }
        result
    }
}
