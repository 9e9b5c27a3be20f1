//! Disconnecting: the warehouse drops a connection. Its sealed tokens are deleted from the store
//! (the connection's record is replaced by a [`Disconnection`] in one conditional write), the
//! cart is asked to revoke the grant where the catalog names a revocation endpoint (RFC 7009),
//! and the merchant is emailed once. The merchant's own withdrawal from their manage page
//! (`service::manage`) is this same disconnect, recorded `by: merchant`: then the warehouse is
//! emailed once, and the merchant gets a receipt.
//!
//! Order: read the connection and open its tokens (kept in memory only: once deleted they
//! cannot be read again), then the one conditional write, then the revocation call by the one
//! caller whose write won, then the email. The write comes first so the tokens never outlive a
//! disconnect: a revocation the cart refuses, or cannot take, is recorded `failed` and said so
//! in the answer, but the tokens are gone all the same. A process that dies after the write
//! leaves the record `pending` for good (the tokens it would revoke are gone), and the email
//! owed: a repeated disconnect sends it (its send record makes it once).

use std::time::Duration;

use super::cart_apps::SecretUse;
use super::confirm::SendOnce;
use super::Services;
use crate::domain::{
    Connection, ConnectionId, DisconnectedBy, Disconnection, InviteEventKind, Revocation, TokenSet,
    WarehouseId,
};
use crate::email::disconnected_email;
use crate::oauth::RevokeCall;
use crate::store::{EmailKind, StoreError};
use crate::vault::VaultError;

/// How many times a disconnect reads the connection again after its write lost to a change
/// (a refresh wrote new tokens, which must be the ones revoked).
const DISCONNECT_TRIES: u32 = 3;
/// How long a caller that lost the write to a concurrent disconnect waits, at most, for the
/// winner's revocation answer, so both answer the same; and how often it looks.
const SETTLE_POLL: Duration = Duration::from_millis(100);
const SETTLE_POLLS: u32 = 30;

/// Why a connection was not disconnected.
#[derive(Debug, thiserror::Error)]
pub enum DisconnectError {
    /// No such connection of this warehouse (nor a disconnected one).
    #[error("no such connection")]
    NotFound,
    /// The key service failed opening the tokens to revoke; nothing changed.
    #[error("the key service failed: {0}")]
    KeyService(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Services {
    /// Disconnects a warehouse's own connection (see the module's order), or answers the
    /// record of its earlier disconnect: a repeat answers the same, and sends the merchant's
    /// email if it is still owed.
    pub async fn disconnect_connection(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<Disconnection, DisconnectError> {
        self.disconnect_by(warehouse, raw_id, DisconnectedBy::Warehouse)
            .await
    }

    /// The one disconnect, whoever asks: the warehouse through its API, or the merchant from
    /// their manage page (`by`, which decides who is told, see [`Services::tell_of_disconnect`]).
    pub(super) async fn disconnect_by(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
        by: DisconnectedBy,
    ) -> Result<Disconnection, DisconnectError> {
        let id = ConnectionId::parse(raw_id).ok_or(DisconnectError::NotFound)?;
        for _ in 0..DISCONNECT_TRIES {
            let Some(connection) = self.store.connection(&id).await? else {
                return self.earlier_disconnect(warehouse, &id).await;
            };
            if &connection.warehouse_id != warehouse {
                return Err(DisconnectError::NotFound);
            }
            let tokens = self.tokens_to_revoke(&connection).await?;
            let revocation = self.revocation_to_make(&connection, tokens.as_ref());
            let record = Disconnection::of(&connection, self.clock.now(), revocation, by);
            match self.store.disconnect(&record, connection.version).await {
                Ok(()) => {}
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            tracing::info!(connection_id = %id, warehouse_id = %warehouse, "connection disconnected; tokens deleted");
            // Scoped by the connection, so the step names what it dropped (its webhook's data).
            self.record_invite_event(
                &connection.invite_id,
                InviteEventKind::Disconnected,
                Some(id.as_str()),
                None,
            )
            .await;
            let record = self.revoke_at_cart(&connection, tokens, record).await?;
            self.tell_of_disconnect(&record).await?;
            return Ok(record);
        }
        self.earlier_disconnect(warehouse, &id).await
    }

    /// A disconnect of a connection already gone: its record, once the revocation a concurrent
    /// disconnect is making is answered (or the wait is over), with the merchant's email sent
    /// if it is still owed.
    async fn earlier_disconnect(
        &self,
        warehouse: &WarehouseId,
        id: &ConnectionId,
    ) -> Result<Disconnection, DisconnectError> {
        for _ in 0..SETTLE_POLLS {
            let record = self
                .store
                .disconnection(id)
                .await?
                .filter(|d| &d.warehouse_id == warehouse)
                .ok_or(DisconnectError::NotFound)?;
            if record.revocation != Revocation::Pending {
                self.tell_of_disconnect(&record).await?;
                return Ok(record);
            }
            tokio::time::sleep(SETTLE_POLL).await;
        }
        let record = self
            .store
            .disconnection(id)
            .await?
            .ok_or(DisconnectError::NotFound)?;
        self.tell_of_disconnect(&record).await?;
        Ok(record)
    }

    /// The connection's tokens, to revoke; `None` when they do not open (they are deleted all
    /// the same). A key service that fails stops the disconnect before anything changes.
    async fn tokens_to_revoke(
        &self,
        connection: &Connection,
    ) -> Result<Option<TokenSet>, DisconnectError> {
        match self
            .vault
            .open(&connection.context(), &connection.tokens)
            .await
        {
            Ok(plain) => Ok(TokenSet::from_plaintext(&plain)),
            Err(VaultError::Refused) => Ok(None),
            Err(VaultError::Unavailable(e)) => Err(DisconnectError::KeyService(e)),
        }
    }

    /// What the record says before the cart is asked: `pending` where a call will be made,
    /// `not_offered` where the catalog names no revocation endpoint, `failed` where the
    /// tokens to revoke do not open.
    fn revocation_to_make(&self, connection: &Connection, tokens: Option<&TokenSet>) -> Revocation {
        let offered = self
            .catalog
            .get(&connection.cart)
            .is_some_and(|c| c.revocation.is_some());
        match (offered, tokens) {
            (false, _) => Revocation::NotOffered,
            (true, None) => Revocation::Failed,
            (true, Some(_)) => Revocation::Pending,
        }
    }

    /// Asks the cart to revoke the grant (the refresh token where there is one, else the
    /// access token) when the record is `pending`, and records its answer.
    async fn revoke_at_cart(
        &self,
        connection: &Connection,
        tokens: Option<TokenSet>,
        mut record: Disconnection,
    ) -> Result<Disconnection, DisconnectError> {
        let (Revocation::Pending, Some(tokens)) = (record.revocation, tokens) else {
            return Ok(record);
        };
        let outcome = match self.call_revocation(connection, &tokens).await {
            Ok(()) => Revocation::Revoked,
            Err(why) => {
                tracing::warn!(connection_id = %connection.id, cart = %connection.cart, reason = %why, "revocation at the cart failed; tokens deleted here");
                Revocation::Failed
            }
        };
        match self
            .store
            .settle_revocation(&record.connection_id, outcome)
            .await
        {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
        record.revocation = outcome;
        Ok(record)
    }

    /// The RFC 7009 call, with the endpoint built for the connection's store and account; the
    /// error is a reason without secrets.
    pub(super) async fn call_revocation(
        &self,
        connection: &Connection,
        tokens: &TokenSet,
    ) -> Result<(), String> {
        let cart = self
            .catalog
            .get(&connection.cart)
            .ok_or("the cart is not configured")?;
        let endpoint = cart.revocation.as_ref().ok_or("no revocation endpoint")?;
        let cart = self
            .cart_through(cart, connection.app.as_ref(), SecretUse::Open)
            .await
            .map_err(|e| e.to_string())?;
        let cart: &crate::carts::CartSpec = &cart;
        let credentials = cart
            .credentials
            .as_ref()
            .ok_or("the cart has no credentials")?;
        let store_value = self
            .store
            .invite(&connection.invite_id)
            .await
            .map_err(|e| e.to_string())?
            .and_then(|i| i.store);
        let vars = cart.connection_vars(store_value.as_deref(), connection.account.as_deref());
        let url = cart
            .endpoint(&endpoint.url, &vars)
            .map_err(|e| e.to_string())?;
        let (token, token_type_hint) = endpoint.style.token_to_revoke(tokens);
        self.oauth
            .revoke(RevokeCall {
                cart,
                credentials,
                url: &url,
                style: endpoint.style,
                token,
                token_type_hint,
            })
            .await
            .map_err(|e| e.to_string())
    }

    /// Tells whoever did not drop the connection (and, for the merchant's own withdrawal, the
    /// merchant too, as a receipt): each email once, by its send record.
    async fn tell_of_disconnect(&self, record: &Disconnection) -> Result<(), StoreError> {
        match record.by {
            DisconnectedBy::Warehouse => self.tell_merchant(record).await,
            DisconnectedBy::Merchant => self.tell_of_withdrawal(record).await,
            DisconnectedBy::Cart => self.tell_of_revocation_at_cart(record).await,
        }
    }

    /// Emails the merchant that the warehouse no longer has access, once (its send record).
    /// A mail service that fails is logged: a repeated disconnect sends it.
    async fn tell_merchant(&self, record: &Disconnection) -> Result<(), StoreError> {
        let Some(invite) = self.store.invite(&record.invite_id).await? else {
            return Ok(());
        };
        let cart_name = self.catalog.display_name(&invite.cart);
        let revoked = record.revocation == Revocation::Revoked;
        let email = || disconnected_email(&invite, &cart_name, record.disconnected_at, revoked);
        match self
            .send_once(&invite.id, EmailKind::Disconnected, email)
            .await?
        {
            SendOnce::Sent => {
                tracing::info!(connection_id = %record.connection_id, "merchant told of the disconnect");
            }
            SendOnce::SentBefore | SendOnce::Busy => {}
            SendOnce::Failed(e) => {
                tracing::warn!(connection_id = %record.connection_id, error = %e, "disconnect email not sent; a repeated disconnect sends it");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
