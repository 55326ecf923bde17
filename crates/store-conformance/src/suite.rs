//! The cases. Each takes a fresh, migrated, empty store.

use recert_core::clients::{self, NewClient};
use recert_core::demo::{self, DemoOptions};
use recert_core::import::{self, ImportError};
use recert_domain::{
    AccessType, ApiClient, Assignment, ClientRole, Clock, Dataset, Duration, Id, ManualClock,
    Timestamp,
};
use recert_store::{ImportKind, KindSummary, Store, StoreError};

use crate::fixture::{id, small_org};

fn clock() -> ManualClock {
    ManualClock::new(Timestamp::parse("2026-01-05T09:00:00.000Z").unwrap())
}

/// Sorts every kind so datasets compare regardless of read order.
pub fn normalised(mut d: Dataset) -> Dataset {
    d.identities.sort_by_key(|x| x.id);
    d.sources.sort_by_key(|x| x.id);
    d.accounts.sort_by_key(|x| x.id);
    d.entitlements.sort_by_key(|x| x.id);
    d.access_profiles.sort_by_key(|x| x.id);
    d.roles.sort_by_key(|x| x.id);
    d.assignments.sort();
    d
}

async fn stored(store: &dyn Store) -> Dataset {
    normalised(store.current_state(true).await.unwrap().dataset)
}

async fn load(store: &dyn Store, clock: &ManualClock, d: Dataset) -> import::ImportReport {
    import::import_dataset(store, clock, d, "test")
        .await
        .unwrap()
}

fn ks(added: u64, changed: u64, removed: u64) -> KindSummary {
    KindSummary {
        added,
        changed,
        removed,
    }
}

pub async fn migrate_is_idempotent(store: &dyn Store) {
    assert_eq!(store.migrate().await.unwrap(), Vec::<String>::new());
    store.ping().await.unwrap();
    let c = store.counts().await.unwrap();
    assert_eq!(c.identities, 0);
    assert!(store.import_runs(10).await.unwrap().is_empty());
}

pub async fn import_then_read_back(store: &dyn Store) {
    let clock = clock();
    let org = small_org();
    let report = load(store, &clock, org.clone()).await;
    assert_eq!(report.summary.identities, ks(4, 0, 0));
    assert_eq!(report.summary.assignments, ks(6, 0, 0));
    assert_eq!(stored(store).await, normalised(org.clone()));
    let c = store.counts().await.unwrap();
    assert_eq!(
        (
            c.identities,
            c.sources,
            c.accounts,
            c.entitlements,
            c.access_profiles,
            c.roles,
            c.assignments
        ),
        (4, 2, 5, 3, 1, 1, 6)
    );
    let ada = store.identity(id(1, 1)).await.unwrap().unwrap();
    assert_eq!(ada, org.identities[0]);
    assert!(store.identity(id(9, 9)).await.unwrap().is_none());
    let runs = store.import_runs(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, report.run_id);
    assert_eq!(runs[0].summary, report.summary);
    assert_eq!(runs[0].kinds, ImportKind::ALL.to_vec());
    assert_eq!(runs[0].at, clock.now());
}

pub async fn reimport_changes_nothing(store: &dyn Store) {
    let clock = clock();
    load(store, &clock, small_org()).await;
    let before = store.current_state(true).await.unwrap();
    let history_before = store.assignment_history(id(1, 3)).await.unwrap();
    clock.advance(Duration::days(1));
    let again = load(store, &clock, small_org()).await;
    assert!(again.summary.unchanged(), "{:?}", again.summary);
    let after = store.current_state(true).await.unwrap();
    assert_eq!(normalised(after.dataset), normalised(before.dataset));
    let mut ids_before = before.assignment_ids.clone();
    let mut ids_after = after.assignment_ids.clone();
    ids_before.sort();
    ids_after.sort();
    assert_eq!(ids_after, ids_before, "no assignment record was rewritten");
    assert_eq!(
        store.assignment_history(id(1, 3)).await.unwrap(),
        history_before
    );
    assert_eq!(after.generation, before.generation + 1);
}

pub async fn newer_import_applies_the_difference(store: &dyn Store) {
    let clock = clock();
    load(store, &clock, small_org()).await;
    let mut next = small_org();
    // changed: a title, a manager, an entitlement's privilege, a role's content
    next.identities[2]
        .attributes
        .insert("title".into(), "Senior".into());
    next.identities[3].manager_id = Some(id(1, 1));
    next.entitlements[1].privileged = true;
    next.roles[0].entitlement_ids.clear();
    // removed: the uncorrelated account; added: a new person with an entitlement
    next.accounts.retain(|a| a.id != id(3, 4));
    let mut eve = next.identities[2].clone();
    eve.id = id(1, 5);
    eve.name = "eve.new".into();
    eve.email = Some("eve.new@example.com".into());
    next.identities.push(eve);
    next.accounts.push(recert_domain::Account {
        id: id(3, 6),
        source_id: id(2, 1),
        identity_id: Some(id(1, 5)),
        native_identity: "CN=eve".into(),
        name: "CN=eve".into(),
        disabled: false,
        locked: true,
    });
    next.assignments.push(Assignment {
        identity_id: id(1, 5),
        access_type: AccessType::Entitlement,
        access_id: id(4, 1),
        account_id: Some(id(3, 6)),
    });
    // removed grant
    next.assignments
        .retain(|a| !(a.identity_id == id(1, 3) && a.access_id == id(4, 3)));
    clock.advance(Duration::days(1));
    let r = load(store, &clock, next.clone()).await;
    assert_eq!(r.summary.identities, ks(1, 2, 0));
    assert_eq!(r.summary.accounts, ks(1, 0, 1));
    assert_eq!(r.summary.entitlements, ks(0, 1, 0));
    assert_eq!(r.summary.roles, ks(0, 1, 0));
    assert_eq!(r.summary.sources, ks(0, 0, 0));
    assert_eq!(r.summary.assignments, ks(1, 0, 1));
    assert_eq!(stored(store).await, normalised(next));
}

pub async fn removed_access_keeps_its_history(store: &dyn Store) {
    let clock = clock();
    let first_at = clock.now();
    load(store, &clock, small_org()).await;
    clock.advance(Duration::days(1));
    let second_at = clock.now();
    load(store, &clock, small_org()).await;
    let mut next = small_org();
    let gone = Assignment {
        identity_id: id(1, 3),
        access_type: AccessType::Entitlement,
        access_id: id(4, 3),
        account_id: Some(id(3, 3)),
    };
    next.assignments.retain(|a| *a != gone);
    clock.advance(Duration::days(1));
    let third_at = clock.now();
    load(store, &clock, next).await;
    let history = store.assignment_history(id(1, 3)).await.unwrap();
    let rec = history.iter().find(|r| r.assignment == gone).unwrap();
    assert_eq!(rec.first_seen_at, first_at);
    assert_eq!(
        rec.last_seen_at,
        Some(second_at),
        "seen last by the import before"
    );
    assert_eq!(rec.removed_at, Some(third_at));
    let still = history.iter().filter(|r| r.removed_at.is_none()).count();
    assert_eq!(still, 3);
    // The grant comes back: a new record, the old one stays as history.
    clock.advance(Duration::days(1));
    let r = load(store, &clock, small_org()).await;
    assert_eq!(r.summary.assignments, ks(1, 0, 0));
    let history = store.assignment_history(id(1, 3)).await.unwrap();
    let both: Vec<_> = history.iter().filter(|r| r.assignment == gone).collect();
    assert_eq!(both.len(), 2);
    assert!(both[0].removed_at.is_some() && both[1].removed_at.is_none());
    assert_ne!(both[0].id, both[1].id);
}

pub async fn removed_record_can_come_back(store: &dyn Store) {
    let clock = clock();
    load(store, &clock, small_org()).await;
    let mut next = small_org();
    next.identities.retain(|i| i.id != id(1, 4));
    next.accounts.retain(|a| a.identity_id != Some(id(1, 4)));
    next.assignments.retain(|a| a.identity_id != id(1, 4));
    let r = load(store, &clock, next).await;
    assert_eq!(r.summary.identities, ks(0, 0, 1));
    assert!(store.identity(id(1, 4)).await.unwrap().is_none());
    assert_eq!(store.counts().await.unwrap().identities, 3);
    let r = load(store, &clock, small_org()).await;
    assert_eq!(r.summary.identities, ks(1, 0, 0));
    assert_eq!(stored(store).await, normalised(small_org()));
}

pub async fn stale_plan_is_refused_whole(store: &dyn Store) {
    let clock = clock();
    load(store, &clock, small_org()).await;
    let state = store.current_state(true).await.unwrap();
    // Another import runs in between...
    let mut other = small_org();
    other.identities[0].display_name = "Ada B.".into();
    load(store, &clock, other.clone()).await;
    // ...so a plan made from the older state must not apply, not even in part.
    let mut plan = recert_store::ImportPlan {
        run_id: Id::generate(),
        at: clock.now(),
        source: "stale".into(),
        kinds: vec![ImportKind::Identities],
        base_generation: state.generation,
        identities: Default::default(),
        sources: Default::default(),
        accounts: Default::default(),
        entitlements: Default::default(),
        access_profiles: Default::default(),
        roles: Default::default(),
        assignments_added: vec![],
        assignments_removed: vec![],
    };
    let mut changed = small_org().identities[1].clone();
    changed.display_name = "Should not land".into();
    plan.identities.changed.push(changed);
    let err = store.apply_import(plan).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(stored(store).await, normalised(other));
    assert_eq!(store.import_runs(10).await.unwrap().len(), 2);
}

pub async fn kinds_left_out_are_kept(store: &dyn Store) {
    let clock = clock();
    load(store, &clock, small_org()).await;
    let hr_only = |people| import::Incoming {
        identities: Some(import::Converted {
            records: people,
            origin: import::Origin::Generated,
        }),
        ..Default::default()
    };
    // An HR-only import changes identities and keeps every other kind as stored.
    let mut people = small_org().identities;
    people[1].display_name = "Bob M.".into();
    let r = import::import_incoming(store, &clock, hr_only(people.clone()), "hr")
        .await
        .unwrap();
    assert_eq!(r.kinds, vec![ImportKind::Identities]);
    assert_eq!(r.summary.identities, ks(0, 1, 0));
    let mut expected = small_org();
    expected.identities = people.clone();
    assert_eq!(stored(store).await, normalised(expected.clone()));
    // Removing a person whose stored accounts and grants still refer to them is refused whole.
    let without_dave: Vec<_> = people.into_iter().filter(|p| p.id != id(1, 4)).collect();
    let err = import::import_incoming(store, &clock, hr_only(without_dave), "hr")
        .await
        .unwrap_err();
    let ImportError::Invalid(invalid) = err else {
        panic!("expected a refusal, got {err:?}")
    };
    let text = invalid.to_string();
    assert!(text.contains("which this import removes"), "{text}");
    assert!(text.contains("include accounts in the import"), "{text}");
    assert_eq!(stored(store).await, normalised(expected));
}

pub async fn text_survives_any_characters(store: &dyn Store) {
    let clock = clock();
    let mut org = small_org();
    let tricky =
        "tab\there, newline\nthere, back\\slash, quote\" ' , semi; unicode Ünïcødé 日本 🎉";
    org.identities[0].display_name = tricky.into();
    org.identities[0]
        .attributes
        .insert("note".into(), tricky.into());
    org.entitlements[0].description = Some(tricky.into());
    org.entitlements[2].permissions[0].target = tricky.into();
    org.sources[1].description = Some("\\N".into());
    load(store, &clock, org.clone()).await;
    assert_eq!(stored(store).await, normalised(org));
}

pub async fn demo_organisation_round_trips(store: &dyn Store) {
    let clock = clock();
    let org = demo::generate(&DemoOptions {
        identities: 300,
        seed: 7,
    });
    let r = load(store, &clock, org.clone()).await;
    assert_eq!(r.summary.assignments.added as usize, org.assignments.len());
    assert_eq!(stored(store).await, normalised(org.clone()));
    let again = load(store, &clock, org).await;
    assert!(again.summary.unchanged());
}

pub async fn api_clients_lifecycle(store: &dyn Store) {
    let clock = clock();
    load(store, &clock, small_org()).await;
    let admin = clients::create(
        store,
        &clock,
        NewClient {
            name: None,
            roles: vec![
                ClientRole::ReportAdmin,
                ClientRole::CertAdmin,
                ClientRole::CertAdmin,
            ],
            identity_id: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        admin.client.roles,
        vec![ClientRole::CertAdmin, ClientRole::ReportAdmin]
    );
    assert!(!admin.client.secret_hash.contains(&admin.secret));
    assert!(
        !format!("{admin:?}").contains(&admin.secret),
        "Debug must not show the secret"
    );
    let got: ApiClient = store.api_client(admin.client.id).await.unwrap().unwrap();
    assert_eq!(got, admin.client);
    assert!(clients::verify_secret(&got, &admin.secret));
    assert!(!clients::verify_secret(&got, "wrong"));
    let reviewer = clients::create(
        store,
        &clock,
        NewClient {
            name: Some("bob".into()),
            roles: vec![ClientRole::User],
            identity_id: Some(id(1, 2)),
        },
    )
    .await
    .unwrap();
    assert_eq!(reviewer.client.identity_id, Some(id(1, 2)));
    let dup = store.create_api_client(&reviewer.client).await.unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup:?}");
    let unknown = clients::create(
        store,
        &clock,
        NewClient {
            name: None,
            roles: vec![ClientRole::User],
            identity_id: Some(id(9, 9)),
        },
    )
    .await;
    assert!(matches!(
        unknown,
        Err(clients::ClientError::UnknownIdentity(_))
    ));
    assert!(matches!(
        clients::create(
            store,
            &clock,
            NewClient {
                name: None,
                roles: vec![ClientRole::User],
                identity_id: None
            }
        )
        .await,
        Err(clients::ClientError::UserWithoutIdentity)
    ));
    assert_eq!(store.api_clients().await.unwrap().len(), 2);
    assert_eq!(store.counts().await.unwrap().api_clients, 2);
    clock.advance(Duration::minutes(5));
    clients::revoke(store, &clock, admin.client.id)
        .await
        .unwrap();
    let revoked = store.api_client(admin.client.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(clock.now()));
    assert!(matches!(
        clients::revoke(store, &clock, admin.client.id).await,
        Err(clients::ClientError::AlreadyRevoked(_))
    ));
    assert!(matches!(
        clients::revoke(store, &clock, id(9, 9)).await,
        Err(clients::ClientError::NotFound(_))
    ));
    assert_eq!(store.counts().await.unwrap().api_clients, 1);
}

pub async fn signing_keys_rotate(store: &dyn Store) {
    let clock = clock();
    let key = |n: u8| recert_domain::SigningKey {
        kid: Id::generate(),
        private_key: [n; 32],
        created_at: clock.now(),
        retired_at: None,
    };
    assert!(store.signing_keys().await.unwrap().is_empty());
    let first = key(1);
    assert_eq!(store.ensure_signing_key(&first).await.unwrap(), first);
    // A second process starting later finds the key already there.
    let second = key(2);
    assert_eq!(store.ensure_signing_key(&second).await.unwrap(), first);
    clock.advance(Duration::days(1));
    let mut third = key(3);
    third.created_at = clock.now();
    store.rotate_signing_key(&third).await.unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], third, "newest first, current");
    assert_eq!(keys[1].kid, first.kid);
    assert_eq!(keys[1].retired_at, Some(third.created_at));
    assert_eq!(keys[1].private_key, first.private_key);
    assert!(
        !format!("{:?}", keys[0]).contains("3, 3, 3"),
        "Debug must hide the key"
    );
    let again = store.rotate_signing_key(&third).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again:?}");
    assert_eq!(
        store.signing_keys().await.unwrap().len(),
        2,
        "a failed rotation changes nothing"
    );
}

/// Every kind of job the cases enqueue, as a runner handling them all would claim.
fn kinds() -> Vec<String> {
    ["a", "b", "c", "test", "long", "flaky", "broken", "crashes"]
        .map(String::from)
        .to_vec()
}

fn new_job(
    clock: &ManualClock,
    kind: &str,
    dedupe: Option<&str>,
    max_attempts: u32,
) -> recert_domain::NewJob {
    recert_domain::NewJob {
        id: Id::generate(),
        kind: kind.into(),
        payload: serde_json::json!({"kind": kind, "n": 1}),
        dedupe_key: dedupe.map(str::to_owned),
        max_attempts,
        run_at: clock.now(),
    }
}

pub async fn jobs_run_once_in_order(store: &dyn Store) {
    use recert_domain::{JobOutcome, JobState};
    let clock = clock();
    let a = new_job(&clock, "a", None, 3);
    let mut b = new_job(&clock, "b", None, 3);
    b.run_at = clock.now().plus(Duration::minutes(1));
    let c = new_job(&clock, "c", Some("schedule:x:2026-01-05"), 3);
    let c_again = new_job(&clock, "c", Some("schedule:x:2026-01-05"), 3);
    for j in [&a, &b, &c] {
        assert!(store.enqueue_job(j, clock.now()).await.unwrap());
    }
    assert!(
        !store.enqueue_job(&c_again, clock.now()).await.unwrap(),
        "deduplicated"
    );
    assert!(store.job(c_again.id).await.unwrap().is_none());
    let lease = clock.now().plus(Duration::seconds(30));
    let first = store
        .claim_job("w1", &kinds(), clock.now(), lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, a.id);
    assert_eq!((first.state, first.attempts), (JobState::Running, 1));
    assert_eq!(first.lease_owner.as_deref(), Some("w1"));
    assert_eq!(first.lease_until, Some(lease));
    assert_eq!(first.payload, a.payload);
    let second = store
        .claim_job("w1", &kinds(), clock.now(), lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.id, c.id);
    assert!(
        store
            .claim_job("w1", &kinds(), clock.now(), lease)
            .await
            .unwrap()
            .is_none(),
        "b is not due"
    );
    assert!(
        store
            .finish_job(a.id, "w1", 1, &JobOutcome::Succeeded, clock.now())
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_job(a.id, "w1", 1, &JobOutcome::Succeeded, clock.now())
            .await
            .unwrap()
    );
    let done = store.job(a.id).await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.finished_at, Some(clock.now()));
    assert_eq!(done.lease_owner, None);
    assert!(
        store
            .finish_job(c.id, "w1", 1, &JobOutcome::Succeeded, clock.now())
            .await
            .unwrap()
    );
    clock.advance(Duration::minutes(1));
    let later = clock.now().plus(Duration::seconds(30));
    assert_eq!(
        store
            .claim_job("w2", &kinds(), clock.now(), later)
            .await
            .unwrap()
            .unwrap()
            .id,
        b.id
    );
}

pub async fn jobs_are_claimed_once_under_contention(store: &dyn Store) {
    let clock = clock();
    let mut ids = Vec::new();
    for n in 0..40 {
        let mut j = new_job(&clock, "test", None, 1);
        j.payload = serde_json::json!({ "n": n });
        store.enqueue_job(&j, clock.now()).await.unwrap();
        ids.push(j.id);
    }
    let lease = clock.now().plus(Duration::minutes(5));
    let clock = &clock;
    let worker = |name: &'static str| async move {
        let mut got = Vec::new();
        while let Some(j) = store
            .claim_job(name, &kinds(), clock.now(), lease)
            .await
            .unwrap()
        {
            got.push(j.id);
        }
        got
    };
    let (w1, w2, w3, w4) = tokio::join!(worker("w1"), worker("w2"), worker("w3"), worker("w4"));
    let mut all: Vec<Id> = [w1, w2, w3, w4].concat();
    all.sort();
    ids.sort();
    assert_eq!(all, ids, "every job claimed exactly once");
}

pub async fn jobs_lease_expiry_hands_the_job_over(store: &dyn Store) {
    use recert_domain::JobOutcome;
    let clock = clock();
    let j = new_job(&clock, "long", None, 3);
    store.enqueue_job(&j, clock.now()).await.unwrap();
    let lease = clock.now().plus(Duration::seconds(30));
    store
        .claim_job("w1", &kinds(), clock.now(), lease)
        .await
        .unwrap()
        .unwrap();
    clock.advance(Duration::seconds(20));
    assert!(
        store
            .claim_job(
                "w2",
                &kinds(),
                clock.now(),
                clock.now().plus(Duration::seconds(30))
            )
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .extend_job_lease(j.id, "w1", 1, clock.now().plus(Duration::seconds(30)))
            .await
            .unwrap()
    );
    // w1 dies: its lease runs out and w2 takes the job over.
    clock.advance(Duration::seconds(31));
    let taken = store
        .claim_job(
            "w2",
            &kinds(),
            clock.now(),
            clock.now().plus(Duration::seconds(30)),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id, taken.attempts), (j.id, 2));
    assert!(
        !store
            .extend_job_lease(j.id, "w1", 1, clock.now())
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_job(j.id, "w1", 1, &JobOutcome::Succeeded, clock.now())
            .await
            .unwrap()
    );
    assert!(
        store
            .finish_job(j.id, "w2", 2, &JobOutcome::Succeeded, clock.now())
            .await
            .unwrap()
    );
}

pub async fn jobs_retry_then_give_up(store: &dyn Store) {
    use recert_domain::{JobOutcome, JobState};
    let clock = clock();
    let j = new_job(&clock, "flaky", None, 2);
    store.enqueue_job(&j, clock.now()).await.unwrap();
    let lease = |c: &ManualClock| c.now().plus(Duration::seconds(30));
    store
        .claim_job("w", &kinds(), clock.now(), lease(&clock))
        .await
        .unwrap()
        .unwrap();
    let retry_at = clock.now().plus(Duration::seconds(10));
    let retry = JobOutcome::Retry {
        at: retry_at,
        error: "database busy".into(),
    };
    assert!(
        store
            .finish_job(j.id, "w", 1, &retry, clock.now())
            .await
            .unwrap()
    );
    let queued = store.job(j.id).await.unwrap().unwrap();
    assert_eq!((queued.state, queued.run_at), (JobState::Queued, retry_at));
    assert_eq!(queued.last_error.as_deref(), Some("database busy"));
    assert!(
        store
            .claim_job("w", &kinds(), clock.now(), lease(&clock))
            .await
            .unwrap()
            .is_none()
    );
    clock.advance(Duration::seconds(10));
    let again = store
        .claim_job("w", &kinds(), clock.now(), lease(&clock))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempts, 2);
    assert!(
        store
            .finish_job(j.id, "w", 2, &retry, clock.now())
            .await
            .unwrap()
    );
    let failed = store.job(j.id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed, "no attempts left");
    assert_eq!(failed.finished_at, Some(clock.now()));
    let k = new_job(&clock, "broken", None, 5);
    store.enqueue_job(&k, clock.now()).await.unwrap();
    store
        .claim_job("w", &kinds(), clock.now(), lease(&clock))
        .await
        .unwrap()
        .unwrap();
    let fail = JobOutcome::Failed {
        error: "campaign has no reviewers".into(),
    };
    assert!(
        store
            .finish_job(k.id, "w", 1, &fail, clock.now())
            .await
            .unwrap()
    );
    let k = store.job(k.id).await.unwrap().unwrap();
    assert_eq!(
        (k.state, k.last_error.as_deref()),
        (JobState::Failed, Some("campaign has no reviewers"))
    );
}

pub async fn jobs_abandoned_on_the_last_attempt_fail(store: &dyn Store) {
    use recert_domain::JobState;
    let clock = clock();
    let j = new_job(&clock, "crashes", None, 1);
    store.enqueue_job(&j, clock.now()).await.unwrap();
    store
        .claim_job(
            "w",
            &kinds(),
            clock.now(),
            clock.now().plus(Duration::seconds(30)),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.fail_abandoned_jobs(clock.now()).await.unwrap(),
        0,
        "lease still held"
    );
    clock.advance(Duration::minutes(1));
    assert!(
        store
            .claim_job(
                "w2",
                &kinds(),
                clock.now(),
                clock.now().plus(Duration::seconds(30))
            )
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.fail_abandoned_jobs(clock.now()).await.unwrap(), 1);
    let failed = store.job(j.id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert!(failed.last_error.unwrap().contains("abandoned"));
}

pub async fn jobs_go_only_to_runners_of_their_kind_and_attempt(store: &dyn Store) {
    use recert_domain::JobOutcome;
    let clock = clock();
    let newer = new_job(&clock, "campaign.newer-kind", None, 3);
    store.enqueue_job(&newer, clock.now()).await.unwrap();
    let lease = |c: &ManualClock| c.now().plus(Duration::seconds(30));
    // An older process that does not know the kind leaves it alone.
    assert!(
        store
            .claim_job("old", &kinds(), clock.now(), lease(&clock))
            .await
            .unwrap()
            .is_none()
    );
    let mine = vec!["campaign.newer-kind".to_owned()];
    let first = store
        .claim_job("w", &mine, clock.now(), lease(&clock))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.attempts, 1);
    // The same runner loses the lease and claims the job again: the first run's outcome and
    // renewals no longer count.
    clock.advance(Duration::seconds(31));
    let again = store
        .claim_job("w", &mine, clock.now(), lease(&clock))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempts, 2);
    assert!(
        !store
            .extend_job_lease(newer.id, "w", 1, lease(&clock))
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_job(newer.id, "w", 1, &JobOutcome::Succeeded, clock.now())
            .await
            .unwrap()
    );
    assert!(
        store
            .extend_job_lease(newer.id, "w", 2, lease(&clock))
            .await
            .unwrap()
    );
    assert!(
        store
            .finish_job(newer.id, "w", 2, &JobOutcome::Succeeded, clock.now())
            .await
            .unwrap()
    );
}
