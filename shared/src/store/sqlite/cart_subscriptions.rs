//! Lifecycle subscriptions at carts' accounts: one row per cart and account, the record as
//! JSON (its secret sealed inside).

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::pool::Cached;
use super::{corrupt, unavailable, SqliteStore};
use crate::domain::{CartId, CartSubscription};
use crate::store::{CartSubscriptions, StoreError};

/// The table of this part, made at open like the others.
pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS cart_subscriptions (
    cart TEXT NOT NULL,
    account TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (cart, account)
);
"#;

#[async_trait]
impl CartSubscriptions for SqliteStore {
    async fn put_cart_subscription(
        &self,
        subscription: &CartSubscription,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(subscription).map_err(corrupt)?;
        self.with(|db| {
            db.exec(
                "INSERT INTO cart_subscriptions (cart, account, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (cart, account) DO UPDATE SET body = excluded.body",
                params![
                    subscription.cart.as_str(),
                    subscription.account.as_str(),
                    body
                ],
            )
            .map(|_| ())
            .map_err(unavailable)
        })
    }

    async fn cart_subscription(
        &self,
        cart: &CartId,
        account: &str,
    ) -> Result<Option<CartSubscription>, StoreError> {
        let body: Option<String> = self
            .read(|db| {
                db.row(
                    "SELECT body FROM cart_subscriptions WHERE cart = ?1 AND account = ?2",
                    [cart.as_str(), account],
                    |r| r.get(0),
                )
                .optional()
                .map_err(unavailable)
            })
            .await?;
        body.as_deref()
            .map(|b| serde_json::from_str(b).map_err(|_| corrupt("cart subscription")))
            .transpose()
    }
}
