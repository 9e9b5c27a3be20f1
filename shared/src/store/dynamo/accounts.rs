//! Connections and disconnection records by the store account they reach: both items carry
//! `gsi2pk = ACCT#<cart>#<account>` and `gsi2sk = <connection id>`, so one query on `gsi2`
//! finds them (the invites' owed-confirmation entries share the index under another key). Each
//! shop a connection's grant reaches has an item of its own (`CONSHOP#<connection id>#<shop>`,
//! written with the connection, kept when it is dropped as its disconnection record keeps the
//! account) under `gsi2pk = SHOP#<cart>#<shop>`, so one query finds the connections at a shop.

use async_trait::async_trait;

use super::item::{key, s, Item};
use super::{DynamoStore, GSI2};
use crate::domain::{CartId, Connection, ConnectionId};
use crate::store::{AccountConnections, StoreError};

/// The index partition of `cart`'s `account`.
fn partition(cart: &str, account: &str) -> String {
    format!("ACCT#{cart}#{account}")
}

/// The index partition of `cart`'s `shop`.
fn shop_partition(cart: &str, shop: &str) -> String {
    format!("SHOP#{cart}#{shop}")
}

/// The index attributes of connection `id` to `cart` at `account` (none without an account).
pub(super) fn account_attributes(cart: &str, account: Option<&str>, id: &str) -> Item {
    account
        .map(|a| {
            Item::from([
                ("gsi2pk".to_owned(), s(partition(cart, a))),
                ("gsi2sk".to_owned(), s(id)),
            ])
        })
        .unwrap_or_default()
}

/// The index items of the shops `connection`'s grant reaches, one each.
pub(super) fn shop_items(connection: &Connection) -> Vec<Item> {
    connection
        .shops
        .iter()
        .map(|shop| {
            let mut item = key(format!("CONSHOP#{}#{}", connection.id, shop.id), "CONSHOP");
            item.insert("entity".to_owned(), s("connection_shop"));
            item.extend([
                (
                    "gsi2pk".to_owned(),
                    s(shop_partition(connection.cart.as_str(), &shop.id)),
                ),
                ("gsi2sk".to_owned(), s(connection.id.as_str())),
            ]);
            item
        })
        .collect()
}

#[async_trait]
impl AccountConnections for DynamoStore {
    async fn ids_at_account(
        &self,
        cart: &CartId,
        account: &str,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        self.ids_in(partition(cart.as_str(), account)).await
    }

    async fn ids_at_shop(
        &self,
        cart: &CartId,
        shop: &str,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        self.ids_in(shop_partition(cart.as_str(), shop)).await
    }
}

impl DynamoStore {
    /// The connection ids under one `gsi2` partition, each once.
    async fn ids_in(&self, partition: String) -> Result<Vec<ConnectionId>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI2)
            .key_condition_expression("gsi2pk = :p")
            .expression_attribute_values(":p", s(partition));
        let mut ids: Vec<ConnectionId> = self
            .query_all(query)
            .await?
            .iter()
            .filter_map(|item| item.get("gsi2sk")?.as_s().ok())
            .filter_map(|id| ConnectionId::parse(id))
            .collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids.dedup();
        Ok(ids)
    }
}
