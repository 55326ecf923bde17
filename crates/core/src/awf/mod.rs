//! The Access Workflows (Veza) dialect's use-cases over the one store: workflows (campaign
//! templates), certifications (campaigns), their result rows (review items) and the changes to
//! one row. Who may see and change what is decided here, for every call:
//!
//! - `admin` (`ORG_ADMIN`) and `access_reviews_admin` (`CERT_ADMIN`) reach every certification;
//!   `REPORT_ADMIN` reads every one; `operator` (`OPERATOR`) reaches the ones it created.
//! - A client bound to an identity reaches the rows that identity reviews (as the owner of the
//!   row's certification or as a co-reviewer) in certifications that have started.
//! - Anyone else gets 403.

mod listing;
mod paging;
pub mod rules;
mod update;

use std::sync::Arc;

use recert_domain::awf::{CampaignRows, ReviewerStats, Row, RowDecision, RowQuery, item_of_result};
use recert_domain::campaign::CampaignStatus;
use recert_domain::filter::{FieldKind, FieldSpec, Filter, Op, Value};
use recert_domain::review::Campaign;
use recert_domain::{ClientRole, Clock, Duration, Id};
use recert_store::{Store, StoreError};

use crate::auth::{Auth, Principal};
pub use paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest, PageTokens, Position};
use rules::Role;

/// Why a dialect call was refused; each maps to one of the dialect's error codes.
#[derive(Debug, thiserror::Error)]
pub enum AwfError {
    /// 400 `InvalidArgument`.
    #[error("{0}")]
    Invalid(String),
    /// 400 `FailedPrecondition`.
    #[error("{0}")]
    Precondition(String),
    /// 403 `PermissionDenied`.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `NotFound`.
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What undecided rows get when an overdue certification expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpirationAction {
    DoNothing,
    AutoRejectIncompleteResults,
}

impl ExpirationAction {
    pub fn parse(s: &str) -> Option<ExpirationAction> {
        match s.trim().to_ascii_uppercase().as_str() {
            "DO_NOTHING" => Some(ExpirationAction::DoNothing),
            "AUTO_REJECT_INCOMPLETE_RESULTS" => Some(ExpirationAction::AutoRejectIncompleteResults),
            _ => None,
        }
    }
}

/// The dialect's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AwfSettings {
    /// The `user_type` reviewers carry (the workflows IdP's).
    pub user_type: String,
    /// How long after completion admins may still change notes and mark rows FIXED.
    pub grace_period: Duration,
    /// Whether overdue certifications expire at their due date.
    pub expire_overdue: bool,
    pub expiration_action: ExpirationAction,
}

impl Default for AwfSettings {
    fn default() -> Self {
        AwfSettings {
            user_type: "CustomIDPUser".into(),
            grace_period: Duration::days(7),
            expire_overdue: false,
            expiration_action: ExpirationAction::DoNothing,
        }
    }
}

/// The note undecided rows get when an expiring certification rejects them.
pub const EXPIRY_NOTE: &str = "Rejected automatically: the review expired undecided";

/// A page of a listing, with what the envelope needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub values: Vec<T>,
    /// `""` on the last page.
    pub next_page_token: String,
    pub total: u64,
}

/// A campaign as a certification of the dialect.
#[derive(Debug, Clone, PartialEq)]
pub struct AwfCertification {
    pub campaign: Campaign,
    pub rows: CampaignRows,
}

impl AwfCertification {
    /// `PENDING`, `DRAFT`, `IN_PROGRESS`, `COMPLETED` or `EXPIRED`.
    pub fn state(&self) -> &'static str {
        match self.campaign.status {
            CampaignStatus::Pending => "PENDING",
            CampaignStatus::Staged | CampaignStatus::Activating | CampaignStatus::Error => "DRAFT",
            CampaignStatus::Active | CampaignStatus::Completing => "IN_PROGRESS",
            CampaignStatus::Completed | CampaignStatus::Archived if self.rows.expired => "EXPIRED",
            CampaignStatus::Completed | CampaignStatus::Archived => "COMPLETED",
            CampaignStatus::Canceling => "IN_PROGRESS",
        }
    }
}

/// One row change as the caller sent it (fields absent are `None`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpdateRequest {
    pub result_id: u64,
    pub decision: Option<String>,
    pub notes: Option<String>,
    pub signed_off_state: Option<String>,
    pub reviewers: Option<Vec<ReviewerInput>>,
    /// `:force_update` only.
    pub notification_status: Option<String>,
}

/// A WorkflowUser as sent: every field required.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReviewerInput {
    pub user_type: Option<String>,
    pub id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// The row filter's fields: `eq`, `ne`, `in`; names also `sw`.
const ROW_FIELDS: &[FieldSpec] = &[
    FieldSpec::new(
        "decision",
        &[Op::Eq, Op::Ne, Op::In],
        FieldKind::Enum(recert_store::awf::ROW_DECISIONS),
    ),
    FieldSpec::new(
        "signed_off_state",
        &[Op::Eq, Op::Ne, Op::In],
        FieldKind::Enum(recert_store::awf::SIGNED_OFF_STATES),
    ),
    FieldSpec::new(
        "source.name",
        &[Op::Eq, Op::Ne, Op::In, Op::Sw],
        FieldKind::String,
    ),
    FieldSpec::new("source.id", &[Op::Eq, Op::Ne, Op::In], FieldKind::Id),
    FieldSpec::new(
        "destination.name",
        &[Op::Eq, Op::Ne, Op::In, Op::Sw],
        FieldKind::String,
    ),
    FieldSpec::new(
        "destination.type",
        &[Op::Eq, Op::Ne, Op::In],
        FieldKind::Enum(recert_store::certifications::ITEM_TYPES),
    ),
    FieldSpec::new("reviewers.id", &[Op::Eq, Op::Ne, Op::In], FieldKind::Id),
];

/// Parses and checks a row filter; decisions may use the `RESULT_DECISION_` spelling.
pub fn parse_row_filter(s: &str) -> Result<Filter, AwfError> {
    let mut f = recert_domain::filter::parse(s).map_err(|e| AwfError::Invalid(e.0))?;
    shorten_decisions(&mut f);
    recert_domain::filter::validate(&f, ROW_FIELDS).map_err(|e| AwfError::Invalid(e.0))?;
    Ok(f)
}

fn shorten_decisions(f: &mut Filter) {
    match f {
        Filter::And(v) | Filter::Or(v) => v.iter_mut().for_each(shorten_decisions),
        Filter::Not(inner) => shorten_decisions(inner),
        Filter::Cond { field, values, .. } => {
            if field.eq_ignore_ascii_case("decision") {
                for v in values {
                    if let Value::String(s) = v
                        && let Some(d) = RowDecision::parse(s)
                    {
                        *s = d.as_str().to_owned();
                    }
                }
            }
        }
    }
}

/// A row's reviewers, each once (an owner who is also listed as a co-reviewer, after an
/// administrator moved the certification to them, shows once).
fn distinct_reviewers(r: &mut Row) {
    let mut seen = Vec::new();
    r.reviewers.retain(|u| {
        let new = !seen.contains(&u.id);
        seen.push(u.id.clone());
        new
    });
}

/// How far a caller reaches in one certification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Every row, changes allowed as `role`.
    All(Role),
    /// Every row, read only (`REPORT_ADMIN`).
    ReadAll,
    /// This identity's rows.
    Rows(Id),
}

/// The dialect's use-cases over one store.
#[derive(Debug, Clone)]
pub struct Awf {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    auth: Arc<Auth>,
    settings: AwfSettings,
}

impl Awf {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        auth: Arc<Auth>,
        settings: AwfSettings,
    ) -> Self {
        Awf {
            store,
            clock,
            auth,
            settings,
        }
    }

    pub fn settings(&self) -> &AwfSettings {
        &self.settings
    }

    fn tokens(&self) -> PageTokens {
        PageTokens::new(self.auth.derived_key("awf page tokens"))
    }

    fn page(
        &self,
        query: &str,
        size: Option<&str>,
        token: Option<&str>,
    ) -> Result<PageRequest, AwfError> {
        self.tokens()
            .request(query, size, token)
            .map_err(AwfError::Invalid)
    }

    fn reach(&self, p: &Principal, campaign: &Campaign) -> Option<Reach> {
        if p.has(ClientRole::OrgAdmin) {
            return Some(Reach::All(Role::Admin));
        }
        if p.has(ClientRole::CertAdmin) {
            return Some(Reach::All(Role::ReviewsAdmin));
        }
        if p.has(ClientRole::Operator) && campaign.created_by == Some(p.client_id) {
            return Some(Reach::All(Role::Operator));
        }
        if p.has(ClientRole::ReportAdmin) {
            return Some(Reach::ReadAll);
        }
        p.identity_id.map(Reach::Rows)
    }

    async fn campaign(&self, id: &str) -> Result<Campaign, AwfError> {
        let not_found = || AwfError::NotFound(format!("certification {id} does not exist"));
        let id = Id::parse(id).map_err(|_| not_found())?;
        self.store.campaign(id).await?.ok_or_else(not_found)
    }

    /// The caller's reach in a certification, refusing callers with no row there.
    async fn reach_in(&self, p: &Principal, c: &Campaign) -> Result<Reach, AwfError> {
        let refused = || {
            AwfError::Forbidden(format!(
                "certification {} has no rows assigned to you and you have no admin role on it",
                c.id
            ))
        };
        let reach = self.reach(p, c).ok_or_else(refused)?;
        if let Reach::Rows(me) = reach {
            let started = matches!(
                c.status,
                CampaignStatus::Active | CampaignStatus::Completing | CampaignStatus::Completed
            );
            if !started
                || self
                    .store
                    .awf_reviewer_stats(c.id, Some(me))
                    .await?
                    .is_empty()
            {
                return Err(refused());
            }
        }
        Ok(reach)
    }

    /// The campaigns with their row counts and reviewers; for a reviewer (`viewer`), counted
    /// over the rows they see, with themselves as the only reviewer shown.
    async fn with_rows(
        &self,
        campaigns: Vec<Campaign>,
        viewer: Option<Id>,
    ) -> Result<Vec<AwfCertification>, AwfError> {
        let ids: Vec<Id> = campaigns.iter().map(|c| c.id).collect();
        let mut rows = self.store.awf_campaign_rows(&ids).await?;
        let mut out = Vec::with_capacity(campaigns.len());
        for campaign in campaigns {
            let Some(i) = rows.iter().position(|r| r.campaign_id == campaign.id) else {
                continue;
            };
            let mut r = rows.swap_remove(i);
            if let Some(me) = viewer {
                let mine = self.store.awf_reviewer_stats(campaign.id, Some(me)).await?;
                r.rows = mine.iter().map(|s| s.total).sum();
                r.decided = mine.iter().map(|s| s.total - s.no_decision).sum();
                r.reviewers = mine.into_iter().map(|s| s.reviewer).collect();
            }
            out.push(AwfCertification { campaign, rows: r });
        }
        Ok(out)
    }

    /// One certification.
    pub async fn certification(
        &self,
        p: &Principal,
        id: &str,
    ) -> Result<AwfCertification, AwfError> {
        let c = self.campaign(id).await?;
        let viewer = match self.reach_in(p, &c).await? {
            Reach::Rows(me) => Some(me),
            _ => None,
        };
        self.with_rows(vec![c], viewer)
            .await?
            .pop()
            .ok_or_else(|| AwfError::NotFound(format!("certification {id} does not exist")))
    }

    /// A certification's rows the caller may see, by filter and page, in result id order.
    pub async fn rows(
        &self,
        p: &Principal,
        id: &str,
        filter: Option<&str>,
        page_size: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<Listed<Row>, AwfError> {
        let c = self.campaign(id).await?;
        let reach = self.reach_in(p, &c).await?;
        let filter_text = filter.map(str::trim).filter(|f| !f.is_empty());
        let filter = filter_text.map(parse_row_filter).transpose()?;
        let q = paging::query_digest(&[
            "rows",
            &c.id.to_string(),
            filter_text.unwrap_or(""),
            &p.client_id.to_string(),
        ]);
        let req = self.page(&q, page_size, page_token)?;
        let after = match &req.position {
            Some(Position::After(a)) => Some(
                Id::parse(a)
                    .map_err(|_| AwfError::Invalid("page_token does not name a row".into()))?,
            ),
            _ => None,
        };
        let viewer = match reach {
            Reach::Rows(me) => Some(me),
            _ => None,
        };
        // Unfiltered, the total is the campaign's (or the reviewer's) row count, kept with the
        // certifications: no count over the rows of a large campaign on every page.
        let known = match (&filter, viewer) {
            (Some(_), _) => None,
            (None, Some(me)) => Some(
                self.store
                    .awf_reviewer_stats(c.id, Some(me))
                    .await?
                    .iter()
                    .map(|s| s.total)
                    .sum(),
            ),
            (None, None) => Some(
                self.store
                    .awf_campaign_rows(&[c.id])
                    .await?
                    .first()
                    .map_or(0, |r| r.rows),
            ),
        };
        let page = self
            .store
            .awf_rows(&RowQuery {
                campaign_id: c.id,
                viewer,
                filter,
                item: None,
                after,
                limit: req.size + 1,
                count: known.is_none(),
            })
            .await?;
        let mut values = page.items;
        values.iter_mut().for_each(distinct_reviewers);
        let more = values.len() > req.size as usize;
        values.truncate(req.size as usize);
        let next = match (more, values.last()) {
            (true, Some(last)) => {
                self.tokens()
                    .issue(&q, req.size, Position::After(last.item.id.to_string()))
            }
            _ => String::new(),
        };
        Ok(Listed {
            values,
            next_page_token: next,
            total: known.or(page.total).unwrap_or(0),
        })
    }

    /// A result id as sent.
    fn result_number(result_id: &str) -> Result<u64, AwfError> {
        result_id.trim().parse().map_err(|_| {
            AwfError::Invalid(format!(
                "result_id must be a non-negative whole number; got '{result_id}'"
            ))
        })
    }

    async fn item_of(&self, c: &Campaign, n: u64) -> Result<Id, AwfError> {
        let not_found = || AwfError::NotFound(format!("certification {} has no result {n}", c.id));
        let rows = self.store.awf_campaign_rows(&[c.id]).await?;
        let first = rows
            .first()
            .and_then(|r| r.first_item_id)
            .ok_or_else(not_found)?;
        item_of_result(first, n).ok_or_else(not_found)
    }

    async fn load_row(&self, c: &Campaign, item: Id, n: u64) -> Result<Row, AwfError> {
        self.store
            .awf_rows(&RowQuery {
                campaign_id: c.id,
                viewer: None,
                filter: None,
                item: Some(item),
                after: None,
                limit: 1,
                count: false,
            })
            .await?
            .items
            .pop()
            .map(|mut r| {
                distinct_reviewers(&mut r);
                r
            })
            .ok_or_else(|| AwfError::NotFound(format!("certification {} has no result {n}", c.id)))
    }

    /// One row.
    pub async fn row(&self, p: &Principal, id: &str, result_id: &str) -> Result<Row, AwfError> {
        let c = self.campaign(id).await?;
        let reach = self.reach_in(p, &c).await?;
        let n = Self::result_number(result_id)?;
        let item = self.item_of(&c, n).await?;
        let row = self.load_row(&c, item, n).await?;
        if let Reach::Rows(me) = reach
            && !row.reviewed_by(me)
        {
            return Err(AwfError::Forbidden(format!(
                "result {} is assigned to another reviewer",
                row.result_id
            )));
        }
        Ok(row)
    }

    /// Per reviewer, the counts of their rows: every reviewer to administrators, the caller's
    /// own line to a reviewer.
    pub async fn reviewer_infos(
        &self,
        p: &Principal,
        id: &str,
        page_size: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<Listed<ReviewerStats>, AwfError> {
        let c = self.campaign(id).await?;
        let reach = self.reach_in(p, &c).await?;
        let q = paging::query_digest(&[
            "reviewer_infos",
            &c.id.to_string(),
            &p.client_id.to_string(),
        ]);
        let req = self.page(&q, page_size, page_token)?;
        let offset = match req.position {
            Some(Position::Offset(n)) => n,
            _ => 0,
        };
        let me = match reach {
            Reach::Rows(me) => Some(me),
            _ => None,
        };
        let all = self.store.awf_reviewer_stats(c.id, me).await?;
        let total = all.len() as u64;
        let values: Vec<ReviewerStats> = all
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(req.size as usize)
            .collect();
        let end = offset + values.len() as u64;
        let next = if end < total {
            self.tokens().issue(&q, req.size, Position::Offset(end))
        } else {
            String::new()
        };
        Ok(Listed {
            values,
            next_page_token: next,
            total,
        })
    }
}
