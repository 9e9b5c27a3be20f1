//! Webhook endpoints and deliveries, and the local server's queue and step feed: a delivery's
//! next try is a row of `webhook_queue`, and every recorded history step a row of
//! `webhook_feed` (inserted in the transaction that records the step, see `events.rs`), so
//! neither is lost with the process.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::pool::Cached;
use super::{after_of, corrupt, unavailable, SqliteStore};
use crate::domain::{
    DeliveryId, EndpointId, InviteEvent, InviteEventKind, InviteId, Timestamp, WarehouseId,
    WebhookDelivery, WebhookEndpoint,
};
use crate::store::listing::page_of;
use crate::store::{DeliveryFilter, DeliveryRead, Page, PageRequest, StoreError, WebhookStore};
use crate::webhooks::{DeliveryRef, FedStep, QueueError, StepFeed, WebhookQueue};

/// The tables (part of the schema).
pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id TEXT PRIMARY KEY,
    warehouse_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_endpoints_by_warehouse ON webhook_endpoints (warehouse_id, created_at);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    warehouse_id TEXT NOT NULL,
    status TEXT NOT NULL,
    tries INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_warehouse ON webhook_deliveries (warehouse_id, created_at, id);
CREATE TABLE IF NOT EXISTS webhook_queue (
    delivery_id TEXT PRIMARY KEY,
    warehouse_id TEXT NOT NULL,
    due_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_queue_by_due ON webhook_queue (due_at);
CREATE TABLE IF NOT EXISTS webhook_feed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    invite_id TEXT NOT NULL,
    key TEXT NOT NULL,
    UNIQUE (invite_id, key)
);
"#;

fn queue_error(e: StoreError) -> QueueError {
    QueueError(e.to_string())
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("a record always serializes")
}

fn from_json<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(corrupt)
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        self.with(|db| {
            db.exec(
                "INSERT INTO webhook_endpoints (id, warehouse_id, revision, created_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    endpoint.id.as_str(),
                    endpoint.warehouse.as_str(),
                    endpoint.revision as i64,
                    endpoint.created_at.0,
                    to_json(endpoint)
                ],
            )
            .map_err(unavailable)?;
            Ok(())
        })
    }

    async fn endpoints_of(
        &self,
        warehouse: &WarehouseId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let bodies: Vec<String> = self.with(|db| {
            let mut stmt = db
                .prepare_cached(
                    "SELECT body FROM webhook_endpoints WHERE warehouse_id = ?1
                     ORDER BY created_at, id",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([warehouse.as_str()], |r| r.get(0))
                .map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)).collect()
        })?;
        bodies.iter().map(|b| from_json(b)).collect()
    }

    async fn update_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<bool, StoreError> {
        let read = endpoint.revision.checked_sub(1).ok_or_else(|| {
            StoreError::Corrupt("an updated endpoint's revision must follow the one read".into())
        })?;
        self.with(|db| {
            let n = db
                .exec(
                    "UPDATE webhook_endpoints SET revision = ?1, body = ?2
                     WHERE id = ?3 AND warehouse_id = ?4 AND revision = ?5",
                    params![
                        endpoint.revision as i64,
                        to_json(endpoint),
                        endpoint.id.as_str(),
                        endpoint.warehouse.as_str(),
                        read as i64
                    ],
                )
                .map_err(unavailable)?;
            Ok(n == 1)
        })
    }

    async fn delete_endpoint(
        &self,
        warehouse: &WarehouseId,
        id: &EndpointId,
    ) -> Result<bool, StoreError> {
        self.with(|db| {
            let n = db
                .exec(
                    "DELETE FROM webhook_endpoints WHERE id = ?1 AND warehouse_id = ?2",
                    params![id.as_str(), warehouse.as_str()],
                )
                .map_err(unavailable)?;
            Ok(n == 1)
        })
    }

    async fn insert_delivery(&self, delivery: &WebhookDelivery) -> Result<bool, StoreError> {
        self.with(|db| {
            let n = db
                .exec(
                    "INSERT INTO webhook_deliveries (id, warehouse_id, status, tries, created_at, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
                    params![
                        delivery.id.as_str(),
                        delivery.warehouse.as_str(),
                        delivery.status.as_str(),
                        delivery.tries.len() as i64,
                        delivery.created_at.0,
                        to_json(delivery)
                    ],
                )
                .map_err(unavailable)?;
            Ok(n == 1)
        })
    }

    async fn delivery(&self, id: &DeliveryId) -> Result<Option<WebhookDelivery>, StoreError> {
        let body: Option<String> = self.with(|db| {
            db.row(
                "SELECT body FROM webhook_deliveries WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(unavailable)
        })?;
        body.as_deref().map(from_json).transpose()
    }

    async fn update_delivery(
        &self,
        delivery: &WebhookDelivery,
        read: DeliveryRead,
    ) -> Result<bool, StoreError> {
        self.with(|db| {
            let n = db
                .exec(
                    "UPDATE webhook_deliveries SET status = ?1, tries = ?2, body = ?3
                     WHERE id = ?4 AND status = ?5 AND tries = ?6",
                    params![
                        delivery.status.as_str(),
                        delivery.tries.len() as i64,
                        to_json(delivery),
                        delivery.id.as_str(),
                        read.status.as_str(),
                        read.tries as i64
                    ],
                )
                .map_err(unavailable)?;
            Ok(n == 1)
        })
    }

    async fn list_deliveries(
        &self,
        warehouse: &WarehouseId,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> Result<Page<WebhookDelivery>, StoreError> {
        // One more than asked, to tell whether a next page exists.
        let want = i64::try_from(page.limit.saturating_add(1)).unwrap_or(i64::MAX);
        let (after_at, after_id) = after_of(page);
        let bodies: Vec<String> = self.with(|db| {
            let mut stmt = db
                .prepare_cached(
                    "SELECT body FROM webhook_deliveries WHERE warehouse_id = ?1
                       AND (?2 IS NULL OR status = ?2)
                       AND (?3 IS NULL OR json_extract(body, '$.event_type') = ?3)
                       AND (?4 IS NULL OR created_at < ?4 OR (created_at = ?4 AND id < ?5))
                     ORDER BY created_at DESC, id DESC LIMIT ?6",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map(
                    params![
                        warehouse.as_str(),
                        filter.status.map(|s| s.as_str()),
                        filter.event_type.map(|t| t.as_str()),
                        after_at,
                        after_id,
                        want
                    ],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)).collect()
        })?;
        let found = bodies
            .iter()
            .map(|b| from_json(b))
            .collect::<Result<Vec<WebhookDelivery>, _>>()?;
        Ok(page_of(found, page.limit, DeliveryFilter::position))
    }
}

#[async_trait]
impl WebhookQueue for SqliteStore {
    async fn schedule(
        &self,
        delivery: &DeliveryRef,
        at: Timestamp,
        _now: Timestamp,
    ) -> Result<(), QueueError> {
        self.with(|db| {
            db.exec(
                "INSERT INTO webhook_queue (delivery_id, warehouse_id, due_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (delivery_id) DO UPDATE SET due_at = excluded.due_at",
                params![
                    delivery.delivery.as_str(),
                    delivery.warehouse.as_str(),
                    at.0
                ],
            )
            .map_err(unavailable)?;
            Ok(())
        })
        .map_err(queue_error)
    }

    async fn dead_letter(&self, delivery: &DeliveryRef) -> Result<(), QueueError> {
        // Locally the failed delivery record is the dead letter: it lists as `failed`.
        self.forget(delivery).await
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<DeliveryRef>, QueueError> {
        let rows: Vec<(String, String)> = self
            .with(|db| {
                let mut stmt = db
                    .prepare_cached(
                        "SELECT delivery_id, warehouse_id FROM webhook_queue WHERE due_at <= ?1
                     ORDER BY due_at LIMIT ?2",
                    )
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map(params![now.0, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(unavailable)?;
                rows.map(|r| r.map_err(unavailable)).collect()
            })
            .map_err(queue_error)?;
        rows.into_iter()
            .map(|(d, w)| {
                Ok(DeliveryRef {
                    delivery: DeliveryId::parse(&d).ok_or_else(|| corrupt("delivery id"))?,
                    warehouse: WarehouseId::parse(&w).ok_or_else(|| corrupt("warehouse id"))?,
                })
            })
            .collect::<Result<_, StoreError>>()
            .map_err(queue_error)
    }

    async fn forget(&self, delivery: &DeliveryRef) -> Result<(), QueueError> {
        self.with(|db| {
            db.exec(
                "DELETE FROM webhook_queue WHERE delivery_id = ?1",
                [delivery.delivery.as_str()],
            )
            .map_err(unavailable)?;
            Ok(())
        })
        .map_err(queue_error)
    }
}

#[async_trait]
impl StepFeed for SqliteStore {
    async fn pending_steps(&self, limit: usize) -> Result<Vec<FedStep>, QueueError> {
        type Row = (String, String, String, i64, Option<String>);
        let rows: Vec<Row> = self
            .with(|db| {
                let mut stmt = db
                    .prepare_cached(
                        "SELECT f.invite_id, f.key, e.kind, e.at, e.reason FROM webhook_feed f
                     JOIN invite_events e ON e.invite_id = f.invite_id AND e.key = f.key
                     ORDER BY f.seq LIMIT ?1",
                    )
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map([limit as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .map_err(unavailable)?;
                rows.map(|r| r.map_err(unavailable)).collect()
            })
            .map_err(queue_error)?;
        rows.into_iter()
            .map(|(invite, key, kind, at, reason)| {
                Ok(FedStep {
                    invite: InviteId::parse(&invite).ok_or_else(|| corrupt("invite id"))?,
                    key,
                    event: InviteEvent {
                        kind: InviteEventKind::parse(&kind)
                            .ok_or_else(|| corrupt(format!("unknown event kind {kind}")))?,
                        at: Timestamp(at),
                        reason,
                    },
                })
            })
            .collect::<Result<_, StoreError>>()
            .map_err(queue_error)
    }

    async fn step_done(&self, invite: &InviteId, key: &str) -> Result<(), QueueError> {
        self.with(|db| {
            db.exec(
                "DELETE FROM webhook_feed WHERE invite_id = ?1 AND key = ?2",
                params![invite.as_str(), key],
            )
            .map_err(unavailable)?;
            Ok(())
        })
        .map_err(queue_error)
    }
}
