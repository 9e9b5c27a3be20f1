//! The account lookup of the store port behind the fault plan.

use async_trait::async_trait;

use super::FaultyStore;
use crate::domain::{CartId, ConnectionId};
use crate::store::{AccountConnections, StoreError};

#[async_trait]
impl AccountConnections for FaultyStore {
    async fn ids_at_account(
        &self,
        cart: &CartId,
        account: &str,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        self.run("ids_at_account", self.inner.ids_at_account(cart, account))
            .await
    }

    async fn ids_at_shop(
        &self,
        cart: &CartId,
        shop: &str,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        self.run("ids_at_shop", self.inner.ids_at_shop(cart, shop))
            .await
    }
}
