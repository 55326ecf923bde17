//! Cases about what a reviewer reads: certification and item lists with their filters,
//! sorters and pages, an item's permissions and a certification's reviewers (moving items and
//! tasks are in `suite_reassign.rs`).
//!
//! Sorted lists are checked only where every database collation agrees (values that differ in
//! a letter of the same case before any space or punctuation), so the cases hold on PostgreSQL
//! with a linguistic collation as well as on SQLite.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use recert_domain::campaign::{CampaignType, CertificationPhase, CommentRequirement, Decision};
use recert_domain::certification::{
    AccessReviewItem, ReassignKind, ReassignOutcome, ReassignRef, ReviewerRef,
};
use recert_domain::filter::{Paging, Sorter, parse};
use recert_domain::review::{
    Campaign, Certification, CorrelatedStatus, DecisionWrite, SignOffOutcome,
};
use recert_domain::{Clock, Duration, Id, Permission};
use recert_store::{ListQuery, Store};
use serde_json::json;

use crate::fixture::id;
use crate::suite_campaigns::{World, admin, new_campaign, world};

/// A query: an optional filter, sorters (`field`, descending) and a page.
pub(crate) fn query(
    filter: Option<&str>,
    sorters: &[(&'static str, bool)],
    page: (u32, u64),
) -> ListQuery {
    ListQuery {
        filter: filter.map(|f| parse(f).unwrap()),
        sorters: sorters
            .iter()
            .map(|&(field, descending)| Sorter { field, descending })
            .collect(),
        paging: Paging {
            limit: page.0,
            offset: page.1,
            count: true,
        },
    }
}

pub(crate) fn filtered(filter: &str) -> ListQuery {
    query(Some(filter), &[], (250, 0))
}

pub(crate) fn all() -> ListQuery {
    query(None, &[], (250, 0))
}

/// A MANAGER campaign, activated: ada reviews bob (one item), bob reviews cyd (four) and
/// dave (one). Returns the campaign, ada's and bob's certifications.
pub(crate) async fn active_manager(w: &World) -> (Campaign, Certification, Certification) {
    let k = w.create(CampaignType::Manager, json!({})).await;
    let p = admin();
    w.campaigns
        .activate(p.campaign_creator().unwrap(), k.id, None)
        .await
        .unwrap();
    w.run_jobs().await;
    let certs = w.certs(&k).await;
    let of = |r: Id| certs.iter().find(|c| c.reviewer_id == r).unwrap().clone();
    let k = w.store.campaign(k.id).await.unwrap().unwrap();
    (k, of(id(1, 1)), of(id(1, 2)))
}

pub(crate) async fn items(w: &World, cert: Id, q: &ListQuery) -> Vec<AccessReviewItem> {
    let page = w.store.access_review_items(cert, None, q).await.unwrap();
    page.items
}

pub(crate) fn ids<T>(v: &[T], f: impl Fn(&T) -> Id) -> Vec<Id> {
    v.iter().map(f).collect()
}

fn access_ids(v: &[AccessReviewItem]) -> BTreeSet<Id> {
    v.iter().map(|i| i.access_id).collect()
}

pub(crate) fn write(item: &AccessReviewItem, d: Decision) -> DecisionWrite {
    DecisionWrite {
        item_id: item.id,
        decision: d,
        comments: Some("checked".into()),
        proposed_end_date: None,
    }
}

/// `v` (in id order) sorted by `key` as both stores sort: values ascending with none last, or
/// descending with none first; ties by id.
fn sorted_by<T: Clone>(
    v: &[T],
    id_of: impl Fn(&T) -> Id,
    key: impl Fn(&T) -> Option<String>,
    descending: bool,
) -> Vec<Id> {
    let mut v = v.to_vec();
    v.sort_by(|a, b| {
        let o = match (key(a), key(b)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => x.cmp(&y),
        };
        let o = if descending { o.reverse() } else { o };
        o.then(id_of(a).cmp(&id_of(b)))
    });
    v.iter().map(id_of).collect()
}

pub async fn reviews_certification_lists<S: Store + Clone>(store: &S) {
    let w = world(store, Some(id(1, 1))).await;
    let (k, ada, bob) = active_manager(&w).await;
    // A second campaign left STAGED: ada's certification there has no due date.
    let k2 = w
        .create(
            CampaignType::SourceOwner,
            json!({"sourceOwnerCampaignInfo": {"sourceIds": [id(2, 1).to_string()]}}),
        )
        .await;
    let staged = w.certs(&k2).await.remove(0);
    // ada decides and signs her certification of the first campaign.
    let now = w.clock.now();
    let mine = items(&w, ada.id, &all()).await;
    w.store
        .decide(ada.id, &[write(&mine[0], Decision::Approve)], id(1, 1), now)
        .await
        .unwrap();
    let signed_at = now.plus(Duration::minutes(1));
    assert_eq!(
        w.store
            .sign_off(ada.id, crate::ACTOR, signed_at)
            .await
            .unwrap(),
        SignOffOutcome::Signed {
            campaign_completed: false
        }
    );

    // One certification, with its campaign.
    let one = w.store.certification(bob.id).await.unwrap().unwrap();
    assert_eq!(one, bob);
    assert_eq!(one.campaign.id, k.id);
    assert_eq!(one.campaign.name, "MANAGER review");
    assert_eq!(one.campaign.campaign_type, CampaignType::Manager);
    assert_eq!(one.campaign.description.as_deref(), Some("quarterly"));
    assert_eq!(one.campaign.correlated_status, CorrelatedStatus::Correlated);
    assert_eq!(
        one.campaign.mandatory_comment_requirement,
        CommentRequirement::NoDecisions
    );
    assert_eq!(one.reassigned_from, None);
    assert_eq!(one.due, k.deadline);
    assert!(
        w.store
            .certification(Id::generate())
            .await
            .unwrap()
            .is_none()
    );
    crate::suite_auth::client_and_certification_read_together(&w, &bob).await;
    let ada = w.store.certification(ada.id).await.unwrap().unwrap();
    assert_eq!(ada.phase, CertificationPhase::Signed);
    assert_eq!(ada.signed, Some(signed_at));
    assert_eq!((ada.decisions_made, ada.decisions_total), (1, 1));

    let list = |reviewer: Option<Id>, q: ListQuery| {
        let store = w.store.clone();
        async move { store.certifications(reviewer, &q).await.unwrap() }
    };
    let cid = |c: &Certification| c.id;
    // Unsorted: by due date (none last), then name.
    let page = list(None, all()).await;
    assert_eq!(page.total, Some(3));
    assert_eq!(ids(&page.items, cid), vec![ada.id, bob.id, staged.id]);
    assert_eq!(page.items[2], staged);
    assert_eq!(
        page.items[2].campaign.campaign_type,
        CampaignType::SourceOwner
    );
    // Only a reviewer's.
    let page = list(Some(id(1, 1)), all()).await;
    assert_eq!(ids(&page.items, cid), vec![ada.id, staged.id]);
    assert_eq!(page.total, Some(2));
    let page = list(Some(id(1, 3)), all()).await;
    assert_eq!((page.items.len(), page.total), (0, Some(0)));
    let page = list(Some(id(1, 1)), filtered(r#"phase eq "active""#)).await;
    assert!(page.items.is_empty());
    // Each filter field.
    let cases: Vec<(String, Vec<Id>)> = vec![
        (format!(r#"id eq "{}""#, bob.id), vec![bob.id]),
        (
            format!(r#"id in ("{}", "{}")"#, staged.id, ada.id),
            vec![ada.id, staged.id],
        ),
        (format!(r#"campaign.id eq "{}""#, k2.id), vec![staged.id]),
        (
            format!(r#"campaign.id eq "{}""#, k.id),
            vec![ada.id, bob.id],
        ),
        (r#"phase eq "staged""#.into(), vec![staged.id]),
        (r#"phase eq "SIGNED""#.into(), vec![ada.id]),
        (
            r#"phase in ("ACTIVE", "STAGED")"#.into(),
            vec![bob.id, staged.id],
        ),
        ("completed eq true".into(), vec![ada.id]),
        ("completed eq false".into(), vec![bob.id, staged.id]),
        (
            format!(r#"campaign.id eq "{}" and completed eq false"#, k.id),
            vec![bob.id],
        ),
    ];
    for (f, want) in cases {
        let page = list(None, filtered(&f)).await;
        assert_eq!(ids(&page.items, cid), want, "{f}");
        assert_eq!(page.total, Some(want.len() as u64), "{f}");
    }
    // Each sorter, both ways; ties by id, no value last (ascending) or first (descending).
    let every = list(None, query(None, &[], (250, 0))).await.items;
    let mut by_id = every.clone();
    by_id.sort_by_key(|c| c.id);
    type Key = fn(&Certification) -> Option<String>;
    let keys: [(&'static str, Key); 3] = [
        ("name", |c| Some(c.name.clone())),
        ("due", |c| c.due.map(|t| t.to_string())),
        ("signed", |c| c.signed.map(|t| t.to_string())),
    ];
    for (field, key) in keys {
        for desc in [false, true] {
            let page = list(None, query(None, &[(field, desc)], (250, 0))).await;
            assert_eq!(
                ids(&page.items, cid),
                sorted_by(&by_id, cid, key, desc),
                "{field} descending={desc}"
            );
        }
    }
    let page = list(None, query(None, &[("name", true)], (250, 0))).await;
    assert_eq!(ids(&page.items, cid), vec![staged.id, bob.id, ada.id]);
    // Pages.
    let mut paged = Vec::new();
    for offset in 0..3 {
        let page = list(None, query(None, &[("name", false)], (1, offset))).await;
        assert_eq!(page.total, Some(3));
        paged.extend(ids(&page.items, cid));
    }
    assert_eq!(paged, vec![ada.id, bob.id, staged.id]);
    let past = list(None, query(None, &[], (10, 3))).await;
    assert_eq!((past.items.len(), past.total), (0, Some(3)));
    let none = list(None, query(None, &[], (0, 0))).await;
    assert_eq!((none.items.len(), none.total), (0, Some(3)));
    let mut q = query(None, &[], (250, 0));
    q.paging.count = false;
    assert_eq!(list(None, q).await.total, None);

    // The certification's reviewer, as a collection of one.
    let bob_ref = ReviewerRef {
        id: id(1, 2),
        name: "bob manager".into(),
        email: Some("bob.manager@example.com".into()),
    };
    let reviewers = |cert: Id, q: ListQuery| {
        let store = w.store.clone();
        async move { store.certification_reviewers(cert, &q).await.unwrap() }
    };
    let page = reviewers(bob.id, all()).await;
    assert_eq!((page.items, page.total), (vec![bob_ref.clone()], Some(1)));
    for (f, n) in [
        (format!(r#"id eq "{}""#, id(1, 2)), 1),
        (format!(r#"id eq "{}""#, id(1, 1)), 0),
        (r#"name eq "BOB MANAGER""#.into(), 1),
        (r#"name sw "ada""#.into(), 0),
        (r#"email co "manager@example""#.into(), 1),
        (r#"email eq "nobody@example.com""#.into(), 0),
    ] {
        let page = reviewers(bob.id, filtered(&f)).await;
        assert_eq!((page.items.len(), page.total), (n, Some(n as u64)), "{f}");
    }
    for field in ["name", "email"] {
        let page = reviewers(bob.id, query(None, &[(field, true)], (250, 0))).await;
        assert_eq!(page.items, vec![bob_ref.clone()]);
    }
    assert!(
        reviewers(bob.id, query(None, &[], (5, 1)))
            .await
            .items
            .is_empty()
    );
    let page = reviewers(Id::generate(), all()).await;
    assert_eq!((page.items.len(), page.total), (0, Some(0)));
}

pub async fn reviews_item_lists<S: Store + Clone>(store: &S) {
    let w = world(store, Some(id(1, 1))).await;
    let (_, ada, bob) = active_manager(&w).await;
    let now = w.clock.now();
    let every = items(&w, bob.id, &all()).await;
    assert_eq!(every.len(), 5);
    assert!(every.windows(2).all(|p| p[0].id < p[1].id), "id order");
    let by_access = |a: Id| every.iter().find(|i| i.access_id == a).unwrap().clone();
    let (sales_read, ledger, profile, role, dave_item) = (
        by_access(id(4, 1)),
        by_access(id(4, 3)),
        by_access(id(5, 1)),
        by_access(id(6, 1)),
        by_access(id(4, 2)),
    );
    // bob decides dave's only item (with an end date) and revokes one of cyd's.
    let end = now.plus(Duration::days(30));
    let mut d = write(&dave_item, Decision::Approve);
    d.proposed_end_date = Some(end);
    d.comments = Some("until the project ends".into());
    w.store
        .decide(
            bob.id,
            &[d, write(&sales_read, Decision::Revoke)],
            id(1, 2),
            now,
        )
        .await
        .unwrap();
    let every = items(&w, bob.id, &all()).await;
    let get = |x: &AccessReviewItem| every.iter().find(|i| i.id == x.id).unwrap().clone();

    // What an item carries.
    let dave = get(&dave_item);
    assert_eq!(dave.certification_id, bob.id);
    assert_eq!(
        (dave.identity_id, dave.identity_name.as_str()),
        (id(1, 4), "dave leaver")
    );
    assert!(dave.identity_completed);
    assert_eq!(dave.decision, Some(Decision::Approve));
    assert_eq!(dave.comments.as_deref(), Some("until the project ends"));
    assert_eq!(dave.proposed_end_date, Some(end));
    assert_eq!(dave.access_name, "Sales-Write");
    let l = get(&ledger);
    assert_eq!(
        (l.access_type.as_str(), l.access_name.as_str()),
        ("ENTITLEMENT", "Ledger-Admin")
    );
    assert!(!l.identity_completed && l.decision.is_none() && !l.new_access);
    let snap = l.access.clone().expect("an entitlement snapshot");
    assert!(snap.privileged && snap.has_permissions);
    assert_eq!(snap.description.as_deref(), Some("Ledger-Admin group"));
    assert_eq!(
        (
            snap.source_id,
            snap.source_name.as_deref(),
            snap.source_type
        ),
        (Some(id(2, 2)), Some("Ledger"), None)
    );
    assert_eq!(snap.attribute_name.as_deref(), Some("memberOf"));
    assert_eq!(
        snap.attribute_value.as_deref(),
        Some("CN=Ledger-Admin,OU=Groups")
    );
    assert_eq!(snap.owner_id, Some(id(1, 1)));
    assert_eq!(snap.owner_name.as_deref(), Some("ada boss"));
    assert_eq!(snap.owner_email.as_deref(), Some("ada.boss@example.com"));
    let acct = l.account.clone().expect("held through an account");
    assert_eq!(acct.id, Some(id(3, 3)));
    assert_eq!(acct.name.as_deref(), Some("cyd"));
    assert_eq!(acct.native_identity.as_deref(), Some("cyd"));
    assert_eq!(acct.source_id, Some(id(2, 2)));
    assert!(!acct.disabled && !acct.locked);
    let s = get(&sales_read).access.unwrap();
    assert!(!s.has_permissions && !s.privileged);
    assert_eq!(s.source_type.as_deref(), Some("Directory"));
    let r = get(&role);
    assert_eq!(
        (r.access_type.as_str(), r.access_name.as_str()),
        ("ROLE", "Salesperson")
    );
    assert!(r.account.is_none());
    let contents = r.access.unwrap().contents;
    assert_eq!(contents["accessProfiles"], json!([id(5, 1).to_string()]));
    assert_eq!(contents["entitlements"], json!([id(4, 3).to_string()]));
    let p = get(&profile);
    assert_eq!(
        p.access.unwrap().source_name.as_deref(),
        Some("Active Directory")
    );
    assert_eq!(p.account.unwrap().id, Some(id(3, 2)));
    // Items of one identity share its summary; the other certification's are not here.
    assert_eq!(get(&ledger).summary_id, get(&role).summary_id);
    assert_ne!(get(&ledger).summary_id, dave.summary_id);
    assert_eq!(items(&w, ada.id, &all()).await.len(), 1);
    assert!(items(&w, Id::generate(), &all()).await.is_empty());

    // Each filter field.
    let cyd_summary = get(&ledger).summary_id;
    let cases: Vec<(String, Vec<&AccessReviewItem>)> = vec![
        (format!(r#"id eq "{}""#, role.id), vec![&role]),
        (r#"type eq "role""#.into(), vec![&role]),
        (
            r#"access.type eq "ENTITLEMENT""#.into(),
            vec![&sales_read, &ledger, &dave_item],
        ),
        ("completed eq true".into(), vec![&sales_read, &dave_item]),
        ("completed eq false".into(), vec![&ledger, &profile, &role]),
        (
            format!(r#"identitySummary.id eq "{}""#, dave.summary_id),
            vec![&dave_item],
        ),
        (
            r#"identitySummary.name eq "CYD WORKER""#.into(),
            vec![&sales_read, &ledger, &profile, &role],
        ),
        (format!(r#"access.id eq "{}""#, id(4, 3)), vec![&ledger]),
        (
            r#"access.name co "sales""#.into(),
            vec![&sales_read, &profile, &role, &dave_item],
        ),
        (
            r#"entitlement.sourceName eq "ledger""#.into(),
            vec![&ledger],
        ),
        (
            r#"entitlement.sourceName eq "Active Directory""#.into(),
            vec![&sales_read, &dave_item],
        ),
        (
            r#"accessProfile.sourceName sw "active""#.into(),
            vec![&profile],
        ),
        (
            format!(
                r#"identitySummary.id eq "{cyd_summary}" and not (access.type eq "ENTITLEMENT")"#
            ),
            vec![&profile, &role],
        ),
    ];
    for (f, want) in cases {
        let page = w
            .store
            .access_review_items(bob.id, None, &filtered(&f))
            .await
            .unwrap();
        let mut want: Vec<Id> = want.iter().map(|i| i.id).collect();
        want.sort();
        assert_eq!(ids(&page.items, |i| i.id), want, "{f}");
        assert_eq!(page.total, Some(want.len() as u64), "{f}");
    }

    // Each sorter, both ways, with and without a filter.
    type Key = fn(&AccessReviewItem) -> Option<String>;
    let keys: [(&'static str, Key); 5] = [
        ("identitySummary.name", |i| Some(i.identity_name.clone())),
        ("access.name", |i| Some(i.access_name.clone())),
        ("access.type", |i| Some(i.access_type.clone())),
        ("entitlement.sourceName", |i| {
            (i.access_type == "ENTITLEMENT")
                .then(|| i.access.as_ref().and_then(|a| a.source_name.clone()))
                .flatten()
        }),
        ("accessProfile.sourceName", |i| {
            (i.access_type == "ACCESS_PROFILE")
                .then(|| i.access.as_ref().and_then(|a| a.source_name.clone()))
                .flatten()
        }),
    ];
    // Access names differing only after punctuation sort differently by collation: the
    // `access.name` cases keep names that agree everywhere.
    let hyphenated = r#"access.name co "-""#;
    let iid = |i: &AccessReviewItem| i.id;
    for (field, key) in keys {
        for desc in [false, true] {
            for filter in [None, Some(hyphenated), Some("completed eq false")] {
                if field == "access.name" && filter != Some(hyphenated) {
                    continue;
                }
                let base = match filter {
                    Some(f) => items(&w, bob.id, &filtered(f)).await,
                    None => every.clone(),
                };
                let q = query(filter, &[(field, desc)], (250, 0));
                let page = w.store.access_review_items(bob.id, None, &q).await.unwrap();
                assert_eq!(
                    ids(&page.items, iid),
                    sorted_by(&base, iid, key, desc),
                    "{field} descending={desc} filter={filter:?}"
                );
            }
        }
    }
    let q = query(Some(hyphenated), &[("access.name", true)], (250, 0));
    let page = w.store.access_review_items(bob.id, None, &q).await.unwrap();
    assert_eq!(
        ids(&page.items, iid),
        vec![dave_item.id, sales_read.id, ledger.id]
    );
    // Two sorters.
    let q = query(
        None,
        &[("identitySummary.name", true), ("access.type", false)],
        (250, 0),
    );
    let page = w.store.access_review_items(bob.id, None, &q).await.unwrap();
    assert_eq!(
        ids(&page.items, iid),
        vec![
            dave_item.id,
            profile.id,
            sales_read.id.min(ledger.id),
            sales_read.id.max(ledger.id),
            role.id
        ]
    );

    // Pages, in order, then past the end.
    let q = |offset| query(None, &[("access.type", true)], (2, offset));
    let mut paged = Vec::new();
    for offset in [0, 2, 4] {
        let page = w
            .store
            .access_review_items(bob.id, None, &q(offset))
            .await
            .unwrap();
        assert_eq!(page.total, Some(5));
        paged.extend(ids(&page.items, iid));
    }
    assert_eq!(
        paged,
        sorted_by(&every, iid, |i| Some(i.access_type.clone()), true)
    );
    for offset in [5, 1000] {
        let page = w
            .store
            .access_review_items(bob.id, None, &q(offset))
            .await
            .unwrap();
        assert_eq!((page.items.len(), page.total), (0, Some(5)));
    }

    // Only some access ids of one type.
    let access = |t: &'static str, a: Vec<Id>, f: Option<&'static str>| {
        let store = w.store.clone();
        async move {
            let q = f.map(filtered).unwrap_or_else(all);
            store
                .access_review_items(bob.id, Some((t, a.as_slice())), &q)
                .await
                .unwrap()
        }
    };
    let page = access("ENTITLEMENT", vec![id(4, 1), id(4, 2), id(9, 9)], None).await;
    assert_eq!(
        access_ids(&page.items),
        BTreeSet::from([id(4, 1), id(4, 2)])
    );
    assert_eq!(page.total, Some(2));
    let page = access("ROLE", vec![id(6, 1)], None).await;
    assert_eq!(ids(&page.items, iid), vec![role.id]);
    assert!(access("ROLE", vec![id(4, 1)], None).await.items.is_empty());
    assert!(access("ENTITLEMENT", vec![], None).await.items.is_empty());
    let page = access(
        "ENTITLEMENT",
        vec![id(4, 1), id(4, 2), id(4, 3)],
        Some(r#"identitySummary.name eq "cyd worker""#),
    )
    .await;
    assert_eq!(
        access_ids(&page.items),
        BTreeSet::from([id(4, 1), id(4, 3)])
    );

    // Permissions, as the campaign captured them.
    let perms = |cert: Id, item: Id| {
        let store = w.store.clone();
        async move { store.item_permissions(cert, item).await.unwrap() }
    };
    assert_eq!(
        perms(bob.id, ledger.id).await,
        Some(vec![Permission {
            rights: vec!["read".into(), "write".into()],
            target: "ledger".into(),
        }])
    );
    assert_eq!(perms(bob.id, sales_read.id).await, Some(vec![]));
    assert_eq!(perms(bob.id, role.id).await, Some(vec![]));
    assert_eq!(perms(ada.id, ledger.id).await, None);
    assert_eq!(perms(bob.id, Id::generate()).await, None);
}

/// How two names compare when every collation agrees: by bytes, ignoring case, and ignoring
/// case, spaces and punctuation all give the same answer (`None` otherwise, or when equal).
fn collation_free(a: &str, b: &str) -> Option<Ordering> {
    let folded = |s: &str| s.to_lowercase();
    let letters = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let o = a.cmp(b);
    (o != Ordering::Equal && folded(a).cmp(&folded(b)) == o && letters(a).cmp(&letters(b)) == o)
        .then_some(o)
}

/// The names an item shows, by the field that filters and sorts on them.
fn shown(field: &str, i: &AccessReviewItem) -> Option<String> {
    let source = |t: &str| {
        (i.access_type == t)
            .then(|| i.access.as_ref().and_then(|a| a.source_name.clone()))
            .flatten()
    };
    match field {
        "access.name" => Some(i.access_name.clone()),
        "identitySummary.name" => Some(i.identity_name.clone()),
        "entitlement.sourceName" => source("ENTITLEMENT"),
        "accessProfile.sourceName" => source("ACCESS_PROFILE"),
        _ => unreachable!("{field}"),
    }
}

/// Filters and sorters on the names a certification's items show (the access's or account's
/// name, the identity's, the access's source) find and order the items by exactly those
/// names: what the store keeps to filter and sort on agrees with what it shows.
pub(crate) async fn assert_item_keys(store: &dyn Store, cert: Id, what: &str) {
    let every = store
        .access_review_items(cert, None, &all())
        .await
        .unwrap()
        .items;
    assert!(!every.is_empty(), "{what}: no items");
    let every_id: BTreeSet<Id> = every.iter().map(|i| i.id).collect();
    for field in [
        "access.name",
        "identitySummary.name",
        "entitlement.sourceName",
        "accessProfile.sourceName",
    ] {
        // `eq` (which ignores case) on each name shown finds the items showing it.
        let names: BTreeSet<String> = every.iter().filter_map(|i| shown(field, i)).collect();
        for name in &names {
            let f = format!(r#"{field} eq "{name}""#);
            let page = store
                .access_review_items(cert, None, &filtered(&f))
                .await
                .unwrap();
            let want: Vec<Id> = every
                .iter()
                .filter(|i| {
                    shown(field, i).is_some_and(|n| n.to_lowercase() == name.to_lowercase())
                })
                .map(|i| i.id)
                .collect();
            assert_eq!(ids(&page.items, |i| i.id), want, "{what}: {f}");
            assert_eq!(page.total, Some(want.len() as u64), "{what}: {f}");
        }
        // Sorted both ways: every item once, each name in one run, ties by id, no name last
        // ascending and first descending, names in order wherever collations agree.
        for desc in [false, true] {
            let q = query(None, &[(field, desc)], (250, 0));
            let page = store.access_review_items(cert, None, &q).await.unwrap();
            let got: Vec<(Option<String>, Id)> =
                page.items.iter().map(|i| (shown(field, i), i.id)).collect();
            let context = format!("{what}: {field} descending={desc}: {got:?}");
            assert_eq!(
                got.iter().map(|g| g.1).collect::<BTreeSet<_>>(),
                every_id,
                "{context}"
            );
            assert_eq!(got.len(), every.len(), "{context}");
            let mut runs = BTreeSet::new();
            for (n, pair) in got.windows(2).enumerate() {
                let ((a, ia), (b, ib)) = (&pair[0], &pair[1]);
                if n == 0 {
                    runs.insert(a.clone());
                }
                if a == b {
                    assert!(ia < ib, "{context}: ties by id");
                    continue;
                }
                assert!(runs.insert(b.clone()), "{context}: {b:?} in one run");
                match (a, b) {
                    (None, Some(_)) => assert!(desc, "{context}: none last ascending"),
                    (Some(_), None) => assert!(!desc, "{context}: none first descending"),
                    (Some(x), Some(y)) => {
                        if let Some(o) = collation_free(x, y) {
                            let want = if desc {
                                Ordering::Greater
                            } else {
                                Ordering::Less
                            };
                            assert_eq!(o, want, "{context}: {x:?} then {y:?}");
                        }
                    }
                    (None, None) => unreachable!(),
                }
            }
        }
    }
}

/// After generating each type of campaign, and after items move between reviewers, the items
/// are found and ordered by the access and identity names they show.
pub async fn reviews_item_keys_follow_generation_and_moves<S: Store + Clone>(store: &S) {
    let w = world(store, Some(id(1, 1))).await;
    let check = |k: Campaign, what: &'static str| {
        let w = &w;
        async move {
            let certs = w.certs(&k).await;
            assert!(!certs.is_empty(), "{what}: {:?}", k.alerts);
            for c in certs {
                assert_item_keys(w.store.as_ref(), c.id, &format!("{what}, {}", c.name)).await;
            }
        }
    };
    let manager = w.create(CampaignType::Manager, json!({})).await;
    check(manager.clone(), "MANAGER").await;
    // cyd's own access goes up to bob.
    let k = w
        .create(
            CampaignType::Search,
            json!({"searchCampaignInfo": {"type": "IDENTITY",
                "identityIds": [id(1, 3).to_string(), id(1, 2).to_string()],
                "reviewer": {"type": "IDENTITY", "id": id(1, 3).to_string()}}}),
        )
        .await;
    check(k, "SEARCH of identities").await;
    let k = w
        .create(
            CampaignType::Search,
            json!({"searchCampaignInfo": {"type": "ACCESS",
                "query": "attributes.department eq \"sales\" and active eq true",
                "accessConstraints": [{"type": "ENTITLEMENT", "operator": "SELECTED",
                    "ids": [id(4, 1).to_string(), id(4, 3).to_string()]}]}}),
        )
        .await;
    check(k, "SEARCH of access").await;
    let k = w
        .create(
            CampaignType::SourceOwner,
            json!({"sourceOwnerCampaignInfo": {"sourceIds": [id(2, 1).to_string(), id(2, 2).to_string()]}}),
        )
        .await;
    check(k, "SOURCE_OWNER").await;
    // Uncorrelated accounts: the account is both the identity and the access.
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
    let u = w.store.campaign(u.id).await.unwrap().unwrap();
    let account = items(&w, w.certs(&u).await[0].id, &all()).await;
    assert_eq!(
        (
            account[0].access_type.as_str(),
            account[0].access_name.as_str(),
            account[0].identity_name.as_str()
        ),
        ("ACCOUNT", "svc-batch", "svc-batch")
    );
    check(u, "SOURCE_OWNER of uncorrelated accounts").await;
    let k = w
        .create(
            CampaignType::RoleComposition,
            json!({"roleCompositionCampaignInfo": {"roleIds": [id(6, 1).to_string()]}}),
        )
        .await;
    check(k, "ROLE_COMPOSITION").await;

    // Moves: dave's item to cyd (a new certification), cyd's items to ada (an existing one).
    w.campaigns
        .activate(p.campaign_creator().unwrap(), manager.id, None)
        .await
        .unwrap();
    w.run_jobs().await;
    let certs = w.certs(&manager).await;
    let bob = certs.iter().find(|c| c.reviewer_id == id(1, 2)).unwrap();
    let ada = certs.iter().find(|c| c.reviewer_id == id(1, 1)).unwrap();
    let dave = items(
        &w,
        bob.id,
        &filtered(r#"identitySummary.name eq "dave leaver""#),
    )
    .await;
    assert_eq!(dave.len(), 1);
    let now = w.clock.now();
    let moved = w
        .store
        .reassign_items(
            bob.id,
            &[ReassignRef {
                id: dave[0].id,
                kind: ReassignKind::Item,
            }],
            id(1, 3),
            "on leave",
            crate::ACTOR,
            now,
        )
        .await
        .unwrap();
    assert!(
        matches!(moved, ReassignOutcome::Moved { created: true, .. }),
        "{moved:?}"
    );
    let moved = w
        .store
        .reassign_items(
            bob.id,
            &[ReassignRef {
                id: id(1, 3),
                kind: ReassignKind::IdentitySummary,
            }],
            id(1, 1),
            "on leave",
            crate::ACTOR,
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        moved,
        ReassignOutcome::Moved {
            to_certification: ada.id,
            created: false,
            items: 4
        }
    );
    // bob has nothing left; ada has bob and cyd, cyd has dave.
    assert!(items(&w, bob.id, &all()).await.is_empty());
    let ada_items = items(&w, ada.id, &all()).await;
    let names: BTreeSet<&str> = ada_items.iter().map(|i| i.identity_name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["bob manager", "cyd worker"]));
    let page = w
        .store
        .access_review_items(
            ada.id,
            None,
            &query(
                Some(r#"access.name sw "sales""#),
                &[("identitySummary.name", true)],
                (250, 0),
            ),
        )
        .await
        .unwrap();
    let got: Vec<(&str, &str)> = page
        .items
        .iter()
        .map(|i| (i.identity_name.as_str(), i.access_name.as_str()))
        .collect();
    let mut want: Vec<(&str, &str)> = ada_items
        .iter()
        .filter(|i| i.access_name.to_lowercase().starts_with("sales"))
        .map(|i| (i.identity_name.as_str(), i.access_name.as_str()))
        .collect();
    want.sort_by(|a, b| b.0.cmp(a.0));
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        want.iter().map(|g| g.0).collect::<Vec<_>>()
    );
    let certs = w.certs(&manager).await;
    assert!(certs.iter().any(|c| c.reviewer_id == id(1, 3)));
    for c in certs.iter().filter(|c| c.id != bob.id) {
        assert_item_keys(
            w.store.as_ref(),
            c.id,
            &format!("after the moves, {}", c.name),
        )
        .await;
    }
}
