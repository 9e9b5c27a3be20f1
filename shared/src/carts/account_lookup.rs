//! Where a cart that names the account in neither its callback nor its token answer tells it:
//! one `GET` with the new access token (eBay's Commerce Identity `getUser`, whose `userId` is
//! what its account deletion notifications name), read after the exchange and before the
//! connection is stored.

use serde::Deserialize;

use super::Pattern;

/// An entry's `account_lookup`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountLookup {
    /// The endpoint, called with `Authorization: Bearer <access token>`; its host must be one
    /// the entry allows.
    pub url: String,
    /// The answer's top-level field holding the account id.
    pub field: String,
    /// What the id must look like (anchored).
    pub pattern: Pattern,
    /// Where the cart documents it.
    pub source: String,
}
