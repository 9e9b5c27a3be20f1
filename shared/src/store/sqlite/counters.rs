//! Rate-limit counters: one row per key, holding the current window's count.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::pool::Cached;
use super::{unavailable, SqliteStore};
use crate::domain::Timestamp;
use crate::store::{Counters, StoreError};

#[async_trait]
impl Counters for SqliteStore {
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
                .row(
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
