//! The cases. Each takes a fresh, migrated, empty store.

use recert_core::demo::{self, DemoOptions};
use recert_core::import::{self, ImportError};
use recert_domain::{AccessType, Assignment, Clock, Dataset, Duration, Id, ManualClock, Timestamp};
use recert_store::{ImportKind, KindSummary, Store, StoreError};

use crate::fixture::{id, small_org};

pub(crate) fn clock() -> ManualClock {
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

/// The items of a remediation listing, without their details.
pub(crate) fn items_only(
    listed: Vec<(
        recert_domain::review::RemediationItem,
        recert_domain::review::RemediationDetails,
    )>,
) -> Vec<recert_domain::review::RemediationItem> {
    listed.into_iter().map(|(i, _)| i).collect()
}

/// Claims the next due job of these kinds as worker "test", leased for five minutes.
pub(crate) async fn claim(
    store: &dyn Store,
    clock: &ManualClock,
    kinds: &[String],
) -> Option<recert_domain::Job> {
    let now = clock.now();
    store
        .claim_job("test", kinds, now, now.plus(Duration::minutes(5)))
        .await
        .unwrap()
}
