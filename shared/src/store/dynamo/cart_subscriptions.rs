//! Lifecycle subscriptions at carts' accounts: `CSUB#<cart>#<account>`/`CSUB`. The record is
//! one JSON `body` (its secret sealed inside), replaced whole by each write.

use async_trait::async_trait;

use super::item::{key, need_s, s, Item};
use super::{unavailable, DynamoStore};
use crate::domain::{CartId, CartSubscription};
use crate::store::{CartSubscriptions, StoreError};

fn subscription_key(cart: &CartId, account: &str) -> Item {
    key(format!("CSUB#{cart}#{account}"), "CSUB")
}

#[async_trait]
impl CartSubscriptions for DynamoStore {
    async fn put_cart_subscription(
        &self,
        subscription: &CartSubscription,
    ) -> Result<(), StoreError> {
        let body =
            serde_json::to_string(subscription).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut item = subscription_key(&subscription.cart, &subscription.account);
        item.insert("body".to_owned(), s(body));
        item.insert("entity".to_owned(), s("cart_subscription"));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn cart_subscription(
        &self,
        cart: &CartId,
        account: &str,
    ) -> Result<Option<CartSubscription>, StoreError> {
        self.get(subscription_key(cart, account))
            .await?
            .map(|item| {
                serde_json::from_str(need_s(&item, "body")?)
                    .map_err(|_| StoreError::Corrupt("cart subscription".into()))
            })
            .transpose()
    }
}
