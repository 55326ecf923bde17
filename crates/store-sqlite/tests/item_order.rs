//! A page of a certification's items sorted by access name is read from the index that holds
//! them in that order (migration 0009), not sorted: the statement the store builds for the
//! page's keys, planned by SQLite.

use recert_domain::filter::{Sorter, parse};
use recert_store::Store;
use recert_store::certifications::{ITEM_KEYS_FROM, item_column, item_sort_column, order_by};
use recert_store::sql::{Placeholder, render};
use recert_store_sqlite::SqliteStore;

fn plan(c: &rusqlite::Connection, sorters: &[Sorter]) -> String {
    let filter = parse("completed eq false").unwrap();
    let (cond, _) = render(&filter, &item_column, Placeholder::Question, 2).unwrap();
    let order = order_by(sorters, item_sort_column, "i.id", "i.id");
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT i.id FROM {ITEM_KEYS_FROM}
         WHERE i.certification_id = ?1 AND {cond} {order} LIMIT 250 OFFSET 0"
    );
    let mut st = c.prepare(&sql).unwrap();
    let n = st.parameter_count();
    let rows: Vec<String> = st
        .query_map(rusqlite::params_from_iter((0..n).map(|_| 0)), |r| r.get(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.join("\n")
}

#[tokio::test]
async fn a_page_sorted_by_access_name_reads_the_name_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recert.db");
    let store = SqliteStore::open(&path, Default::default()).await.unwrap();
    store.migrate().await.unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    for descending in [false, true] {
        let p = plan(
            &c,
            &[Sorter {
                field: "access.name",
                descending,
            }],
        );
        assert!(p.contains("review_items_by_access_name"), "{p}");
        // The tie (id, ascending) may be sorted within one name; the names never are.
        assert!(!p.contains("TEMP B-TREE FOR ORDER BY"), "{p}");
    }
    // A sorter no index holds sorts the certification's matching items.
    let p = plan(
        &c,
        &[Sorter {
            field: "entitlement.sourceName",
            descending: false,
        }],
    );
    assert!(p.contains("TEMP B-TREE FOR ORDER BY"), "{p}");
}
