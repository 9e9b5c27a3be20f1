//! The care schedule on SQLite: the `care_at` column of `connections` with a partial index on
//! it (only rows that have one), so what is due is one indexed range read, the earliest first.

use async_trait::async_trait;
use rusqlite::params;

use super::pool::Cached;
use super::{corrupt, unavailable, SqliteStore};
use crate::domain::{Connection, ConnectionId, Timestamp};
use crate::store::{CareSchedule, StoreError};

/// The index, made once the columns exist.
pub(super) const SCHEMA: &str = "
CREATE INDEX IF NOT EXISTS connections_by_care ON connections (care_at, id)
    WHERE care_at IS NOT NULL;
";

#[async_trait]
impl CareSchedule for SqliteStore {
    async fn due_for_care(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Connection>, StoreError> {
        let limit = i64::try_from(limit).map_err(corrupt)?;
        let ids: Vec<String> = self
            .read(move |db| {
                let mut stmt = db
                    .prepare_cached(
                        "SELECT id FROM connections WHERE care_at IS NOT NULL AND care_at <= ?1
                         ORDER BY care_at, id LIMIT ?2",
                    )
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map(params![now.0, limit], |r| r.get(0))
                    .map_err(unavailable)?;
                rows.map(|r| r.map_err(unavailable)).collect()
            })
            .await?;
        let mut due = Vec::with_capacity(ids.len());
        for id in ids {
            let read = self
                .read(move |db| {
                    Self::query_connection(db, "SELECT * FROM connections WHERE id = ?1", &id)
                })
                .await?;
            due.extend(read);
        }
        Ok(due)
    }

    async fn reschedule_care(
        &self,
        id: &ConnectionId,
        care_at: Option<Timestamp>,
        noticed: Option<Timestamp>,
        read_version: u64,
    ) -> Result<(), StoreError> {
        let read = i64::try_from(read_version).map_err(corrupt)?;
        self.with(|db| {
            let n = db
                .exec(
                    "UPDATE connections SET care_at = ?1, care_noticed = COALESCE(?2, care_noticed)
                     WHERE id = ?3 AND version = ?4",
                    params![
                        care_at.map(|t| t.0),
                        noticed.map(|t| t.0),
                        id.as_str(),
                        read
                    ],
                )
                .map_err(unavailable)?;
            if n == 1 {
                return Ok(());
            }
            Err(Self::version_or_missing(db, id)?)
        })
    }

    async fn record_subscribed(
        &self,
        id: &ConnectionId,
        at: Timestamp,
        read_version: u64,
    ) -> Result<(), StoreError> {
        let read = i64::try_from(read_version).map_err(corrupt)?;
        self.with(|db| {
            let n = db
                .exec(
                    "UPDATE connections SET subscribed_at = ?1 WHERE id = ?2 AND version = ?3",
                    params![at.0, id.as_str(), read],
                )
                .map_err(unavailable)?;
            if n == 1 {
                return Ok(());
            }
            Err(Self::version_or_missing(db, id)?)
        })
    }
}

impl SqliteStore {
    /// Why a write conditional on a connection's version changed nothing.
    fn version_or_missing(
        db: &rusqlite::Connection,
        id: &ConnectionId,
    ) -> Result<StoreError, StoreError> {
        let exists = db
            .prepare_cached("SELECT 1 FROM connections WHERE id = ?1")
            .and_then(|mut q| q.exists([id.as_str()]))
            .map_err(unavailable)?;
        Ok(if exists {
            StoreError::Conflict("connection version")
        } else {
            StoreError::Missing("connection")
        })
    }
}
