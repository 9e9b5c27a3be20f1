//! Whether anything was committed to the store's file since the last look, told without a
//! transaction: the embedded store's [`crate::store::ChangeWatch`].
//!
//! In WAL mode every commit, by any connection of any process, rewrites the header of the
//! file's WAL index: the `-shm` file that every connection to the file maps
//! (<https://www.sqlite.org/walformat.html#the_wal_index_file_format>). SQLite itself tells that
//! a connection's snapshot is out of date by those 48 bytes having changed (`walIndexTryHdr`),
//! and so does this watch, reading them where SQLite mapped them, as SQLite reads them: the
//! first copy, a memory barrier, the second copy, and only a header both copies agree on.
//!
//! Why not `PRAGMA data_version`: it needs a read transaction, which took two `fcntl` lock calls
//! and a statement's run on every look; on the local server that was most of the work of
//! answering a grant page it already had (issue 14; docs/benchmarks.md). A look here is some
//! fifty instructions and no system call.

use std::ffi::{c_int, c_void};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{fence, Ordering};
use std::sync::Mutex;

use rusqlite::{ffi, Connection as Db};

use super::{unavailable, SqliteStore};
use crate::store::StoreError;

/// The words of one copy of the header (`WalIndexHdr`, 48 bytes).
const HEADER_WORDS: usize = 12;
/// The WAL index format this reads (`WALINDEX_MAX_VERSION`, the header's first word).
const WAL_INDEX_VERSION: u32 = 3_007_000;
/// The size SQLite maps the WAL index in (`WALINDEX_PGSZ`); the header is at the start of the
/// first region.
const WAL_INDEX_REGION: c_int = 32_768;

/// One copy of the WAL index header, as words.
type Header = [u32; HEADER_WORDS];

/// The watch: where SQLite mapped the file's WAL index header, and what the last look saw.
pub(super) struct CommitWatch {
    /// The two copies of the header, 24 words, in the connection's mapping of the `-shm` file.
    header: NonNull<u32>,
    /// The connection that mapped it: the mapping lasts while the connection is open, so the
    /// watch owns it and never uses it again.
    _db: Db,
    seen: Mutex<Seen>,
}

// SAFETY: `header` points into a shared mapping that stays while `_db` is open, which is as long
// as the watch exists; it is only ever read, with volatile reads, as SQLite's own readers read
// it while other connections and processes write it. `_db` is never used through `&self`.
unsafe impl Send for CommitWatch {}
// SAFETY: as above; what a look changes is behind the mutex.
unsafe impl Sync for CommitWatch {}

#[derive(Default)]
struct Seen {
    header: Option<Header>,
    mark: u64,
}

impl CommitWatch {
    /// A watch on the database file at `path`, already in WAL mode; `None` where SQLite keeps
    /// no WAL index in shared memory for it (a VFS without one), so that nothing can be told.
    pub(super) fn open(path: &Path) -> Result<Option<CommitWatch>, StoreError> {
        let db = super::pool::open_reader(path)?;
        // A read opens the WAL and maps its index, which then stays mapped while `db` is open.
        db.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(unavailable)?;
        let Some(header) = wal_index_of(&db) else {
            return Ok(None);
        };
        let watch = CommitWatch {
            header,
            _db: db,
            seen: Mutex::default(),
        };
        let (first, _) = watch.copies();
        Ok((first[0] == WAL_INDEX_VERSION).then_some(watch))
    }

    /// The change mark: it moves when the header differs from the one the last look saw (a
    /// commit since), and whenever the look cannot tell (a commit writing the header now).
    pub(super) fn mark(&self) -> u64 {
        let (first, second) = self.copies();
        let now = agreed(&first, &second);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if now.is_none() || now != seen.header {
            seen.mark += 1;
        }
        seen.header = now;
        seen.mark
    }

    /// Both copies of the header, the first read before the second (SQLite writes them the
    /// other way round).
    fn copies(&self) -> (Header, Header) {
        let word = |i: usize| {
            // SAFETY: the mapped region is 32 KB; the two copies are its first 96 bytes, and
            // the mapping lasts as long as `self` (see `unsafe impl Send`).
            unsafe { self.header.as_ptr().add(i).read_volatile() }
        };
        let first = std::array::from_fn(word);
        fence(Ordering::SeqCst);
        let second = std::array::from_fn(|i| word(HEADER_WORDS + i));
        (first, second)
    }
}

#[async_trait::async_trait]
impl crate::store::ChangeWatch for SqliteStore {
    /// Every write, this process's or another's, is a commit to the one file, which rewrites
    /// its WAL index header ([`CommitWatch`]).
    async fn change_mark(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.watch.as_ref().map(CommitWatch::mark))
    }
}

/// The header both copies agree on, if it is initialised; `None` while a commit is writing it
/// (the copies differ) or before any connection set it up.
fn agreed(first: &Header, second: &Header) -> Option<Header> {
    // `isInit` is the byte at offset 12: the first byte of the fourth word, in memory order.
    let initialised = first[3].to_ne_bytes()[0] != 0;
    (first == second && initialised).then_some(*first)
}

/// Where `db` has the first region of its file's WAL index mapped, through the VFS's own
/// `xShmMap` (the public VFS interface that SQLite's WAL code maps it through).
fn wal_index_of(db: &Db) -> Option<NonNull<u32>> {
    let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
    // SAFETY: `handle` is the open connection's; `SQLITE_FCNTL_FILE_POINTER` writes the main
    // database's `sqlite3_file` pointer into `file`, which lives while the connection does.
    let rc = unsafe {
        ffi::sqlite3_file_control(
            db.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_FILE_POINTER,
            (&raw mut file).cast::<c_void>(),
        )
    };
    if rc != ffi::SQLITE_OK || file.is_null() {
        return None;
    }
    // SAFETY: `file` is the connection's open database file; its methods table is SQLite's.
    let methods = unsafe { (*file).pMethods.as_ref() }?;
    let map = methods.xShmMap.filter(|_| methods.iVersion >= 2)?;
    let mut region: *mut c_void = std::ptr::null_mut();
    // SAFETY: asks for region 0 without growing the file (`bExtend` 0); the connection's read
    // has mapped it already, so this answers the existing mapping.
    let rc = unsafe { map(file, 0, WAL_INDEX_REGION, 0, &raw mut region) };
    if rc != ffi::SQLITE_OK {
        return None;
    }
    NonNull::new(region.cast::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(change: u32) -> Header {
        let mut h = [0; HEADER_WORDS];
        h[0] = WAL_INDEX_VERSION;
        h[2] = change;
        h[3] = u32::from_ne_bytes([1, 0, 0, 16]);
        h
    }

    #[test]
    fn copies_that_agree_are_the_header() {
        // GIVEN both copies of an initialised header alike
        let (first, second) = (header(7), header(7));
        // WHEN they are read together
        let got = agreed(&first, &second);
        // THEN the header is theirs
        assert_eq!(got, Some(header(7)));
    }

    #[test]
    fn copies_that_differ_tell_nothing() {
        // GIVEN a commit that has written the second copy and not yet the first
        let (first, second) = (header(7), header(8));
        // WHEN they are read together
        let got = agreed(&first, &second);
        // THEN no header is told
        assert_eq!(got, None);
    }

    #[test]
    fn an_uninitialised_header_tells_nothing() {
        // GIVEN two copies alike, with `isInit` (the byte at offset 12) zero
        let mut h = header(7);
        h[3] = u32::from_ne_bytes([0, 0, 0, 16]);
        // WHEN they are read together
        let got = agreed(&h, &h);
        // THEN no header is told
        assert_eq!(got, None);
    }
}
