//! Cases about durable jobs: claims, leases, retries, kinds and attempts.

use recert_domain::{Clock, Duration, Id, ManualClock};
use recert_store::Store;

use crate::suite::clock;

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
