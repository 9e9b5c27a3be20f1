//! The cart-subscriptions part of the store port behind the fault plan.

use async_trait::async_trait;

use super::FaultyStore;
use crate::domain::{CartId, CartSubscription};
use crate::store::{CartSubscriptions, StoreError};

#[async_trait]
impl CartSubscriptions for FaultyStore {
    async fn put_cart_subscription(
        &self,
        subscription: &CartSubscription,
    ) -> Result<(), StoreError> {
        self.run(
            "put_cart_subscription",
            self.inner.put_cart_subscription(subscription),
        )
        .await
    }

    async fn cart_subscription(
        &self,
        cart: &CartId,
        account: &str,
    ) -> Result<Option<CartSubscription>, StoreError> {
        self.run(
            "cart_subscription",
            self.inner.cart_subscription(cart, account),
        )
        .await
    }
}
