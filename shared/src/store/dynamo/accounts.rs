//! Connections and disconnection records by the store account they reach: both items carry
//! `gsi2pk = ACCT#<cart>#<account>` and `gsi2sk = <connection id>`, so one query on `gsi2`
//! finds them (the invites' owed-confirmation entries share the index under another key).

use async_trait::async_trait;

use super::item::{s, Item};
use super::{DynamoStore, GSI2};
use crate::domain::{CartId, ConnectionId};
use crate::store::{AccountConnections, StoreError};

/// The index partition of `cart`'s `account`.
fn partition(cart: &str, account: &str) -> String {
    format!("ACCT#{cart}#{account}")
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

#[async_trait]
impl AccountConnections for DynamoStore {
    async fn ids_at_account(
        &self,
        cart: &CartId,
        account: &str,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI2)
            .key_condition_expression("gsi2pk = :p")
            .expression_attribute_values(":p", s(partition(cart.as_str(), account)));
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
