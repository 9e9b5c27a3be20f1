//! The embedded store: one SQLite file under the data dir (`cartlink.db`).
//!
//! SQLite (bundled) was chosen over redb because its transactions and conditional `UPDATE …
//! WHERE status IN (…)` statements map one to one onto DynamoDB's conditional writes and
//! `TransactWriteItems`, and because a person can open the file with `sqlite3` to see that no
//! secret is in it. Columns hold what conditions and lookups need; `body` holds the rest as JSON.

use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use rusqlite::{params, Connection as Db, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::record::{
    body_without, with_fields, ATTEMPT_MUTABLE, CONNECTION_MUTABLE, INVITE_MUTABLE,
};
use super::{EmailKind, SendClaim, Store, StoreError};
use crate::domain::{
    AttemptStatus, Connection, ConnectionId, ConnectionStatus, GrantAttempt, Invite, InviteId,
    InviteStatus, Timestamp, TokenHash, WarehouseId,
};
use crate::telemetry::alarm;
use crate::vault::SealedBlob;

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
CREATE TABLE IF NOT EXISTS leases (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until INTEGER NOT NULL
);
"#;

/// The embedded store on SQLite.
pub struct FileStore {
    db: Mutex<Db>,
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

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

fn status_list(to: InviteStatus) -> Vec<String> {
    InviteStatus::sources_of(to)
        .into_iter()
        .map(|s| s.as_str().to_owned())
        .collect()
}

impl FileStore {
    /// Opens (creating if needed) `cartlink.db` in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(unavailable)?;
        let db = Db::open(dir.join("cartlink.db")).map_err(unavailable)?;
        db.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(unavailable)?;
        db.execute_batch(SCHEMA).map_err(unavailable)?;
        Self::add_claim_column(&db)?;
        Ok(FileStore { db: Mutex::new(db) })
    }

    /// Gives an `attempts` table made before claims existed its `claim_until` column. Another
    /// process opening the same file may add it first; that is not an error.
    fn add_claim_column(db: &Db) -> Result<(), StoreError> {
        let present = db
            .prepare("SELECT 1 FROM pragma_table_info('attempts') WHERE name = 'claim_until'")
            .and_then(|mut q| q.exists([]))
            .map_err(unavailable)?;
        if present {
            return Ok(());
        }
        match db.execute_batch("ALTER TABLE attempts ADD COLUMN claim_until INTEGER") {
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
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
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

    fn read_invite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Invite, StoreError>> {
        let status: String = row.get("status")?;
        let reason: Option<String> = row.get("status_reason")?;
        let updated_at: i64 = row.get("updated_at")?;
        let expires_at: i64 = row.get("expires_at")?;
        let body: String = row.get("body")?;
        Ok(with_fields(
            &body,
            vec![
                ("status", Value::String(status)),
                ("status_reason", reason.map_or(Value::Null, Value::String)),
                ("updated_at", updated_at.into()),
                ("expires_at", expires_at.into()),
            ],
        ))
    }

    fn query_invite(db: &Db, sql: &str, key: &str) -> Result<Option<Invite>, StoreError> {
        db.query_row(sql, [key], Self::read_invite)
            .optional()
            .map_err(unavailable)?
            .transpose()
    }

    fn query_attempt(db: &Db, sql: &str, key: &str) -> Result<Option<GrantAttempt>, StoreError> {
        let found: Option<(String, Option<i64>, String)> = db
            .query_row(sql, [key], |r| {
                Ok((r.get("status")?, r.get("claim_until")?, r.get("body")?))
            })
            .optional()
            .map_err(unavailable)?;
        found
            .map(|(status, claim_until, body)| {
                with_fields(
                    &body,
                    vec![
                        ("status", Value::String(status)),
                        ("claim_until", claim_until.map_or(Value::Null, Value::from)),
                    ],
                )
            })
            .transpose()
    }

    fn query_connection(db: &Db, sql: &str, key: &str) -> Result<Option<Connection>, StoreError> {
        type Row = (String, i64, String, Option<i64>, String);
        let found: Option<Row> = db
            .query_row(sql, [key], |r| {
                Ok((
                    r.get("status")?,
                    r.get("version")?,
                    r.get("tokens")?,
                    r.get("token_expires_at")?,
                    r.get("body")?,
                ))
            })
            .optional()
            .map_err(unavailable)?;
        found
            .map(|(status, version, tokens, expires, body)| {
                let tokens: Value = serde_json::from_str(&tokens).map_err(corrupt)?;
                with_fields(
                    &body,
                    vec![
                        ("status", Value::String(status)),
                        ("version", version.into()),
                        ("tokens", tokens),
                        ("token_expires_at", expires.map_or(Value::Null, Value::from)),
                    ],
                )
            })
            .transpose()
    }
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

#[async_trait]
impl Store for FileStore {
    async fn insert_invite(&self, invite: &Invite, link: &TokenHash) -> Result<(), StoreError> {
        let body = body_without(invite, &INVITE_MUTABLE)?;
        self.with(|db| {
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let inserted = tx.execute(
                "INSERT INTO invites (id, warehouse_id, status, status_reason, access_code_hash,
                    created_at, updated_at, expires_at, body) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                params![
                    invite.id.as_str(),
                    invite.warehouse.id.as_str(),
                    invite.status.as_str(),
                    invite.status_reason,
                    invite.access_code_hash.as_str(),
                    invite.created_at.0,
                    invite.updated_at.0,
                    invite.expires_at.0,
                    body,
                ],
            );
            match inserted {
                Err(e) if is_constraint(&e) => return Err(StoreError::Conflict("invite exists")),
                other => other.map_err(unavailable)?,
            };
            match tx.execute(
                "INSERT INTO links (hash, invite_id, created_at) VALUES (?1, ?2, ?3)",
                params![link.as_str(), invite.id.as_str(), invite.created_at.0],
            ) {
                Err(e) if is_constraint(&e) => return Err(StoreError::Conflict("link exists")),
                other => other.map_err(unavailable)?,
            };
            tx.commit().map_err(unavailable)
        })
    }

    async fn invite(&self, id: &InviteId) -> Result<Option<Invite>, StoreError> {
        self.with(|db| Self::query_invite(db, "SELECT * FROM invites WHERE id = ?1", id.as_str()))
    }

    async fn invite_by_link(&self, link: &TokenHash) -> Result<Option<Invite>, StoreError> {
        self.with(|db| {
            Self::query_invite(
                db,
                "SELECT invites.* FROM links JOIN invites ON invites.id = links.invite_id
                 WHERE links.hash = ?1",
                link.as_str(),
            )
        })
    }

    async fn invite_by_access_code(&self, code: &TokenHash) -> Result<Option<Invite>, StoreError> {
        self.with(|db| {
            Self::query_invite(
                db,
                "SELECT * FROM invites WHERE access_code_hash = ?1",
                code.as_str(),
            )
        })
    }

    async fn add_link(
        &self,
        invite: &InviteId,
        link: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .execute(
                    "INSERT INTO links (hash, invite_id, created_at)
                     SELECT ?1, id, ?3 FROM invites WHERE id = ?2",
                    params![link.as_str(), invite.as_str(), now.0],
                )
                .map_err(|e| {
                    if is_constraint(&e) {
                        StoreError::Conflict("link exists")
                    } else {
                        unavailable(e)
                    }
                })?;
            if n == 0 {
                return Err(StoreError::Missing("invite"));
            }
            Ok(())
        })
    }

    async fn set_invite_status(
        &self,
        id: &InviteId,
        to: InviteStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let from = status_list(to);
        self.with(|db| {
            let sql = format!(
                "UPDATE invites SET status = ?, status_reason = ?, updated_at = ?
                 WHERE id = ? AND status IN ({})",
                placeholders(from.len())
            );
            let to_name = to.as_str();
            let mut args: Vec<&dyn rusqlite::ToSql> = vec![&to_name, &reason, &now.0];
            let id_str = id.as_str();
            args.push(&id_str);
            for s in &from {
                args.push(s);
            }
            let n = db.execute(&sql, args.as_slice()).map_err(unavailable)?;
            if n == 1 {
                return Ok(());
            }
            let exists: bool = db
                .query_row("SELECT 1 FROM invites WHERE id = ?1", [id.as_str()], |_| {
                    Ok(true)
                })
                .optional()
                .map_err(unavailable)?
                .unwrap_or(false);
            Err(if exists {
                StoreError::Conflict("invite status")
            } else {
                StoreError::Missing("invite")
            })
        })
    }

    async fn begin_attempt(
        &self,
        attempt: &GrantAttempt,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let from = status_list(InviteStatus::Granting);
        let body = body_without(attempt, &ATTEMPT_MUTABLE)?;
        self.with(|db| {
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let sql = format!(
                "UPDATE invites SET status = 'granting', status_reason = NULL, updated_at = ?
                 WHERE id = ? AND expires_at > ? AND status IN ({})",
                placeholders(from.len())
            );
            let id_str = attempt.invite_id.as_str();
            let mut args: Vec<&dyn rusqlite::ToSql> = vec![&now.0, &id_str, &now.0];
            for s in &from {
                args.push(s);
            }
            if tx.execute(&sql, args.as_slice()).map_err(unavailable)? != 1 {
                return Err(StoreError::Conflict("invite does not accept a grant"));
            }
            let seq: i64 = tx
                .query_row(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM attempts WHERE invite_id = ?1",
                    [id_str],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            match tx.execute(
                "INSERT INTO attempts (state_hash, invite_id, status, created_at, seq, body, claim_until)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    attempt.state_hash.as_str(),
                    id_str,
                    attempt.status.as_str(),
                    attempt.created_at.0,
                    seq,
                    body,
                    attempt.claim_until.map(|t| t.0)
                ],
            ) {
                Err(e) if is_constraint(&e) => return Err(StoreError::Conflict("attempt exists")),
                other => other.map_err(unavailable)?,
            };
            tx.commit().map_err(unavailable)
        })
    }

    async fn attempt(&self, state: &TokenHash) -> Result<Option<GrantAttempt>, StoreError> {
        self.with(|db| {
            Self::query_attempt(
                db,
                "SELECT status, claim_until, body FROM attempts WHERE state_hash = ?1",
                state.as_str(),
            )
        })
    }

    async fn latest_attempt(&self, invite: &InviteId) -> Result<Option<GrantAttempt>, StoreError> {
        self.with(|db| {
            Self::query_attempt(
                db,
                "SELECT status, claim_until, body FROM attempts WHERE invite_id = ?1
                 ORDER BY seq DESC LIMIT 1",
                invite.as_str(),
            )
        })
    }

    async fn claim_attempt(
        &self,
        state: &TokenHash,
        now: Timestamp,
        claim_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .execute(
                    "UPDATE attempts SET status = 'exchanging', claim_until = ?1
                     WHERE state_hash = ?2 AND status = 'open'
                       AND json_extract(body, '$.expires_at') > ?3",
                    params![claim_until.0, state.as_str(), now.0],
                )
                .map_err(unavailable)?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::Conflict("attempt not open"))
            }
        })
    }

    async fn close_attempt(
        &self,
        state: &TokenHash,
        from: AttemptStatus,
        outcome: AttemptStatus,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .execute(
                    "UPDATE attempts SET status = ?1 WHERE state_hash = ?2 AND status = ?3",
                    params![outcome.as_str(), state.as_str(), from.as_str()],
                )
                .map_err(unavailable)?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::Conflict("attempt not in the expected state"))
            }
        })
    }

    async fn commit_authorization(
        &self,
        connection: &Connection,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let body = body_without(connection, &CONNECTION_MUTABLE)?;
        let tokens = serde_json::to_string(&connection.tokens).map_err(corrupt)?;
        let version = i64::try_from(connection.version).map_err(corrupt)?;
        self.with(|db| {
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let invite_id = connection.invite_id.as_str();
            match tx.execute(
                "INSERT INTO connections (id, invite_id, status, version, tokens, token_expires_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    connection.id.as_str(),
                    invite_id,
                    connection.status.as_str(),
                    version,
                    tokens,
                    connection.token_expires_at.map(|t| t.0),
                    body
                ],
            ) {
                Err(e) if is_constraint(&e) => {
                    return Err(StoreError::Conflict("connection exists"))
                }
                other => other.map_err(unavailable)?,
            };
            let moved = tx
                .execute(
                    "UPDATE invites SET status = 'authorized', status_reason = NULL, updated_at = ?1
                     WHERE id = ?2 AND status = 'granting' AND expires_at > ?1",
                    params![now.0, invite_id],
                )
                .map_err(unavailable)?;
            if moved != 1 {
                return Err(StoreError::Conflict("invite not granting"));
            }
            let consumed = tx
                .execute(
                    "UPDATE attempts SET status = 'completed'
                     WHERE state_hash = ?1 AND invite_id = ?2 AND status = 'exchanging'
                       AND claim_until > ?3",
                    params![state.as_str(), invite_id, now.0],
                )
                .map_err(unavailable)?;
            if consumed != 1 {
                return Err(StoreError::Conflict("attempt not claimed"));
            }
            tx.commit().map_err(unavailable)
        })
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        self.with(|db| {
            Self::query_connection(db, "SELECT * FROM connections WHERE id = ?1", id.as_str())
        })
    }

    async fn connection_for_invite(
        &self,
        invite: &InviteId,
    ) -> Result<Option<Connection>, StoreError> {
        self.with(|db| {
            Self::query_connection(
                db,
                "SELECT * FROM connections WHERE invite_id = ?1",
                invite.as_str(),
            )
        })
    }

    async fn update_tokens(
        &self,
        id: &ConnectionId,
        tokens: &SealedBlob,
        token_expires_at: Option<Timestamp>,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        let tokens = serde_json::to_string(tokens).map_err(corrupt)?;
        let expected = i64::try_from(expected_version).map_err(corrupt)?;
        self.with(|db| {
            let n = db
                .execute(
                    "UPDATE connections SET tokens = ?1, token_expires_at = ?2, version = version + 1
                     WHERE id = ?3 AND version = ?4",
                    params![tokens, token_expires_at.map(|t| t.0), id.as_str(), expected],
                )
                .map_err(unavailable)?;
            if n == 1 {
                Ok(expected_version + 1)
            } else {
                Err(StoreError::Conflict("connection version"))
            }
        })
    }

    async fn set_connection_status(
        &self,
        id: &ConnectionId,
        status: ConnectionStatus,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .execute(
                    "UPDATE connections SET status = ?1 WHERE id = ?2",
                    params![status.as_str(), id.as_str()],
                )
                .map_err(unavailable)?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::Missing("connection"))
            }
        })
    }

    async fn invites_of(
        &self,
        warehouse: &WarehouseId,
        status: Option<InviteStatus>,
        limit: usize,
    ) -> Result<Vec<Invite>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(|db| {
            let mut stmt = db
                .prepare(
                    "SELECT * FROM invites WHERE warehouse_id = ?1 AND (?2 IS NULL OR status = ?2)
                     ORDER BY created_at DESC, id DESC LIMIT ?3",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map(
                    params![warehouse.as_str(), status.map(|s| s.as_str()), limit],
                    Self::read_invite,
                )
                .map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)?).collect()
        })
    }

    async fn claim_send(
        &self,
        invite: &InviteId,
        kind: EmailKind,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<SendClaim, StoreError> {
        self.with(|db| {
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let row: Option<(String, i64, Option<String>)> = tx
                .query_row(
                    "SELECT status, lease_until, message_id FROM sends WHERE invite_id = ?1 AND kind = ?2",
                    params![invite.as_str(), kind.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(unavailable)?;
            let claim = match row {
                Some((status, _, message_id)) if status == "sent" => {
                    SendClaim::AlreadySent(message_id.unwrap_or_default())
                }
                Some((status, lease_until, _)) if status == "sending" && lease_until > now.0 => {
                    SendClaim::Busy
                }
                _ => {
                    tx.execute(
                        "INSERT INTO sends (invite_id, kind, status, lease_until, updated_at)
                         VALUES (?1, ?2, 'sending', ?3, ?4)
                         ON CONFLICT (invite_id, kind) DO UPDATE SET status = 'sending',
                            lease_until = excluded.lease_until, updated_at = excluded.updated_at",
                        params![invite.as_str(), kind.as_str(), now.0 + lease_secs, now.0],
                    )
                    .map_err(unavailable)?;
                    SendClaim::Claimed
                }
            };
            tx.commit().map_err(unavailable)?;
            Ok(claim)
        })
    }

    async fn finish_send(
        &self,
        invite: &InviteId,
        kind: EmailKind,
        message_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .execute(
                    "UPDATE sends SET status = 'sent', message_id = ?1, updated_at = ?2
                     WHERE invite_id = ?3 AND kind = ?4 AND status = 'sending'",
                    params![message_id, now.0, invite.as_str(), kind.as_str()],
                )
                .map_err(unavailable)?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::Conflict("send not claimed"))
            }
        })
    }

    async fn release_send(&self, invite: &InviteId, kind: EmailKind) -> Result<(), StoreError> {
        self.with(|db| {
            db.execute(
                "UPDATE sends SET status = 'pending', lease_until = 0
                 WHERE invite_id = ?1 AND kind = ?2 AND status = 'sending'",
                params![invite.as_str(), kind.as_str()],
            )
            .map_err(unavailable)?;
            Ok(())
        })
    }

    async fn take_lease(
        &self,
        key: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<bool, StoreError> {
        self.with(|db| {
            let n = db
                .execute(
                    "INSERT INTO leases (key, owner, until) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, until = excluded.until
                     WHERE leases.until <= ?4 OR leases.owner = excluded.owner",
                    params![key, owner, now.0 + lease_secs, now.0],
                )
                .map_err(unavailable)?;
            Ok(n == 1)
        })
    }

    async fn release_lease(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.with(|db| {
            db.execute(
                "DELETE FROM leases WHERE key = ?1 AND owner = ?2",
                params![key, owner],
            )
            .map_err(unavailable)?;
            Ok(())
        })
    }

    async fn authorized_invites(&self, limit: usize) -> Result<Vec<Invite>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(|db| {
            let mut stmt = db
                .prepare("SELECT * FROM invites WHERE status = ?1 ORDER BY updated_at, id LIMIT ?2")
                .map_err(unavailable)?;
            let rows = stmt
                .query_map(
                    params![InviteStatus::Authorized.as_str(), limit],
                    Self::read_invite,
                )
                .map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)?).collect()
        })
    }

    async fn count_hit_within(
        &self,
        key: &str,
        window_secs: i64,
        limit: u32,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        if limit == 0 {
            return Ok(false);
        }
        let window = now.0 - now.0.rem_euclid(window_secs.max(1));
        self.with(|db| {
            // One statement: SQLite runs it under the database's write lock, so the count read
            // by the condition is the count written.
            let counted: Option<i64> = db
                .query_row(
                    "INSERT INTO hits (key, window_start, count) VALUES (?1, ?2, 1)
                     ON CONFLICT (key) DO UPDATE SET
                        count = CASE WHEN window_start = excluded.window_start THEN count + 1 ELSE 1 END,
                        window_start = excluded.window_start
                     WHERE hits.window_start <> excluded.window_start OR hits.count < ?3
                     RETURNING count",
                    params![key, window, i64::from(limit)],
                    |r| r.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            Ok(counted.is_some())
        })
    }
}

#[cfg(test)]
mod tests {
    //! What only the file adapter promises. The store contract itself (conditional writes,
    //! atomic commit, leases, counters, listing) runs against this adapter and the DynamoDB one
    //! in `tests/tests/port_contracts.rs`.
    use super::*;
    use crate::carts::CartId;
    use crate::domain::{WarehouseId, WarehouseRef};

    fn invite(status: InviteStatus) -> Invite {
        Invite {
            id: InviteId::generate(),
            warehouse: WarehouseRef {
                id: WarehouseId::parse("wh-1").unwrap(),
                display_name: "W".into(),
                notify_email: "w@w.test".into(),
            },
            cart: CartId::new("acme"),
            merchant_email: "m@m.test".into(),
            merchant_name: None,
            store: None,
            functions: vec![],
            status,
            status_reason: None,
            access_code_hash: TokenHash::of(&InviteId::generate().to_string()),
            access_code_hint: "…0000".into(),
            created_at: Timestamp(100),
            updated_at: Timestamp(100),
            expires_at: Timestamp(10_000),
        }
    }

    #[tokio::test]
    async fn data_survives_a_restart() {
        // GIVEN an invite stored in a data dir
        let dir = tempfile::tempdir().unwrap();
        let inv = invite(InviteStatus::Pending);
        FileStore::open(dir.path())
            .unwrap()
            .insert_invite(&inv, &TokenHash::of("link"))
            .await
            .unwrap();
        // WHEN the store is opened again
        let store = FileStore::open(dir.path()).unwrap();
        // THEN the invite is there, by id and by link
        assert_eq!(store.invite(&inv.id).await.unwrap(), Some(inv.clone()));
        assert_eq!(
            store.invite_by_link(&TokenHash::of("link")).await.unwrap(),
            Some(inv)
        );
    }

    #[tokio::test]
    async fn a_data_dir_from_before_claims_opens_and_its_attempts_can_be_claimed() {
        // GIVEN a data dir whose attempts table has no claim column, holding an open attempt
        let dir = tempfile::tempdir().unwrap();
        let attempt = GrantAttempt {
            state_hash: TokenHash::of("old-state"),
            invite_id: InviteId::generate(),
            cart: CartId::new("acme"),
            binding_hash: TokenHash::of("binding"),
            redirect_uri: "https://cartlink.test/oauth/callback/acme".into(),
            store: None,
            status: AttemptStatus::Open,
            created_at: Timestamp(100),
            expires_at: Timestamp(1000),
            claim_until: None,
        };
        let db = Db::open(dir.path().join("cartlink.db")).unwrap();
        db.execute_batch(
            "CREATE TABLE attempts (state_hash TEXT PRIMARY KEY, invite_id TEXT NOT NULL,
                status TEXT NOT NULL, created_at INTEGER NOT NULL, seq INTEGER NOT NULL,
                body TEXT NOT NULL);",
        )
        .unwrap();
        db.execute(
            "INSERT INTO attempts VALUES (?1, ?2, 'open', 100, 1, ?3)",
            params![
                attempt.state_hash.as_str(),
                attempt.invite_id.as_str(),
                body_without(&attempt, &["status", "claim_until"]).unwrap()
            ],
        )
        .unwrap();
        drop(db);
        // WHEN the store opens it
        let store = FileStore::open(dir.path()).unwrap();
        // THEN the attempt reads as stored, and can be claimed once
        assert_eq!(
            store.attempt(&attempt.state_hash).await.unwrap(),
            Some(attempt.clone())
        );
        store
            .claim_attempt(&attempt.state_hash, Timestamp(200), Timestamp(230))
            .await
            .unwrap();
        let claimed = store.attempt(&attempt.state_hash).await.unwrap().unwrap();
        assert_eq!(
            (claimed.status, claimed.claim_until),
            (AttemptStatus::Exchanging, Some(Timestamp(230)))
        );
        // AND it opens again now that the column exists
        assert!(FileStore::open(dir.path()).is_ok());
    }

    #[test]
    fn an_unwritable_data_dir_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(
            FileStore::open(&file.join("sub")),
            Err(StoreError::Unavailable(_))
        ));
    }
}
