//! Manage links: the secret "Manage this connection" links of the merchant's confirmation
//! emails (by hash only), and when a connection's tokens were last fetched, which their page
//! shows.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{ConnectionId, InviteId, Timestamp, TokenHash};

/// The hash a merchant's address is filed under: SHA-256 of the address lower-cased whole
/// (mail providers treat the local part case-insensitively), so a typed address finds it.
pub fn merchant_hash(address: &str) -> TokenHash {
    TokenHash::of(&address.trim().to_lowercase())
}

/// How often, at most, a connection's last token fetch is written: the page shows it to the
/// minute, so a warehouse that fetches every second costs one write a minute.
pub const FETCH_RECORD_EVERY_SECS: i64 = 60;

/// What a manage link opens: one connection, for good. A link is never moved to another
/// connection; a connection may have several (one per confirmation email sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManageLink {
    /// The connection it manages (gone once disconnected; the disconnection record stays).
    pub connection_id: ConnectionId,
    /// The invite whose confirmation carried it.
    pub invite_id: InviteId,
    /// When it was issued.
    pub created_at: Timestamp,
    /// The SHA-256 of the merchant's address, lower-cased whole: what a lost link is asked
    /// for again by ([`ManageLinks::manage_links_for`]). Never the address itself.
    pub merchant: TokenHash,
}

/// Manage links and last token fetches.
#[async_trait]
pub trait ManageLinks: Send + Sync {
    /// Stores a new manage link under the hash of its token, if no link has that hash
    /// ([`StoreError::Conflict`] otherwise: a hash is never given a second meaning), and, in the
    /// same write, files its connection under the merchant's address hash.
    async fn add_manage_link(
        &self,
        link: &TokenHash,
        record: &ManageLink,
    ) -> Result<(), StoreError>;

    /// The link with this hash, if one was issued.
    async fn manage_link(&self, link: &TokenHash) -> Result<Option<ManageLink>, StoreError>;

    /// The connections managed under a merchant's address hash: one [`ManageLink`] per
    /// connection (the latest filed; its token is not known here), any order.
    async fn manage_links_for(&self, merchant: &TokenHash) -> Result<Vec<ManageLink>, StoreError>;

    /// Records that the connection's tokens were fetched at `at`, unless a fetch less than
    /// [`FETCH_RECORD_EVERY_SECS`] earlier is recorded (then nothing is written, and `Ok`).
    /// Never moves the time back.
    async fn record_token_fetch(&self, id: &ConnectionId, at: Timestamp) -> Result<(), StoreError>;

    /// When the connection's tokens were last fetched, as recorded.
    async fn last_token_fetch(&self, id: &ConnectionId) -> Result<Option<Timestamp>, StoreError>;
}
