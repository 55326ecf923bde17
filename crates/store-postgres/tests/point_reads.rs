//! The batched point reads (an API client, a certification by id) under concurrency: every
//! caller gets its own row, unknown keys answer nothing, a read started after a write sees it,
//! and callers that give up half-way strand nobody.

use std::time::Duration;

use recert_domain::{ApiClient, ClientRole, Id, Timestamp};
use recert_store::Store;
use recert_store_postgres::testing::TestDatabase;

fn client(n: usize) -> ApiClient {
    ApiClient {
        id: Id::generate(),
        name: format!("robot {n}"),
        secret_hash: format!("hash-{n}"),
        roles: vec![ClientRole::CertAdmin],
        identity_id: None,
        created_at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
        revoked_at: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_point_reads_answer_each_caller() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = db.store().await;
    let clients: Vec<ApiClient> = (0..40).map(client).collect();
    for c in &clients {
        store.create_api_client(c).await.unwrap();
    }

    // 800 reads at once, a tenth of them of ids nobody has: many share a query.
    let mut tasks = Vec::new();
    for n in 0..800usize {
        let store = store.clone();
        let want = (n % 10 != 0).then(|| clients[n % clients.len()].clone());
        tasks.push(tokio::spawn(async move {
            let id = want.as_ref().map(|c| c.id).unwrap_or_else(Id::generate);
            let got = store.api_client(id).await.unwrap();
            assert_eq!(got, want, "read {n}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    // A read that starts after a write, on another task, sees it.
    let at = Timestamp::parse("2026-02-01T00:00:00Z").unwrap();
    for c in &clients[..10] {
        assert!(store.revoke_api_client(c.id, at).await.unwrap());
        let reader = store.clone();
        let id = c.id;
        let seen = tokio::spawn(async move { reader.api_client(id).await })
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(seen.revoked_at, Some(at));
    }

    // Callers dropped while their read is queued or under way: later reads still answer.
    for _ in 0..5 {
        let mut gone = Vec::new();
        for c in clients.iter().cycle().take(200) {
            let store = store.clone();
            let id = c.id;
            gone.push(tokio::spawn(async move { store.api_client(id).await }));
        }
        for t in &gone {
            t.abort();
        }
    }
    let last = tokio::time::timeout(Duration::from_secs(30), store.api_client(clients[39].id))
        .await
        .expect("a read after abandoned ones must answer")
        .unwrap();
    assert_eq!(last.as_ref(), Some(&clients[39]));
}
