//! What the token API answers beside the tokens: where the connection's cart API is, the
//! headers its calls need ([`crate::carts::CartSpec::call_details`]) and the shops its grant
//! reaches with their ciphers, as recorded at the grant.

use super::cart_apps::SecretUse;
use super::Services;
use crate::carts::CallDetails;
use crate::domain::{Connection, TokenSet};

impl Services {
    /// The call details of `connection` with `tokens`, or `None` where its cart's entry names
    /// none (or they cannot be built). The invite is read only when they need the store the
    /// merchant named; a failed read leaves them out rather than failing the tokens.
    pub async fn call_details(
        &self,
        connection: &Connection,
        tokens: &TokenSet,
    ) -> Option<CallDetails> {
        let cart = self.catalog.get(&connection.cart)?;
        cart.api.as_ref()?;
        let cart = match self
            .cart_through(cart, connection.app.as_ref(), SecretUse::Open)
            .await
        {
            Ok(cart) => cart,
            Err(e) => {
                tracing::warn!(connection_id = %connection.id, error = %e, "call details left out: the app's credentials are not at hand");
                return None;
            }
        };
        let store = if cart.call_details_need_store() {
            match self.store.invite(&connection.invite_id).await {
                Ok(invite) => invite.and_then(|i| i.store),
                Err(e) => {
                    tracing::warn!(connection_id = %connection.id, error = %e, "call details left out: the invite was not read");
                    return None;
                }
            }
        } else {
            None
        };
        let vars = cart.connection_vars(store.as_deref(), connection.account.as_deref());
        let details = cart.call_details(&vars, tokens).map(|details| CallDetails {
            shops: connection.shops.clone(),
            ..details
        });
        if details.is_none() {
            tracing::warn!(connection_id = %connection.id, cart = %cart.id, "call details left out: they do not build for this connection");
        }
        details
    }
}
