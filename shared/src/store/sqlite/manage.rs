//! Manage links (by hash, filed by the merchant's address hash too) and last token fetches,
//! each in its own table.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::pool::Cached;
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
    created_at INTEGER NOT NULL,
    merchant_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS manage_links_by_merchant ON manage_links (merchant_hash, connection_id);
CREATE TABLE IF NOT EXISTS token_fetches (
    connection_id TEXT PRIMARY KEY,
    at INTEGER NOT NULL
);
"#;

const COLUMNS: &str = "connection_id, invite_id, created_at, merchant_hash";

type Row = (String, String, i64, String);

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn into_link((connection, invite, at, merchant): Row) -> Result<ManageLink, StoreError> {
    Ok(ManageLink {
        connection_id: ConnectionId::parse(&connection)
            .ok_or_else(|| corrupt("manage link's connection id"))?,
        invite_id: InviteId::parse(&invite).ok_or_else(|| corrupt("manage link's invite id"))?,
        created_at: Timestamp(at),
        merchant: TokenHash::from_stored(&merchant)
            .ok_or_else(|| corrupt("manage link's merchant hash"))?,
    })
}

#[async_trait]
impl ManageLinks for SqliteStore {
    async fn add_manage_link(
        &self,
        link: &TokenHash,
        record: &ManageLink,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            match db.exec(
                "INSERT INTO manage_links (hash, connection_id, invite_id, created_at, merchant_hash) \
                 VALUES (?1,?2,?3,?4,?5)",
                params![
                    link.as_str(),
                    record.connection_id.as_str(),
                    record.invite_id.as_str(),
                    record.created_at.0,
                    record.merchant.as_str()
                ],
            ) {
                Err(e) if is_constraint(&e) => Err(StoreError::Conflict("manage link exists")),
                other => other.map(|_| ()).map_err(unavailable),
            }
        })
    }

    async fn manage_link(&self, link: &TokenHash) -> Result<Option<ManageLink>, StoreError> {
        self.with(|db| {
            let row = db
                .row(
                    &format!("SELECT {COLUMNS} FROM manage_links WHERE hash = ?1"),
                    [link.as_str()],
                    read_row,
                )
                .optional()
                .map_err(unavailable)?;
            row.map(into_link).transpose()
        })
    }

    async fn manage_links_for(&self, merchant: &TokenHash) -> Result<Vec<ManageLink>, StoreError> {
        self.with(|db| {
            let mut q = db
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM manage_links WHERE merchant_hash = ?1 ORDER BY created_at"
                ))
                .map_err(unavailable)?;
            let rows = q
                .query_map([merchant.as_str()], read_row)
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            // The latest link of each connection (later rows replace earlier ones).
            let mut latest = std::collections::BTreeMap::new();
            for row in rows {
                let link = into_link(row)?;
                latest.insert(link.connection_id.clone(), link);
            }
            Ok(latest.into_values().collect())
        })
    }

    async fn record_token_fetch(&self, id: &ConnectionId, at: Timestamp) -> Result<(), StoreError> {
        self.with(|db| {
            db.exec(
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
            db.row(
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
