//! A warehouse's own apps at carts: `CARTAPP#<warehouse id>`/`<cart>`, a partition of their
//! own (so a role may delete an app without any right on the warehouse's own item), listed by
//! one query on it. The record is one JSON `body` (its client secret sealed inside), replaced
//! whole by each write.

use async_trait::async_trait;

use super::item::{key, need_s, s, Item};
use super::{unavailable, DynamoStore};
use crate::domain::{CartApp, CartId, WarehouseId};
use crate::store::{CartApps, StoreError};

fn partition(warehouse: &WarehouseId) -> String {
    format!("CARTAPP#{warehouse}")
}

fn app_key(warehouse: &WarehouseId, cart: &CartId) -> Item {
    key(partition(warehouse), cart.as_str())
}

fn app_of(item: &Item) -> Result<CartApp, StoreError> {
    serde_json::from_str(need_s(item, "body")?).map_err(|_| StoreError::Corrupt("cart app".into()))
}

#[async_trait]
impl CartApps for DynamoStore {
    async fn put_cart_app(&self, app: &CartApp) -> Result<(), StoreError> {
        let body = serde_json::to_string(app).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut item = app_key(&app.warehouse, &app.cart);
        item.insert("body".to_owned(), s(body));
        item.insert("entity".to_owned(), s("cart_app"));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn cart_app(
        &self,
        warehouse: &WarehouseId,
        cart: &CartId,
    ) -> Result<Option<CartApp>, StoreError> {
        self.get(app_key(warehouse, cart))
            .await?
            .map(|item| app_of(&item))
            .transpose()
    }

    async fn cart_apps(&self, warehouse: &WarehouseId) -> Result<Vec<CartApp>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(partition(warehouse)))
            .consistent_read(true);
        self.query_all(query).await?.iter().map(app_of).collect()
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
