//! The cart-apps part of the store port behind the fault plan.

use async_trait::async_trait;

use super::FaultyStore;
use crate::domain::{CartApp, CartId, WarehouseId};
use crate::store::{CartApps, StoreError};

#[async_trait]
impl CartApps for FaultyStore {
    async fn put_cart_app(&self, app: &CartApp) -> Result<(), StoreError> {
        self.run("put_cart_app", self.inner.put_cart_app(app)).await
    }

    async fn cart_app(
        &self,
        warehouse: &WarehouseId,
        cart: &CartId,
    ) -> Result<Option<CartApp>, StoreError> {
        self.run("cart_app", self.inner.cart_app(warehouse, cart))
            .await
    }

    async fn cart_apps(&self, warehouse: &WarehouseId) -> Result<Vec<CartApp>, StoreError> {
        self.run("cart_apps", self.inner.cart_apps(warehouse)).await
    }

    async fn delete_cart_app(
        &self,
        warehouse: &WarehouseId,
        cart: &CartId,
    ) -> Result<bool, StoreError> {
        self.run(
            "delete_cart_app",
            self.inner.delete_cart_app(warehouse, cart),
        )
        .await
    }
}
