//! The merchant's "Manage this connection" link: every merchant confirmation carries one, as
//! strong as a setup link (256 random bits, stored by hash only). Its page shows the connection
//! (who, which store, since when, what it can do, the last token fetch); a confirmed POST
//! withdraws access through the one disconnect the warehouse API uses
//! ([`Services::disconnect_by`]), which tells the warehouse and records the `disconnected`
//! history event. Reading a link changes nothing, so a mail scanner that opens it is harmless.
//!
//! A link opens the one connection it was issued for: a token that does not parse, or whose
//! hash was never issued, is [`ManageError::InvalidLink`] (the access-code page), whatever
//! connection id anyone has in mind.

use super::disconnect::DisconnectError;
use super::Services;
use crate::domain::{
    Connection, ConnectionStatus, DisconnectedBy, Disconnection, Function, Invite, ManageToken,
    Timestamp,
};
use crate::email::{access_withdrawn_email, withdrawn_receipt_email};
use crate::store::manage::merchant_hash;
use crate::store::{EmailKind, ManageLink, StoreError};

/// Why a manage link answers no page of its own.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    /// Not a link cartlink issued (malformed, cut, altered, or for nothing stored).
    #[error("no such manage link")]
    InvalidLink,
    /// The key service failed opening the tokens to revoke; nothing changed.
    #[error("the key service failed: {0}")]
    KeyService(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a managed connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// The warehouse has access.
    Connected {
        /// Since when.
        since: Timestamp,
        /// When the warehouse last fetched a token, if it has (to the minute).
        last_token_fetch: Option<Timestamp>,
        /// Whether the cart stopped accepting the access (the warehouse must ask again).
        needs_reauth: bool,
    },
    /// The access is gone.
    Disconnected {
        /// When.
        at: Timestamp,
        /// Who withdrew it.
        by: DisconnectedBy,
    },
}

/// What the manage page shows.
#[derive(Clone, Debug)]
pub struct ManageView {
    /// The invite whose confirmation carried the link (warehouse, cart, store, functions).
    pub invite: Invite,
    /// The cart's display name.
    pub cart_name: String,
    /// The store account the cart named, if it named one.
    pub account: Option<String>,
    /// Where the connection stands.
    pub standing: Standing,
}

impl ManageView {
    /// What the warehouse can do with the access.
    pub fn functions(&self) -> &[Function] {
        &self.invite.functions
    }
}

impl Services {
    /// Mints a manage link for a connection and stores its hash; answers its URL. Called for
    /// every merchant confirmation about to be sent: a link minted for an email that never went
    /// out opens nothing anyone knows of.
    pub(super) async fn issue_manage_link(
        &self,
        connection: &Connection,
        invite: &Invite,
    ) -> Result<String, StoreError> {
        let token = ManageToken::generate();
        let record = ManageLink {
            connection_id: connection.id.clone(),
            invite_id: invite.id.clone(),
            created_at: self.clock.now(),
            merchant: merchant_hash(&invite.merchant_email),
        };
        self.store.add_manage_link(&token.hash(), &record).await?;
        Ok(format!(
            "{}/manage/{}",
            self.config.public_base_url,
            token.expose()
        ))
    }

    /// The page of a manage link. Changes nothing.
    pub async fn manage_view(&self, raw_token: &str) -> Result<ManageView, ManageError> {
        let link = self.manage_link_of(raw_token).await?;
        self.view_of(&link).await
    }

    /// Withdraws the access a manage link manages, exactly as the warehouse API's disconnect
    /// does, and answers the page as it now stands. Withdrawing what is gone already changes
    /// nothing; it sends only the withdrawal emails a crash left owed.
    pub async fn withdraw_access(&self, raw_token: &str) -> Result<ManageView, ManageError> {
        let link = self.manage_link_of(raw_token).await?;
        let Some(connection) = self.store.connection(&link.connection_id).await? else {
            // Gone already. If the merchant withdrew it and the process died before the emails,
            // this press sends them (each once, by its send record); otherwise nobody is told
            // again.
            if let Some(record) = self.store.disconnection(&link.connection_id).await? {
                if record.by == DisconnectedBy::Merchant {
                    self.tell_of_withdrawal(&record).await?;
                }
            }
            return self.view_of(&link).await;
        };
        let done = self
            .disconnect_by(
                &connection.warehouse_id,
                connection.id.as_str(),
                DisconnectedBy::Merchant,
            )
            .await;
        match done {
            Ok(_) | Err(DisconnectError::NotFound) => {}
            Err(DisconnectError::KeyService(e)) => return Err(ManageError::KeyService(e)),
            Err(DisconnectError::Store(e)) => return Err(e.into()),
        }
        self.view_of(&link).await
    }

    /// Notes that a connection's tokens were fetched now, for its manage page. A store that
    /// fails here costs the page its precision, never the warehouse its token.
    pub(super) async fn note_token_fetch(&self, connection: &Connection) {
        if let Err(e) = self
            .store
            .record_token_fetch(&connection.id, self.clock.now())
            .await
        {
            tracing::warn!(connection_id = %connection.id, error = %e, "last token fetch not recorded");
        }
    }

    /// The merchant's receipt and the warehouse's notice of a withdrawal, each once.
    pub(super) async fn tell_of_withdrawal(
        &self,
        record: &Disconnection,
    ) -> Result<(), StoreError> {
        let Some(invite) = self.store.invite(&record.invite_id).await? else {
            return Ok(());
        };
        let cart_name = self.catalog.display_name(&invite.cart);
        let revoked = record.revocation == crate::domain::Revocation::Revoked;
        let connection = record.connection_id.as_str();
        let at = record.disconnected_at;
        for kind in [EmailKind::AccessWithdrawn, EmailKind::Disconnected] {
            let email = || match kind {
                EmailKind::AccessWithdrawn => {
                    access_withdrawn_email(&invite, &cart_name, connection, at)
                }
                _ => withdrawn_receipt_email(&invite, &cart_name, at, revoked),
            };
            if let super::confirm::SendOnce::Failed(e) =
                self.send_once(&invite.id, kind, email).await?
            {
                tracing::warn!(connection_id = %connection, kind = kind.as_str(), error = %e, "withdrawal email not sent; opening the withdrawn link sends it");
            }
        }
        Ok(())
    }

    async fn manage_link_of(&self, raw_token: &str) -> Result<ManageLink, ManageError> {
        let token = ManageToken::parse(raw_token).ok_or(ManageError::InvalidLink)?;
        self.store
            .manage_link(&token.hash())
            .await?
            .ok_or(ManageError::InvalidLink)
    }

    async fn view_of(&self, link: &ManageLink) -> Result<ManageView, ManageError> {
        let invite = self
            .store
            .invite(&link.invite_id)
            .await?
            .ok_or(ManageError::InvalidLink)?;
        let cart_name = self.catalog.display_name(&invite.cart);
        let (account, standing) = match self.store.connection(&link.connection_id).await? {
            Some(c) => (
                c.account.clone(),
                Standing::Connected {
                    since: c.created_at,
                    last_token_fetch: self.store.last_token_fetch(&c.id).await?,
                    needs_reauth: c.status == ConnectionStatus::NeedsReauth,
                },
            ),
            None => {
                let gone = self
                    .store
                    .disconnection(&link.connection_id)
                    .await?
                    .ok_or(ManageError::InvalidLink)?;
                (
                    None,
                    Standing::Disconnected {
                        at: gone.disconnected_at,
                        by: gone.by,
                    },
                )
            }
        };
        Ok(ManageView {
            invite,
            cart_name,
            account,
            standing,
        })
    }
}

pub mod lost;

#[cfg(test)]
mod tests;
