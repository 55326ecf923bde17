//! Rendered filters select the right rows on a real PostgreSQL database.

use recert_domain::filter::parse;
use recert_store::sql::{Placeholder, render};
use recert_store_conformance::{FILTER_CASES, FILTER_ROWS, filter_column};
use recert_store_postgres::testing::TestDatabase;
use sqlx::{AssertSqlSafe, Row};

#[tokio::test]
async fn filters_select_the_expected_rows() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = db.store().await;
    let pool = store.pool();
    sqlx::query(
        "CREATE TABLE t (name TEXT, status TEXT, n BIGINT, created TIMESTAMPTZ, note TEXT)",
    )
    .execute(pool)
    .await
    .unwrap();
    for (name, status, n, created, note) in FILTER_ROWS {
        sqlx::query("INSERT INTO t VALUES ($1, $2, $3, $4::timestamptz, $5)")
            .bind(name)
            .bind(status)
            .bind(n)
            .bind(created)
            .bind(note)
            .execute(pool)
            .await
            .unwrap();
    }
    for (filter, want) in FILTER_CASES {
        let f = parse(filter).unwrap();
        let (cond, params) = render(&f, &filter_column, Placeholder::Dollar, 1).unwrap();
        let sql = format!("SELECT name FROM t WHERE {cond} ORDER BY name COLLATE \"C\"");
        let q = recert_store_postgres::bind_params(sqlx::query(AssertSqlSafe(sql)), &params);
        let got: Vec<String> = q
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut want: Vec<&str> = want.to_vec();
        want.sort();
        assert_eq!(got, want, "{filter} -> {cond}");
    }
    store.close().await;
}
