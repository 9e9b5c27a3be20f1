//! Manage links (by hash) and last token fetches, each in its own table.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::{corrupt, is_constraint, unavailable, SqliteStore};
use crate::domain::{ConnectionId, InviteId, Timestamp, TokenHash};
use crate::store::manage::FETCH_RECORD_EVERY_SECS;
use crate::store::{ManageLink, ManageLinks, StoreError};

/// The tables of this part, made at open like the others.
pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS manage_links (
    hash TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL,
    invite_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS token_fetches (
    connection_id TEXT PRIMARY KEY,
    at INTEGER NOT NULL
);
"#;

#[async_trait]
impl ManageLinks for SqliteStore {
    async fn add_manage_link(
        &self,
        link: &TokenHash,
        record: &ManageLink,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            match db.execute(
                "INSERT INTO manage_links (hash, connection_id, invite_id, created_at) VALUES (?1,?2,?3,?4)",
                params![
                    link.as_str(),
                    record.connection_id.as_str(),
                    record.invite_id.as_str(),
                    record.created_at.0
                ],
            ) {
                Err(e) if is_constraint(&e) => Err(StoreError::Conflict("manage link exists")),
                other => other.map(|_| ()).map_err(unavailable),
            }
        })
    }

    async fn manage_link(&self, link: &TokenHash) -> Result<Option<ManageLink>, StoreError> {
        self.with(|db| {
            let row: Option<(String, String, i64)> = db
                .query_row(
                    "SELECT connection_id, invite_id, created_at FROM manage_links WHERE hash = ?1",
                    [link.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(unavailable)?;
            row.map(|(connection, invite, at)| {
                Ok(ManageLink {
                    connection_id: ConnectionId::parse(&connection)
                        .ok_or_else(|| corrupt("manage link's connection id"))?,
                    invite_id: InviteId::parse(&invite)
                        .ok_or_else(|| corrupt("manage link's invite id"))?,
                    created_at: Timestamp(at),
                })
            })
            .transpose()
        })
    }

    async fn record_token_fetch(&self, id: &ConnectionId, at: Timestamp) -> Result<(), StoreError> {
        self.with(|db| {
            db.execute(
                "INSERT INTO token_fetches (connection_id, at) VALUES (?1, ?2)
                 ON CONFLICT (connection_id) DO UPDATE SET at = excluded.at
                 WHERE token_fetches.at <= ?3",
                params![id.as_str(), at.0, at.0 - FETCH_RECORD_EVERY_SECS],
            )
            .map_err(unavailable)?;
            Ok(())
        })
    }

    async fn last_token_fetch(&self, id: &ConnectionId) -> Result<Option<Timestamp>, StoreError> {
        self.with(|db| {
            db.query_row(
                "SELECT at FROM token_fetches WHERE connection_id = ?1",
                [id.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|at| at.map(Timestamp))
            .map_err(unavailable)
        })
    }
}
