//! Items written before review_items carried their names (schema 5): a backend migrates a
//! database holding them, and the names its lists filter and sort on are filled in.

use recert_domain::Id;
use recert_domain::filter::{Paging, Sorter, parse};
use recert_store::{ListQuery, Store};

/// The certification the rows of [`ITEMS_BEFORE_KEYS`] belong to.
pub const KEYS_CERTIFICATION: &str = "0000000000000000000000000000c001";

/// (item, access name shown) of the rows of [`ITEMS_BEFORE_KEYS`], in id order.
const ITEMS: [(&str, &str); 4] = [
    ("00000000000000000000000000000101", "Beta-Group"),
    ("00000000000000000000000000000102", "Alpha Profile"),
    ("00000000000000000000000000000103", "Gamma Role"),
    ("00000000000000000000000000000104", "svc-x"),
];

/// A campaign of schema 5 (valid SQL on both backends): Zed Person's entitlement (source
/// Directory) and access profile (source Ledger), Amy Person's role and account; the
/// certification's neighbour in the same campaign has an item of its own.
pub const ITEMS_BEFORE_KEYS: &str = "
INSERT INTO campaigns (id, name, type, status, correlated_status, email_notification_enabled,
    auto_revoke_allowed, recommendations_enabled, sunset_comments_required,
    mandatory_comment_requirement, config, total_certifications, created_at, modified_at)
VALUES ('0000000000000000000000000000a001', 'Old', 'MANAGER', 'ACTIVE', 'CORRELATED', FALSE,
    FALSE, FALSE, FALSE, 'NO_DECISIONS', '{}', 2, '2026-01-01T00:00:00Z',
    '2026-01-01T00:00:00Z');
INSERT INTO certifications (id, campaign_id, name, reviewer_id, reviewer_name, phase,
    decisions_total, identities_total, created_at, modified_at)
VALUES ('0000000000000000000000000000c001', '0000000000000000000000000000a001', 'Old - R1',
    '000000000000000000000000000000e1', 'R1', 'ACTIVE', 4, 2, '2026-01-01T00:00:00Z',
    '2026-01-01T00:00:00Z'),
    ('0000000000000000000000000000c002', '0000000000000000000000000000a001', 'Old - R2',
    '000000000000000000000000000000e2', 'R2', 'ACTIVE', 1, 1, '2026-01-01T00:00:00Z',
    '2026-01-01T00:00:00Z');
INSERT INTO certification_subjects (id, certification_id, subject_id, name, items_total)
VALUES ('000000000000000000000000000005a1', '0000000000000000000000000000c001',
    '000000000000000000000000000000d1', 'Zed Person', 2),
    ('000000000000000000000000000005a2', '0000000000000000000000000000c001',
    '000000000000000000000000000000d2', 'Amy Person', 2),
    ('000000000000000000000000000005a3', '0000000000000000000000000000c002',
    '000000000000000000000000000000d1', 'Zed Person', 1);
INSERT INTO campaign_access (campaign_id, access_type, access_id, name, privileged, source_id,
    source_name)
VALUES ('0000000000000000000000000000a001', 'ENTITLEMENT', '000000000000000000000000000004e1',
    'Beta-Group', FALSE, '000000000000000000000000000002f1', 'Directory'),
    ('0000000000000000000000000000a001', 'ACCESS_PROFILE', '000000000000000000000000000005f1',
    'Alpha Profile', FALSE, '000000000000000000000000000002f2', 'Ledger'),
    ('0000000000000000000000000000a001', 'ROLE', '000000000000000000000000000006f1',
    'Gamma Role', FALSE, NULL, NULL);
INSERT INTO review_items (id, certification_id, campaign_id, summary_id, subject_id,
    access_type, access_id, account_id, account_name, new_access)
VALUES ('00000000000000000000000000000101', '0000000000000000000000000000c001',
    '0000000000000000000000000000a001', '000000000000000000000000000005a1',
    '000000000000000000000000000000d1', 'ENTITLEMENT', '000000000000000000000000000004e1',
    '000000000000000000000000000003a1', 'zed', FALSE),
    ('00000000000000000000000000000102', '0000000000000000000000000000c001',
    '0000000000000000000000000000a001', '000000000000000000000000000005a1',
    '000000000000000000000000000000d1', 'ACCESS_PROFILE', '000000000000000000000000000005f1',
    NULL, NULL, FALSE),
    ('00000000000000000000000000000103', '0000000000000000000000000000c001',
    '0000000000000000000000000000a001', '000000000000000000000000000005a2',
    '000000000000000000000000000000d2', 'ROLE', '000000000000000000000000000006f1',
    NULL, NULL, FALSE),
    ('00000000000000000000000000000104', '0000000000000000000000000000c001',
    '0000000000000000000000000000a001', '000000000000000000000000000005a2',
    '000000000000000000000000000000d2', 'ACCOUNT', '000000000000000000000000000003a2',
    '000000000000000000000000000003a2', 'svc-x', FALSE),
    ('00000000000000000000000000000201', '0000000000000000000000000000c002',
    '0000000000000000000000000000a001', '000000000000000000000000000005a3',
    '000000000000000000000000000000d1', 'ENTITLEMENT', '000000000000000000000000000004e1',
    NULL, NULL, FALSE);
";

fn query(filter: Option<&str>, sorters: &[(&'static str, bool)]) -> ListQuery {
    ListQuery {
        filter: filter.map(|f| parse(f).unwrap()),
        sorters: sorters
            .iter()
            .map(|&(field, descending)| Sorter { field, descending })
            .collect(),
        paging: Paging {
            limit: 250,
            offset: 0,
            count: true,
        },
    }
}

/// After migrating a database holding [`ITEMS_BEFORE_KEYS`], the items are found and sorted by
/// their access's name (or account's), source and identity's name.
pub async fn items_before_keys_are_filled_in(store: &dyn Store) {
    let cert = Id::parse(KEYS_CERTIFICATION).unwrap();
    let item = |n: usize| Id::parse(ITEMS[n].0).unwrap();
    let list = |filter: Option<&'static str>, sorters: &'static [(&'static str, bool)]| async move {
        let page = store
            .access_review_items(cert, None, &query(filter, sorters))
            .await
            .unwrap();
        let ids: Vec<Id> = page.items.iter().map(|i| i.id).collect();
        assert_eq!(page.total, Some(ids.len() as u64), "{filter:?} {sorters:?}");
        ids
    };
    let every = store
        .access_review_items(cert, None, &query(None, &[]))
        .await
        .unwrap()
        .items;
    let shown: Vec<(String, &str)> = every
        .iter()
        .map(|i| (i.id.to_string(), i.access_name.as_str()))
        .collect();
    let want: Vec<(String, &str)> = ITEMS.iter().map(|(i, n)| (i.to_string(), *n)).collect();
    assert_eq!(shown, want);
    for (filter, want) in [
        (r#"access.name eq "beta-group""#, vec![item(0)]),
        (r#"access.name eq "SVC-X""#, vec![item(3)]),
        (r#"access.name sw "gamma""#, vec![item(2)]),
        (r#"entitlement.sourceName eq "directory""#, vec![item(0)]),
        (r#"accessProfile.sourceName eq "Ledger""#, vec![item(1)]),
        (r#"entitlement.sourceName eq "Ledger""#, vec![]),
        (
            r#"identitySummary.name eq "amy person""#,
            vec![item(2), item(3)],
        ),
        (
            r#"identitySummary.name sw "zed" and access.name co "a""#,
            vec![item(0), item(1)],
        ),
    ] {
        assert_eq!(list(Some(filter), &[]).await, want, "{filter}");
    }
    assert_eq!(
        list(None, &[("access.name", false)]).await,
        vec![item(1), item(0), item(2), item(3)]
    );
    assert_eq!(
        list(None, &[("identitySummary.name", true)]).await,
        vec![item(0), item(1), item(2), item(3)]
    );
    assert_eq!(
        list(
            None,
            &[("identitySummary.name", false), ("access.name", true)]
        )
        .await,
        vec![item(3), item(2), item(0), item(1)]
    );
    // Sources: the entitlement's first ascending, items with none after it by id.
    assert_eq!(
        list(None, &[("entitlement.sourceName", false)]).await,
        vec![item(0), item(1), item(2), item(3)]
    );
    assert_eq!(
        list(None, &[("accessProfile.sourceName", true)]).await,
        vec![item(0), item(2), item(3), item(1)]
    );
}
