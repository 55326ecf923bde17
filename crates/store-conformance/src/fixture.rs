//! A small organisation written by hand, covering every kind and every optional field.

use std::collections::BTreeMap;

use recert_domain::{
    AccessProfile, AccessType, Account, Assignment, Dataset, Entitlement, Id, Identity, Permission,
    Role, Source,
};

/// Id `n` of a family: readable in failures, e.g. `i(3)` = `0000...0103`.
pub const fn id(family: u8, n: u8) -> Id {
    let mut b = [0u8; 16];
    b[14] = family;
    b[15] = n;
    Id::from_bytes(b)
}

fn person(n: u8, name: &str, manager: Option<u8>, dept: &str) -> Identity {
    Identity {
        id: id(1, n),
        name: name.into(),
        display_name: name.replace('.', " "),
        email: Some(format!("{name}@example.com")),
        manager_id: manager.map(|m| id(1, m)),
        active: true,
        lifecycle_state: Some("active".into()),
        attributes: BTreeMap::from([("department".to_owned(), dept.to_owned())]),
    }
}

/// Four people, two sources, accounts (one uncorrelated), entitlements, an access profile, a
/// role and their assignments.
pub fn small_org() -> Dataset {
    let mut inactive = person(4, "dave.leaver", Some(2), "Sales");
    inactive.active = false;
    inactive.lifecycle_state = Some("inactive".into());
    inactive.email = None;
    let ent = |n: u8, src: u8, value: &str, privileged: bool| Entitlement {
        id: id(4, n),
        source_id: id(2, src),
        name: value.into(),
        attribute_name: "memberOf".into(),
        attribute_value: format!("CN={value},OU=Groups"),
        description: Some(format!("{value} group")),
        privileged,
        owner_id: if privileged { Some(id(1, 1)) } else { None },
        permissions: if privileged {
            vec![Permission {
                rights: vec!["read".into(), "write".into()],
                target: "ledger".into(),
            }]
        } else {
            vec![]
        },
    };
    let acct = |n: u8, src: u8, who: Option<u8>, native: &str| Account {
        id: id(3, n),
        source_id: id(2, src),
        identity_id: who.map(|w| id(1, w)),
        native_identity: native.into(),
        name: native.into(),
        disabled: false,
        locked: false,
    };
    let grant = |who: u8, t: AccessType, what: Id, acc: Option<u8>| Assignment {
        identity_id: id(1, who),
        access_type: t,
        access_id: what,
        account_id: acc.map(|a| id(3, a)),
    };
    Dataset {
        identities: vec![
            person(1, "ada.boss", None, "Executive"),
            person(2, "bob.manager", Some(1), "Sales"),
            person(3, "cyd.worker", Some(2), "Sales"),
            inactive,
        ],
        sources: vec![
            Source {
                id: id(2, 1),
                name: "Active Directory".into(),
                source_type: Some("Directory".into()),
                description: Some("Corporate directory".into()),
                owner_id: Some(id(1, 1)),
            },
            Source {
                id: id(2, 2),
                name: "Ledger".into(),
                source_type: None,
                description: None,
                owner_id: None,
            },
        ],
        accounts: vec![
            acct(1, 1, Some(2), "CN=bob"),
            acct(2, 1, Some(3), "CN=cyd"),
            acct(3, 2, Some(3), "cyd"),
            acct(4, 2, None, "svc-batch"),
            acct(5, 1, Some(4), "CN=dave"),
        ],
        entitlements: vec![
            ent(1, 1, "Sales-Read", false),
            ent(2, 1, "Sales-Write", false),
            ent(3, 2, "Ledger-Admin", true),
        ],
        access_profiles: vec![AccessProfile {
            id: id(5, 1),
            source_id: id(2, 1),
            name: "Sales basics".into(),
            description: Some("Read and write sales".into()),
            owner_id: Some(id(1, 2)),
            entitlement_ids: vec![id(4, 1), id(4, 2)],
        }],
        roles: vec![Role {
            id: id(6, 1),
            name: "Salesperson".into(),
            description: None,
            owner_id: Some(id(1, 2)),
            access_profile_ids: vec![id(5, 1)],
            entitlement_ids: vec![id(4, 3)],
        }],
        assignments: vec![
            grant(2, AccessType::Entitlement, id(4, 1), Some(1)),
            grant(3, AccessType::Entitlement, id(4, 1), Some(2)),
            grant(3, AccessType::Entitlement, id(4, 3), Some(3)),
            grant(3, AccessType::AccessProfile, id(5, 1), Some(2)),
            grant(3, AccessType::Role, id(6, 1), None),
            grant(4, AccessType::Entitlement, id(4, 2), Some(5)),
        ],
    }
}

/// The generation of a PENDING MANAGER campaign as the generation benchmarks' tests run it: no
/// fallback reviewer, no "new access" cut-off.
pub fn manager_generation(campaign: recert_domain::Id) -> recert_domain::review::Generation {
    recert_domain::review::Generation {
        campaign_id: campaign,
        scope: recert_domain::review::Scope::Manager,
        fallback_reviewer: None,
        new_access_since: None,
        certification_name: "Perf - {reviewer}".into(),
        now: recert_domain::Timestamp::parse("2026-02-01T00:00:00.000Z").unwrap(),
    }
}
