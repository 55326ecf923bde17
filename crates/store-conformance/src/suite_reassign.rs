//! Cases about what a reviewer starts: moving review items to another reviewer (each kind of
//! reference, each refusal, the counters of both certifications), and certification tasks.

use std::collections::BTreeSet;

use recert_domain::campaign::{CampaignType, CertificationPhase, Decision};
use recert_domain::certification::{
    AccessReviewItem, ReassignKind, ReassignOutcome, ReassignRef, ReassignedFrom,
};
use recert_domain::review::{Campaign, Certification, CertificationTask, TaskStatus, TaskType};
use recert_domain::{Clock, Duration, Id, NewJob};
use recert_store::{ListQuery, Store};
use serde_json::json;

use crate::fixture::id;
use crate::suite_campaigns::{World, admin, world};
use crate::suite_reviews::{active_manager, all, filtered, ids, items, query, write};

pub async fn reviews_tasks<S: Store + Clone>(store: &S) {
    let w = world(store, Some(id(1, 1))).await;
    let (k, ada, bob) = active_manager(&w).await;
    let task = |target: Id, status: TaskStatus| {
        w.clock.advance(Duration::minutes(1));
        let now = w.clock.now();
        let t = CertificationTask {
            id: Id::generate(),
            task_type: TaskType::Reassign,
            target_type: "CERTIFICATION",
            target_id: target,
            status,
            errors: vec![],
            trails: vec![],
            request: json!({"reassign": [{"id": id(4, 2).to_string(), "type": "ITEM"}]}),
            requested_by: Some(id(1, 2)),
            created: now,
            updated: now,
        };
        let job = NewJob {
            id: Id::generate(),
            kind: "certification.reassign".into(),
            payload: json!({"taskId": t.id.to_string()}),
            dedupe_key: Some(format!("reassign:{}", t.id)),
            max_attempts: 3,
            run_at: now,
        };
        (t, job)
    };
    let (t1, j1) = task(bob.id, TaskStatus::Queued);
    let (t2, j2) = task(ada.id, TaskStatus::InProgress);
    let (t3, j3) = task(bob.id, TaskStatus::Success);
    for (t, j) in [(&t1, &j1), (&t2, &j2), (&t3, &j3)] {
        w.store.create_task(t, j).await.unwrap();
    }
    // The task and its job are stored together.
    assert_eq!(
        w.store.certification_task(t1.id).await.unwrap(),
        Some(t1.clone())
    );
    let job = w.store.job(j1.id).await.unwrap().expect("the task's job");
    assert_eq!(
        (job.kind.as_str(), &job.payload),
        ("certification.reassign", &j1.payload)
    );
    assert_eq!(job.dedupe_key, j1.dedupe_key);

    let tasks = |reviewer: Option<Id>, pending: bool, q: ListQuery| {
        let store = w.store.clone();
        async move {
            store
                .certification_tasks(reviewer, pending, &q)
                .await
                .unwrap()
        }
    };
    let tid = |t: &CertificationTask| t.id;
    // Oldest first; the campaign's own tasks (creation, activation) come before.
    let page = tasks(None, false, all()).await;
    assert_eq!(page.total, Some(5));
    assert!(
        page.items
            .windows(2)
            .all(|p| (p[0].created, p[0].id) < (p[1].created, p[1].id))
    );
    assert_eq!(ids(&page.items[2..], tid), vec![t1.id, t2.id, t3.id]);
    assert_eq!(page.items[2], t1);
    assert!(
        page.items[..2]
            .iter()
            .all(|t| t.target_id == k.id && t.target_type == "CAMPAIGN")
    );
    // Pending only; a reviewer's certifications only.
    let page = tasks(None, true, all()).await;
    assert_eq!(
        (ids(&page.items, tid), page.total),
        (vec![t1.id, t2.id], Some(2))
    );
    let page = tasks(Some(id(1, 2)), false, all()).await;
    assert_eq!(
        (ids(&page.items, tid), page.total),
        (vec![t1.id, t3.id], Some(2))
    );
    let page = tasks(Some(id(1, 2)), true, all()).await;
    assert_eq!(ids(&page.items, tid), vec![t1.id]);
    let page = tasks(Some(id(1, 1)), false, all()).await;
    assert_eq!(ids(&page.items, tid), vec![t2.id]);
    let page = tasks(Some(id(1, 3)), false, all()).await;
    assert_eq!((page.items.len(), page.total), (0, Some(0)));
    // Each filter field.
    for (f, want) in [
        (format!(r#"id eq "{}""#, t2.id), vec![t2.id]),
        (format!(r#"targetId eq "{}""#, bob.id), vec![t1.id, t3.id]),
        (r#"type eq "reassign""#.into(), vec![t1.id, t2.id, t3.id]),
        (
            format!(r#"type eq "REASSIGN" and not (targetId eq "{}")"#, bob.id),
            vec![t2.id],
        ),
    ] {
        let page = tasks(None, false, filtered(&f)).await;
        assert_eq!(ids(&page.items, tid), want, "{f}");
    }
    let page = tasks(None, false, filtered(r#"type eq "ACTIVATE_CAMPAIGN""#)).await;
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].target_id, k.id);
    let page = tasks(
        Some(id(1, 2)),
        true,
        filtered(r#"type eq "CAMPAIGN_CREATE""#),
    )
    .await;
    assert!(page.items.is_empty());
    // Pages.
    let q = query(Some(r#"type eq "REASSIGN""#), &[], (1, 1));
    let page = tasks(None, false, q).await;
    assert_eq!((ids(&page.items, tid), page.total), (vec![t2.id], Some(3)));
    let q = query(Some(r#"type eq "REASSIGN""#), &[], (5, 3));
    assert!(tasks(None, false, q).await.items.is_empty());
}

/// A certification's counters against its items: totals, decisions, identities.
async fn assert_counters(w: &World, cert: Id) -> Certification {
    let c = w.store.certification(cert).await.unwrap().unwrap();
    let v = items(w, cert, &all()).await;
    let summaries: BTreeSet<Id> = v.iter().map(|i| i.summary_id).collect();
    let done = |s: &Id| {
        v.iter()
            .filter(|i| i.summary_id == *s)
            .all(|i| i.decision.is_some())
    };
    for i in &v {
        assert_eq!(i.identity_completed, done(&i.summary_id), "{}", i.id);
    }
    assert_eq!(
        (
            c.decisions_total,
            c.decisions_made,
            c.identities_total,
            c.identities_completed
        ),
        (
            v.len() as i64,
            v.iter().filter(|i| i.decision.is_some()).count() as i64,
            summaries.len() as i64,
            summaries.iter().filter(|s| done(s)).count() as i64,
        ),
        "counters of {}",
        c.name
    );
    c
}

/// Everything a reassignment could change, to show a refusal changed nothing.
async fn state(w: &World, k: Id) -> (Campaign, Vec<Certification>, Vec<Vec<AccessReviewItem>>) {
    let certs = w.store.campaign_certifications(k).await.unwrap();
    let mut all_items = Vec::new();
    for c in &certs {
        all_items.push(items(w, c.id, &all()).await);
    }
    (
        w.store.campaign(k).await.unwrap().unwrap(),
        certs,
        all_items,
    )
}

fn r(kind: ReassignKind, id: Id) -> ReassignRef {
    ReassignRef { id, kind }
}

pub async fn reviews_reassign_items<S: Store + Clone>(store: &S) {
    use ReassignKind::{IdentitySummary, Item, TargetSummary};
    let w = world(store, Some(id(1, 1))).await;
    let k = w.create(CampaignType::Manager, json!({})).await;
    let staged = w.certs(&k).await;
    let bob_staged = staged.iter().find(|c| c.reviewer_id == id(1, 2)).unwrap();
    let first = items(&w, bob_staged.id, &all()).await[0].id;
    let now = w.clock.now();
    let move_ = |cert: Id, refs: Vec<ReassignRef>, to: Id| {
        let store = w.store.clone();
        async move {
            store
                .reassign_items(cert, &refs, to, "on leave", crate::ACTOR, now)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        move_(bob_staged.id, vec![r(Item, first)], id(1, 3)).await,
        ReassignOutcome::NotActive(CertificationPhase::Staged)
    );
    let p = admin();
    w.campaigns
        .activate(p.campaign_creator().unwrap(), k.id, None)
        .await
        .unwrap();
    w.run_jobs().await;
    let certs = w.certs(&k).await;
    let of = |r: Id| certs.iter().find(|c| c.reviewer_id == r).unwrap().clone();
    let (ada, bob) = (of(id(1, 1)), of(id(1, 2)));
    let bob_items = items(&w, bob.id, &all()).await;
    let ada_items = items(&w, ada.id, &all()).await;
    let by_access = |a: Id| bob_items.iter().find(|i| i.access_id == a).unwrap().clone();
    let (sales_read, dave_item) = (by_access(id(4, 1)), by_access(id(4, 2)));
    // Decisions before the moves: each reviewer decides some.
    w.store
        .decide(
            bob.id,
            &[
                write(&dave_item, Decision::Approve),
                write(&sales_read, Decision::Revoke),
            ],
            id(1, 2),
            now,
        )
        .await
        .unwrap();
    w.store
        .decide(
            ada.id,
            &[write(&ada_items[0], Decision::Approve)],
            id(1, 1),
            now,
        )
        .await
        .unwrap();

    // Refusals, in the order they are checked; none changes anything.
    let before = state(&w, k.id).await;
    let refusals: Vec<(Id, Vec<ReassignRef>, Id, ReassignOutcome)> = vec![
        (
            Id::generate(),
            vec![r(Item, dave_item.id)],
            id(1, 3),
            ReassignOutcome::NoSuchCertification,
        ),
        // dave is inactive; the other is nobody.
        (
            bob.id,
            vec![r(Item, dave_item.id)],
            id(1, 4),
            ReassignOutcome::NoSuchReviewer,
        ),
        (
            bob.id,
            vec![r(Item, dave_item.id)],
            Id::generate(),
            ReassignOutcome::NoSuchReviewer,
        ),
        (
            bob.id,
            vec![r(Item, dave_item.id)],
            id(1, 2),
            ReassignOutcome::SameReviewer,
        ),
        (
            bob.id,
            vec![
                r(Item, dave_item.id),
                r(Item, ada_items[0].id),
                r(IdentitySummary, id(1, 1)),
                r(TargetSummary, id(9, 9)),
                r(IdentitySummary, ada_items[0].summary_id),
            ],
            id(1, 3),
            ReassignOutcome::Unmatched(vec![
                format!("ITEM {}", ada_items[0].id),
                format!("IDENTITY_SUMMARY {}", id(1, 1)),
                format!("TARGET_SUMMARY {}", id(9, 9)),
                format!("IDENTITY_SUMMARY {}", ada_items[0].summary_id),
            ]),
        ),
        // cyd's own access cannot go to cyd, even along with other items.
        (
            bob.id,
            vec![r(Item, dave_item.id), r(TargetSummary, id(6, 1))],
            id(1, 3),
            ReassignOutcome::SelfReview(vec![id(1, 3)]),
        ),
    ];
    for (cert, refs, to, want) in refusals {
        assert_eq!(move_(cert, refs, to).await, want);
        assert_eq!(state(&w, k.id).await, before, "{want:?} changed nothing");
    }

    // ITEM: dave's (decided) item goes to cyd, who has no certification: one is created.
    let ReassignOutcome::Moved {
        to_certification: cyd_cert,
        created: true,
        items: 1,
    } = move_(bob.id, vec![r(Item, dave_item.id)], id(1, 3)).await
    else {
        panic!("moved to a new certification")
    };
    let cyd = assert_counters(&w, cyd_cert).await;
    assert_eq!(
        (
            cyd.decisions_total,
            cyd.decisions_made,
            cyd.identities_total
        ),
        (1, 0, 1)
    );
    assert_eq!(cyd.name, bob.name.replace("bob manager", "cyd worker"));
    assert_eq!(
        (cyd.reviewer_id, cyd.reviewer_name.as_str()),
        (id(1, 3), "cyd worker")
    );
    assert_eq!(
        cyd.reviewer_email.as_deref(),
        Some("cyd.worker@example.com")
    );
    assert_eq!(
        (cyd.phase, cyd.due, cyd.campaign_id),
        (CertificationPhase::Active, bob.due, k.id)
    );
    assert_eq!(cyd.campaign, bob.campaign);
    assert_eq!(
        cyd.reassigned_from,
        Some(ReassignedFrom {
            certification_id: bob.id,
            certification_name: bob.name.clone(),
            reviewer_id: id(1, 2),
            reviewer_name: "bob manager".into(),
            reviewer_email: Some("bob.manager@example.com".into()),
            comment: Some("on leave".into()),
        })
    );
    let moved = items(&w, cyd_cert, &all()).await;
    assert_eq!(ids(&moved, |i| i.id), vec![dave_item.id]);
    let m = &moved[0];
    assert_eq!(
        (m.certification_id, m.identity_id, m.identity_name.as_str()),
        (cyd_cert, id(1, 4), "dave leaver")
    );
    assert_ne!(m.summary_id, dave_item.summary_id);
    assert!(m.decision.is_none() && m.comments.is_none() && m.proposed_end_date.is_none());
    assert!(!m.identity_completed);
    let bob_now = assert_counters(&w, bob.id).await;
    assert_eq!(
        (
            bob_now.decisions_total,
            bob_now.decisions_made,
            bob_now.identities_total
        ),
        (4, 1, 1)
    );
    assert_eq!(
        w.store
            .campaign(k.id)
            .await
            .unwrap()
            .unwrap()
            .total_certifications,
        3
    );
    assert!(
        w.certs(&k)
            .await
            .iter()
            .any(|c| c.id == cyd_cert && c.reassigned_from.is_some())
    );
    let page = w
        .store
        .certifications(Some(id(1, 3)), &all())
        .await
        .unwrap();
    assert_eq!(ids(&page.items, |c| c.id), vec![cyd_cert]);

    // TARGET_SUMMARY: cyd's Ledger-Admin goes to ada's existing certification.
    assert_eq!(
        move_(bob.id, vec![r(TargetSummary, id(4, 3))], id(1, 1)).await,
        ReassignOutcome::Moved {
            to_certification: ada.id,
            created: false,
            items: 1
        }
    );
    let a = assert_counters(&w, ada.id).await;
    assert_eq!(
        (
            a.decisions_total,
            a.decisions_made,
            a.identities_total,
            a.identities_completed
        ),
        (2, 1, 2, 1)
    );
    assert_eq!(
        a.reassigned_from, None,
        "an existing certification keeps its origin"
    );
    let b = assert_counters(&w, bob.id).await;
    assert_eq!(
        (b.decisions_total, b.decisions_made, b.identities_total),
        (3, 1, 1)
    );

    // IDENTITY_SUMMARY by the identity's id: the rest of cyd's items join the first one.
    assert_eq!(
        move_(
            bob.id,
            vec![r(IdentitySummary, id(1, 3)), r(Item, sales_read.id)],
            id(1, 1)
        )
        .await,
        ReassignOutcome::Moved {
            to_certification: ada.id,
            created: false,
            items: 3
        }
    );
    let a = assert_counters(&w, ada.id).await;
    assert_eq!(
        (
            a.decisions_total,
            a.decisions_made,
            a.identities_total,
            a.identities_completed
        ),
        (5, 1, 2, 1)
    );
    let cyd_items = items(
        &w,
        ada.id,
        &filtered(r#"identitySummary.name eq "cyd worker""#),
    )
    .await;
    assert_eq!(cyd_items.len(), 4);
    assert_eq!(
        cyd_items
            .iter()
            .map(|i| i.summary_id)
            .collect::<BTreeSet<_>>()
            .len(),
        1
    );
    assert!(
        cyd_items.iter().all(|i| i.decision.is_none()),
        "the revoke went with the move"
    );
    let b = assert_counters(&w, bob.id).await;
    assert_eq!(
        (
            b.decisions_total,
            b.decisions_made,
            b.identities_total,
            b.identities_completed
        ),
        (0, 0, 0, 0)
    );
    assert!(items(&w, bob.id, &all()).await.is_empty());

    // IDENTITY_SUMMARY by the summary's id, to cyd again: her certification is reused.
    let bob_summary = ada_items[0].summary_id;
    assert_eq!(
        move_(ada.id, vec![r(IdentitySummary, bob_summary)], id(1, 3)).await,
        ReassignOutcome::Moved {
            to_certification: cyd_cert,
            created: false,
            items: 1
        }
    );
    let c = assert_counters(&w, cyd_cert).await;
    assert_eq!(
        (
            c.decisions_total,
            c.decisions_made,
            c.identities_total,
            c.identities_completed
        ),
        (2, 0, 2, 0)
    );
    let a = assert_counters(&w, ada.id).await;
    assert_eq!(
        (
            a.decisions_total,
            a.decisions_made,
            a.identities_total,
            a.identities_completed
        ),
        (4, 0, 1, 0)
    );
    let k_now = w.store.campaign(k.id).await.unwrap().unwrap();
    assert_eq!(k_now.total_certifications, 3);
    let total: i64 = w.certs(&k).await.iter().map(|c| c.decisions_total).sum();
    assert_eq!(total, 6, "items are moved, never copied or lost");
    // cyd's own access stays away from her.
    assert_eq!(
        move_(ada.id, vec![r(IdentitySummary, id(1, 3))], id(1, 3)).await,
        ReassignOutcome::SelfReview(vec![id(1, 3)])
    );

    // A signed certification keeps its items; moved items can be decided by their new reviewer.
    let mine = items(&w, cyd_cert, &all()).await;
    let all_decided: Vec<_> = mine.iter().map(|i| write(i, Decision::Approve)).collect();
    w.store
        .decide(cyd_cert, &all_decided, id(1, 3), now)
        .await
        .unwrap();
    assert_eq!(assert_counters(&w, cyd_cert).await.identities_completed, 2);
    w.store.sign_off(cyd_cert, crate::ACTOR, now).await.unwrap();
    assert_eq!(
        move_(cyd_cert, vec![r(Item, mine[0].id)], id(1, 2)).await,
        ReassignOutcome::NotActive(CertificationPhase::Signed)
    );
}
