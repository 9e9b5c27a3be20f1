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
use std::sync::atomic::{AtomicU64, Ordering};
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

/// The read-only connections, opened as needed and kept while idle: as many as reads ran at
/// once, at most one per thread that runs tasks. They also watch for commits
/// ([`Readers::change_mark`]).
pub(super) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Reader>>,
    /// The change mark: moved on by every reader that saw a commit since it last looked.
    mark: AtomicU64,
}

/// A read-only connection, and the `data_version` it last saw (`None` until it first looks).
pub(super) struct Reader {
    db: Db,
    seen: Option<i64>,
}

impl Readers {
    /// Readers of the database file at `path` (which the writer has made, in WAL mode).
    pub(super) fn new(path: &Path) -> Arc<Readers> {
        Arc::new(Readers {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            mark: AtomicU64::new(0),
        })
    }

    pub(super) fn take(&self) -> Result<Reader, StoreError> {
        if let Some(reader) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(reader);
        }
        let db = Db::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(unavailable)?;
        configure(&db)?;
        Ok(Reader { db, seen: None })
    }

    pub(super) fn give(&self, reader: Reader) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(reader);
    }

    /// The store's change mark ([`crate::store::ChangeWatch`]). SQLite's `data_version` of a
    /// connection moves when any other connection (the writer, another process) committed since
    /// that connection last read; a reader never commits. Each reader's number is its own, so a
    /// reader that sees its number move, or looks for the first time (it cannot know what came
    /// before it), moves the one mark all of them share. A commit after a mark was taken is seen
    /// by every reader at its next look, so the mark any of them answers then has moved.
    pub(super) fn change_mark(&self) -> Result<u64, StoreError> {
        let mut reader = self.take()?;
        let version = reader
            .db
            .row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))
            .map_err(unavailable);
        let mark = version.map(|version| {
            if reader.seen != Some(version) {
                reader.seen = Some(version);
                self.mark.fetch_add(1, Ordering::SeqCst);
            }
            self.mark.load(Ordering::SeqCst)
        });
        self.give(reader);
        mark
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
        let out = f(&reader.db);
        self.readers.give(reader);
        out
    }
}

#[async_trait::async_trait]
impl crate::store::ChangeWatch for SqliteStore {
    /// Every write, this process's or another's, is a commit to the one file, which
    /// `data_version` sees ([`Readers::change_mark`]).
    async fn change_mark(&self) -> Result<Option<u64>, StoreError> {
        self.readers.change_mark().map(Some)
    }
}
