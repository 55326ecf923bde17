use std::collections::{HashMap, HashSet};

use recert_domain::rules::{check_email, find_manager_cycle};
use recert_domain::{AccessType, Dataset, Id};

use super::{DemoOptions, generate};

fn demo(identities: usize, seed: u64) -> Dataset {
    generate(&DemoOptions { identities, seed })
}

fn ascending(kind: &str, ids: impl Iterator<Item = Id>) -> Vec<Id> {
    let ids: Vec<Id> = ids.collect();
    for w in ids.windows(2) {
        assert!(
            w[0] < w[1],
            "{kind} ids out of order: {} then {}",
            w[0],
            w[1]
        );
    }
    ids
}

fn sorted_unique(what: &str, ids: &[Id]) {
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "{what} not sorted and unique: {ids:?}"
    );
}

/// Every invariant the generator promises, on any size of organisation.
fn check(ds: &Dataset) {
    let mut all = Vec::new();
    all.extend(ascending("identity", ds.identities.iter().map(|x| x.id)));
    all.extend(ascending("source", ds.sources.iter().map(|x| x.id)));
    all.extend(ascending("account", ds.accounts.iter().map(|x| x.id)));
    all.extend(ascending(
        "entitlement",
        ds.entitlements.iter().map(|x| x.id),
    ));
    all.extend(ascending(
        "profile",
        ds.access_profiles.iter().map(|x| x.id),
    ));
    all.extend(ascending("role", ds.roles.iter().map(|x| x.id)));
    for id in &all {
        let b = id.as_bytes();
        assert_eq!(
            (b[6] >> 4, b[8] >> 6),
            (7, 0b10),
            "{id} is not UUIDv7-shaped"
        );
    }
    assert_eq!(
        all.iter().collect::<HashSet<_>>().len(),
        all.len(),
        "ids repeat"
    );

    let position: HashMap<Id, usize> = ds
        .identities
        .iter()
        .enumerate()
        .map(|(i, x)| (x.id, i))
        .collect();
    let mut names = HashSet::new();
    let mut emails = HashSet::new();
    for (i, ident) in ds.identities.iter().enumerate() {
        assert!(
            names.insert(ident.name.as_str()),
            "name {} repeats",
            ident.name
        );
        let email = ident.email.as_deref().expect("every identity has an email");
        check_email(email).unwrap();
        assert!(emails.insert(email), "email {email} repeats");
        if let Some(m) = ident.manager_id {
            assert!(
                position[&m] < i,
                "{} is created before its manager",
                ident.name
            );
        }
        let state = if ident.active { "active" } else { "inactive" };
        assert_eq!(ident.lifecycle_state.as_deref(), Some(state));
        for key in ["department", "title", "location", "employeeNumber"] {
            assert!(
                ident.attributes.contains_key(key),
                "{} has no {key}",
                ident.name
            );
        }
    }
    let roots = ds
        .identities
        .iter()
        .filter(|x| x.manager_id.is_none())
        .count();
    assert_eq!(roots, usize::from(!ds.identities.is_empty()));
    let managers: HashMap<Id, Option<Id>> =
        ds.identities.iter().map(|x| (x.id, x.manager_id)).collect();
    assert_eq!(find_manager_cycle(&managers), None);

    let is_identity = |id: &Option<Id>| id.is_none_or(|id| position.contains_key(&id));
    let source_ids: HashSet<Id> = ds.sources.iter().map(|x| x.id).collect();
    for s in &ds.sources {
        assert!(s.owner_id.is_some() && is_identity(&s.owner_id));
    }
    let ent_source: HashMap<Id, Id> = ds
        .entitlements
        .iter()
        .map(|x| (x.id, x.source_id))
        .collect();
    let mut values = HashSet::new();
    for e in &ds.entitlements {
        assert!(source_ids.contains(&e.source_id) && is_identity(&e.owner_id));
        assert!(
            values.insert((e.source_id, &e.attribute_value)),
            "{} repeats",
            e.name
        );
    }
    let profile_source: HashMap<Id, Id> = ds
        .access_profiles
        .iter()
        .map(|x| (x.id, x.source_id))
        .collect();
    for p in &ds.access_profiles {
        assert!(source_ids.contains(&p.source_id));
        assert!(p.owner_id.is_some() && is_identity(&p.owner_id));
        assert!((2..=6).contains(&p.entitlement_ids.len()), "{}", p.name);
        sorted_unique(&p.name, &p.entitlement_ids);
        assert!(
            p.entitlement_ids
                .iter()
                .all(|e| ent_source[e] == p.source_id)
        );
    }
    let role_ids: HashSet<Id> = ds.roles.iter().map(|x| x.id).collect();
    for r in &ds.roles {
        assert!(r.owner_id.is_some() && is_identity(&r.owner_id));
        assert!((1..=4).contains(&r.access_profile_ids.len()), "{}", r.name);
        assert!(r.entitlement_ids.len() <= 3, "{}", r.name);
        sorted_unique(&r.name, &r.access_profile_ids);
        sorted_unique(&r.name, &r.entitlement_ids);
        assert!(
            r.access_profile_ids
                .iter()
                .all(|p| profile_source.contains_key(p))
        );
        assert!(r.entitlement_ids.iter().all(|e| ent_source.contains_key(e)));
    }

    let mut accounts = HashMap::new();
    let mut natives = HashSet::new();
    let mut per_source = HashSet::new();
    for a in &ds.accounts {
        assert!(source_ids.contains(&a.source_id) && is_identity(&a.identity_id));
        assert!(
            natives.insert((a.source_id, &a.native_identity)),
            "{}",
            a.native_identity
        );
        if let Some(who) = a.identity_id {
            assert!(
                per_source.insert((who, a.source_id)),
                "two accounts for {who}"
            );
        }
        accounts.insert(a.id, a);
    }
    let mut seen = HashSet::new();
    for x in &ds.assignments {
        assert!(position.contains_key(&x.identity_id));
        assert!(seen.insert(*x), "{x:?} repeats");
        let source = match x.access_type {
            AccessType::Role => {
                assert!(role_ids.contains(&x.access_id) && x.account_id.is_none());
                continue;
            }
            AccessType::Entitlement => ent_source[&x.access_id],
            AccessType::AccessProfile => profile_source[&x.access_id],
        };
        let account = accounts[&x.account_id.expect("access on a source needs an account")];
        assert_eq!(
            (account.identity_id, account.source_id),
            (Some(x.identity_id), source)
        );
    }
    assert!(
        ds.assignments.windows(2).all(|w| w[0] < w[1]),
        "assignments come sorted"
    );
    let holders: HashSet<Id> = ds.assignments.iter().map(|x| x.identity_id).collect();
    assert_eq!(
        holders.len(),
        ds.identities.len(),
        "everyone holds some access"
    );
}

#[test]
fn same_seed_same_dataset_other_seed_another() {
    let a = demo(2000, 7);
    assert_eq!(a, demo(2000, 7));
    let b = demo(2000, 8);
    assert_ne!(a.identities, b.identities);
    assert_ne!(a.assignments, b.assignments);
    assert_ne!(a.entitlements, b.entitlements);
}

#[test]
fn defaults() {
    let opts = DemoOptions::default();
    assert_eq!((opts.identities, opts.seed), (1000, 42));
}

#[test]
fn every_reference_resolves_and_every_key_is_unique() {
    check(&demo(2000, 1));
}

#[test]
fn tiny_organisations_hold_together() {
    for n in [0, 1, 2, 3, 5, 11, 12, 40, 150] {
        let ds = demo(n, n as u64);
        assert_eq!(ds.identities.len(), n);
        check(&ds);
    }
}

#[test]
fn looks_like_an_organisation() {
    let ds = demo(2000, 3);
    let n = ds.identities.len();

    let mut reports: HashMap<Id, usize> = HashMap::new();
    for m in ds.identities.iter().filter_map(|x| x.manager_id) {
        *reports.entry(m).or_default() += 1;
    }
    assert!(reports.values().all(|&r| r <= 10), "spans stay at most 10");
    assert!(
        (n / 12..n / 4).contains(&reports.len()),
        "{} managers",
        reports.len()
    );
    let active = ds.identities.iter().filter(|x| x.active).count();
    assert!(
        (n * 94 / 100..n * 995 / 1000).contains(&active),
        "{active} active"
    );

    let mut counts: HashMap<Id, usize> = HashMap::new();
    for x in &ds.assignments {
        *counts.entry(x.identity_id).or_default() += 1;
    }
    let mut counts: Vec<usize> = counts.into_values().collect();
    counts.sort_unstable();
    let median = counts[counts.len() / 2];
    assert!((15..=25).contains(&median), "median {median}");
    assert!(counts[counts.len() - 1] >= 50, "a long tail");
    let of_type = |t| ds.assignments.iter().filter(|x| x.access_type == t).count();
    let (ents, profiles, roles) = (
        of_type(AccessType::Entitlement),
        of_type(AccessType::AccessProfile),
        of_type(AccessType::Role),
    );
    assert!(
        ents > 5 * (profiles + roles) / 2 && profiles > 0,
        "{ents} {profiles} {roles}"
    );
    assert!((n..2 * n).contains(&roles), "{roles} roles for {n} people");

    assert!(
        (30..=40).contains(&ds.sources.len()),
        "{} sources",
        ds.sources.len()
    );
    let ents = ds.entitlements.len();
    let privileged = ds.entitlements.iter().filter(|e| e.privileged).count();
    assert!(
        (ents / 20..ents / 5).contains(&privileged),
        "{privileged} of {ents}"
    );
    let with_permissions = ds
        .entitlements
        .iter()
        .filter(|e| !e.permissions.is_empty())
        .count();
    assert!((ents / 5..ents * 2 / 5).contains(&with_permissions));

    let accounts = ds.accounts.len();
    let orphans = ds
        .accounts
        .iter()
        .filter(|a| a.identity_id.is_none())
        .count();
    assert!(
        (accounts / 300..accounts / 30).contains(&orphans),
        "{orphans} of {accounts}"
    );
    assert!(
        ds.accounts
            .iter()
            .any(|a| a.native_identity.starts_with("CN="))
    );
    assert!(ds.accounts.iter().any(|a| a.disabled) && ds.accounts.iter().any(|a| a.locked));
}
