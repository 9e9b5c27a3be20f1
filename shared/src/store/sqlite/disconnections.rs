//! Disconnections: a dropped connection's record, in place of its row.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::pool::Cached;
use super::{corrupt, is_constraint, unavailable, SqliteStore};
use crate::domain::{ConnectionId, Disconnection, Revocation};
use crate::store::record::{body_without, with_fields, DISCONNECTION_MUTABLE};
use crate::store::{Disconnections, StoreError};

#[async_trait]
impl Disconnections for SqliteStore {
    async fn disconnect(
        &self,
        record: &Disconnection,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        let body = body_without(record, &DISCONNECTION_MUTABLE)?;
        let expected = i64::try_from(expected_version).map_err(corrupt)?;
        let id = record.connection_id.as_str();
        self.with(|db| {
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let deleted = tx
                .exec(
                    "DELETE FROM connections WHERE id = ?1 AND version = ?2",
                    params![id, expected],
                )
                .map_err(unavailable)?;
            if deleted != 1 {
                return Err(StoreError::Conflict("connection gone or changed"));
            }
            match tx.exec(
                "INSERT INTO disconnections (id, warehouse_id, revocation, body) VALUES (?1,?2,?3,?4)",
                params![
                    id,
                    record.warehouse_id.as_str(),
                    record.revocation.as_str(),
                    body
                ],
            ) {
                Err(e) if is_constraint(&e) => {
                    return Err(StoreError::Conflict("disconnection exists"))
                }
                other => other.map_err(unavailable)?,
            };
            tx.commit().map_err(unavailable)
        })
    }

    async fn disconnection(&self, id: &ConnectionId) -> Result<Option<Disconnection>, StoreError> {
        self.with(|db| {
            let found: Option<(String, String)> = db
                .row(
                    "SELECT revocation, body FROM disconnections WHERE id = ?1",
                    [id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(unavailable)?;
            found
                .map(|(revocation, body)| {
                    with_fields(&body, vec![("revocation", Value::String(revocation))])
                })
                .transpose()
        })
    }

    async fn settle_revocation(
        &self,
        id: &ConnectionId,
        outcome: Revocation,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let n = db
                .exec(
                    "UPDATE disconnections SET revocation = ?1 WHERE id = ?2 AND revocation = ?3",
                    params![outcome.as_str(), id.as_str(), Revocation::Pending.as_str()],
                )
                .map_err(unavailable)?;
            if n == 1 {
                return Ok(());
            }
            let exists = db
                .row(
                    "SELECT 1 FROM disconnections WHERE id = ?1",
                    [id.as_str()],
                    |_| Ok(()),
                )
                .optional()
                .map_err(unavailable)?
                .is_some();
            Err(if exists {
                StoreError::Conflict("revocation settled")
            } else {
                StoreError::Missing("disconnection")
            })
        })
    }
}
