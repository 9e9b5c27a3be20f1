//! A lifecycle subscription a cart makes the app hold per merchant site, where the cart signals
//! an uninstall only to a subscription created with the merchant's own token (Squarespace's
//! `extension.uninstall`): where it is made, for which topic, and where that is documented. The
//! care flow makes it for each connection of such a cart; `service::lifecycle` verifies what it
//! delivers.

use serde::Deserialize;

/// An entry's `uninstall_subscription`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UninstallSubscription {
    /// The subscriptions endpoint (a `POST` creates one, a `GET` lists them, and
    /// `{url}/{id}/actions/rotateSecret` issues a new secret), called with the merchant's
    /// `Authorization: Bearer`; its host must be one the entry allows.
    pub url: String,
    /// The topic that signals the uninstall.
    pub topic: String,
    /// The path of cartlink's own route the cart delivers to (under the public base URL).
    pub route: String,
    /// Where the cart documents it.
    pub source: String,
}
