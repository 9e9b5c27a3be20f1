//! The cart-apps part of the store port: the app credentials a warehouse brings for a cart, one
//! record per warehouse and cart, its client secret sealed.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{CartApp, CartId, WarehouseId};

/// A warehouse's own apps at carts.
#[async_trait]
pub trait CartApps: Send + Sync {
    /// Stores `app` as its warehouse's app at its cart, replacing one stored before in one
    /// write: a reader sees the old record or the new one, never a mix.
    async fn put_cart_app(&self, app: &CartApp) -> Result<(), StoreError>;

    /// The warehouse's app at `cart`, if it has one.
    async fn cart_app(
        &self,
        warehouse: &WarehouseId,
        cart: &CartId,
    ) -> Result<Option<CartApp>, StoreError>;

    /// Every app of the warehouse, by cart id.
    async fn cart_apps(&self, warehouse: &WarehouseId) -> Result<Vec<CartApp>, StoreError>;

    /// Removes the warehouse's app at `cart`; answers whether there was one.
    async fn delete_cart_app(
        &self,
        warehouse: &WarehouseId,
        cart: &CartId,
    ) -> Result<bool, StoreError>;
}
