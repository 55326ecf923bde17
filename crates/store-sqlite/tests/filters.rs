//! Rendered filters select the right rows on a real SQLite database.

use recert_domain::filter::parse;
use recert_store::sql::{Placeholder, render};
use recert_store_conformance::{FILTER_CASES, FILTER_ROWS, filter_column};

#[test]
fn filters_select_the_expected_rows() {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch("CREATE TABLE t (name TEXT, status TEXT, n INTEGER, created TEXT, note TEXT)")
        .unwrap();
    for (name, status, n, created, note) in FILTER_ROWS {
        c.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![name, status, n, created, note],
        )
        .unwrap();
    }
    for (filter, want) in FILTER_CASES {
        let f = parse(filter).unwrap();
        let (cond, params) = render(&f, &filter_column, Placeholder::Question, 1).unwrap();
        let mut st = c
            .prepare(&format!("SELECT name FROM t WHERE {cond} ORDER BY name"))
            .unwrap();
        let got: Vec<String> = st
            .query_map(
                rusqlite::params_from_iter(recert_store_sqlite::sql_params(&params)),
                |r| r.get(0),
            )
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut want: Vec<&str> = want.to_vec();
        want.sort();
        assert_eq!(got, want, "{filter} -> {cond}");
    }
}
