//! Leases: one row per key, held by one owner until it expires.

use async_trait::async_trait;
use rusqlite::params;

use super::pool::Cached;
use super::{unavailable, SqliteStore};
use crate::domain::Timestamp;
use crate::store::{Leases, StoreError};

#[async_trait]
impl Leases for SqliteStore {
    async fn take_lease(
        &self,
        key: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<bool, StoreError> {
        self.with(|db| {
            let n = db
                .exec(
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
            db.exec(
                "DELETE FROM leases WHERE key = ?1 AND owner = ?2",
                params![key, owner],
            )
            .map_err(unavailable)?;
            Ok(())
        })
    }
}
