//! Cases about campaigns: generation for each type (reviewers, self-review routing, counters),
//! and the life of a campaign through activation, completion and deletion. They drive the
//! store through the core's campaign use-cases and run its jobs by hand.

use std::sync::Arc;

use recert_core::campaigns::{CampaignJobs, CampaignOptions, Campaigns, NewCampaign};
use recert_core::import;
use recert_core::jobs::JobHandler;
use recert_domain::campaign::{
    CampaignStatus, CampaignType, CertificationPhase, CommentRequirement, Decision,
};
use recert_domain::review::{Campaign, Certification, CorrelatedStatus, TaskStatus, TaskType};
use recert_domain::{ClientRole, Clock, Duration, Id, ManualClock};
use recert_store::Store;
use serde_json::json;

use crate::fixture::{id, small_org};
use crate::suite::clock;

pub(crate) fn admin() -> recert_core::auth::Principal {
    recert_core::auth::Principal {
        client_id: Id::generate(),
        name: "admin".into(),
        roles: vec![ClientRole::CertAdmin],
        identity_id: None,
    }
}

pub(crate) fn new_campaign(
    t: CampaignType,
    config: serde_json::Value,
    clock: &ManualClock,
) -> NewCampaign {
    NewCampaign {
        name: format!("{t} review"),
        description: Some("quarterly".into()),
        deadline: Some(clock.now().plus(Duration::days(14))),
        campaign_type: t,
        email_notification_enabled: false,
        auto_revoke_allowed: true,
        recommendations_enabled: false,
        sunset_comments_required: true,
        mandatory_comment_requirement: CommentRequirement::NoDecisions,
        correlated_status: CorrelatedStatus::Correlated,
        config,
        template_id: None,
    }
}

pub(crate) struct World {
    pub(crate) campaigns: Campaigns,
    pub(crate) jobs: Arc<CampaignJobs>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) store: Arc<dyn Store>,
}

pub(crate) async fn world<S: Store + Clone>(store: &S, fallback: Option<Id>) -> World {
    let clock = Arc::new(clock());
    import::import_dataset(store, clock.as_ref(), small_org(), "test")
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store.clone());
    let campaigns = Campaigns::new(
        store.clone(),
        clock.clone(),
        CampaignOptions {
            fallback_reviewer: fallback,
        },
    );
    World {
        jobs: campaigns.jobs(),
        campaigns,
        clock,
        store,
    }
}

impl World {
    /// Runs every due job once, in order, as a runner would.
    pub(crate) async fn run_jobs(&self) {
        let kinds: Vec<String> = recert_core::campaigns::JOB_KINDS
            .iter()
            .map(|k| k.to_string())
            .collect();
        loop {
            let now = self.clock.now();
            let Some(job) = crate::suite::claim(self.store.as_ref(), &self.clock, &kinds).await
            else {
                return;
            };
            let outcome = match self.jobs.run(&job).await {
                Ok(()) => recert_domain::JobOutcome::Succeeded,
                Err(e) => panic!("job {} failed: {e}", job.kind),
            };
            self.store
                .finish_job(job.id, "test", job.attempts, &outcome, now)
                .await
                .unwrap();
        }
    }

    pub(crate) async fn create(&self, t: CampaignType, config: serde_json::Value) -> Campaign {
        let p = admin();
        let k = self
            .campaigns
            .create(
                p.campaign_creator().unwrap(),
                new_campaign(t, config, &self.clock),
            )
            .await
            .unwrap();
        assert_eq!(k.status, CampaignStatus::Pending);
        self.run_jobs().await;
        self.store.campaign(k.id).await.unwrap().unwrap()
    }

    pub(crate) async fn certs(&self, k: &Campaign) -> Vec<Certification> {
        self.store.campaign_certifications(k.id).await.unwrap()
    }
}

/// (reviewer, items, identities) of each certification, by reviewer id.
fn shape(certs: &[Certification]) -> Vec<(Id, i64, i64)> {
    let mut v: Vec<_> = certs
        .iter()
        .map(|c| (c.reviewer_id, c.decisions_total, c.identities_total))
        .collect();
    v.sort();
    v
}

pub async fn campaign_manager_generation<S: Store + Clone>(store: &S) {
    let w = world(store, Some(id(1, 1))).await;
    let k = w.create(CampaignType::Manager, json!({})).await;
    assert_eq!(k.status, CampaignStatus::Staged, "{:?}", k.alerts);
    assert!(k.generated_at.is_some());
    let certs = w.certs(&k).await;
    // ada reviews bob (one grant); bob reviews cyd (four) and the inactive dave (one).
    assert_eq!(
        shape(&certs),
        vec![(id(1, 1), 1, 1), (id(1, 2), 5, 2)],
        "{certs:?}"
    );
    assert_eq!(k.total_certifications, 2);
    assert_eq!(k.completed_certifications, 0);
    for c in &certs {
        assert_eq!(c.phase, CertificationPhase::Staged);
        assert_eq!(c.decisions_made, 0);
        assert!(c.name.starts_with("MANAGER review - "), "{}", c.name);
        let items = w.store.certification_items(c.id).await.unwrap();
        assert_eq!(items.len() as i64, c.decisions_total);
        assert!(items.iter().all(|i| i.decision.is_none() && !i.new_access));
        assert!(
            items.iter().all(|i| i.subject_id != c.reviewer_id),
            "no self-review"
        );
    }
    // Ids ascend with the items, 32 hex: one prefix, then consecutive numbers given in
    // (subject, access type, access) order.
    let items = w.store.certification_items(certs[1].id).await.unwrap();
    assert!(items.windows(2).all(|p| p[0].id < p[1].id));
    let numbers: Vec<u64> = items
        .iter()
        .map(|i| u64::from_str_radix(&i.id.to_string()[16..], 16).unwrap())
        .collect();
    assert!(numbers.windows(2).all(|p| p[1] == p[0] + 1), "{numbers:?}");
    let keys: Vec<(String, String, String)> = items
        .iter()
        .map(|i| {
            let (s, a) = (i.subject_id.to_string(), i.access_id.to_string());
            (s, i.access_type.clone(), a)
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "items numbered in (subject, access) order");
}

/// Two workers running the same generation job at once (a lease that expired under a slow
/// generation): one generates, the other finds the campaign done; neither fails and nothing is
/// generated twice.
pub async fn campaign_generated_once_under_contention<S: Store + Clone>(store: &S) {
    let w = world(store, Some(id(1, 1))).await;
    let kinds = vec![recert_core::campaigns::JOB_KINDS[0].to_string()];
    for round in 0..4 {
        let p = admin();
        let k = w
            .campaigns
            .create(
                p.campaign_creator().unwrap(),
                new_campaign(CampaignType::Manager, json!({}), &w.clock),
            )
            .await
            .unwrap();
        let job = crate::suite::claim(w.store.as_ref(), &w.clock, &kinds)
            .await
            .expect("the generation job");
        assert_eq!(job.kind, kinds[0]);
        let (a, b) = tokio::join!(w.jobs.run(&job), w.jobs.run(&job));
        assert!(a.is_ok() && b.is_ok(), "round {round}: {a:?} {b:?}");
        let k = w.store.campaign(k.id).await.unwrap().unwrap();
        assert_eq!(k.status, CampaignStatus::Staged, "round {round}");
        assert_eq!(k.total_certifications, 2, "round {round}");
        assert_eq!(
            shape(&w.certs(&k).await),
            vec![(id(1, 1), 1, 1), (id(1, 2), 5, 2)],
            "round {round}"
        );
    }
}

pub async fn campaign_self_review_goes_up<S: Store + Clone>(store: &S) {
    let w = world(store, None).await;
    // cyd reviews cyd and bob: cyd's own access goes to cyd's manager, bob.
    let k = w
        .create(
            CampaignType::Search,
            json!({"searchCampaignInfo": {"type": "IDENTITY",
                "identityIds": [id(1, 3).to_string(), id(1, 2).to_string()],
                "reviewer": {"type": "IDENTITY", "id": id(1, 3).to_string()}}}),
        )
        .await;
    assert_eq!(k.status, CampaignStatus::Staged, "{:?}", k.alerts);
    assert_eq!(
        shape(&w.certs(&k).await),
        vec![(id(1, 2), 4, 1), (id(1, 3), 1, 1)]
    );
    // The creation task records the automatic reassignment.
    let task = find_task(&w, k.id, TaskType::CampaignCreate).await;
    assert_eq!(task.status, TaskStatus::Success);
    assert_eq!(task.trails.len(), 1);
    assert_eq!(task.trails[0].previous_owner, id(1, 3));
    assert_eq!(task.trails[0].new_owner, id(1, 2));
    assert_eq!(task.trails[0].reassignment_type, "AUTOMATIC_REASSIGNMENT");

    // A query over identity attributes and an access constraint.
    let k = w
        .create(
            CampaignType::Search,
            json!({"searchCampaignInfo": {"type": "ACCESS",
                "query": "attributes.department eq \"sales\" and active eq true",
                "accessConstraints": [{"type": "ENTITLEMENT", "operator": "SELECTED",
                    "ids": [id(4, 1).to_string()]}]}}),
        )
        .await;
    // bob's and cyd's Sales-Read, each reviewed by their manager.
    assert_eq!(
        shape(&w.certs(&k).await),
        vec![(id(1, 1), 1, 1), (id(1, 2), 1, 1)]
    );
}

async fn find_task(
    w: &World,
    campaign: Id,
    t: TaskType,
) -> recert_domain::review::CertificationTask {
    w.store
        .tasks_of(campaign)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.task_type == t)
        .expect("a task of that type")
}

pub async fn campaign_source_owner_and_roles<S: Store + Clone>(store: &S) {
    let w = world(store, Some(id(1, 1))).await;
    let k = w
        .create(
            CampaignType::SourceOwner,
            json!({"sourceOwnerCampaignInfo": {"sourceIds": [id(2, 1).to_string(), id(2, 2).to_string()]}}),
        )
        .await;
    // Directory (owner ada): bob and cyd's Sales-Read, cyd's profile, dave's Sales-Write;
    // Ledger has no owner: cyd's Ledger-Admin goes to the fallback reviewer, ada, too.
    assert_eq!(shape(&w.certs(&k).await), vec![(id(1, 1), 5, 3)]);

    let mut nc = new_campaign(
        CampaignType::SourceOwner,
        json!({"sourceOwnerCampaignInfo": {"sourceIds": [id(2, 2).to_string()]}}),
        &w.clock,
    );
    nc.correlated_status = CorrelatedStatus::Uncorrelated;
    let p = admin();
    let u = w
        .campaigns
        .create(p.campaign_creator().unwrap(), nc)
        .await
        .unwrap();
    w.run_jobs().await;
    let certs = w.store.campaign_certifications(u.id).await.unwrap();
    assert_eq!(shape(&certs), vec![(id(1, 1), 1, 1)]);
    let items = w.store.certification_items(certs[0].id).await.unwrap();
    assert_eq!(items[0].access_type, "ACCOUNT");
    assert_eq!(items[0].subject_id, id(3, 4));

    let k = w
        .create(
            CampaignType::RoleComposition,
            json!({"roleCompositionCampaignInfo": {"roleIds": [id(6, 1).to_string()]}}),
        )
        .await;
    // The role's owner, bob, reviews its access profile and its entitlement.
    let certs = w.certs(&k).await;
    assert_eq!(shape(&certs), vec![(id(1, 2), 2, 1)]);
    let items = w.store.certification_items(certs[0].id).await.unwrap();
    assert!(items.iter().all(|i| i.subject_id == id(6, 1)));
}

pub async fn campaign_life_activate_complete_delete<S: Store + Clone>(store: &S) {
    let w = world(store, Some(id(1, 1))).await;
    let k = w.create(CampaignType::Manager, json!({})).await;
    let p = admin();
    let who = p.campaign_creator().unwrap();
    // Completing a STAGED campaign is refused with the reason.
    let e = w
        .campaigns
        .complete(who, k.id, Decision::Approve)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("only an ACTIVE campaign"), "{e}");
    w.campaigns
        .activate(who, k.id, Some("-05:00"))
        .await
        .unwrap();
    assert_eq!(
        w.store.campaign(k.id).await.unwrap().unwrap().status,
        CampaignStatus::Activating
    );
    w.run_jobs().await;
    let active = w.store.campaign(k.id).await.unwrap().unwrap();
    assert_eq!(active.status, CampaignStatus::Active);
    // The deadline keeps its date for the caller: the end of that day at -05:00.
    assert!(
        active
            .deadline
            .unwrap()
            .to_string()
            .ends_with("T04:59:59.999Z"),
        "{:?}",
        active.deadline
    );
    for c in w.certs(&k).await {
        assert_eq!(c.phase, CertificationPhase::Active);
        assert_eq!(c.due, active.deadline);
    }
    // Not past due yet.
    let e = w
        .campaigns
        .complete(who, k.id, Decision::Revoke)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not past due"), "{e}");
    w.clock.advance(Duration::days(15));
    w.campaigns
        .complete(who, k.id, Decision::Revoke)
        .await
        .unwrap();
    w.run_jobs().await;
    let done = w.store.campaign(k.id).await.unwrap().unwrap();
    assert_eq!(done.status, CampaignStatus::Completed);
    assert_eq!(done.completed_certifications, 2);
    for c in w.certs(&k).await {
        assert_eq!(c.phase, CertificationPhase::Signed);
        assert_eq!(c.decisions_made, c.decisions_total);
        assert_eq!(c.identities_completed, c.identities_total);
        for i in w.store.certification_items(c.id).await.unwrap() {
            assert_eq!(i.decision, Some(Decision::Revoke));
        }
    }
    assert_eq!(w.store.remediation_items(k.id).await.unwrap().len(), 6);

    w.campaigns.delete(who, &[k.id]).await.unwrap();
    assert_eq!(
        w.store.campaign(k.id).await.unwrap().unwrap().status,
        CampaignStatus::Canceling
    );
    w.run_jobs().await;
    assert!(w.store.campaign(k.id).await.unwrap().is_none());
    assert!(
        w.store
            .campaign_certifications(k.id)
            .await
            .unwrap()
            .is_empty()
    );
    // Remediation outlives the campaign: the access still has to go.
    assert_eq!(w.store.remediation_items(k.id).await.unwrap().len(), 6);
}

pub async fn campaign_generation_failure_is_an_alert<S: Store + Clone>(store: &S) {
    let w = world(store, None).await;
    // Nobody reviews ada (no manager, no fallback): a warning, not a failure.
    let k = w.create(CampaignType::Manager, json!({})).await;
    assert_eq!(k.status, CampaignStatus::Staged);
    // bob has a manager (ada); ada herself has no access, so no subject is left out here.
    assert!(k.alerts.is_empty(), "{:?}", k.alerts);
    // A background failure shows on the campaign as status ERROR and an alert.
    w.store
        .fail_campaign(
            k.id,
            "generating the certifications failed: disk full",
            w.clock.now(),
        )
        .await
        .unwrap();
    let b = w.store.campaign(k.id).await.unwrap().unwrap();
    assert_eq!(b.status, CampaignStatus::Error);
    assert_eq!(b.alerts.len(), 1);
    assert!(b.alerts[0].text.contains("disk full"));
}

async fn of_template(w: &World, template: Id) -> Vec<Campaign> {
    let q = recert_store::ListQuery::default();
    let mut all = w.store.campaigns(&q).await.unwrap().items;
    all.retain(|k| k.template_id == Some(template));
    all
}

pub async fn campaign_templates_generate_and_schedule<S: Store + Clone>(store: &S) {
    use recert_core::campaigns::TemplateInput;
    use recert_domain::schedule::{Schedule, ScheduleType, Selector};
    let w = world(store, Some(id(1, 1))).await;
    let p = admin();
    let who = p.cert_admin().unwrap();
    let t = w
        .campaigns
        .create_template(
            who,
            TemplateInput {
                name: Some("Quarterly".into()),
                description: Some("every quarter".into()),
                deadline_duration: Some("P2W".into()),
                campaign: Some(json!({"name": "Manager review %Y-%m", "type": "MANAGER",
                    "description": "Started %d %B %Y", "autoRevokeAllowed": true})),
            },
        )
        .await
        .unwrap();
    let k = w.campaigns.generate_from_template(who, t.id).await.unwrap();
    assert_eq!(k.name, "Manager review 2026-01");
    assert_eq!(k.description.as_deref(), Some("Started 05 January 2026"));
    assert_eq!(k.deadline, Some(w.clock.now().plus(Duration::days(14))));
    assert_eq!(k.template_id, Some(t.id));
    w.run_jobs().await;
    // Nothing is new in the first campaign of a template.
    for c in w.certs(&k).await {
        let items = w.store.certification_items(c.id).await.unwrap();
        assert!(items.iter().all(|i| !i.new_access));
    }
    // Complete it; then a new grant arrives, and the next campaign marks only that one new.
    let admin_p = admin();
    let creator = admin_p.campaign_creator().unwrap();
    w.campaigns.activate(creator, k.id, None).await.unwrap();
    w.run_jobs().await;
    w.clock.advance(Duration::days(15));
    w.campaigns
        .complete(creator, k.id, Decision::Approve)
        .await
        .unwrap();
    w.run_jobs().await;
    w.clock.advance(Duration::days(1));
    let mut org = small_org();
    org.assignments.push(recert_domain::Assignment {
        identity_id: id(1, 2),
        access_type: recert_domain::AccessType::Entitlement,
        access_id: id(4, 2),
        account_id: Some(id(3, 1)),
    });
    import::import_dataset(w.store.as_ref(), w.clock.as_ref(), org, "test")
        .await
        .unwrap();
    let k2 = w.campaigns.generate_from_template(who, t.id).await.unwrap();
    w.run_jobs().await;
    let mut new = Vec::new();
    for c in w.certs(&k2).await {
        for i in w.store.certification_items(c.id).await.unwrap() {
            if i.new_access {
                new.push((i.subject_id, i.access_id));
            }
        }
    }
    assert_eq!(new, vec![(id(1, 2), id(4, 2))]);

    // A weekly schedule (Mondays at 9 UTC; 2026-01-05 is a Monday) fires once per occurrence,
    // even when two schedulers look at the same moment.
    let schedule = Schedule {
        kind: ScheduleType::Weekly,
        months: None,
        days: Some(Selector::list(["2"])),
        hours: Some(Selector::list(["9"])),
        expiration: None,
        time_zone_id: Some("UTC".into()),
    };
    w.campaigns
        .set_schedule(who, t.id, Some(schedule))
        .await
        .unwrap();
    let stored = w.store.template(t.id).await.unwrap().unwrap();
    let first = stored.next_run_at.expect("scheduled");
    assert!(first > w.clock.now());
    assert_eq!(
        w.campaigns.run_due_schedules().await.unwrap(),
        0,
        "not due yet"
    );
    w.clock.set(first.plus(Duration::minutes(1)));
    let other = Campaigns::new(
        w.store.clone(),
        w.clock.clone(),
        CampaignOptions {
            fallback_reviewer: Some(id(1, 1)),
        },
    );
    let (a, b) = tokio::join!(w.campaigns.run_due_schedules(), other.run_due_schedules());
    assert_eq!(a.unwrap() + b.unwrap(), 1, "one occurrence, fired once");
    let before = of_template(&w, t.id).await.len();
    w.run_jobs().await;
    let after = of_template(&w, t.id).await;
    assert_eq!(after.len(), before + 1);
    let next = w
        .store
        .template(t.id)
        .await
        .unwrap()
        .unwrap()
        .next_run_at
        .unwrap();
    assert_eq!(next, first.plus(Duration::days(7)));
    assert_eq!(w.campaigns.run_due_schedules().await.unwrap(), 0);
}
