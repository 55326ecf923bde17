//! The Access Workflows rows on PostgreSQL, beyond the shared suite: the schema-7 migration of
//! a database holding reviews, the JSON the triggers write, the append-only log, and rows of
//! one campaign signed off concurrently.

use recert_domain::awf::{
    ActionKind, NewReviewers, Row, RowChange, RowDecision, RowOutcome, RowQuery, RowVersion,
    SYSTEM_ACTOR, UserRef,
};
use recert_domain::campaign::CampaignStatus;
use recert_domain::{Id, Timestamp};
use recert_store::Store;
use recert_store_conformance::ITEMS_BEFORE_KEYS;
use recert_store_postgres::PostgresStore;
use recert_store_postgres::testing::TestDatabase;
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

fn hex(kind: u32, n: u32) -> String {
    format!("{kind:08x}{:024x}", n)
}

fn id(kind: u32, n: u32) -> Id {
    Id::parse(&hex(kind, n)).unwrap()
}

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

const SUBJECTS: u32 = 6;
const ITEMS: u32 = 3;

/// An ACTIVE campaign (deadline 2026-03-31): reviewer 1 reviews SUBJECTS people of ITEMS
/// grants each (certification 1), reviewer 2 one grant of one more person (certification 2).
/// Item ids are generated ones: one prefix and a counter (subject * 100 + grant).
async fn setup(store: &PostgresStore) {
    let sql = format!(
        "INSERT INTO identities (id, name, display_name, email, active, attributes, created_at,
            updated_at)
            SELECT '{ip}' || lpad(to_hex(n), 24, '0'), 'p' || n, 'Person ' || n,
                'p' || n || '@example.com', TRUE, jsonb_build_object('dept', 'D' || n), now(),
                now()
            FROM generate_series(1, 100) n;
         INSERT INTO api_clients (id, name, secret_hash, roles, created_at)
         VALUES ('{client}', 'Robot', 'x', 'ORG_ADMIN', now());
         INSERT INTO campaigns (id, name, type, status, correlated_status,
            email_notification_enabled, auto_revoke_allowed, recommendations_enabled,
            sunset_comments_required, mandatory_comment_requirement, config,
            total_certifications, deadline, created_at, modified_at, generated_at)
         VALUES ('{k}', 'Q1', 'MANAGER', 'ACTIVE', 'CORRELATED', FALSE, FALSE, FALSE, FALSE,
            'NO_DECISIONS', '{{}}', 2, '2026-03-31T00:00:00Z', '2026-01-01T00:00:00Z',
            '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z');
         INSERT INTO certifications (id, campaign_id, name, reviewer_id, reviewer_name,
            reviewer_email, phase, due, decisions_total, identities_total, created_at,
            modified_at)
         VALUES ('{c1}', '{k}', 'Q1 - Person 1', '{r1}', 'Person 1', 'p1@example.com', 'ACTIVE',
                 now(), {n}, {s}, now(), now()),
                ('{c2}', '{k}', 'Q1 - Person 2', '{r2}', 'Person 2', 'p2@example.com', 'ACTIVE',
                 now(), 1, 1, now(), now());
         INSERT INTO certification_subjects (id, certification_id, subject_id, name, items_total)
            SELECT '{sp}' || lpad(to_hex(n), 24, '0'), CASE WHEN n = 99 THEN '{c2}' ELSE '{c1}' END,
                '{ip}' || lpad(to_hex(n), 24, '0'), 'Person ' || n,
                CASE WHEN n = 99 THEN 1 ELSE {ITEMS} END
            FROM (SELECT generate_series(10, 9 + {SUBJECTS}) UNION ALL SELECT 99) x (n);
         INSERT INTO campaign_identities (campaign_id, identity_id, name, display_name, email,
            active, attributes)
            SELECT '{k}', id, name, display_name, email, active, attributes FROM identities;
         INSERT INTO review_items (id, certification_id, campaign_id, summary_id, subject_id,
            access_type, access_id, new_access, subject_name)
            SELECT '{itp}' || lpad(to_hex(s * 100 + g), 16, '0'), c.certification_id, '{k}',
                c.id, c.subject_id, 'ENTITLEMENT', '{ap}' || lpad(to_hex(g), 24, '0'), FALSE,
                c.name
            FROM certification_subjects c, generate_series(10, 9 + {SUBJECTS}) s,
                generate_series(1, {ITEMS}) g
            WHERE c.subject_id = '{ip}' || lpad(to_hex(s), 24, '0')
            UNION ALL
            SELECT '{itp}' || lpad(to_hex(9901), 16, '0'), '{c2}', '{k}',
                '{sp}' || lpad(to_hex(99), 24, '0'), '{ip}' || lpad(to_hex(99), 24, '0'),
                'ENTITLEMENT', '{ap}' || lpad(to_hex(1), 24, '0'), FALSE, 'Person 99';
         UPDATE campaigns SET first_item_id = '{itp}' || lpad(to_hex(1001), 16, '0');",
        ip = &hex(1, 0)[..8],
        client = hex(7, 1),
        k = hex(2, 1),
        c1 = hex(3, 1),
        c2 = hex(3, 2),
        r1 = hex(1, 1),
        r2 = hex(1, 2),
        n = SUBJECTS * ITEMS,
        s = SUBJECTS,
        sp = &hex(4, 0)[..8],
        itp = "0000000500000000",
        ap = &hex(6, 0)[..8],
    );
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(store.pool())
        .await
        .unwrap();
}

fn campaign() -> Id {
    id(2, 1)
}

/// The item of result `n`... by its counter (subject * 100 + grant).
fn item(counter: u32) -> Id {
    Id::parse(&format!("0000000500000000{counter:016x}")).unwrap()
}

fn query(viewer: Option<Id>, item: Option<Id>) -> RowQuery {
    RowQuery {
        campaign_id: campaign(),
        viewer,
        filter: None,
        item,
        after: None,
        limit: 1000,
        count: true,
    }
}

async fn row(store: &PostgresStore, item: Id) -> Row {
    let page = store.awf_rows(&query(None, Some(item))).await.unwrap();
    assert_eq!(page.total, Some(1));
    page.items.into_iter().next().unwrap()
}

fn change(r: &Row, by: Id, now: &str) -> RowChange {
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
        now: at(now),
        reviewers: None,
        decision: None,
        notes: None,
        signed_off: None,
        notification_status: None,
    }
}

fn person(n: u32) -> serde_json::Value {
    json!({"id": hex(1, n), "email": format!("p{n}@example.com"), "name": format!("Person {n}")})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_log_their_changes_as_json() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = db.store().await;
    setup(&store).await;
    let first = item(1001);

    let page = store.awf_rows(&query(None, None)).await.unwrap();
    assert_eq!(page.total, Some(u64::from(SUBJECTS * ITEMS + 1)));
    assert_eq!(page.items[0].result_id, 0);
    assert_eq!(page.items[0].item.id, first);
    assert_eq!(page.items[1].result_id, 1);
    assert_eq!(
        page.items[0].subject_attributes,
        json!({"dept": "D10"}),
        "the campaign's snapshot of the person"
    );
    assert_eq!(page.items[0].updated_at, at("2026-01-02T00:00:00.000Z"));
    // Reviewer 2 sees its one row.
    let mine = store.awf_rows(&query(Some(id(1, 2)), None)).await.unwrap();
    assert_eq!(mine.total, Some(1));
    assert_eq!(mine.items[0].item.id, item(9901));

    // Decide, note and sign off at once (by an identity); then FIXED by an API client.
    let r = row(&store, first).await;
    let mut c = change(&r, id(1, 1), "2026-02-01T10:00:00.000Z");
    c.decision = Some(RowDecision::Rejected);
    c.notes = Some(Some("gone".into()));
    c.signed_off = Some(true);
    assert_eq!(store.awf_apply(&c).await.unwrap(), RowOutcome::Applied);
    // The same change again finds the row changed.
    assert_eq!(store.awf_apply(&c).await.unwrap(), RowOutcome::Changed);
    let r = row(&store, first).await;
    assert_eq!(r.decision(), RowDecision::Rejected);
    assert!(r.signed_off);
    assert_eq!(r.updated_at, at("2026-02-01T10:00:00.000Z"));
    let mut c = change(&r, id(7, 1), "2026-02-01T11:00:00.000Z");
    c.decision = Some(RowDecision::Fixed);
    assert_eq!(store.awf_apply(&c).await.unwrap(), RowOutcome::Applied);
    let r = row(&store, first).await;
    assert_eq!(r.decision(), RowDecision::Fixed);
    let log: Vec<_> = r
        .action_log
        .iter()
        .map(|e| {
            (
                e.action,
                e.actor.clone(),
                e.old_value.clone(),
                e.new_value.clone(),
            )
        })
        .collect();
    let robot = json!({"id": hex(7, 1), "email": null, "name": "Robot"});
    assert_eq!(
        log,
        vec![
            (
                ActionKind::Decision,
                person(1),
                json!("NONE"),
                json!("REJECTED")
            ),
            (ActionKind::Notes, person(1), json!(""), json!("gone")),
            (
                ActionKind::SignOff,
                person(1),
                json!("NOT_SIGNED_OFF"),
                json!("SIGNED_OFF")
            ),
            (
                ActionKind::Decision,
                robot,
                json!("REJECTED"),
                json!("FIXED")
            ),
        ]
    );
    assert_eq!(r.action_log[0].at, at("2026-02-01T10:00:00.000Z"));

    // Co-reviewers: one entry, owner first, each {id, email, name}.
    let other = item(1002);
    let r = row(&store, other).await;
    let mut c = change(&r, id(1, 1), "2026-02-02T09:00:00.000Z");
    let co = UserRef {
        id: hex(1, 3),
        email: Some("p3@example.com".into()),
        name: "Person 3".into(),
    };
    c.reviewers = Some(NewReviewers {
        owner: id(1, 1),
        co_reviewers: vec![co.clone()],
        reason: "help".into(),
    });
    assert_eq!(store.awf_apply(&c).await.unwrap(), RowOutcome::Applied);
    let r = row(&store, other).await;
    assert_eq!(r.reviewers.len(), 2);
    assert_eq!(r.reviewers[1], co);
    let e = r.action_log.last().unwrap();
    assert_eq!(e.action, ActionKind::Reviewers);
    assert_eq!(e.old_value, json!([person(1)]));
    assert_eq!(e.new_value, json!([person(1), person(3)]));
    let theirs = store.awf_rows(&query(Some(id(1, 3)), None)).await.unwrap();
    assert_eq!(theirs.total, Some(1));
    let stats = store.awf_reviewer_stats(campaign(), None).await.unwrap();
    let names: Vec<_> = stats
        .iter()
        .map(|s| (s.reviewer.name.as_str(), s.total, s.fixed, s.signed_off))
        .collect();
    assert_eq!(
        names,
        vec![
            ("Person 1", u64::from(SUBJECTS * ITEMS), 1, 1),
            ("Person 2", 1, 0, 0),
            ("Person 3", 1, 0, 0),
        ]
    );
    let ids = store
        .awf_campaign_ids(None, Some(id(1, 3)), None, None, 10, true)
        .await
        .unwrap();
    assert_eq!((ids.items, ids.total), (vec![campaign()], Some(1)));

    // Moving the row to another reviewer drops its co-reviewers.
    let r = row(&store, other).await;
    let mut c = change(&r, id(1, 1), "2026-02-02T10:00:00.000Z");
    c.reviewers = Some(NewReviewers {
        owner: id(1, 4),
        co_reviewers: Vec::new(),
        reason: "away".into(),
    });
    assert_eq!(store.awf_apply(&c).await.unwrap(), RowOutcome::Applied);
    let r = row(&store, other).await;
    assert_eq!(r.reviewers.len(), 1);
    assert_eq!(r.reviewers[0].id, hex(1, 4));
    let e = r.action_log.last().unwrap();
    assert_eq!(e.old_value, json!([person(1), person(3)]));
    assert_eq!(e.new_value, json!([person(4)]));
    let rows = store.awf_campaign_rows(&[campaign()]).await.unwrap();
    let names: Vec<_> = rows[0].reviewers.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, vec!["Person 1", "Person 2", "Person 4"]);
    // A self-review cannot move.
    let r = row(&store, item(1101)).await;
    let mut c = change(&r, id(1, 1), "2026-02-02T10:00:00.000Z");
    c.reviewers = Some(NewReviewers {
        owner: id(1, 11),
        co_reviewers: Vec::new(),
        reason: "x".into(),
    });
    assert!(matches!(
        store.awf_apply(&c).await.unwrap(),
        RowOutcome::CannotMove(_)
    ));

    // The log is append-only.
    for sql in [
        "UPDATE item_actions SET action = 'NOTES'",
        "DELETE FROM item_actions",
        "TRUNCATE item_actions",
    ] {
        let err = sqlx::query(sql).execute(store.pool()).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }

    // Expiry: undecided rows REVOKEd with the note, everything signed off by the system.
    assert_eq!(
        store
            .overdue_campaigns(at("2026-04-01T00:00:00.000Z"), 10)
            .await
            .unwrap(),
        vec![campaign()]
    );
    assert!(
        !store
            .expire_campaign(campaign(), Some("expired"), at("2026-03-01T00:00:00.000Z"))
            .await
            .unwrap()
    );
    assert!(
        store
            .expire_campaign(campaign(), Some("expired"), at("2026-04-01T00:00:00.000Z"))
            .await
            .unwrap()
    );
    let k = store.campaign(campaign()).await.unwrap().unwrap();
    assert_eq!(k.status, CampaignStatus::Completed);
    let rows = store.awf_campaign_rows(&[campaign()]).await.unwrap();
    assert!(rows[0].expired);
    assert_eq!(rows[0].completed_by.as_deref(), Some("System"));
    assert_eq!(rows[0].rows, rows[0].decided);
    let r = row(&store, item(9901)).await;
    assert_eq!(r.decision(), RowDecision::Rejected);
    assert_eq!(r.item.comments.as_deref(), Some("expired"));
    let system: serde_json::Value = serde_json::from_str(SYSTEM_ACTOR).unwrap();
    let log: Vec<_> = r
        .action_log
        .iter()
        .map(|e| (e.action, e.actor.clone()))
        .collect();
    assert_eq!(
        log,
        vec![
            (ActionKind::Decision, system.clone()),
            (ActionKind::Notes, system.clone()),
            (ActionKind::SignOff, system.clone()),
        ]
    );
    let (text,): (String,) =
        sqlx::query_as("SELECT actor FROM item_actions WHERE item_id = $1 ORDER BY seq LIMIT 1")
            .bind(item(9901).to_string())
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(text, SYSTEM_ACTOR);
    // Remediation for every REVOKE but the one fixed by hand.
    let open = store.remediation_items(campaign()).await.unwrap();
    assert!(open.iter().all(|(i, _)| i.item_id != first));
    assert_eq!(open.len() as u32, SUBJECTS * ITEMS + 1 - 1);
    store.close().await;
}

/// Rows of both certifications signed off one by one, concurrently: the campaign completes
/// once, by the last signer, and no transaction deadlocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rows_signed_off_concurrently_complete_the_campaign_once() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = db.store().await;
    setup(&store).await;
    let all = store.awf_rows(&query(None, None)).await.unwrap().items;
    let mut tasks = Vec::new();
    for (n, r) in all.into_iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let reviewer = Id::parse(&r.reviewers[0].id).unwrap();
            let mut c = change(&r, reviewer, "2026-02-01T10:00:00.000Z");
            c.decision = Some(if n % 2 == 0 {
                RowDecision::Accepted
            } else {
                RowDecision::Rejected
            });
            c.signed_off = Some(true);
            store.awf_apply(&c).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), RowOutcome::Applied);
    }
    let k = store.campaign(campaign()).await.unwrap().unwrap();
    assert_eq!(k.status, CampaignStatus::Completed);
    assert_eq!(k.completed_certifications, 2);
    let rows = store.awf_campaign_rows(&[campaign()]).await.unwrap();
    assert!(!rows[0].expired);
    let by = rows[0].completed_by.clone().unwrap();
    assert!(by == hex(1, 1) || by == hex(1, 2), "{by}");
    let certs = store.campaign_certifications(campaign()).await.unwrap();
    assert!(certs.iter().all(|c| c.decisions_made == c.decisions_total));
    let remediations = store.remediation_items(campaign()).await.unwrap();
    let rejected = (0..SUBJECTS * ITEMS + 1).filter(|n| n % 2 == 1).count();
    assert_eq!(remediations.len(), rejected);

    // A force un-sign-off of a completed campaign's row keeps its certification SIGNED; signed
    // again after a change, the row goes to remediation on its own.
    let accepted = store
        .awf_rows(&query(None, None))
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|r| r.decision() == RowDecision::Accepted)
        .unwrap();
    let mut c = change(&accepted, id(1, 1), "2026-02-02T10:00:00.000Z");
    c.signed_off = Some(false);
    assert_eq!(store.awf_apply(&c).await.unwrap(), RowOutcome::Applied);
    let r = row(&store, accepted.item.id).await;
    assert!(!r.signed_off);
    assert_eq!(r.action_log.last().unwrap().action, ActionKind::ForceUpdate);
    let mut c = change(&r, id(1, 1), "2026-02-02T11:00:00.000Z");
    c.decision = Some(RowDecision::Rejected);
    c.signed_off = Some(true);
    assert_eq!(store.awf_apply(&c).await.unwrap(), RowOutcome::Applied);
    let remediations = store.remediation_items(campaign()).await.unwrap();
    assert!(
        remediations
            .iter()
            .any(|(i, _)| i.item_id == accepted.item.id)
    );
    store.close().await;
}

/// A database of schema 6 holding reviews migrates: each campaign gets its first item, the
/// items of SIGNED certifications are signed off, REVOKEs with completed remediation FIXED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_of_schema_6_become_rows() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    {
        db.migrate_to(6).await;
        let mut c = PgConnection::connect(db.url()).await.unwrap();
        sqlx::raw_sql(ITEMS_BEFORE_KEYS)
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::raw_sql(
            "UPDATE certifications SET phase = 'SIGNED'
                WHERE id = '0000000000000000000000000000c002';
             UPDATE review_items SET decision = 'REVOKE'
                WHERE id IN ('00000000000000000000000000000201',
                             '00000000000000000000000000000101');
             INSERT INTO remediation_items (id, item_id, campaign_id, certification_id,
                identity_id, access_type, access_id, status, created_at, updated_at)
             VALUES ('000000000000000000000000000000f1', '00000000000000000000000000000201',
                    '0000000000000000000000000000a001', '0000000000000000000000000000c002',
                    '000000000000000000000000000000d1', 'ENTITLEMENT',
                    '000000000000000000000000000004e1', 'COMPLETED', now(), now()),
                ('000000000000000000000000000000f2', '00000000000000000000000000000101',
                    '0000000000000000000000000000a001', '0000000000000000000000000000c001',
                    '000000000000000000000000000000d1', 'ENTITLEMENT',
                    '000000000000000000000000000004e1', 'OPEN', now(), now());",
        )
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    }
    let store = db.store().await;
    let k = Id::parse("0000000000000000000000000000a001").unwrap();
    let rows = store.awf_campaign_rows(&[k]).await.unwrap();
    assert_eq!(
        rows[0].first_item_id,
        Some(Id::parse("00000000000000000000000000000101").unwrap())
    );
    assert_eq!(rows[0].completed_by, None);
    assert!(!rows[0].expired);
    let page = store
        .awf_rows(&RowQuery {
            campaign_id: k,
            viewer: None,
            filter: None,
            item: None,
            after: None,
            limit: 100,
            count: true,
        })
        .await
        .unwrap();
    let seen: Vec<_> = page
        .items
        .iter()
        .map(|r| (r.result_id, r.decision(), r.signed_off))
        .collect();
    assert_eq!(
        seen,
        vec![
            (0, RowDecision::Rejected, false),
            (1, RowDecision::None, false),
            (2, RowDecision::None, false),
            (3, RowDecision::None, false),
            (0x100, RowDecision::Fixed, true),
        ]
    );
    assert!(page.items.iter().all(|r| r.action_log.is_empty()));
    // The triggers work on the migrated rows: the open remediation done marks its row FIXED.
    store
        .report_remediation(
            Id::parse("000000000000000000000000000000f2").unwrap(),
            "COMPLETED",
            None,
            None,
            at("2026-02-01T00:00:00.000Z"),
        )
        .await
        .unwrap();
    let page = store
        .awf_rows(&RowQuery {
            campaign_id: k,
            viewer: None,
            filter: None,
            item: Some(Id::parse("00000000000000000000000000000101").unwrap()),
            after: None,
            limit: 100,
            count: false,
        })
        .await
        .unwrap();
    let r = &page.items[0];
    assert_eq!(r.decision(), RowDecision::Fixed);
    assert_eq!(r.action_log.len(), 1);
    assert_eq!(r.action_log[0].action, ActionKind::Remediation);
    assert_eq!(r.action_log[0].actor, json!({"name": "System"}));
    store.close().await;
}
