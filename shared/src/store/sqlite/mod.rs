//! The embedded store: one SQLite file under the data dir (`cartlink.db`).
//!
//! SQLite (bundled) was chosen over redb because its transactions and conditional `UPDATE …
//! WHERE status IN (…)` statements map one to one onto DynamoDB's conditional writes and
//! `TransactWriteItems`, and because a person can open the file with `sqlite3` to see that no
//! secret is in it. Columns hold what conditions and lookups need; `body` holds the rest as JSON.
//!
//! `invites.rs`, `attempts.rs`, `connections.rs` (with the callback's commit), `sends.rs`,
//! `counters.rs`, `leases.rs`, `idempotency.rs`, `disconnections.rs`, `events.rs`, `tenants.rs`,
//! `manage.rs` and `webhooks.rs` (with the local webhook queue and step feed) each implement one
//! part of the port on their tables.

mod accounts;
mod attempts;
mod care;
mod cart_apps;
mod cart_subscriptions;
mod commit_watch;
mod connections;
mod counters;
mod disconnections;
mod events;
mod idempotency;
mod invites;
mod leases;
mod manage;
mod pool;
mod sends;
mod tenants;
#[cfg(test)]
mod tests;
mod webhooks;

use std::path::Path;
use std::sync::{Arc, Mutex};

use pool::Cached;
use rusqlite::Connection as Db;

use super::{PageRequest, StoreError};
use crate::domain::InviteStatus;
use crate::telemetry::alarm;

const SCHEMA: &str = r#"
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS invites (
    id TEXT PRIMARY KEY,
    warehouse_id TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    access_code_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS invites_by_warehouse ON invites (warehouse_id, status, created_at);
CREATE INDEX IF NOT EXISTS invites_by_status ON invites (status, updated_at);
CREATE TABLE IF NOT EXISTS links (
    hash TEXT PRIMARY KEY,
    invite_id TEXT NOT NULL REFERENCES invites (id),
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    state_hash TEXT PRIMARY KEY,
    invite_id TEXT NOT NULL REFERENCES invites (id),
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    claim_until INTEGER
);
CREATE INDEX IF NOT EXISTS attempts_by_invite ON attempts (invite_id, seq);
CREATE TABLE IF NOT EXISTS connections (
    id TEXT PRIMARY KEY,
    invite_id TEXT NOT NULL UNIQUE REFERENCES invites (id),
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    tokens TEXT NOT NULL,
    token_expires_at INTEGER,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS connections_by_warehouse ON connections (
    json_extract(body, '$.warehouse_id'), json_extract(body, '$.created_at'), id
);
CREATE TABLE IF NOT EXISTS sends (
    invite_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    lease_until INTEGER NOT NULL,
    message_id TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (invite_id, kind)
);
CREATE TABLE IF NOT EXISTS hits (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS disconnections (
    id TEXT PRIMARY KEY,
    warehouse_id TEXT NOT NULL,
    revocation TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS invite_events (
    invite_id TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT,
    PRIMARY KEY (invite_id, key)
);
CREATE TABLE IF NOT EXISTS leases (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    owner TEXT NOT NULL,
    lease_until INTEGER NOT NULL,
    first_owner TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    status INTEGER,
    content_type TEXT,
    body TEXT
);
"#;

/// Columns added after their table was first made: (table, column, declaration). The access
/// code's hint and `resends` change on a resend, so they are columns (`access_code_hash` is one
/// from the start); a row made before has them in its body, and a NULL hint column.
const ADDED_COLUMNS: [(&str, &str, &str); 9] = [
    ("attempts", "claim_until", "INTEGER"),
    ("invites", "access_code_hint", "TEXT"),
    ("invites", "resends", "INTEGER NOT NULL DEFAULT 0"),
    ("connections", "refreshed_at", "INTEGER"),
    ("invites", "version", "INTEGER NOT NULL DEFAULT 1"),
    ("connections", "granted_at", "INTEGER"),
    ("connections", "care_at", "INTEGER"),
    ("connections", "care_noticed", "INTEGER"),
    ("connections", "subscribed_at", "INTEGER"),
];

/// The embedded store on SQLite.
pub struct SqliteStore {
    /// The one writer (and the reads that must see a write's transaction).
    db: Mutex<Db>,
    /// The readers beside it.
    readers: Arc<pool::Readers>,
    /// What tells a commit to the file since the last look; `None` where nothing can.
    watch: Option<commit_watch::CommitWatch>,
}

/// SQLite did not do the work: logged once with the alarm field, answered as
/// [`StoreError::Unavailable`].
fn unavailable(e: impl std::fmt::Display) -> StoreError {
    let detail = e.to_string();
    tracing::error!(alarm = alarm::STORE_UNAVAILABLE, store = "sqlite", error = %detail, "store call failed");
    StoreError::Unavailable(detail)
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

fn status_list(to: InviteStatus) -> Vec<String> {
    InviteStatus::sources_of(to)
        .into_iter()
        .map(|s| s.as_str().to_owned())
        .collect()
}

/// The creation time and id a page starts after, as SQL parameters (both `NULL` for the
/// first page).
fn after_of(page: &PageRequest) -> (Option<i64>, Option<&str>) {
    page.after.as_ref().map_or((None, None), |p| {
        (Some(p.created_at.0), Some(p.id.as_str()))
    })
}

impl SqliteStore {
    /// Opens (creating if needed) `cartlink.db` in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(unavailable)?;
        let path = dir.join("cartlink.db");
        let db = Db::open(&path).map_err(unavailable)?;
        pool::configure(&db)?;
        db.execute_batch(SCHEMA).map_err(unavailable)?;
        db.execute_batch(webhooks::SCHEMA).map_err(unavailable)?;
        db.execute_batch(tenants::SCHEMA).map_err(unavailable)?;
        db.execute_batch(manage::SCHEMA).map_err(unavailable)?;
        db.execute_batch(accounts::SCHEMA).map_err(unavailable)?;
        for (table, column, decl) in ADDED_COLUMNS {
            Self::add_column(&db, table, column, decl)?;
        }
        db.execute_batch(care::SCHEMA).map_err(unavailable)?;
        db.execute_batch(cart_apps::SCHEMA).map_err(unavailable)?;
        db.execute_batch(cart_subscriptions::SCHEMA)
            .map_err(unavailable)?;
        Ok(SqliteStore {
            db: Mutex::new(db),
            readers: pool::Readers::new(&path),
            watch: commit_watch::CommitWatch::open(&path)?,
        })
    }

    /// Gives a table made before `column` existed that column. Another process opening the
    /// same file may add it first; that is not an error.
    fn add_column(db: &Db, table: &str, column: &str, decl: &str) -> Result<(), StoreError> {
        let present = db
            .prepare_cached("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")
            .and_then(|mut q| q.exists([table, column]))
            .map_err(unavailable)?;
        if present {
            return Ok(());
        }
        match db.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}")) {
            Err(e) if e.to_string().contains("duplicate column") => Ok(()),
            other => other.map_err(unavailable),
        }
    }

    /// How many invites are stored (for inspection and tests).
    pub async fn invite_count(&self) -> Result<usize, StoreError> {
        self.count("invites")
    }

    /// How many connections are stored (for inspection and tests).
    pub async fn connection_count(&self) -> Result<usize, StoreError> {
        self.count("connections")
    }

    fn count(&self, table: &'static str) -> Result<usize, StoreError> {
        self.with(|db| {
            let n: i64 = db
                .row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .map_err(unavailable)?;
            usize::try_from(n).map_err(corrupt)
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Db) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut db = self
            .db
            .lock()
            .map_err(|_| unavailable("store lock poisoned"))?;
        f(&mut db)
    }
}
