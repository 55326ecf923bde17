//! The durable job runner on real stores: outcomes, retries, a runner that dies mid-job, and two
//! runners (two processes) on one PostgreSQL database.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use recert_core::jobs::{self, JobError, JobHandler, Runner};
use recert_domain::{Clock, Duration, Id, Job, JobState, ManualClock, Timestamp};
use recert_store::Store;
use recert_store_postgres::testing::TestDatabase;
use recert_store_sqlite::{SqliteOptions, SqliteStore};

#[derive(Debug, Default)]
struct Record(Mutex<Vec<Id>>);

#[async_trait]
impl JobHandler for Record {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        tokio::task::yield_now().await;
        self.0.lock().unwrap().push(job.id);
        Ok(())
    }
}

#[derive(Debug)]
struct Flaky;

#[async_trait]
impl JobHandler for Flaky {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        if job.attempts == 1 {
            Err(JobError::Retryable("the database was busy".into()))
        } else {
            Ok(())
        }
    }
}

#[derive(Debug)]
struct Broken;

#[async_trait]
impl JobHandler for Broken {
    async fn run(&self, _: &Job) -> Result<(), JobError> {
        Err(JobError::Permanent("the campaign has no reviewers".into()))
    }
}

#[derive(Debug)]
struct Panics;

#[async_trait]
impl JobHandler for Panics {
    async fn run(&self, _: &Job) -> Result<(), JobError> {
        panic!("a bug in a handler")
    }
}

async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("recert.db"), SqliteOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (Arc::new(store), dir)
}

fn clock() -> ManualClock {
    ManualClock::new(Timestamp::parse("2026-04-01T12:00:00.000Z").unwrap())
}

async fn drain(runner: &Runner) -> usize {
    let mut n = 0;
    while runner.run_one().await.unwrap().is_some() {
        n += 1;
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_retries_and_failures_are_recorded() {
    let (store, _dir) = sqlite().await;
    let clock = clock();
    let record = Arc::new(Record::default());
    let runner = Runner::new(store.clone(), Arc::new(clock.clone()), "runner-1")
        .handle("record", record.clone())
        .handle("flaky", Arc::new(Flaky))
        .handle("broken", Arc::new(Broken))
        .handle("panics", Arc::new(Panics));
    let mut ids = std::collections::HashMap::new();
    for kind in ["record", "flaky", "broken", "panics", "mystery"] {
        let id = jobs::enqueue(store.as_ref(), &clock, kind, serde_json::json!({}), None)
            .await
            .unwrap()
            .unwrap();
        ids.insert(kind, id);
    }
    // Four kinds are handled here; the fifth is left for a runner that knows it.
    assert_eq!(drain(&runner).await, 4);
    let job = |kind: &'static str| {
        let store = store.clone();
        let id = ids[kind];
        async move { store.job(id).await.unwrap().unwrap() }
    };
    assert_eq!(job("record").await.state, JobState::Succeeded);
    assert_eq!(*record.0.lock().unwrap(), vec![ids["record"]]);
    let flaky = job("flaky").await;
    assert_eq!(flaky.state, JobState::Queued);
    assert_eq!(
        flaky.run_at,
        clock.now().plus(Duration::seconds(5)),
        "first backoff is 5 s"
    );
    assert_eq!(flaky.last_error.as_deref(), Some("the database was busy"));
    let broken = job("broken").await;
    assert_eq!(broken.state, JobState::Failed);
    assert_eq!(
        broken.last_error.as_deref(),
        Some("the campaign has no reviewers")
    );
    let panics = job("panics").await;
    assert_eq!(panics.state, JobState::Queued);
    assert!(panics.last_error.unwrap().contains("stopped unexpectedly"));
    let mystery = job("mystery").await;
    assert_eq!((mystery.state, mystery.attempts), (JobState::Queued, 0));
    // Nothing more is due until the backoff has passed.
    assert_eq!(drain(&runner).await, 0);
    clock.advance(Duration::seconds(5));
    assert_eq!(drain(&runner).await, 2);
    let flaky = job("flaky").await;
    assert_eq!((flaky.state, flaky.attempts), (JobState::Succeeded, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_runner_died_is_taken_up_again() {
    let (store, _dir) = sqlite().await;
    let clock = clock();
    let record = Arc::new(Record::default());
    let id = jobs::enqueue(
        store.as_ref(),
        &clock,
        "record",
        serde_json::json!({}),
        None,
    )
    .await
    .unwrap()
    .unwrap();
    // A runner in another process claims the job, then is killed before it finishes.
    store
        .claim_job(
            "killed-runner",
            &["record".to_owned()],
            clock.now(),
            clock.now().plus(Duration::seconds(60)),
        )
        .await
        .unwrap()
        .unwrap();
    let runner = Runner::new(store.clone(), Arc::new(clock.clone()), "survivor")
        .handle("record", record.clone());
    assert_eq!(
        drain(&runner).await,
        0,
        "the dead runner's lease still holds"
    );
    clock.advance(Duration::seconds(61));
    assert_eq!(drain(&runner).await, 1);
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Succeeded, 2));
    assert_eq!(*record.0.lock().unwrap(), vec![id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_run_each_job_exactly_once() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let clock = clock();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    // Two processes: two stores, each with its own connection pool, on one database.
    let a: Arc<dyn Store> = Arc::new(db.store().await);
    let b: Arc<dyn Store> = Arc::new(
        recert_store_postgres::PostgresStore::connect(db.url(), Default::default())
            .await
            .unwrap(),
    );
    let record = Arc::new(Record::default());
    let mut ids = Vec::new();
    for n in 0..30 {
        let id = jobs::enqueue(
            a.as_ref(),
            &clock,
            "record",
            serde_json::json!({ "n": n }),
            None,
        )
        .await
        .unwrap()
        .unwrap();
        ids.push(id);
    }
    // A schedule firing in both processes at once enqueues its job once.
    let key = || Some("schedule:quarterly:2026-04-01".to_owned());
    let (x, y) = tokio::join!(
        jobs::enqueue(a.as_ref(), &clock, "record", serde_json::json!({}), key()),
        jobs::enqueue(b.as_ref(), &clock, "record", serde_json::json!({}), key())
    );
    let scheduled: Vec<Id> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
    assert_eq!(scheduled.len(), 1);
    ids.extend(scheduled);
    let runner_a = Runner::new(a, shared.clone(), "process-a").handle("record", record.clone());
    let runner_b = Runner::new(b, shared, "process-b").handle("record", record.clone());
    let (na, nb) = tokio::join!(
        tokio::spawn(async move { drain(&runner_a).await }),
        tokio::spawn(async move { drain(&runner_b).await })
    );
    assert_eq!(na.unwrap() + nb.unwrap(), 31);
    let mut ran = record.0.lock().unwrap().clone();
    ran.sort();
    ids.sort();
    assert_eq!(ran, ids, "every job ran exactly once");
}

/// Waits far longer than the test, unless stopped: shows whether the runner stopped it.
#[derive(Debug, Default)]
struct Slow(std::sync::atomic::AtomicBool);

#[async_trait]
impl JobHandler for Slow {
    async fn run(&self, _: &Job) -> Result<(), JobError> {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_that_loses_its_lease_stops_the_job() {
    let (store, _dir) = sqlite().await;
    let clock = clock();
    let slow = Arc::new(Slow::default());
    let id = jobs::enqueue(store.as_ref(), &clock, "slow", serde_json::json!({}), None)
        .await
        .unwrap()
        .unwrap();
    let runner = Runner::new(store.clone(), Arc::new(clock.clone()), "paused-runner")
        .with_lease(Duration::milliseconds(90))
        .handle("slow", slow.clone());
    let running = tokio::spawn(async move { runner.run_one().await });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // The runner stalls (its clock says the lease ran out) and another process takes the job.
    clock.advance(Duration::seconds(1));
    let stolen = store
        .claim_job(
            "other-process",
            &["slow".to_owned()],
            clock.now(),
            clock.now().plus(Duration::minutes(5)),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stolen.attempts, 2);
    // At its next heartbeat the first runner finds the lease gone and stops its run.
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(5), running)
        .await
        .expect("the runner stops within a heartbeat")
        .unwrap()
        .unwrap();
    assert!(outcome.is_some());
    assert!(
        !slow.0.load(std::sync::atomic::Ordering::SeqCst),
        "the first run was stopped"
    );
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!(job.lease_owner.as_deref(), Some("other-process"));
    assert_eq!((job.state, job.attempts), (JobState::Running, 2));
}
