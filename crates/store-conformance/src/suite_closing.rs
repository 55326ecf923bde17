//! Cases about what follows the decisions: sign-off completing the campaign, and remediation
//! of revoked access through deliveries and imports.

use recert_core::import;
use recert_domain::campaign::{CampaignStatus, CampaignType, Decision};
use recert_domain::review::Certification;
use recert_domain::{Clock, Duration, Id};
use recert_store::Store;
use serde_json::json;

use crate::fixture::{id, small_org};
use crate::suite_campaigns::{admin, world};

pub async fn campaign_completes_with_its_last_sign_off<S: Store + Clone>(store: &S) {
    use recert_domain::campaign::CertificationPhase as Phase;
    use recert_domain::review::{DecideOutcome, DecisionWrite, SignOffOutcome};
    let w = world(store, Some(id(1, 1))).await;
    let k = w.create(CampaignType::Manager, json!({})).await;
    let certs = w.certs(&k).await;
    let bob = certs
        .iter()
        .find(|c| c.reviewer_id == id(1, 2))
        .unwrap()
        .clone();
    let ada = certs
        .iter()
        .find(|c| c.reviewer_id == id(1, 1))
        .unwrap()
        .clone();
    let bob_items = w.store.certification_items(bob.id).await.unwrap();
    let ada_items = w.store.certification_items(ada.id).await.unwrap();
    let write = |i: &recert_domain::review::ReviewItem, d: Decision| DecisionWrite {
        item_id: i.id,
        decision: d,
        comments: Some("checked".into()),
        proposed_end_date: None,
    };
    let now = w.clock.now();
    // Nothing is decided before activation.
    assert_eq!(
        w.store
            .decide(
                bob.id,
                &[write(&bob_items[0], Decision::Approve)],
                id(1, 2),
                now
            )
            .await
            .unwrap(),
        DecideOutcome::NotActive(Phase::Staged)
    );
    let p = admin();
    w.campaigns
        .activate(p.campaign_creator().unwrap(), k.id, None)
        .await
        .unwrap();
    w.run_jobs().await;
    // A batch with an item of another certification writes nothing.
    let mixed = [
        write(&bob_items[0], Decision::Approve),
        write(&ada_items[0], Decision::Approve),
    ];
    assert_eq!(
        w.store.decide(bob.id, &mixed, id(1, 2), now).await.unwrap(),
        DecideOutcome::ForeignItems(vec![ada_items[0].id])
    );
    let c = |v: Vec<Certification>, x: Id| v.into_iter().find(|c| c.id == x).unwrap();
    assert_eq!(c(w.certs(&k).await, bob.id).decisions_made, 0);
    assert_eq!(
        w.store.sign_off(bob.id, crate::ACTOR, now).await.unwrap(),
        SignOffOutcome::Undecided(5)
    );
    // Decisions from two callers at once: progress stays exact; repeating changes nothing.
    let (first, rest) = bob_items.split_at(2);
    let a: Vec<_> = first.iter().map(|i| write(i, Decision::Approve)).collect();
    let b: Vec<_> = rest
        .iter()
        .enumerate()
        .map(|(n, i)| {
            write(
                i,
                if n == 0 {
                    Decision::Revoke
                } else {
                    Decision::Approve
                },
            )
        })
        .collect();
    let (ra, rb) = tokio::join!(
        w.store.decide(bob.id, &a, id(1, 2), now),
        w.store.decide(bob.id, &b, id(1, 2), now)
    );
    assert_eq!(
        (ra.unwrap(), rb.unwrap()),
        (DecideOutcome::Written, DecideOutcome::Written)
    );
    w.store.decide(bob.id, &a, id(1, 2), now).await.unwrap();
    let now_bob = c(w.certs(&k).await, bob.id);
    assert_eq!(now_bob.decisions_made, 5);
    assert_eq!(now_bob.identities_completed, 2);
    assert_eq!(
        w.store.sign_off(bob.id, crate::ACTOR, now).await.unwrap(),
        SignOffOutcome::Signed {
            campaign_completed: false
        }
    );
    assert_eq!(
        w.store.decide(bob.id, &a, id(1, 2), now).await.unwrap(),
        DecideOutcome::NotActive(Phase::Signed)
    );
    let mid = w.store.campaign(k.id).await.unwrap().unwrap();
    assert_eq!(
        (mid.status, mid.completed_certifications),
        (CampaignStatus::Active, 1)
    );
    assert_eq!(w.store.remediation_items(k.id).await.unwrap().len(), 1);
    // The last sign-off completes the campaign.
    let all: Vec<_> = ada_items
        .iter()
        .map(|i| write(i, Decision::Approve))
        .collect();
    w.store.decide(ada.id, &all, id(1, 1), now).await.unwrap();
    assert_eq!(
        w.store.sign_off(ada.id, crate::ACTOR, now).await.unwrap(),
        SignOffOutcome::Signed {
            campaign_completed: true
        }
    );
    let done = w.store.campaign(k.id).await.unwrap().unwrap();
    assert_eq!(done.status, CampaignStatus::Completed);
    assert_eq!(done.completed_certifications, 2);
    assert!(done.completed_at.is_some());
}

pub async fn remediation_follows_deliveries_and_imports<S: Store + Clone>(store: &S) {
    use recert_domain::review::DeliveryResult;
    let w = world(store, Some(id(1, 1))).await;
    let k = w.create(CampaignType::Manager, json!({})).await;
    let p = admin();
    let who = p.campaign_creator().unwrap();
    w.campaigns.activate(who, k.id, None).await.unwrap();
    w.run_jobs().await;
    w.clock.advance(Duration::days(15));
    w.campaigns
        .complete(who, k.id, Decision::Revoke)
        .await
        .unwrap();
    w.run_jobs().await;
    let listed = w.store.remediation_items(k.id).await.unwrap();
    // Listed with the snapshot's names, as a page shows them.
    let (_, d) = listed
        .iter()
        .find(|(i, _)| i.identity_id == id(1, 3) && i.access_id == id(4, 3))
        .unwrap();
    assert_eq!(d.identity_name.as_deref(), Some("cyd worker"));
    assert_eq!(d.access_name.as_deref(), Some("Ledger-Admin"));
    let items = crate::suite::items_only(listed);
    assert_eq!(items.len(), 6);
    assert!(items.iter().all(|i| i.status == "OPEN" && i.attempts == 0));

    // Due deliveries carry the snapshot's names.
    let now = w.clock.now();
    let due = w.store.due_remediations(now, 100).await.unwrap();
    assert_eq!(due.len(), 6);
    let (cyd_ledger, d) = due
        .iter()
        .find(|(i, _)| i.identity_id == id(1, 3) && i.access_id == id(4, 3))
        .unwrap();
    assert_eq!(d.access_name.as_deref(), Some("Ledger-Admin"));
    assert_eq!(d.source_name.as_deref(), Some("Ledger"));
    assert_eq!(d.identity_name.as_deref(), Some("cyd worker"));
    assert_eq!(d.native_identity.as_deref(), Some("cyd"));
    assert_eq!(d.reviewer_id, Some(id(1, 2)));
    assert_eq!(d.campaign_name.as_deref(), Some("MANAGER review"));

    // One delivered, one to retry later, one refused for good.
    let (a, b, c) = (due[0].0.id, due[1].0.id, due[2].0.id);
    w.store
        .record_delivery(a, &DeliveryResult::Delivered, now)
        .await
        .unwrap();
    w.store
        .record_delivery(
            b,
            &DeliveryResult::Retry {
                error: "HTTP 503".into(),
                next: now.plus(Duration::minutes(5)),
            },
            now,
        )
        .await
        .unwrap();
    w.store
        .record_delivery(
            c,
            &DeliveryResult::Rejected {
                error: "HTTP 404".into(),
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(w.store.due_remediations(now, 100).await.unwrap().len(), 3);
    let by_id = |v: &[recert_domain::review::RemediationItem], x: Id| {
        v.iter().find(|i| i.id == x).unwrap().clone()
    };
    let items = crate::suite::items_only(w.store.remediation_items(k.id).await.unwrap());
    assert_eq!(by_id(&items, a).status, "IN_PROGRESS");
    assert_eq!(by_id(&items, b).status, "OPEN");
    assert_eq!(by_id(&items, b).attempts, 1);
    assert_eq!(by_id(&items, b).last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(by_id(&items, c).status, "FAILED");
    assert_eq!(
        w.store
            .due_remediations(now.plus(Duration::minutes(6)), 100)
            .await
            .unwrap()
            .len(),
        4
    );
    // The receiver reports back.
    let done = w
        .store
        .report_remediation(a, "COMPLETED", None, Some("CHG-1"), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, "COMPLETED");
    assert!(
        w.store
            .report_remediation(Id::generate(), "FAILED", None, None, now)
            .await
            .unwrap()
            .is_none()
    );

    // An import without cyd's Ledger-Admin completes its remediation ...
    w.clock.advance(Duration::hours(1));
    let mut org = small_org();
    org.assignments
        .retain(|g| !(g.identity_id == id(1, 3) && g.access_id == id(4, 3)));
    import::import_dataset(w.store.as_ref(), w.clock.as_ref(), org, "test")
        .await
        .unwrap();
    let items = crate::suite::items_only(w.store.remediation_items(k.id).await.unwrap());
    let it = by_id(&items, cyd_ledger.id);
    assert_eq!(it.status, "COMPLETED");
    assert_eq!(it.completed, Some(w.clock.now()));
    // ... and one where it is back reopens it; the report-back completion of `a`, whose
    // access is still there, is reopened too: the import is the evidence.
    w.clock.advance(Duration::hours(1));
    import::import_dataset(w.store.as_ref(), w.clock.as_ref(), small_org(), "test")
        .await
        .unwrap();
    let items = crate::suite::items_only(w.store.remediation_items(k.id).await.unwrap());
    assert_eq!(by_id(&items, cyd_ledger.id).status, "OPEN");
    assert_eq!(by_id(&items, a).status, "OPEN");
    assert_eq!(
        by_id(&items, a).last_error.as_deref(),
        Some("the access is still present")
    );
}
