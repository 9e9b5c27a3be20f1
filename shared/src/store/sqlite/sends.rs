//! Send records: one row per invite and email kind, leased to one sender, then sent.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::pool::Cached;
use super::{unavailable, SqliteStore};
use crate::domain::{InviteId, Timestamp};
use crate::store::{EmailKind, SendClaim, SendLedger, StoreError};

#[async_trait]
impl SendLedger for SqliteStore {
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
                .row(
                    "SELECT status, lease_until, message_id FROM sends WHERE invite_id = ?1 AND kind = ?2",
                    params![invite.as_str(), kind.record_key()],
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
                    tx.exec(
                        "INSERT INTO sends (invite_id, kind, status, lease_until, updated_at)
                         VALUES (?1, ?2, 'sending', ?3, ?4)
                         ON CONFLICT (invite_id, kind) DO UPDATE SET status = 'sending',
                            lease_until = excluded.lease_until, updated_at = excluded.updated_at",
                        params![invite.as_str(), kind.record_key(), now.0 + lease_secs, now.0],
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
                .exec(
                    "UPDATE sends SET status = 'sent', message_id = ?1, updated_at = ?2
                     WHERE invite_id = ?3 AND kind = ?4 AND status = 'sending'",
                    params![message_id, now.0, invite.as_str(), kind.record_key()],
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
            db.exec(
                "UPDATE sends SET status = 'pending', lease_until = 0
                 WHERE invite_id = ?1 AND kind = ?2 AND status = 'sending'",
                params![invite.as_str(), kind.record_key()],
            )
            .map_err(unavailable)?;
            Ok(())
        })
    }
}
