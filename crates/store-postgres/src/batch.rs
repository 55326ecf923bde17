//! Point reads by primary key, read together: every request that asks for a row while a read is
//! already under way waits for the next one, which fetches all of them with one `= ANY($1)`
//! query. Under load one round trip answers many requests, so neither recert nor the server pays
//! a statement per request; alone, a request is read at once, with no added wait.
//!
//! Nothing is cached: a read starts after the request arrived, so it sees every write committed
//! before that, from this process or any other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use recert_store::StoreError;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::oneshot;

use crate::db_err;

type Answer<V> = Result<Option<V>, StoreError>;
type Waiter<V> = (String, oneshot::Sender<Answer<V>>);

/// Reads rows of one kind by key, many keys per query.
pub(crate) struct PointReads<V> {
    inner: Arc<Inner<V>>,
}

impl<V> Clone for PointReads<V> {
    fn clone(&self) -> Self {
        PointReads {
            inner: self.inner.clone(),
        }
    }
}

impl<V> std::fmt::Debug for PointReads<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PointReads")
            .field("sql", &self.inner.sql)
            .finish()
    }
}

struct Inner<V> {
    pool: PgPool,
    /// A SELECT with `$1` a text array of keys; its first column is the key.
    sql: String,
    parse: fn(&PgRow) -> Result<V, StoreError>,
    /// Queries under way at once: more keep several server processes busy, fewer batch more.
    max_in_flight: usize,
    queue: Mutex<Queue<V>>,
}

struct Queue<V> {
    waiting: Vec<Waiter<V>>,
    in_flight: usize,
}

/// The most keys one query carries; the rest wait for the next.
const MAX_BATCH: usize = 256;

impl<V: Clone + Send + 'static> PointReads<V> {
    /// `sql` selects the rows whose key (its first column) is in the text array `$1`.
    pub(crate) fn new(
        pool: PgPool,
        sql: String,
        parse: fn(&PgRow) -> Result<V, StoreError>,
        max_in_flight: usize,
    ) -> Self {
        PointReads {
            inner: Arc::new(Inner {
                pool,
                sql,
                parse,
                max_in_flight: max_in_flight.max(1),
                queue: Mutex::new(Queue {
                    waiting: Vec::new(),
                    in_flight: 0,
                }),
            }),
        }
    }

    /// The row with this key, read no earlier than this call.
    pub(crate) async fn get(&self, key: String) -> Answer<V> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut q = self.inner.lock();
            q.waiting.push((key, tx));
            if q.in_flight < self.inner.max_in_flight {
                q.in_flight += 1;
                true
            } else {
                false
            }
        };
        if start {
            // On a task of its own: a caller that gives up (a closed connection drops its
            // future) must not strand the others' answers or the in-flight count.
            tokio::spawn(self.inner.clone().drive());
        }
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "a batched read ended without an answer".into(),
            ))
        })
    }
}

impl<V: Clone + Send + 'static> Inner<V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue<V>> {
        // The queue holds no invariant a panicking holder could break half-way.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads batches until nobody is waiting.
    async fn drive(self: Arc<Self>) {
        let mut slot = Slot {
            inner: self.clone(),
            held: true,
        };
        loop {
            // Let the requests already being handled reach their read first: a reader spawned
            // by the first of them would otherwise run at once and read for it alone (batches of
            // about 2 requests under load; with this, 5 and more).
            tokio::task::yield_now().await;
            let batch = {
                let mut q = self.lock();
                if q.waiting.is_empty() {
                    // Given back under the same lock that saw the queue empty: a caller that
                    // queues after this starts a reader of its own.
                    q.in_flight -= 1;
                    slot.held = false;
                    return;
                }
                let n = q.waiting.len().min(MAX_BATCH);
                q.waiting.drain(..n).collect::<Vec<_>>()
            };
            self.answer(batch).await;
        }
    }

    async fn answer(&self, batch: Vec<Waiter<V>>) {
        let mut keys: Vec<&str> = batch.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        let rows = sqlx::query(AssertSqlSafe(self.sql.as_str()))
            .bind(&keys)
            .fetch_all(&self.pool)
            .await;
        let found: Result<HashMap<String, V>, StoreError> = rows.map_err(db_err).and_then(|rows| {
            rows.iter()
                .map(|r| {
                    let key: String = r.try_get(0).map_err(db_err)?;
                    Ok((key, (self.parse)(r)?))
                })
                .collect()
        });
        for (key, tx) in batch {
            let answer = match &found {
                Ok(rows) => Ok(rows.get(&key).cloned()),
                Err(e) => Err(e.clone()),
            };
            // A caller that went away no longer wants its answer.
            let _ = tx.send(answer);
        }
    }
}

/// A reader's place among the queries in flight, given back even if the reader panics.
struct Slot<V: Clone + Send + 'static> {
    inner: Arc<Inner<V>>,
    held: bool,
}

impl<V: Clone + Send + 'static> Drop for Slot<V> {
    fn drop(&mut self) {
        if self.held {
            self.inner.lock().in_flight -= 1;
        }
    }
}
