//! The Access Workflows (Veza) dialect's use-cases over the one store: workflows (campaign
//! templates), certifications (campaigns), their result rows (review items) and the changes to
//! one row. Who may see and change what is decided here, for every call:
//!
//! - `admin` (`ORG_ADMIN`) and `access_reviews_admin` (`CERT_ADMIN`) reach every certification;
//!   `REPORT_ADMIN` reads every one; `operator` (`OPERATOR`) reaches the ones it created.
//! - A client bound to an identity reaches the rows that identity reviews (as the owner of the
//!   row's certification or as a co-reviewer) in certifications that have started.
//! - Anyone else gets 403.

mod paging;
pub mod rules;

use std::sync::Arc;

use recert_domain::awf::{
    CampaignRows, NewReviewers, NotificationStatus, ReviewerStats, Row, RowChange, RowDecision,
    RowOutcome, RowQuery, RowVersion, UserRef, item_of_result,
};
use recert_domain::campaign::CampaignStatus;
use recert_domain::filter::{FieldKind, FieldSpec, Filter, Op, Value};
use recert_domain::review::{Campaign, CampaignTemplate};
use recert_domain::{ClientRole, Clock, Duration, Id, Timestamp};
use recert_store::{ListQuery, Store, StoreError};

use crate::auth::{Auth, Principal};
pub use paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest, PageTokens, Position};
use rules::{Changes, Refusal, Role, State};

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

    /// Campaign templates as workflows: administrators, operators and report administrators.
    pub async fn workflows(
        &self,
        p: &Principal,
        page_size: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<Listed<CampaignTemplate>, AwfError> {
        if p.report_reader().is_none() {
            return Err(AwfError::Forbidden(
                "listing workflows takes the admin, access_reviews_admin or operator role".into(),
            ));
        }
        let q = paging::query_digest(&["workflows", &p.client_id.to_string()]);
        let req = self.page(&q, page_size, page_token)?;
        let offset = match req.position {
            Some(Position::Offset(n)) => n,
            _ => 0,
        };
        let query = ListQuery {
            filter: None,
            sorters: Vec::new(),
            paging: recert_domain::filter::Paging {
                limit: 250.min(req.size),
                offset,
                count: true,
            },
        };
        // Templates list in pages of at most 250 from the store; gather a dialect page.
        let mut values = Vec::new();
        let mut total;
        let mut query = query;
        loop {
            let page = self.store.templates(&query).await?;
            total = page.total.unwrap_or(0);
            let n = page.items.len() as u64;
            values.extend(page.items);
            query.paging.offset += n;
            if n == 0 || values.len() as u32 >= req.size {
                break;
            }
            query.paging.limit = 250.min(req.size - values.len() as u32);
        }
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

    /// Certifications (campaigns), newest first: all of them to administrators, an operator's
    /// own, and to a reviewer those (started) with rows assigned to them.
    pub async fn certifications(
        &self,
        p: &Principal,
        workflow_id: Option<&str>,
        page_size: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<Listed<AwfCertification>, AwfError> {
        let template = match workflow_id.map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(w) => match Id::parse(w) {
                Ok(id) => Some(Some(id)),
                // An unknown workflow has no certifications.
                Err(_) => {
                    return Ok(Listed {
                        values: Vec::new(),
                        next_page_token: String::new(),
                        total: 0,
                    });
                }
            },
        };
        let all = p.cert_admin().is_some() || p.has(ClientRole::ReportAdmin);
        let operator = !all && p.has(ClientRole::Operator);
        let reviewer = match (all || operator, p.identity_id) {
            (true, _) => None,
            (false, Some(me)) => Some(me),
            (false, None) => {
                return Err(AwfError::Forbidden(
                    "this API client has no reviewer identity and no admin role".into(),
                ));
            }
        };
        let q = paging::query_digest(&[
            "certifications",
            workflow_id.unwrap_or("\u{0}"),
            &p.client_id.to_string(),
        ]);
        let req = self.page(&q, page_size, page_token)?;
        let after = match &req.position {
            Some(Position::After(a)) => Some(Id::parse(a).map_err(|_| {
                AwfError::Invalid("page_token does not name a certification".into())
            })?),
            _ => None,
        };
        let creator = operator.then_some(p.client_id);
        let page = self
            .store
            .awf_campaign_ids(template, reviewer, creator, after, req.size + 1, true)
            .await?;
        let more = page.items.len() > req.size as usize;
        let mut campaigns = Vec::with_capacity(page.items.len());
        for id in page.items.iter().take(req.size as usize) {
            if let Some(c) = self.store.campaign(*id).await? {
                campaigns.push(c);
            }
        }
        let last = campaigns.last().map(|c| c.id);
        let values = self.with_rows(campaigns, reviewer).await?;
        let next = match (more, last) {
            (true, Some(last)) => {
                self.tokens()
                    .issue(&q, req.size, Position::After(last.to_string()))
            }
            _ => String::new(),
        };
        Ok(Listed {
            values,
            next_page_token: next,
            total: page.total.unwrap_or(0),
        })
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

    fn state(&self, c: &AwfCertification, now: Timestamp) -> State {
        match c.state() {
            "PENDING" | "DRAFT" => State::NotStarted,
            "IN_PROGRESS" => State::InProgress,
            _ => State::Closed {
                in_grace: rules::in_grace(c.campaign.completed_at, now, self.settings.grace_period),
            },
        }
    }

    /// Checks the reviewers of a request against the identities they name.
    async fn check_reviewers(
        &self,
        list: &[ReviewerInput],
        row: &Row,
    ) -> Result<NewReviewers, AwfError> {
        if list.is_empty() {
            return Err(AwfError::Invalid(
                "value.reviewers must name at least one reviewer".into(),
            ));
        }
        let mut owner = None;
        let mut co = Vec::new();
        let mut seen = Vec::new();
        for (i, r) in list.iter().enumerate() {
            let field = |f: &str| format!("value.reviewers[{i}].{f}");
            let need = |v: &Option<String>, f: &str| {
                v.clone()
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| AwfError::Invalid(format!("{} is required", field(f))))
            };
            let (user_type, id, name) = (
                need(&r.user_type, "user_type")?,
                need(&r.id, "id")?,
                need(&r.name, "name")?,
            );
            let email = r
                .email
                .clone()
                .ok_or_else(|| AwfError::Invalid(format!("{} is required", field("email"))))?;
            if user_type != self.settings.user_type {
                return Err(AwfError::Invalid(format!(
                    "{} must be '{}' (the configured workflows IdP user type); got '{user_type}'",
                    field("user_type"),
                    self.settings.user_type
                )));
            }
            let unknown =
                || AwfError::Invalid(format!("{} '{id}' is not a known identity", field("id")));
            let ident = Id::parse(&id).map_err(|_| unknown())?;
            let identity = self.store.identity(ident).await?.ok_or_else(unknown)?;
            let same_email =
                |known: Option<&str>| known.unwrap_or("").eq_ignore_ascii_case(email.trim());
            // A reviewer the row shows can be sent back as shown.
            let shown = row
                .reviewers
                .iter()
                .any(|u| u.id == id && same_email(u.email.as_deref()) && u.name == name);
            if !shown && !same_email(identity.email.as_deref()) {
                return Err(AwfError::Invalid(format!(
                    "{} '{email}' is not the email of identity {id}",
                    field("email")
                )));
            }
            if !shown && identity.display_name != name {
                return Err(AwfError::Invalid(format!(
                    "{} '{name}' is not the name of identity {id} (expected its display name \
                     exactly)",
                    field("name")
                )));
            }
            if ident == row.item.identity_id {
                return Err(AwfError::Invalid(format!(
                    "{} names {id}, whose access this row reviews; nobody reviews their own \
                     access",
                    field("id")
                )));
            }
            if seen.contains(&ident) {
                return Err(AwfError::Invalid(format!(
                    "{} repeats reviewer {id}",
                    field("id")
                )));
            }
            seen.push(ident);
            if owner.is_none() {
                owner = Some(ident);
            } else {
                co.push(UserRef {
                    id: ident.to_string(),
                    email: identity.email.clone(),
                    name: identity.display_name.clone(),
                });
            }
        }
        Ok(NewReviewers {
            owner: owner.unwrap_or(row.item.identity_id),
            co_reviewers: co,
            reason: String::new(),
        })
    }

    /// Update Certification Result (`force`: `results:force_update`).
    pub async fn update(
        &self,
        p: &Principal,
        id: &str,
        req: &UpdateRequest,
        force: bool,
    ) -> Result<(), AwfError> {
        let c = self.campaign(id).await?;
        let reach = self.reach_in(p, &c).await?;
        let decision = req
            .decision
            .as_deref()
            .map(|d| {
                RowDecision::parse(d).ok_or_else(|| {
                    AwfError::Invalid(format!(
                        "value.decision '{d}' is not one of NONE, ACCEPTED, REJECTED, FIXED \
                         (or RESULT_DECISION_...)"
                    ))
                })
            })
            .transpose()?;
        let signed = req
            .signed_off_state
            .as_deref()
            .map(|s| match s.trim().to_ascii_uppercase().as_str() {
                "SIGNED_OFF" => Ok(true),
                "NOT_SIGNED_OFF" => Ok(false),
                _ => Err(AwfError::Invalid(format!(
                    "value.signed_off_state '{s}' is not SIGNED_OFF or NOT_SIGNED_OFF"
                ))),
            })
            .transpose()?;
        let notification = match (&req.notification_status, force) {
            (Some(_), false) => {
                return Err(AwfError::Invalid(
                    "value.notification_status is taken by results:force_update only".into(),
                ));
            }
            (Some(s), true) => Some(NotificationStatus::parse(s).ok_or_else(|| {
                AwfError::Invalid(format!(
                    "value.notification_status '{s}' is not UNKNOWN, PENDING, SUCCEED or FAILED"
                ))
            })?),
            (None, _) => None,
        };
        if let Some(n) = &req.notes
            && n.chars().count() > crate::certifications::MAX_COMMENT
        {
            return Err(AwfError::Invalid(format!(
                "value.notes is longer than {} characters",
                crate::certifications::MAX_COMMENT
            )));
        }
        if decision.is_none()
            && req.notes.is_none()
            && signed.is_none()
            && req.reviewers.is_none()
            && notification.is_none()
        {
            return Err(AwfError::Invalid(
                "value needs result_id and at least one of decision, notes, signed_off_state, \
                 reviewers"
                    .into(),
            ));
        }
        let item = self.item_of(&c, req.result_id).await?;
        // A concurrent change between reading and writing the row is retried on fresh data.
        for _ in 0..3 {
            let row = self.load_row(&c, item, req.result_id).await?;
            let role = match reach {
                Reach::All(role) => role,
                Reach::ReadAll => Role::Other,
                Reach::Rows(me) if row.reviewed_by(me) => Role::Reviewer,
                Reach::Rows(_) => Role::Other,
            };
            if let Reach::Rows(_) = reach
                && role == Role::Other
            {
                return Err(AwfError::Forbidden(format!(
                    "result {} is assigned to another reviewer",
                    row.result_id
                )));
            }
            let reviewers = match &req.reviewers {
                Some(list) => {
                    let mut r = self.check_reviewers(list, &row).await?;
                    let current_owner = row.reviewers.first().map(|u| u.id.clone());
                    let current_co: Vec<&String> =
                        row.reviewers.iter().skip(1).map(|u| &u.id).collect();
                    let wanted_co: Vec<&String> = r.co_reviewers.iter().map(|u| &u.id).collect();
                    if current_owner == Some(r.owner.to_string()) && current_co == wanted_co {
                        None
                    } else {
                        r.reason =
                            format!("Reassigned through the Access Workflows API by {}", p.name);
                        Some(r)
                    }
                }
                None => None,
            };
            // A move to another owner clears the decision, note and sign-off first: the rest
            // of the body is compared with the row as it will be then.
            let moves = reviewers.as_ref().is_some_and(|r| {
                row.reviewers.first().map(|u| u.id.clone()) != Some(r.owner.to_string())
            });
            let (base_decision, base_note, base_signed) = if moves {
                (RowDecision::None, String::new(), false)
            } else {
                (
                    row.decision(),
                    row.item.comments.clone().unwrap_or_default(),
                    row.signed_off,
                )
            };
            let notes = req.notes.as_ref().map(|n| {
                let n = if n.trim().is_empty() { "" } else { n.as_str() };
                (n != base_note).then(|| (!n.is_empty()).then(|| n.to_owned()))
            });
            let changes = Changes {
                reviewers: reviewers.is_some(),
                decision: decision.filter(|d| *d != base_decision),
                notes: matches!(notes, Some(Some(_))),
                sign: signed.filter(|s| *s != base_signed),
                notification_status: notification.is_some_and(|n| n != row.notification_status),
            };
            let now = self.clock.now();
            let cert = AwfCertification {
                campaign: c.clone(),
                rows: CampaignRows {
                    campaign_id: c.id,
                    first_item_id: None,
                    completed_by: None,
                    expired: false,
                    rows: 0,
                    decided: 0,
                    reviewers: Vec::new(),
                },
            };
            rules::check(
                self.state(&cert, now),
                role,
                base_decision,
                row.signed_off,
                &changes,
                force,
            )
            .map_err(|r| match r {
                Refusal::Forbidden(m) => AwfError::Forbidden(m),
                Refusal::Precondition(m) => AwfError::Precondition(m),
            })?;
            if changes.reviewers && c.status != CampaignStatus::Active {
                return Err(AwfError::Precondition(
                    "reviewers change only while the certification is IN_PROGRESS".into(),
                ));
            }
            if changes.is_empty() {
                return Ok(());
            }
            let change = RowChange {
                campaign_id: c.id,
                item_id: item,
                expect: RowVersion {
                    certification_id: row.item.certification_id,
                    decision: row.decision(),
                    signed_off: row.signed_off,
                    updated_at: row.updated_at,
                },
                by: p.identity_id.unwrap_or(p.client_id),
                now,
                reviewers,
                decision: changes.decision,
                notes: notes.flatten(),
                signed_off: changes.sign,
                notification_status: notification.filter(|_| changes.notification_status),
            };
            match self.store.awf_apply(&change).await? {
                RowOutcome::Applied => return Ok(()),
                RowOutcome::CannotMove(m) => return Err(AwfError::Invalid(m)),
                RowOutcome::Refused(m) => return Err(AwfError::Precondition(m)),
                RowOutcome::Changed => continue,
            }
        }
        Err(AwfError::Precondition(format!(
            "result {} kept changing while this update was applied; read it again and retry",
            req.result_id
        )))
    }

    /// Expires the overdue certifications, when the server is configured to; returns how many.
    pub async fn expire_overdue(&self) -> Result<u64, StoreError> {
        if !self.settings.expire_overdue {
            return Ok(0);
        }
        let now = self.clock.now();
        let note = match self.settings.expiration_action {
            ExpirationAction::DoNothing => None,
            ExpirationAction::AutoRejectIncompleteResults => Some(EXPIRY_NOTE),
        };
        let mut n = 0;
        for id in self.store.overdue_campaigns(now, 100).await? {
            if self.store.expire_campaign(id, note, now).await? {
                tracing::info!(campaign = %id, "certification expired at its due date");
                n += 1;
            }
        }
        Ok(n)
    }
}
