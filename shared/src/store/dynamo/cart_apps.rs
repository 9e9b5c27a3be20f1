//! A warehouse's own apps at carts: `CARTAPP#<warehouse id>`/`<cart>`, a partition of their
//! own (so a role may delete an app without any right on the warehouse's own item), listed by
//! one query on it. The record is one JSON `body` (its client secret sealed inside), replaced
//! whole by each write.

use async_trait::async_trait;

use super::item::{body_of, key, s, Item};
use super::{unavailable, DynamoStore};
use crate::domain::{CartApp, CartId, WarehouseId};
use crate::store::{CartApps, StoreError};

fn partition(warehouse: &WarehouseId) -> String {
    format!("CARTAPP#{warehouse}")
}

fn app_key(warehouse: &WarehouseId, cart: &CartId) -> Item {
    key(partition(warehouse), cart.as_str())
}

/// What a cart app's unreadable record is called in the error.
const CART_APP: &str = "cart app";

#[async_trait]
impl CartApps for DynamoStore {
    async fn put_cart_app(&self, app: &CartApp) -> Result<(), StoreError> {
        self.put_body(app_key(&app.warehouse, &app.cart), "cart_app", app)
            .await
    }

    async fn cart_app(
        &self,
        warehouse: &WarehouseId,
        cart: &CartId,
    ) -> Result<Option<CartApp>, StoreError> {
        self.get_body(app_key(warehouse, cart), CART_APP).await
    }

    async fn cart_apps(&self, warehouse: &WarehouseId) -> Result<Vec<CartApp>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(partition(warehouse)))
            .consistent_read(true);
        self.query_all(query)
            .await?
            .iter()
            .map(|item| body_of(item, CART_APP))
            .collect()
    }

    async fn delete_cart_app(
        &self,
        warehouse: &WarehouseId,
        cart: &CartId,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(app_key(warehouse, cart)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }
}
