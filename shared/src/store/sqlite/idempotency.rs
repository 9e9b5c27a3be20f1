//! Idempotency records: one row per key; expiry is checked on every read (SQLite has no TTL).

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::pool::Cached;
use super::{corrupt, unavailable, SqliteStore};
use crate::domain::Timestamp;
use crate::store::{IdempotencyKeys, IdempotencyRecord, IdempotencyTake, StoreError, StoredAnswer};

/// A row as the take reads it.
struct Row {
    request_hash: String,
    state: String,
    lease_until: i64,
    first_owner: String,
    expires_at: i64,
    status: Option<i64>,
    content_type: Option<String>,
    body: Option<String>,
}

impl Row {
    fn held(self) -> Result<IdempotencyTake, StoreError> {
        let record = if self.state == "done" {
            let status = self
                .status
                .ok_or_else(|| corrupt("answer lacks its status"))?;
            IdempotencyRecord::Done(StoredAnswer {
                status: u16::try_from(status).map_err(corrupt)?,
                content_type: self.content_type.unwrap_or_default(),
                body: serde_json::from_str(self.body.as_deref().unwrap_or_default())
                    .map_err(corrupt)?,
            })
        } else {
            IdempotencyRecord::InProgress {
                lease_until: Timestamp(self.lease_until),
            }
        };
        Ok(IdempotencyTake::Held {
            request_hash: self.request_hash,
            record,
        })
    }
}

#[async_trait]
impl IdempotencyKeys for SqliteStore {
    async fn take_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
        keep_secs: i64,
    ) -> Result<IdempotencyTake, StoreError> {
        self.with(|db| {
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let row = tx
                .row(
                    "SELECT request_hash, state, lease_until, first_owner, expires_at, status,
                            content_type, body FROM idempotency WHERE key = ?1",
                    params![key],
                    |r| {
                        Ok(Row {
                            request_hash: r.get(0)?,
                            state: r.get(1)?,
                            lease_until: r.get(2)?,
                            first_owner: r.get(3)?,
                            expires_at: r.get(4)?,
                            status: r.get(5)?,
                            content_type: r.get(6)?,
                            body: r.get(7)?,
                        })
                    },
                )
                .optional()
                .map_err(unavailable)?;
            let take = match row {
                Some(row) if row.expires_at > now.0 => {
                    let lapsed = row.state == "in_progress"
                        && row.lease_until <= now.0
                        && row.request_hash == request_hash;
                    if !lapsed {
                        return row.held();
                    }
                    tx.exec(
                        "UPDATE idempotency SET owner = ?1, lease_until = ?2 WHERE key = ?3",
                        params![owner, now.0 + lease_secs, key],
                    )
                    .map_err(unavailable)?;
                    IdempotencyTake::Taken {
                        first_owner: row.first_owner,
                        taken_over: true,
                    }
                }
                _ => {
                    tx.exec(
                        "INSERT INTO idempotency (key, request_hash, state, owner, lease_until,
                            first_owner, expires_at) VALUES (?1, ?2, 'in_progress', ?3, ?4, ?3, ?5)
                         ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash,
                            state = excluded.state, owner = excluded.owner,
                            lease_until = excluded.lease_until, first_owner = excluded.first_owner,
                            expires_at = excluded.expires_at, status = NULL,
                            content_type = NULL, body = NULL",
                        params![
                            key,
                            request_hash,
                            owner,
                            now.0 + lease_secs,
                            now.0 + keep_secs
                        ],
                    )
                    .map_err(unavailable)?;
                    IdempotencyTake::Taken {
                        first_owner: owner.to_owned(),
                        taken_over: false,
                    }
                }
            };
            tx.commit().map_err(unavailable)?;
            Ok(take)
        })
    }

    async fn finish_idempotency_key(
        &self,
        key: &str,
        owner: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(&answer.body).map_err(corrupt)?;
        self.with(|db| {
            let n = db
                .exec(
                    "UPDATE idempotency SET state = 'done', status = ?1, content_type = ?2,
                        body = ?3 WHERE key = ?4 AND owner = ?5 AND state = 'in_progress'",
                    params![
                        i64::from(answer.status),
                        answer.content_type,
                        body,
                        key,
                        owner
                    ],
                )
                .map_err(unavailable)?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::Conflict("idempotency key not held"))
            }
        })
    }

    async fn release_idempotency_key(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.with(|db| {
            db.exec(
                "DELETE FROM idempotency WHERE key = ?1 AND owner = ?2 AND state = 'in_progress'",
                params![key, owner],
            )
            .map_err(unavailable)?;
            Ok(())
        })
    }
}
