//! Connections by what a cart's lifecycle signal names: the store account they reach, or a
//! shop their grant reaches.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{CartId, ConnectionId};

/// Connections by the store account they reach, across warehouses: a cart's lifecycle signal
/// (an uninstall) names a store, not a connection.
#[async_trait]
pub trait AccountConnections: Send + Sync {
    /// The ids of the connections to `cart` whose account is `account`, and of the
    /// disconnection records of such connections: each id once, in no particular order. One
    /// index query (never a scan of the connections).
    async fn ids_at_account(
        &self,
        cart: &CartId,
        account: &str,
    ) -> Result<Vec<ConnectionId>, StoreError>;

    /// The ids of the connections to `cart` whose grant reaches the shop `shop`
    /// ([`crate::domain::Connection::shops`]), dropped ones too: each id once, in no particular
    /// order. One index query. A connection's account is not a shop: it is not matched here.
    async fn ids_at_shop(&self, cart: &CartId, shop: &str)
        -> Result<Vec<ConnectionId>, StoreError>;
}
