//! A small pool of read connections. A semaphore bounds the blocking tasks to the pool's size, so
//! a burst of requests queues here instead of opening connections without limit.

use std::path::PathBuf;
use std::sync::Mutex;

use recert_store::StoreError;
use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::{SqliteOptions, open_connection};

#[derive(Debug)]
pub(crate) struct Pool {
    path: PathBuf,
    opts: SqliteOptions,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Pool {
    pub(crate) fn new(path: PathBuf, opts: SqliteOptions) -> Self {
        let size = opts.readers.max(1);
        Pool {
            path,
            opts,
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size),
        }
    }

    /// Runs a point read (one row by its key, a cached statement: microseconds) on the calling
    /// task instead of a blocking thread: the hand-off to a blocking thread and back costs more
    /// than the read. Only when an idle connection is at hand; otherwise as [`Pool::run`].
    pub(crate) async fn run_point<T, F>(self: &std::sync::Arc<Self>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let Ok(permit) = self.permits.try_acquire() else {
            return self.run(f).await;
        };
        let conn = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let Some(conn) = conn else {
            drop(permit);
            return self.run(f).await;
        };
        let out = f(&conn);
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        drop(permit);
        out
    }

    pub(crate) async fn run<T, F>(self: &std::sync::Arc<Self>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("the store is closed".into()))?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match conn {
                Some(c) => c,
                None => open_connection(&pool.path, &pool.opts)?,
            };
            let out = f(&conn);
            pool.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
            out
        })
        .await
        .map_err(|e| StoreError::Database(format!("store task failed: {e}")))?
    }
}
