//! The reviewer's use-cases: list and read certifications and their items, decide, reassign,
//! sign off, and follow certification tasks. Who may do what is decided here, for every call:
//! administrators (`ORG_ADMIN`, `CERT_ADMIN`) reach every certification, report administrators
//! read every one, and any client bound to an identity reaches the certifications that identity
//! reviews, and nothing else.

mod batch;
mod jobs;
mod permissions;
mod reach;

use std::sync::Arc;

use recert_domain::campaign::{self, CertificationPhase, Decision};
use recert_domain::certification::{
    AccessReviewItem, MAX_DECISIONS, MAX_REASSIGN, MAX_REASSIGN_ASYNC, ReassignKind,
    ReassignOutcome, ReassignRef, ReviewerRef,
};
use recert_domain::filter::Filter;
use recert_domain::review::{
    Certification, CertificationTask, DecideOutcome, DecisionWrite, SignOffOutcome, TaskStatus,
    TaskType,
};
use recert_domain::{Clock, Id, NewJob, Permission, Timestamp};
use recert_store::{ListQuery, Page, Store, StoreError};

use crate::auth::{AuthError, Principal, TokenClient, principal_of};

pub use jobs::{REVIEW_JOB_KINDS, ReviewJobs};
pub use permissions::{PERMISSION_FIELDS, check_permission_filter, filter_permissions};
use reach::{Reach, no_reach, read_reach, write_reach};

/// Why a reviewer API call was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The request is wrong, or the certification's state does not allow it; the text says
    /// which.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The caller may not see or change this.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why [`Certifications::get_for_token`] was refused: the caller did not authenticate, or the
/// read was refused as [`Certifications::get`] refuses it.
#[derive(Debug, thiserror::Error)]
pub enum TokenGetError {
    #[error(transparent)]
    Auth(AuthError),
    #[error(transparent)]
    Review(ReviewError),
}

/// One decision as the caller sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRequest {
    pub item_id: Id,
    pub decision: Decision,
    pub comments: Option<String>,
    pub proposed_end_date: Option<Timestamp>,
}

/// A reassignment as the caller sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReassignRequest {
    pub refs: Vec<ReassignRef>,
    pub to: Id,
    pub reason: String,
}

/// The most characters of a decision comment or reassignment reason.
pub const MAX_COMMENT: usize = 4000;

/// Which access the item list keeps (the `entitlements`, `access-profiles` and `roles`
/// parameters; one at most).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSelection {
    /// `ENTITLEMENT`, `ACCESS_PROFILE` or `ROLE`.
    pub access_type: &'static str,
    pub ids: Vec<Id>,
}

pub(crate) const REASSIGN_JOB: &str = "certification.reassign";

/// The reviewer use-cases over one store.
#[derive(Debug, Clone)]
pub struct Certifications {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Certifications {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Certifications { store, clock }
    }

    /// The job handlers of reviewer operations (asynchronous reassignment), for the runner.
    pub fn jobs(&self) -> Arc<ReviewJobs> {
        Arc::new(ReviewJobs::new(self.clone()))
    }

    /// Whom `reviewer-identity` names, for a caller: `None` is everyone (administrators only).
    fn reviewer_filter(
        &self,
        p: &Principal,
        reach: Reach,
        reviewer_identity: Option<&str>,
    ) -> Result<Option<Id>, ReviewError> {
        let asked = match reviewer_identity.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) if s.eq_ignore_ascii_case("me") => Some(p.identity_id.ok_or_else(|| {
                ReviewError::Invalid(
                    "reviewer-identity 'me' needs an API client bound to an identity; this one \
                     is not"
                        .into(),
                )
            })?),
            Some(s) => Some(Id::parse(s).map_err(|_| {
                ReviewError::Invalid(format!(
                    "reviewer-identity '{s}' is neither 'me' nor an id of 32 hexadecimal characters"
                ))
            })?),
        };
        match (reach, asked) {
            (Reach::All, asked) => Ok(asked),
            (Reach::Reviewer(me), None) => Ok(Some(me)),
            (Reach::Reviewer(me), Some(id)) if id == me => Ok(Some(me)),
            (Reach::Reviewer(_), Some(_)) => Err(ReviewError::Forbidden(
                "a reviewer lists only their own certifications and tasks".into(),
            )),
        }
    }

    /// The certifications the caller may see, by the list's filters, sorters and page.
    pub async fn list(
        &self,
        p: &Principal,
        reviewer_identity: Option<&str>,
        query: &ListQuery,
    ) -> Result<Page<Certification>, ReviewError> {
        let reach = read_reach(p).ok_or_else(no_reach)?;
        let reviewer = self.reviewer_filter(p, reach, reviewer_identity)?;
        Ok(self.store.certifications(reviewer, query).await?)
    }

    async fn load(&self, reach: Reach, id: Id) -> Result<Certification, ReviewError> {
        let c =
            self.store.certification(id).await?.ok_or_else(|| {
                ReviewError::NotFound(format!("certification {id} does not exist"))
            })?;
        reach.check(c, id)
    }

    /// One certification, to an administrator or its reviewer.
    pub async fn get(&self, p: &Principal, id: Id) -> Result<Certification, ReviewError> {
        self.load(read_reach(p).ok_or_else(no_reach)?, id).await
    }

    /// [`get`](Self::get) for a caller known so far by its verified token only: the client and
    /// the certification are read together, then the client is authenticated exactly as
    /// [`Auth::authenticate`](crate::auth::Auth::authenticate) does and the certification's
    /// visibility checked as `get` does. The same answers, one round trip fewer.
    pub async fn get_for_token(
        &self,
        client: TokenClient,
        id: Id,
    ) -> Result<(Principal, Certification), TokenGetError> {
        let (client, c) = self
            .store
            .client_and_certification(client.id(), id)
            .await
            .map_err(|e| TokenGetError::Review(e.into()))?;
        let p = principal_of(client).map_err(TokenGetError::Auth)?;
        let reach = read_reach(&p)
            .ok_or_else(no_reach)
            .map_err(TokenGetError::Review)?;
        let c = c
            .ok_or_else(|| ReviewError::NotFound(format!("certification {id} does not exist")))
            .and_then(|c| reach.check(c, id))
            .map_err(TokenGetError::Review)?;
        Ok((p, c))
    }

    /// A certification's review items.
    pub async fn items(
        &self,
        p: &Principal,
        id: Id,
        access: Option<&AccessSelection>,
        query: &ListQuery,
    ) -> Result<Page<AccessReviewItem>, ReviewError> {
        self.load(read_reach(p).ok_or_else(no_reach)?, id).await?;
        let access = access.map(|a| (a.access_type, a.ids.as_slice()));
        Ok(self.store.access_review_items(id, access, query).await?)
    }

    /// The permissions of an item's entitlement, filtered (`target`, `rights`) and paged.
    pub async fn permissions(
        &self,
        p: &Principal,
        certification_id: Id,
        item_id: Id,
        filter: Option<&Filter>,
        paging: &recert_domain::filter::Paging,
    ) -> Result<Page<Permission>, ReviewError> {
        self.load(read_reach(p).ok_or_else(no_reach)?, certification_id)
            .await?;
        let all = self
            .store
            .item_permissions(certification_id, item_id)
            .await?
            .ok_or_else(|| {
                ReviewError::NotFound(format!(
                    "item {item_id} is not in certification {certification_id}"
                ))
            })?;
        let kept = filter_permissions(all, filter);
        let total = paging.count.then_some(kept.len() as u64);
        let items = kept
            .into_iter()
            .skip(usize::try_from(paging.offset).unwrap_or(usize::MAX))
            .take(paging.limit as usize)
            .collect();
        Ok(Page { items, total })
    }

    /// A certification's reviewers.
    pub async fn reviewers(
        &self,
        p: &Principal,
        id: Id,
        query: &ListQuery,
    ) -> Result<Page<ReviewerRef>, ReviewError> {
        self.load(read_reach(p).ok_or_else(no_reach)?, id).await?;
        Ok(self.store.certification_reviewers(id, query).await?)
    }

    /// Loads a certification for a change, which only an ACTIVE one takes.
    async fn load_for_change(&self, p: &Principal, id: Id) -> Result<Certification, ReviewError> {
        let c = self.load(write_reach(p).ok_or_else(no_reach)?, id).await?;
        check_active(c.phase, id)?;
        Ok(c)
    }

    /// Decides 1 to 250 items, all or none; answers the certification as it is afterwards.
    pub async fn decide(
        &self,
        p: &Principal,
        id: Id,
        decisions: &[DecisionRequest],
    ) -> Result<Certification, ReviewError> {
        if decisions.is_empty() || decisions.len() > MAX_DECISIONS {
            return Err(ReviewError::Invalid(format!(
                "a decide call takes 1 to {MAX_DECISIONS} decisions; this one has {}",
                decisions.len()
            )));
        }
        let c = self.load_for_change(p, id).await?;
        let now = self.clock.now();
        let mut writes = Vec::with_capacity(decisions.len());
        for (n, d) in decisions.iter().enumerate() {
            if d.comments
                .as_ref()
                .is_some_and(|c| c.chars().count() > MAX_COMMENT)
            {
                return Err(ReviewError::Invalid(format!(
                    "decisions[{n}].comments is longer than {MAX_COMMENT} characters"
                )));
            }
            let input = campaign::DecisionInput {
                decision: d.decision,
                comments: d.comments.as_deref(),
                proposed_end_date: d.proposed_end_date,
            };
            campaign::check_decision(&input, c.campaign.mandatory_comment_requirement, now)
                .map_err(|r| {
                    ReviewError::Invalid(format!("decisions[{n}] (item {}): {r}", d.item_id))
                })?;
            writes.push(DecisionWrite {
                item_id: d.item_id,
                decision: d.decision,
                comments: d.comments.clone().filter(|c| !c.trim().is_empty()),
                proposed_end_date: d.proposed_end_date,
            });
        }
        let writes = batch::last_per_item(writes);
        let by = p.identity_id.unwrap_or(p.client_id);
        match self.store.decide(id, &writes, by, now).await? {
            DecideOutcome::Written => {}
            DecideOutcome::NoSuchCertification => {
                return Err(ReviewError::NotFound(format!(
                    "certification {id} does not exist"
                )));
            }
            DecideOutcome::NotActive(phase) => return Err(not_active(phase, id)),
            DecideOutcome::LockedItems(ids) => {
                return Err(ReviewError::Invalid(format!(
                    "{} signed off and locked: {}; no decision was saved",
                    if ids.len() == 1 {
                        "this item is"
                    } else {
                        "these items are"
                    },
                    list_ids(&ids)
                )));
            }
            DecideOutcome::ForeignItems(ids) => {
                return Err(ReviewError::Invalid(format!(
                    "{} not in certification {id}: {}; no decision was saved",
                    if ids.len() == 1 {
                        "this item is"
                    } else {
                        "these items are"
                    },
                    list_ids(&ids)
                )));
            }
        }
        self.reload(id).await
    }

    async fn reload(&self, id: Id) -> Result<Certification, ReviewError> {
        self.store
            .certification(id)
            .await?
            .ok_or_else(|| ReviewError::NotFound(format!("certification {id} does not exist")))
    }

    /// Checks a reassignment request's shape (`max` references at most, a reason).
    fn check_reassign(
        &self,
        c: &Certification,
        r: &ReassignRequest,
        max: usize,
    ) -> Result<(), ReviewError> {
        if r.refs.is_empty() || r.refs.len() > max {
            return Err(ReviewError::Invalid(format!(
                "reassign takes 1 to {max} references; this request has {}",
                r.refs.len()
            )));
        }
        if r.reason.trim().is_empty() {
            return Err(ReviewError::Invalid(
                "reason is required: say why the access is reassigned".into(),
            ));
        }
        if r.reason.chars().count() > MAX_COMMENT {
            return Err(ReviewError::Invalid(format!(
                "reason is longer than {MAX_COMMENT} characters"
            )));
        }
        if r.to == c.reviewer_id {
            return Err(ReviewError::Invalid(format!(
                "identity {} already reviews certification {}",
                r.to, c.id
            )));
        }
        Ok(())
    }

    /// Moves up to 50 items, identities' items or access items to another reviewer's
    /// certification in the same campaign; answers this certification as it is afterwards.
    pub async fn reassign(
        &self,
        p: &Principal,
        id: Id,
        r: &ReassignRequest,
    ) -> Result<Certification, ReviewError> {
        let c = self.load_for_change(p, id).await?;
        self.check_reassign(&c, r, MAX_REASSIGN)?;
        self.move_items(id, r, p.identity_id.unwrap_or(p.client_id))
            .await?;
        self.reload(id).await
    }

    async fn move_items(
        &self,
        id: Id,
        r: &ReassignRequest,
        by: Id,
    ) -> Result<(Id, u64), ReviewError> {
        let now = self.clock.now();
        match self
            .store
            .reassign_items(id, &r.refs, r.to, r.reason.trim(), by, now)
            .await?
        {
            ReassignOutcome::Moved {
                to_certification,
                items,
                ..
            } => Ok((to_certification, items)),
            ReassignOutcome::NoSuchCertification => Err(ReviewError::NotFound(format!(
                "certification {id} does not exist"
            ))),
            ReassignOutcome::NotActive(phase) => Err(not_active(phase, id)),
            ReassignOutcome::NoSuchReviewer => Err(ReviewError::Invalid(format!(
                "reassignTo {} is not an active identity and cannot review",
                r.to
            ))),
            ReassignOutcome::SameReviewer => Err(ReviewError::Invalid(format!(
                "identity {} already reviews certification {id}",
                r.to
            ))),
            ReassignOutcome::Unmatched(refs) => Err(ReviewError::Invalid(format!(
                "nothing in certification {id} matches {}; nothing was reassigned",
                refs.join(", ")
            ))),
            ReassignOutcome::SelfReview(ids) => Err(ReviewError::Invalid(format!(
                "identity {} would review their own access ({}); nobody reviews themselves, \
                 nothing was reassigned",
                r.to,
                list_ids(&ids)
            ))),
        }
    }

    /// Starts a reassignment of up to 500 references as a background task; answers the
    /// `REASSIGN` task, which ends `SUCCESS` or `ERROR` with the reason.
    pub async fn reassign_async(
        &self,
        p: &Principal,
        id: Id,
        r: &ReassignRequest,
    ) -> Result<CertificationTask, ReviewError> {
        let c = self.load_for_change(p, id).await?;
        self.check_reassign(&c, r, MAX_REASSIGN_ASYNC)?;
        let now = self.clock.now();
        let request = serde_json::json!({
            "reassign": r.refs.iter().map(|x| serde_json::json!({
                "id": x.id.to_string(), "type": x.kind.as_str()
            })).collect::<Vec<_>>(),
            "reassignTo": r.to.to_string(),
            "reason": r.reason,
        });
        let task = CertificationTask {
            id: Id::generate(),
            task_type: TaskType::Reassign,
            target_type: "CERTIFICATION",
            target_id: id,
            status: TaskStatus::Queued,
            errors: Vec::new(),
            trails: Vec::new(),
            request,
            requested_by: Some(p.client_id),
            created: now,
            updated: now,
        };
        let job = NewJob {
            id: Id::generate(),
            kind: REASSIGN_JOB.to_owned(),
            payload: serde_json::json!({"task": task.id.to_string()}),
            dedupe_key: None,
            max_attempts: 5,
            run_at: now,
        };
        self.store.create_task(&task, &job).await?;
        Ok(task)
    }

    /// Signs a fully decided certification off: it becomes read-only and its revocations go to
    /// remediation.
    pub async fn sign_off(&self, p: &Principal, id: Id) -> Result<Certification, ReviewError> {
        self.load(write_reach(p).ok_or_else(no_reach)?, id).await?;
        let by = p.identity_id.unwrap_or(p.client_id);
        match self.store.sign_off(id, by, self.clock.now()).await? {
            SignOffOutcome::Signed { .. } => self.reload(id).await,
            SignOffOutcome::NoSuchCertification => Err(ReviewError::NotFound(format!(
                "certification {id} does not exist"
            ))),
            SignOffOutcome::NotActive(phase) => Err(not_active(phase, id)),
            SignOffOutcome::Undecided(n) => Err(ReviewError::Invalid(format!(
                "certification {id} cannot be signed off: {n} {} undecided",
                if n == 1 { "item is" } else { "items are" }
            ))),
        }
    }

    /// Pending (`QUEUED`, `IN_PROGRESS`) certification tasks the caller may see.
    pub async fn pending_tasks(
        &self,
        p: &Principal,
        reviewer_identity: Option<&str>,
        query: &ListQuery,
    ) -> Result<Page<CertificationTask>, ReviewError> {
        let reach = read_reach(p).ok_or_else(no_reach)?;
        let reviewer = self.reviewer_filter(p, reach, reviewer_identity)?;
        Ok(self
            .store
            .certification_tasks(reviewer, true, query)
            .await?)
    }

    /// One task: to administrators, the client that asked for it, and the reviewer of the
    /// certification it is about.
    pub async fn task(&self, p: &Principal, id: Id) -> Result<CertificationTask, ReviewError> {
        let reach = read_reach(p).ok_or_else(no_reach)?;
        let t = self.store.certification_task(id).await?.ok_or_else(|| {
            ReviewError::NotFound(format!("certification task {id} does not exist"))
        })?;
        if reach == Reach::All || t.requested_by == Some(p.client_id) {
            return Ok(t);
        }
        if t.target_type == "CERTIFICATION"
            && let Some(c) = self.store.certification(t.target_id).await?
            && reach.covers(&c)
        {
            return Ok(t);
        }
        Err(ReviewError::Forbidden(format!(
            "certification task {id} is about another reviewer's certification"
        )))
    }
}

fn check_active(phase: CertificationPhase, id: Id) -> Result<(), ReviewError> {
    if phase == CertificationPhase::Active {
        Ok(())
    } else {
        Err(not_active(phase, id))
    }
}

fn not_active(phase: CertificationPhase, id: Id) -> ReviewError {
    ReviewError::Invalid(match phase {
        CertificationPhase::Signed => {
            format!("certification {id} is signed off; it is read-only")
        }
        _ => format!(
            "certification {id} is {phase}; decisions and reassignments wait until its campaign \
             is activated"
        ),
    })
}

fn list_ids(ids: &[Id]) -> String {
    const SHOWN: usize = 10;
    let mut s = ids
        .iter()
        .take(SHOWN)
        .map(Id::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        s.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    s
}

/// Parses a reassignment reference's type.
pub fn reassign_kind(s: &str) -> Result<ReassignKind, ReviewError> {
    ReassignKind::parse(s).ok_or_else(|| {
        ReviewError::Invalid(format!(
            "'{s}' is not a reassignment type: expected ITEM, IDENTITY_SUMMARY or TARGET_SUMMARY"
        ))
    })
}
