//! The webhook part of the store port behind a [`super::FaultPlan`].

use async_trait::async_trait;

use super::FaultyStore;
use crate::domain::{DeliveryId, EndpointId, WarehouseId, WebhookDelivery, WebhookEndpoint};
use crate::store::{DeliveryFilter, DeliveryRead, Page, PageRequest, StoreError, WebhookStore};

#[async_trait]
impl WebhookStore for FaultyStore {
    async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        self.run("insert_endpoint", self.inner().insert_endpoint(endpoint))
            .await
    }

    async fn endpoints_of(
        &self,
        warehouse: &WarehouseId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.run("endpoints_of", self.inner().endpoints_of(warehouse))
            .await
    }

    async fn update_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<bool, StoreError> {
        self.run("update_endpoint", self.inner().update_endpoint(endpoint))
            .await
    }

    async fn delete_endpoint(
        &self,
        warehouse: &WarehouseId,
        id: &EndpointId,
    ) -> Result<bool, StoreError> {
        self.run(
            "delete_endpoint",
            self.inner().delete_endpoint(warehouse, id),
        )
        .await
    }

    async fn insert_delivery(&self, delivery: &WebhookDelivery) -> Result<bool, StoreError> {
        self.run("insert_delivery", self.inner().insert_delivery(delivery))
            .await
    }

    async fn delivery(&self, id: &DeliveryId) -> Result<Option<WebhookDelivery>, StoreError> {
        self.run("delivery", self.inner().delivery(id)).await
    }

    async fn update_delivery(
        &self,
        delivery: &WebhookDelivery,
        read: DeliveryRead,
    ) -> Result<bool, StoreError> {
        self.run(
            "update_delivery",
            self.inner().update_delivery(delivery, read),
        )
        .await
    }

    async fn list_deliveries(
        &self,
        warehouse: &WarehouseId,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> Result<Page<WebhookDelivery>, StoreError> {
        self.run(
            "list_deliveries",
            self.inner().list_deliveries(warehouse, filter, page),
        )
        .await
    }
}
