//! Cases about the Access Workflows rows: numbering, visibility and filters; changes with
//! their action log (including SailPoint's decisions and sign-offs and the system's
//! remediation), co-reviewers, the per-row sign-off that signs a certification, expiry.

use recert_domain::awf::{
    ActionKind, NewReviewers, Row, RowChange, RowDecision, RowOutcome, RowQuery, RowVersion,
    UserRef,
};
use recert_domain::campaign::{CampaignStatus, CertificationPhase, Decision};
use recert_domain::filter::parse;
use recert_domain::review::DecisionWrite;
use recert_domain::{Clock, Duration, Id};
use recert_store::Store;
use serde_json::json;

use crate::fixture::id;
use crate::suite_campaigns::{World, world};
use crate::suite_reviews::active_manager;

fn query(campaign: Id) -> RowQuery {
    RowQuery {
        campaign_id: campaign,
        viewer: None,
        filter: None,
        item: None,
        after: None,
        limit: 2000,
        count: true,
    }
}

async fn rows(w: &World, q: RowQuery) -> (Vec<Row>, u64) {
    let p = w.store.awf_rows(&q).await.unwrap();
    (p.items, p.total.unwrap_or(0))
}

async fn row(w: &World, campaign: Id, item: Id) -> Row {
    let q = RowQuery {
        item: Some(item),
        ..query(campaign)
    };
    rows(w, q).await.0.pop().unwrap()
}

fn change(r: &Row, by: Id, w: &World) -> RowChange {
    RowChange {
        campaign_id: r.campaign_id,
        item_id: r.item.id,
        expect: RowVersion {
            certification_id: r.item.certification_id,
            decision: r.decision(),
            signed_off: r.signed_off,
            updated_at: r.updated_at,
        },
        by,
        now: w.clock.now(),
        reviewers: None,
        decision: None,
        notes: None,
        signed_off: None,
        notification_status: None,
    }
}

fn person(n: u8, name: &str) -> UserRef {
    UserRef {
        id: id(1, n).to_string(),
        email: Some(format!("{name}@example.com")),
        name: name.replace('.', " "),
    }
}

pub async fn awf_rows_are_numbered_and_filtered<S: Store + Clone>(store: &S) {
    let w = world(store, None).await;
    let (k, _, _) = active_manager(&w).await;
    let (all, total) = rows(&w, query(k.id)).await;
    assert_eq!(total, 6);
    let numbers: Vec<u64> = all.iter().map(|r| r.result_id).collect();
    assert_eq!(numbers, vec![0, 1, 2, 3, 4, 5]);
    let bobs = rows(
        &w,
        RowQuery {
            viewer: Some(id(1, 2)),
            ..query(k.id)
        },
    )
    .await;
    assert_eq!(bobs.1, 5);
    assert!(
        bobs.0
            .iter()
            .all(|r| r.reviewers[0] == person(2, "bob.manager"))
    );
    let filtered = rows(
        &w,
        RowQuery {
            filter: Some(
                parse(&format!(
                    "source.id eq \"{}\" and decision eq \"NONE\"",
                    id(1, 3)
                ))
                .unwrap(),
            ),
            ..query(k.id)
        },
    )
    .await;
    assert_eq!(filtered.1, 4);
    let paged = rows(
        &w,
        RowQuery {
            after: Some(all[1].item.id),
            limit: 2,
            ..query(k.id)
        },
    )
    .await;
    assert_eq!(
        paged.0.iter().map(|r| r.result_id).collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(paged.1, 6, "the total ignores the page");
    let listed = w
        .store
        .awf_campaign_ids(Some(None), Some(id(1, 2)), None, None, 10, true)
        .await
        .unwrap();
    assert_eq!(listed.items, vec![k.id]);
    let none = w
        .store
        .awf_campaign_ids(None, Some(id(1, 3)), None, None, 10, true)
        .await
        .unwrap();
    assert_eq!(none.total, Some(0), "cyd reviews nothing");
    let info = w.store.awf_campaign_rows(&[k.id]).await.unwrap();
    assert_eq!(info[0].rows, 6);
    assert_eq!(info[0].first_item_id, Some(all[0].item.id));
    assert_eq!(info[0].reviewers.len(), 2);
}

pub async fn awf_changes_are_logged_and_sign_rows_off<S: Store + Clone>(store: &S) {
    let w = world(store, None).await;
    let (k, ada, bob) = active_manager(&w).await;
    let bob_id = id(1, 2);
    let mine = RowQuery {
        viewer: Some(bob_id),
        ..query(k.id)
    };
    let (bobs, _) = rows(&w, mine.clone()).await;

    // Decision and note at once; the log has both, by bob.
    let r0 = bobs[0].clone();
    let mut c = change(&r0, bob_id, &w);
    c.decision = Some(RowDecision::Accepted);
    c.notes = Some(Some("needed".into()));
    assert_eq!(w.store.awf_apply(&c).await.unwrap(), RowOutcome::Applied);
    assert_eq!(
        w.store.awf_apply(&c).await.unwrap(),
        RowOutcome::Changed,
        "the row moved on since the change was checked"
    );
    let r = row(&w, k.id, r0.item.id).await;
    assert_eq!(r.decision(), RowDecision::Accepted);
    assert_eq!(r.item.comments.as_deref(), Some("needed"));
    let kinds: Vec<ActionKind> = r.action_log.iter().map(|e| e.action).collect();
    assert_eq!(kinds, vec![ActionKind::Decision, ActionKind::Notes]);
    assert_eq!(
        r.action_log[0].actor,
        json!({"id": bob_id.to_string(), "email": "bob.manager@example.com", "name": "bob manager"})
    );
    assert_eq!(r.action_log[0].old_value, json!("NONE"));
    assert_eq!(r.action_log[0].new_value, json!("ACCEPTED"));
    assert_eq!(
        w.store
            .certification(bob.id)
            .await
            .unwrap()
            .unwrap()
            .decisions_made,
        1
    );

    // A SailPoint decision lands in the same log.
    let r1 = bobs[1].clone();
    w.store
        .decide(
            bob.id,
            &[DecisionWrite {
                item_id: r1.item.id,
                decision: Decision::Revoke,
                comments: Some("gone".into()),
                proposed_end_date: None,
            }],
            bob_id,
            w.clock.now(),
        )
        .await
        .unwrap();
    let r = row(&w, k.id, r1.item.id).await;
    assert_eq!(r.decision(), RowDecision::Rejected);
    assert_eq!(r.action_log[0].new_value, json!("REJECTED"));
    assert_eq!(r.action_log[1].action, ActionKind::Notes);

    // The dave row moves to ada, with cyd as co-reviewer.
    let dave = bobs
        .iter()
        .find(|r| r.item.identity_id == id(1, 4))
        .unwrap()
        .clone();
    let mut c = change(&dave, bob_id, &w);
    c.reviewers = Some(NewReviewers {
        owner: id(1, 1),
        co_reviewers: vec![person(3, "cyd.worker")],
        reason: "ada knows".into(),
    });
    assert_eq!(w.store.awf_apply(&c).await.unwrap(), RowOutcome::Applied);
    let moved = row(&w, k.id, dave.item.id).await;
    assert_eq!(moved.item.certification_id, ada.id);
    assert_eq!(
        moved.reviewers,
        vec![person(1, "ada.boss"), person(3, "cyd.worker")]
    );
    // One entry: the move to ada's certification with cyd beside her.
    let log = moved.action_log.last().unwrap();
    assert_eq!(log.action, ActionKind::Reviewers);
    assert_eq!(
        log.old_value,
        json!([{"id": bob_id.to_string(), "email": "bob.manager@example.com", "name": "bob manager"}])
    );
    assert_eq!(
        log.new_value,
        json!([
            {"id": id(1, 1).to_string(), "email": "ada.boss@example.com", "name": "ada boss"},
            {"id": id(1, 3).to_string(), "email": "cyd.worker@example.com", "name": "cyd worker"}
        ])
    );
    assert_eq!(
        moved
            .action_log
            .iter()
            .filter(|e| e.action == ActionKind::Reviewers)
            .count(),
        1
    );
    let cyds = rows(
        &w,
        RowQuery {
            viewer: Some(id(1, 3)),
            ..query(k.id)
        },
    )
    .await;
    assert_eq!(cyds.1, 1, "a co-reviewer sees the row");
    let stats = w
        .store
        .awf_reviewer_stats(k.id, Some(id(1, 3)))
        .await
        .unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].total, 1);

    // Bob signs his rows off one by one; the last signs his certification.
    let (bobs, n) = rows(&w, mine.clone()).await;
    assert_eq!(n, 4);
    for r in &bobs {
        let mut c = change(r, bob_id, &w);
        if r.decision() == RowDecision::None {
            c.decision = Some(RowDecision::Accepted);
        }
        c.signed_off = Some(true);
        assert_eq!(w.store.awf_apply(&c).await.unwrap(), RowOutcome::Applied);
    }
    let cert = w.store.certification(bob.id).await.unwrap().unwrap();
    assert_eq!(cert.phase, CertificationPhase::Signed);
    assert_eq!(cert.decisions_made, 4);

    // Un-signing a row reopens the certification; signing it again signs it again.
    let r = row(&w, k.id, r1.item.id).await;
    assert!(r.signed_off);
    let mut c = change(&r, id(1, 1), &w);
    c.signed_off = Some(false);
    assert_eq!(w.store.awf_apply(&c).await.unwrap(), RowOutcome::Applied);
    let r = row(&w, k.id, r1.item.id).await;
    assert!(!r.signed_off);
    assert_eq!(r.action_log.last().unwrap().action, ActionKind::ForceUpdate);
    assert_eq!(
        w.store.certification(bob.id).await.unwrap().unwrap().phase,
        CertificationPhase::Active
    );
    let mut c = change(&r, bob_id, &w);
    c.signed_off = Some(true);
    assert_eq!(w.store.awf_apply(&c).await.unwrap(), RowOutcome::Applied);

    // SailPoint's sign-off of ada's certification signs its rows and completes the campaign.
    let ada_rows = rows(
        &w,
        RowQuery {
            viewer: Some(id(1, 1)),
            ..query(k.id)
        },
    )
    .await
    .0;
    let writes: Vec<DecisionWrite> = ada_rows
        .iter()
        .map(|r| DecisionWrite {
            item_id: r.item.id,
            decision: Decision::Revoke,
            comments: None,
            proposed_end_date: None,
        })
        .collect();
    w.store
        .decide(ada.id, &writes, id(1, 1), w.clock.now())
        .await
        .unwrap();
    w.store
        .sign_off(ada.id, id(1, 1), w.clock.now())
        .await
        .unwrap();
    let (all, _) = rows(&w, query(k.id)).await;
    assert!(all.iter().all(|r| r.signed_off));
    let k2 = w.store.campaign(k.id).await.unwrap().unwrap();
    assert_eq!(k2.status, CampaignStatus::Completed);
    let info = w.store.awf_campaign_rows(&[k.id]).await.unwrap();
    assert_eq!(info[0].completed_by, Some(id(1, 1).to_string()));
    assert!(!info[0].expired);

    // Remediation done: the REVOKE row is FIXED, by the system.
    let remediation = crate::suite::items_only(w.store.remediation_items(k.id).await.unwrap());
    let first = remediation
        .iter()
        .find(|x| x.item_id == moved.item.id)
        .unwrap();
    w.store
        .report_remediation(first.id, "COMPLETED", None, None, w.clock.now())
        .await
        .unwrap();
    let fixed = row(&w, k.id, moved.item.id).await;
    assert_eq!(fixed.decision(), RowDecision::Fixed);
    let last = fixed.action_log.last().unwrap();
    assert_eq!(last.action, ActionKind::Remediation);
    assert_eq!(last.actor, json!({"name": "System"}));
    assert_eq!(last.new_value, json!("FIXED"));
}

pub async fn awf_overdue_campaigns_expire<S: Store + Clone>(store: &S) {
    let w = world(store, None).await;
    let (k, _, bob) = active_manager(&w).await;
    let (bobs, _) = rows(
        &w,
        RowQuery {
            viewer: Some(id(1, 2)),
            ..query(k.id)
        },
    )
    .await;
    let mut c = change(&bobs[0], id(1, 2), &w);
    c.decision = Some(RowDecision::Accepted);
    w.store.awf_apply(&c).await.unwrap();
    let now = w.clock.now();
    assert!(w.store.overdue_campaigns(now, 10).await.unwrap().is_empty());
    assert!(
        !w.store.expire_campaign(k.id, None, now).await.unwrap(),
        "not yet due"
    );
    let later = now.plus(Duration::days(30));
    assert_eq!(
        w.store.overdue_campaigns(later, 10).await.unwrap(),
        vec![k.id]
    );
    assert!(
        w.store
            .expire_campaign(k.id, Some("expired undecided"), later)
            .await
            .unwrap()
    );
    let info = w.store.awf_campaign_rows(&[k.id]).await.unwrap();
    assert!(info[0].expired);
    assert_eq!(info[0].completed_by.as_deref(), Some("System"));
    let (all, _) = rows(&w, query(k.id)).await;
    assert!(all.iter().all(|r| r.signed_off));
    let kept = all.iter().find(|r| r.item.id == bobs[0].item.id).unwrap();
    assert_eq!(kept.decision(), RowDecision::Accepted);
    let rejected = all.iter().find(|r| r.item.id == bobs[1].item.id).unwrap();
    assert_eq!(rejected.decision(), RowDecision::Rejected);
    assert_eq!(rejected.item.comments.as_deref(), Some("expired undecided"));
    assert_eq!(rejected.action_log[0].actor, json!({"name": "System"}));
    assert_eq!(
        w.store.certification(bob.id).await.unwrap().unwrap().phase,
        CertificationPhase::Signed
    );
    assert!(
        !w.store.expire_campaign(k.id, None, later).await.unwrap(),
        "once"
    );
}
