//! Lifecycle subscriptions at carts' accounts: `CSUB#<cart>#<account>`/`CSUB`. The record is
//! one JSON `body` (its secret sealed inside), replaced whole by each write.

use async_trait::async_trait;

use super::item::{key, Item};
use super::DynamoStore;
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
        let key = subscription_key(&subscription.cart, &subscription.account);
        self.put_body(key, "cart_subscription", subscription).await
    }

    async fn cart_subscription(
        &self,
        cart: &CartId,
        account: &str,
    ) -> Result<Option<CartSubscription>, StoreError> {
        self.get_body(subscription_key(cart, account), "cart subscription")
            .await
    }
}
