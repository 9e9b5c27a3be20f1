//! The cart-subscriptions part of the store port: the lifecycle subscription cartlink holds at
//! a merchant's site ([`CartSubscription`]), one record per cart and account, its secret sealed.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{CartId, CartSubscription};

/// Lifecycle subscriptions at carts' accounts.
#[async_trait]
pub trait CartSubscriptions: Send + Sync {
    /// Stores `subscription` as the one at its cart and account, replacing one stored before
    /// in one write (a rotated secret replaces the old one, which the cart no longer signs
    /// with): a reader sees the old record or the new one, never a mix.
    async fn put_cart_subscription(
        &self,
        subscription: &CartSubscription,
    ) -> Result<(), StoreError>;

    /// The subscription at `cart`'s `account`, if one is stored.
    async fn cart_subscription(
        &self,
        cart: &CartId,
        account: &str,
    ) -> Result<Option<CartSubscription>, StoreError>;
}
