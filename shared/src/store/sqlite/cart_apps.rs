//! A warehouse's own apps at carts: one row per warehouse and cart, the record as JSON (its
//! client secret sealed inside).

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::pool::Cached;
use super::{corrupt, unavailable, SqliteStore};
use crate::domain::{CartApp, CartId, WarehouseId};
use crate::store::{CartApps, StoreError};

/// The table of this part, made at open like the others.
pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS cart_apps (
    warehouse_id TEXT NOT NULL,
    cart TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (warehouse_id, cart)
);
"#;

fn app_of(body: &str) -> Result<CartApp, StoreError> {
    serde_json::from_str(body).map_err(|_| corrupt("cart app"))
}

#[async_trait]
impl CartApps for SqliteStore {
    async fn put_cart_app(&self, app: &CartApp) -> Result<(), StoreError> {
        let body = serde_json::to_string(app).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.with(|db| {
            db.exec(
                "INSERT INTO cart_apps (warehouse_id, cart, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (warehouse_id, cart) DO UPDATE SET body = excluded.body",
                params![app.warehouse.as_str(), app.cart.as_str(), body],
            )
            .map(|_| ())
            .map_err(unavailable)
        })
    }

    async fn cart_app(
        &self,
        warehouse: &WarehouseId,
        cart: &CartId,
    ) -> Result<Option<CartApp>, StoreError> {
        let body: Option<String> = self
            .read(|db| {
                db.row(
                    "SELECT body FROM cart_apps WHERE warehouse_id = ?1 AND cart = ?2",
                    [warehouse.as_str(), cart.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(unavailable)
            })
            .await?;
        body.as_deref().map(app_of).transpose()
    }

    async fn cart_apps(&self, warehouse: &WarehouseId) -> Result<Vec<CartApp>, StoreError> {
        let bodies: Vec<String> = self
            .read(|db| {
                let mut stmt = db
                    .prepare_cached(
                        "SELECT body FROM cart_apps WHERE warehouse_id = ?1 ORDER BY cart",
                    )
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map([warehouse.as_str()], |r| r.get(0))
                    .map_err(unavailable)?;
                rows.map(|r| r.map_err(unavailable)).collect()
            })
            .await?;
        bodies.iter().map(|b| app_of(b)).collect()
    }

    async fn delete_cart_app(
        &self,
        warehouse: &WarehouseId,
        cart: &CartId,
    ) -> Result<bool, StoreError> {
        self.with(|db| {
            db.exec(
                "DELETE FROM cart_apps WHERE warehouse_id = ?1 AND cart = ?2",
                [warehouse.as_str(), cart.as_str()],
            )
            .map(|n| n > 0)
            .map_err(unavailable)
        })
    }
}
