//! The embedded store's connections: one writer behind a lock (writes stay serialized, each in
//! its transaction), and beside it read-only connections that WAL lets read while the writer
//! writes. Every connection keeps its statements prepared ([`Cached`]).
//!
//! A read runs on the task that asks for it. Every read of the store is a lookup by key (or a
//! bounded page through an index) that SQLite answers in microseconds from the page cache, and
//! a WAL reader never waits for the writer's lock. Handing such a read to the blocking pool
//! cost more than the read itself: under load, 40% of the local server's CPU went to waking
//! pool threads and switching to them (perf, `make bench`; docs/benchmarks.md).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection as Db, OpenFlags, Params, Row};

use super::{unavailable, SqliteStore};
use crate::store::StoreError;

/// How many prepared statements each connection keeps: more than the store has SQL texts for
/// its hot paths.
const STATEMENT_CACHE: usize = 128;
/// How long a statement waits for a lock before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Statements through the connection's cache of prepared statements: each SQL text is parsed
/// and planned once per connection, not at every call.
pub(super) trait Cached {
    /// Runs one statement; answers how many rows it changed.
    fn exec<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    /// Runs one query and maps its first row.
    fn row<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Db {
    fn exec<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// What every connection of the store is set up with.
pub(super) fn configure(db: &Db) -> Result<(), StoreError> {
    db.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
    db.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// A read-only connection to the database file at `path`, set up as every connection is.
pub(super) fn open_reader(path: &Path) -> Result<Db, StoreError> {
    let db = Db::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(unavailable)?;
    configure(&db)?;
    Ok(db)
}

/// The read-only connections, opened as needed and kept while idle: as many as reads ran at
/// once, at most one per thread that runs tasks.
pub(super) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Db>>,
}

impl Readers {
    /// Readers of the database file at `path` (which the writer has made, in WAL mode).
    pub(super) fn new(path: &Path) -> Arc<Readers> {
        Arc::new(Readers {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        })
    }

    fn take(&self) -> Result<Db, StoreError> {
        if let Some(reader) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(reader);
        }
        open_reader(&self.path)
    }

    fn give(&self, reader: Db) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(reader);
    }
}

impl SqliteStore {
    /// Runs the read `f` on a reader, beside the writer; it sees every write committed before
    /// it started.
    pub(super) async fn read<T>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let reader = self.readers.take()?;
        let out = f(&reader);
        self.readers.give(reader);
        out
    }
}
