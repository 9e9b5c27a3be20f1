//! BigCommerce's load and remove-user callbacks (`GET /load`, `GET /remove_user`), whose
//! `signed_payload_jwt` is verified exactly as the uninstall's is
//! ([`Services::verified_bigcommerce_payload`]), and must also name the store's `owner` and the
//! `user` the callback is for, as BigCommerce's callbacks documentation and the reference notes
//! say (bind what the control panel shows to the verified payload, never to a bare hit).
//!
//! The load callback answers what BigCommerce shows in its control panel for the app: which
//! warehouses hold a connection to this store through cartlink, since when, and how the merchant
//! withdraws each. Neither callback changes anything: cartlink keeps no users of its own, so a
//! removed user has nothing to remove.

use super::bigcommerce::Claims;
use super::CartEventError;
use crate::carts::CartId;
use crate::domain::Timestamp;
use crate::service::Services;
use crate::store::manage::merchant_hash;
use crate::store::StoreError;

/// One connection held to the store, as the load page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldConnection {
    /// The warehouse's name, as merchants see it.
    pub warehouse: String,
    /// When the merchant connected it.
    pub since: Timestamp,
    /// Whether a "Manage this connection" link was emailed for it (where it is withdrawn);
    /// otherwise the merchant withdraws it by asking the warehouse or uninstalling the app.
    pub manage_link: bool,
}

/// What the load page shows: the store and the connections held to it, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConnections {
    /// The store, as BigCommerce names it (`stores/{hash}`).
    pub store: String,
    /// The store's hash (BigCommerce's control panel is at `store-{hash}.mybigcommerce.com`).
    pub store_hash: String,
    /// The connections.
    pub connections: Vec<HeldConnection>,
}

/// The verified claims of a load or remove-user payload: those of every callback, and both
/// parties named.
fn with_parties(claims: Claims) -> Result<Claims, CartEventError> {
    let named = |p: &Option<super::bigcommerce::Party>| {
        p.as_ref()
            .is_some_and(|p| !p.id.is_null() && !p.email.is_empty())
    };
    if !named(&claims.owner) {
        return Err(CartEventError::Malformed("owner"));
    }
    if !named(&claims.user) {
        return Err(CartEventError::Malformed("user"));
    }
    Ok(claims)
}

impl Services {
    /// Answers BigCommerce's load callback: the connections held to the verified store.
    /// Changes nothing.
    pub async fn bigcommerce_load(
        &self,
        signed_payload_jwt: Option<&str>,
    ) -> Result<StoreConnections, CartEventError> {
        let claims = with_parties(self.verified_bigcommerce_payload(signed_payload_jwt, "load")?)?;
        let connections = self.held_at(&claims.sub).await?;
        tracing::info!(
            cart = "bigcommerce",
            connections = connections.len(),
            "bigcommerce load answered"
        );
        let store_hash = claims
            .sub
            .strip_prefix("stores/")
            .unwrap_or(&claims.sub)
            .to_owned();
        Ok(StoreConnections {
            store: claims.sub,
            store_hash,
            connections,
        })
    }

    /// Answers BigCommerce's remove-user callback once verified: cartlink keeps no users of its
    /// own, so nothing is removed.
    pub fn bigcommerce_remove_user(
        &self,
        signed_payload_jwt: Option<&str>,
    ) -> Result<(), CartEventError> {
        with_parties(self.verified_bigcommerce_payload(signed_payload_jwt, "remove_user")?)?;
        tracing::info!(
            cart = "bigcommerce",
            "bigcommerce remove_user answered: no user kept"
        );
        Ok(())
    }

    /// The live connections to BigCommerce at `store`, oldest first.
    async fn held_at(&self, store: &str) -> Result<Vec<HeldConnection>, StoreError> {
        let cart = CartId::new("bigcommerce");
        let mut held = Vec::new();
        for id in self.store.ids_at_account(&cart, store).await? {
            let Some(connection) = self.store.connection(&id).await? else {
                continue;
            };
            let Some(invite) = self.store.invite(&connection.invite_id).await? else {
                continue;
            };
            let manage_link = self
                .store
                .manage_links_for(&merchant_hash(&invite.merchant_email))
                .await?
                .iter()
                .any(|l| l.connection_id == connection.id);
            held.push(HeldConnection {
                warehouse: invite.warehouse.display_name,
                since: connection.created_at,
                manage_link,
            });
        }
        held.sort_by_key(|h| h.since);
        Ok(held)
    }
}
