//! The webhook part of the store port: a warehouse's endpoints, and one delivery record per
//! message and endpoint with every try. Each write is conditional on what the writer read, so
//! two workers (or two warehouse calls) never both win.

use async_trait::async_trait;

use super::{Page, PageRequest, Position, StoreError};
use crate::domain::{
    DeliveryId, DeliveryStatus, EndpointId, WarehouseId, WebhookDelivery, WebhookEndpoint,
    WebhookEventType,
};

/// Which of a warehouse's deliveries to list; an empty filter keeps all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    /// Only messages of this type.
    pub event_type: Option<WebhookEventType>,
    /// Only deliveries in this status.
    pub status: Option<DeliveryStatus>,
}

impl DeliveryFilter {
    /// Whether `delivery` passes.
    pub fn keeps(&self, delivery: &WebhookDelivery) -> bool {
        self.event_type.is_none_or(|t| t == delivery.event_type)
            && self.status.is_none_or(|s| s == delivery.status)
    }

    /// Where `delivery` stands in the list (newest first, as the other lists).
    pub fn position(delivery: &WebhookDelivery) -> Position {
        Position {
            created_at: delivery.created_at,
            id: delivery.id.to_string(),
        }
    }
}

/// What a delivery's writer read: its status and how many tries it had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryRead {
    /// The status read.
    pub status: DeliveryStatus,
    /// The number of tries read.
    pub tries: usize,
}

impl DeliveryRead {
    /// What `delivery` says now.
    pub fn of(delivery: &WebhookDelivery) -> Self {
        DeliveryRead {
            status: delivery.status,
            tries: delivery.tries.len(),
        }
    }
}

/// Webhook endpoints and deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new endpoint.
    async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError>;

    /// A warehouse's endpoints, oldest first.
    async fn endpoints_of(
        &self,
        warehouse: &WarehouseId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError>;

    /// Replaces an endpoint with `endpoint` (whose `revision` is one more than the stored one)
    /// if the stored revision is still `endpoint.revision - 1`; `false` if it changed or is gone.
    async fn update_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<bool, StoreError>;

    /// Deletes a warehouse's endpoint; `false` if it was not there.
    async fn delete_endpoint(
        &self,
        warehouse: &WarehouseId,
        id: &EndpointId,
    ) -> Result<bool, StoreError>;

    /// Stores a delivery unless one with its id exists; `true` if this call stored it.
    async fn insert_delivery(&self, delivery: &WebhookDelivery) -> Result<bool, StoreError>;

    /// A delivery by id.
    async fn delivery(&self, id: &DeliveryId) -> Result<Option<WebhookDelivery>, StoreError>;

    /// Writes `delivery`'s status, tries and next try if the stored one still matches `read`;
    /// `false` if another writer changed it first.
    async fn update_delivery(
        &self,
        delivery: &WebhookDelivery,
        read: DeliveryRead,
    ) -> Result<bool, StoreError>;

    /// One page of a warehouse's deliveries that pass `filter`, newest first.
    async fn list_deliveries(
        &self,
        warehouse: &WarehouseId,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> Result<Page<WebhookDelivery>, StoreError>;
}
