//! Connections and disconnection records by the store account they reach, and connections by
//! the shops their grant reaches (`connection_shops`, written with the connection and kept when
//! it is dropped, as its disconnection record keeps the account).

use async_trait::async_trait;

use super::{unavailable, SqliteStore};
use crate::domain::{CartId, Connection, ConnectionId};
use crate::store::{AccountConnections, StoreError};

/// The indexes the account lookup reads (expression indexes over the records' bodies), and the
/// table of the shops each connection reaches.
pub(super) const SCHEMA: &str = r#"
CREATE INDEX IF NOT EXISTS connections_by_account ON connections (
    json_extract(body, '$.cart'), json_extract(body, '$.account')
);
CREATE INDEX IF NOT EXISTS disconnections_by_account ON disconnections (
    json_extract(body, '$.cart'), json_extract(body, '$.account')
);
CREATE TABLE IF NOT EXISTS connection_shops (
    cart TEXT NOT NULL,
    shop TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    PRIMARY KEY (cart, shop, connection_id)
) WITHOUT ROWID;
"#;

/// Records the shops `connection`'s grant reaches, inside the transaction that stores it.
pub(super) fn record_shops(
    tx: &rusqlite::Transaction<'_>,
    connection: &Connection,
) -> Result<(), StoreError> {
    for shop in &connection.shops {
        tx.execute(
            "INSERT OR IGNORE INTO connection_shops (cart, shop, connection_id) VALUES (?1, ?2, ?3)",
            [connection.cart.as_str(), &shop.id, connection.id.as_str()],
        )
        .map_err(unavailable)?;
    }
    Ok(())
}

#[async_trait]
impl AccountConnections for SqliteStore {
    async fn ids_at_account(
        &self,
        cart: &CartId,
        account: &str,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        self.ids_where(
            "SELECT id FROM connections
               WHERE json_extract(body, '$.cart') = ?1 AND json_extract(body, '$.account') = ?2
             UNION
             SELECT id FROM disconnections
               WHERE json_extract(body, '$.cart') = ?1 AND json_extract(body, '$.account') = ?2",
            cart,
            account,
        )
    }

    async fn ids_at_shop(
        &self,
        cart: &CartId,
        shop: &str,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        self.ids_where(
            "SELECT connection_id FROM connection_shops WHERE cart = ?1 AND shop = ?2",
            cart,
            shop,
        )
    }
}

impl SqliteStore {
    /// The connection ids `sql` selects for a cart (`?1`) and one value of it (`?2`).
    fn ids_where(
        &self,
        sql: &str,
        cart: &CartId,
        value: &str,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let ids: Vec<String> = self.with(|db| {
            let mut stmt = db.prepare_cached(sql).map_err(unavailable)?;
            let rows = stmt
                .query_map([cart.as_str(), value], |r| r.get(0))
                .map_err(unavailable)?;
            rows.map(|r| r.map_err(unavailable)).collect()
        })?;
        Ok(ids
            .iter()
            .filter_map(|id| ConnectionId::parse(id))
            .collect())
    }
}
