//! Links nobody issued, counted per client address: whoever walks random setup links is told to
//! wait after [`UNKNOWN_LINKS_PER_CLIENT`] of them in a window. A link is 256 random bits, so
//! this is not what keeps one from being guessed; it keeps one client from making the service
//! look links up for ever (checklist A7, E5), without a word to anyone who holds a real link.

use std::net::IpAddr;

use super::setup::{GrantView, SetupError};
use super::Services;
use crate::domain::TokenHash;

/// Unknown (or closed) links one client address may open per window before it must wait.
pub const UNKNOWN_LINKS_PER_CLIENT: u32 = 30;
/// The window of [`UNKNOWN_LINKS_PER_CLIENT`]: 15 minutes.
pub const UNKNOWN_LINK_WINDOW_SECS: i64 = 15 * 60;

impl Services {
    /// The invite a link opens, as [`Services::open_link`], for the page a client asked: a link
    /// that opens nothing is counted against the client's address (one conditional write, as
    /// for access codes), and past the limit the client is told to wait. A link that opens
    /// an invite is never counted, so a mail scanner's visit changes nothing.
    pub async fn open_link_for(
        &self,
        raw_token: &str,
        client: Option<IpAddr>,
    ) -> Result<GrantView<'_>, SetupError> {
        self.count_unknown(client, self.open_link(raw_token)).await
    }

    /// `opened`, with a link that opens nothing counted against `client`.
    pub(super) async fn count_unknown<'s>(
        &self,
        client: Option<IpAddr>,
        opened: impl std::future::Future<Output = Result<GrantView<'s>, SetupError>>,
    ) -> Result<GrantView<'s>, SetupError> {
        match opened.await {
            Err(SetupError::InvalidLink) => {
                let address = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
                let key = format!("unknown-link:{}", TokenHash::of(&address).as_str());
                let counted = self
                    .count_hit(
                        &key,
                        UNKNOWN_LINK_WINDOW_SECS,
                        UNKNOWN_LINKS_PER_CLIENT,
                        self.clock.now(),
                    )
                    .await?;
                if !counted {
                    return Err(SetupError::TooManyAttempts);
                }
                Err(SetupError::InvalidLink)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests;
