//! Grant attempts; beginning one also moves its invite into `granting`.

use async_trait::async_trait;
use rusqlite::{params, Connection as Db, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::pool::Cached;
use super::{is_constraint, placeholders, status_list, unavailable, SqliteStore};
use crate::domain::{AttemptStatus, GrantAttempt, InviteId, InviteStatus, Timestamp, TokenHash};
use crate::store::record::{body_without, with_fields, ATTEMPT_MUTABLE};
use crate::store::{AttemptStore, StoreError};

impl SqliteStore {
    fn query_attempt(db: &Db, sql: &str, key: &str) -> Result<Option<GrantAttempt>, StoreError> {
        let found: Option<(String, Option<i64>, String)> = db
            .row(sql, [key], |r| {
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
}

/// Claims an attempt, `open → exchanging` with its deadline, in one statement: only while it
/// is open and unexpired and, given `invite`, only while that invite is granting and unexpired.
fn claim(
    db: &Db,
    state: &TokenHash,
    invite: Option<&InviteId>,
    now: Timestamp,
    claim_until: Timestamp,
) -> Result<(), StoreError> {
    let n = db
        .exec(
            "UPDATE attempts SET status = 'exchanging', claim_until = ?1
             WHERE state_hash = ?2 AND status = 'open'
               AND json_extract(body, '$.expires_at') > ?3
               AND (?4 IS NULL OR EXISTS (SELECT 1 FROM invites WHERE id = ?4
                                            AND status = 'granting' AND expires_at > ?3))",
            params![
                claim_until.0,
                state.as_str(),
                now.0,
                invite.map(|i| i.as_str())
            ],
        )
        .map_err(unavailable)?;
    match (n, invite) {
        (1, _) => Ok(()),
        (_, None) => Err(StoreError::Conflict("attempt not open")),
        (_, Some(_)) => Err(StoreError::Conflict(
            "attempt not open, or its invite not granting",
        )),
    }
}

#[async_trait]
impl AttemptStore for SqliteStore {
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
                "UPDATE invites SET status = 'granting', status_reason = NULL, version = version + 1, updated_at = ?
                 WHERE id = ? AND expires_at > ? AND status IN ({})",
                placeholders(from.len())
            );
            let id_str = attempt.invite_id.as_str();
            let mut args: Vec<&dyn rusqlite::ToSql> = vec![&now.0, &id_str, &now.0];
            for s in &from {
                args.push(s);
            }
            if tx.exec(&sql, args.as_slice()).map_err(unavailable)? != 1 {
                return Err(StoreError::Conflict("invite does not accept a grant"));
            }
            let seq: i64 = tx
                .row(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM attempts WHERE invite_id = ?1",
                    [id_str],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            match tx.exec(
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
        let state = state.as_str().to_owned();
        self.read(move |db| {
            Self::query_attempt(
                db,
                "SELECT status, claim_until, body FROM attempts WHERE state_hash = ?1",
                &state,
            )
        })
        .await
    }

    async fn latest_attempt(&self, invite: &InviteId) -> Result<Option<GrantAttempt>, StoreError> {
        let invite = invite.as_str().to_owned();
        self.read(move |db| {
            Self::query_attempt(
                db,
                "SELECT status, claim_until, body FROM attempts WHERE invite_id = ?1
                 ORDER BY seq DESC LIMIT 1",
                &invite,
            )
        })
        .await
    }

    async fn claim_attempt(
        &self,
        state: &TokenHash,
        now: Timestamp,
        claim_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|db| claim(db, state, None, now, claim_until))
    }

    async fn claim_granting_attempt(
        &self,
        state: &TokenHash,
        invite: &InviteId,
        now: Timestamp,
        claim_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|db| claim(db, state, Some(invite), now, claim_until))
    }

    async fn close_attempt(
        &self,
        state: &TokenHash,
        from: AttemptStatus,
        outcome: AttemptStatus,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .exec(
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
}
