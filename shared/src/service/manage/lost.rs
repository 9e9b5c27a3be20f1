//! A lost manage link, asked for again from the access-code page by the merchant's address:
//! every connection managed from that address gets a fresh link, emailed to that address
//! only. The answer is the same whether or not any connection is managed from it, so the form
//! tells nobody which addresses have connections; the links go only to the address's owner.

use std::net::IpAddr;

use super::super::Services;
use crate::config::normalize_email;
use crate::domain::TokenHash;
use crate::email::manage_link_email;
use crate::store::manage::merchant_hash;
use crate::store::StoreError;

/// How many lost-link requests one client may make per hour.
pub const LOST_LINK_REQUESTS_PER_CLIENT_PER_HOUR: u32 = 5;
/// How many times a day one address is sent its links again, whoever asks.
pub const LOST_LINK_EMAILS_PER_ADDRESS_PER_DAY: u32 = 3;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * 3600;

/// Why a lost-link request was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LostLinkError {
    /// What was typed is not an email address (this says nothing about connections).
    #[error("not an email address")]
    InvalidAddress,
    /// This client asked too often.
    #[error("too many requests from this client")]
    TooMany,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Services {
    /// Emails a fresh manage link for every connection still managed from `typed` (the
    /// address its confirmation went to), within the limits. `Ok` whether or not there was
    /// any: the caller answers the same either way. A mail failure is logged, not answered.
    pub async fn send_lost_manage_links(
        &self,
        typed: &str,
        client: Option<IpAddr>,
    ) -> Result<(), LostLinkError> {
        let address = normalize_email(typed.trim()).ok_or(LostLinkError::InvalidAddress)?;
        let now = self.clock.now();
        let ip = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let from = format!("lost-link-from:{}", TokenHash::of(&ip).as_str());
        if !self
            .count_hit(&from, HOUR, LOST_LINK_REQUESTS_PER_CLIENT_PER_HOUR, now)
            .await?
        {
            return Err(LostLinkError::TooMany);
        }
        let merchant = merchant_hash(&address);
        let to = format!("lost-link-to:{}", merchant.as_str());
        if !self
            .count_hit(&to, DAY, LOST_LINK_EMAILS_PER_ADDRESS_PER_DAY, now)
            .await?
        {
            // Said like a request that found nothing: the limit is the address's, not the asker's.
            return Ok(());
        }
        for link in self.store.manage_links_for(&merchant).await? {
            let Some(connection) = self.store.connection(&link.connection_id).await? else {
                continue;
            };
            let Some(invite) = self.store.invite(&link.invite_id).await? else {
                continue;
            };
            let url = self.issue_manage_link(&connection, &invite).await?;
            let cart_name = self.catalog.display_name(&invite.cart);
            let sent = match manage_link_email(&invite, &cart_name, &url) {
                Ok(mail) => self.mailer.send(&mail).await.map(|_| ()),
                Err(e) => Err(e),
            };
            match sent {
                Ok(()) => {
                    tracing::info!(connection_id = %connection.id, "manage link sent again");
                }
                Err(e) => {
                    tracing::warn!(connection_id = %connection.id, error = %e, "manage link not sent again");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
