//! Connections, and the callback's commit that makes one.

use async_trait::async_trait;
use rusqlite::{params, Connection as Db, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::events::insert_event;
use super::pool::Cached;
use super::{after_of, corrupt, is_constraint, unavailable, SqliteStore};
use crate::domain::{
    Connection, ConnectionId, ConnectionStatus, InviteId, Timestamp, TokenHash, WarehouseId,
};
use crate::store::listing::page_of;
use crate::store::record::{body_without, with_fields, CONNECTION_MUTABLE};
use crate::store::{
    AuthorizationCommit, ConnectionFilter, ConnectionStore, Page, PageRequest, StoreError,
};
use crate::vault::SealedBlob;

impl SqliteStore {
    /// The commit's invite and attempt half, inside the caller's transaction: the invite from
    /// `granting`, unexpired at `now`, to `authorized`; its attempt from `exchanging`, under a
    /// claim that has not lapsed, to `completed`.
    fn authorize_in(
        tx: &Db,
        invite_id: &str,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let moved = tx
            .exec(
                "UPDATE invites SET status = 'authorized', status_reason = NULL, version = version + 1, updated_at = ?1
                 WHERE id = ?2 AND status = 'granting' AND expires_at > ?1",
                params![now.0, invite_id],
            )
            .map_err(unavailable)?;
        if moved != 1 {
            return Err(StoreError::Conflict("invite not granting"));
        }
        let consumed = tx
            .exec(
                "UPDATE attempts SET status = 'completed'
                 WHERE state_hash = ?1 AND invite_id = ?2 AND status = 'exchanging'
                   AND claim_until > ?3",
                params![state.as_str(), invite_id, now.0],
            )
            .map_err(unavailable)?;
        if consumed != 1 {
            return Err(StoreError::Conflict("attempt not claimed"));
        }
        Ok(())
    }

    pub(super) fn query_connection(
        db: &Db,
        sql: &str,
        key: &str,
    ) -> Result<Option<Connection>, StoreError> {
        type Row = (String, i64, String, String, [Option<i64>; 6]);
        let found: Option<Row> = db
            .row(sql, [key], |r| {
                Ok((
                    r.get("status")?,
                    r.get("version")?,
                    r.get("tokens")?,
                    r.get("body")?,
                    [
                        r.get("token_expires_at")?,
                        r.get("refreshed_at")?,
                        r.get("granted_at")?,
                        r.get("care_at")?,
                        r.get("care_noticed")?,
                        r.get("subscribed_at")?,
                    ],
                ))
            })
            .optional()
            .map_err(unavailable)?;
        found
            .map(|(status, version, tokens, body, times)| {
                let tokens: Value = serde_json::from_str(&tokens).map_err(corrupt)?;
                let mut fields = vec![
                    ("status", Value::String(status)),
                    ("version", version.into()),
                    ("tokens", tokens),
                ];
                let names = [
                    "token_expires_at",
                    "refreshed_at",
                    "granted_at",
                    "care_at",
                    "care_noticed",
                    "subscribed_at",
                ];
                for (name, t) in names.into_iter().zip(times) {
                    fields.push((name, t.map_or(Value::Null, Value::from)));
                }
                with_fields(&body, fields)
            })
            .transpose()
    }
}

#[async_trait]
impl ConnectionStore for SqliteStore {
    async fn commit_authorization(
        &self,
        commit: &AuthorizationCommit<'_>,
    ) -> Result<(), StoreError> {
        let AuthorizationCommit {
            connection,
            state,
            now,
            step: (step, event),
            ..
        } = *commit;
        let body = body_without(connection, &CONNECTION_MUTABLE)?;
        let tokens = serde_json::to_string(&connection.tokens).map_err(corrupt)?;
        let version = i64::try_from(connection.version).map_err(corrupt)?;
        self.with(|db| {
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let invite_id = connection.invite_id.as_str();
            match tx.exec(
                "INSERT INTO connections (id, invite_id, status, version, tokens, token_expires_at, body,
                    granted_at, care_at, care_noticed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    connection.id.as_str(),
                    invite_id,
                    connection.status.as_str(),
                    version,
                    tokens,
                    connection.token_expires_at.map(|t| t.0),
                    body,
                    connection.granted_at.map(|t| t.0),
                    connection.care_at.map(|t| t.0),
                    connection.care_noticed.map(|t| t.0),
                ],
            ) {
                Err(e) if is_constraint(&e) => {
                    return Err(StoreError::Conflict("connection exists"))
                }
                other => other.map_err(unavailable)?,
            };
            super::accounts::record_shops(&tx, connection)?;
            Self::authorize_in(&tx, invite_id, state, now)?;
            if !insert_event(&tx, &connection.invite_id, step, event)? {
                return Err(StoreError::Conflict("history step recorded already"));
            }
            tx.commit().map_err(unavailable)
        })
    }

    async fn commit_reconnect(
        &self,
        invite: &InviteId,
        renewed: &Connection,
        expected_version: u64,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let tokens = serde_json::to_string(&renewed.tokens).map_err(corrupt)?;
        let expected = i64::try_from(expected_version).map_err(corrupt)?;
        self.with(|db| {
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let renewed_rows = tx
                .exec(
                    "UPDATE connections SET tokens = ?1, token_expires_at = ?2, status = 'active',
                        version = version + 1, refreshed_at = ?3, granted_at = ?6, care_at = ?7,
                        care_noticed = ?8
                     WHERE id = ?4 AND version = ?5",
                    params![
                        tokens,
                        renewed.token_expires_at.map(|t| t.0),
                        renewed.refreshed_at.map(|t| t.0),
                        renewed.id.as_str(),
                        expected,
                        renewed.granted_at.map(|t| t.0),
                        renewed.care_at.map(|t| t.0),
                        renewed.care_noticed.map(|t| t.0),
                    ],
                )
                .map_err(unavailable)?;
            if renewed_rows != 1 {
                return Err(StoreError::Conflict("connection gone or changed"));
            }
            Self::authorize_in(&tx, invite.as_str(), state, now)?;
            tx.commit().map_err(unavailable)
        })
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        let id = id.as_str().to_owned();
        self.read(move |db| {
            Self::query_connection(db, "SELECT * FROM connections WHERE id = ?1", &id)
        })
        .await
    }

    async fn connection_for_invite(
        &self,
        invite: &InviteId,
    ) -> Result<Option<Connection>, StoreError> {
        let invite = invite.as_str().to_owned();
        self.read(move |db| {
            Self::query_connection(
                db,
                // A re-authorization invite leads, once authorized, to the connection it renewed.
                "SELECT * FROM connections WHERE invite_id = ?1 OR id = (
                    SELECT json_extract(body, '$.reconnects') FROM invites
                    WHERE id = ?1 AND status IN ('authorized', 'confirmed'))",
                &invite,
            )
        })
        .await
    }

    async fn update_tokens(
        &self,
        id: &ConnectionId,
        tokens: &SealedBlob,
        token_expires_at: Option<Timestamp>,
        refreshed_at: Option<Timestamp>,
        care_at: Option<Timestamp>,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        let tokens = serde_json::to_string(tokens).map_err(corrupt)?;
        let expected = i64::try_from(expected_version).map_err(corrupt)?;
        self.with(|db| {
            let n = db
                .exec(
                    "UPDATE connections SET tokens = ?1, token_expires_at = ?2, version = version + 1,
                        refreshed_at = COALESCE(?5, refreshed_at), care_at = COALESCE(?6, care_at)
                     WHERE id = ?3 AND version = ?4",
                    params![
                        tokens,
                        token_expires_at.map(|t| t.0),
                        id.as_str(),
                        expected,
                        refreshed_at.map(|t| t.0),
                        care_at.map(|t| t.0)
                    ],
                )
                .map_err(unavailable)?;
            if n == 1 {
                Ok(expected_version + 1)
            } else {
                Err(StoreError::Conflict("connection version"))
            }
        })
    }

    async fn list_connections(
        &self,
        warehouse: &WarehouseId,
        filter: &ConnectionFilter,
        page: &PageRequest,
    ) -> Result<Page<Connection>, StoreError> {
        // One more than asked, to tell whether a next page exists.
        let want = i64::try_from(page.limit.saturating_add(1)).unwrap_or(i64::MAX);
        let (after_at, after_id) = after_of(page);
        let ids: Vec<String> = self.with(|db| {
            let mut stmt = db
                .prepare_cached(
                    "SELECT id FROM connections WHERE json_extract(body, '$.warehouse_id') = ?1
                       AND (?2 IS NULL OR status = ?2)
                       AND (?3 IS NULL OR json_extract(body, '$.cart') = ?3)
                       AND (?4 IS NULL OR json_extract(body, '$.created_at') < ?4
                            OR (json_extract(body, '$.created_at') = ?4 AND id < ?5))
                     ORDER BY json_extract(body, '$.created_at') DESC, id DESC LIMIT ?6",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map(
                    params![
                        warehouse.as_str(),
                        filter.status.map(|s| s.as_str()),
                        filter.cart.as_ref().map(|c| c.as_str()),
                        after_at,
                        after_id,
                        want
                    ],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)).collect()
        })?;
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            let read = self.with(|db| {
                Self::query_connection(db, "SELECT * FROM connections WHERE id = ?1", &id)
            })?;
            found.extend(read);
        }
        Ok(page_of(found, page.limit, ConnectionFilter::position))
    }

    async fn set_connection_status(
        &self,
        id: &ConnectionId,
        status: ConnectionStatus,
        read_version: u64,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .exec(
                    "UPDATE connections SET status = ?1,
                        care_at = CASE WHEN ?1 = 'active' THEN care_at END
                     WHERE id = ?2 AND version = ?3",
                    params![status.as_str(), id.as_str(), read_version as i64],
                )
                .map_err(unavailable)?;
            if n == 1 {
                return Ok(());
            }
            let exists = db
                .prepare_cached("SELECT 1 FROM connections WHERE id = ?1")
                .and_then(|mut q| q.exists([id.as_str()]))
                .map_err(unavailable)?;
            Err(if exists {
                StoreError::Conflict("the connection's tokens changed since they were read")
            } else {
                StoreError::Missing("connection")
            })
        })
    }
}
