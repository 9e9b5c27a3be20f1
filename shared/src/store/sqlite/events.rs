//! Invites' histories: one row per invite and step key, inserted once (with its row in the
//! webhook feed).

use async_trait::async_trait;
use rusqlite::{params, Connection as Db};

use super::pool::Cached;
use super::{corrupt, unavailable, SqliteStore};
use crate::domain::{InviteEvent, InviteEventKind, InviteId, Timestamp};
use crate::store::{InviteEvents, StoreError};

/// Inserts `invite`'s history step `key` unless it is there, with its row in the webhook feed:
/// the step and its place in the feed are one write, as a DynamoDB item and its stream record
/// are. Answers whether it was inserted. Runs inside the caller's transaction.
pub(super) fn insert_event(
    tx: &Db,
    invite: &InviteId,
    key: &str,
    event: &InviteEvent,
) -> Result<bool, StoreError> {
    let n = tx
        .exec(
            "INSERT INTO invite_events (invite_id, key, kind, at, reason)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (invite_id, key) DO NOTHING",
            params![
                invite.as_str(),
                key,
                event.kind.as_str(),
                event.at.0,
                event.reason
            ],
        )
        .map_err(unavailable)?;
    if n == 1 {
        tx.exec(
            "INSERT INTO webhook_feed (invite_id, key) VALUES (?1, ?2)",
            params![invite.as_str(), key],
        )
        .map_err(unavailable)?;
    }
    Ok(n == 1)
}

#[async_trait]
impl InviteEvents for SqliteStore {
    async fn record_event(
        &self,
        invite: &InviteId,
        key: &str,
        event: &InviteEvent,
    ) -> Result<bool, StoreError> {
        self.with(|db| {
            let tx = db.transaction().map_err(unavailable)?;
            let inserted = insert_event(&tx, invite, key, event)?;
            tx.commit().map_err(unavailable)?;
            Ok(inserted)
        })
    }

    async fn events_of(&self, invite: &InviteId) -> Result<Vec<InviteEvent>, StoreError> {
        let rows: Vec<(String, i64, Option<String>)> = self.with(|db| {
            let mut stmt = db
                .prepare_cached("SELECT kind, at, reason FROM invite_events WHERE invite_id = ?1")
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([invite.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)).collect()
        })?;
        let mut events = rows
            .into_iter()
            .map(|(kind, at, reason)| {
                Ok(InviteEvent {
                    kind: InviteEventKind::parse(&kind)
                        .ok_or_else(|| corrupt(format!("unknown event kind {kind}")))?,
                    at: Timestamp(at),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        InviteEvent::sort(&mut events);
        Ok(events)
    }
}
