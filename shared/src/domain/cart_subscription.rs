//! A lifecycle subscription cartlink holds at a merchant's site (Squarespace's
//! `extension.uninstall`), one per cart and account: the cart's id for it and its signing
//! secret, sealed like tokens (the cart shows the secret once, at creation or rotation).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ids::{CartId, Timestamp};
use super::sealed::{SealContext, SealedBlob};

/// The subscription at one account (a Squarespace website) of one cart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartSubscription {
    /// The cart.
    pub cart: CartId,
    /// The account it is made at (the connections' `account`).
    pub account: String,
    /// The cart's id of the subscription.
    pub subscription_id: String,
    /// Its signing secret as the cart wrote it, sealed under
    /// [`CartSubscription::seal_context`].
    pub secret: SealedBlob,
    /// When cartlink stored this secret (a connection granted after it makes care check the
    /// subscription again: an uninstall may have ended it at the cart).
    pub stored_at: Timestamp,
}

impl CartSubscription {
    /// The context its secret is sealed under: bound to the cart and the account, and of its
    /// own kind, so no function that opens tokens can open it by that right alone. The account
    /// is named by its SHA-256: the key service logs contexts, and another cart's account may
    /// be a domain.
    pub fn seal_context(cart: &CartId, account: &str) -> SealContext {
        let account_hash = hex::encode(Sha256::digest(account.as_bytes()));
        SealContext::new([
            ("kind", "cart-subscription-secret"),
            ("cart", cart.as_str()),
            ("account_hash", account_hash.as_str()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_sealed_under_its_own_kind_bound_to_cart_and_account() {
        // GIVEN a Squarespace website WHEN its subscription's context is made
        let c = CartSubscription::seal_context(&CartId::new("squarespace"), "site1");
        // THEN it is of its own kind and names both
        let pairs: Vec<_> = c.pairs().collect();
        assert!(pairs.contains(&("kind", "cart-subscription-secret")));
        let hashed = hex::encode(Sha256::digest(b"site1"));
        assert!(pairs.contains(&("account_hash", hashed.as_str())));
        assert!(pairs.contains(&("cart", "squarespace")));
    }
}
