//! A lifecycle subscription cartlink holds at a merchant's site (Squarespace's
//! `extension.uninstall`), one per cart and account: the cart's id for it and its signing
//! secret, sealed like tokens (the cart shows the secret once, at creation or rotation).

use serde::{Deserialize, Serialize};

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
    /// own kind, so no function that opens tokens can open it by that right alone.
    pub fn seal_context(cart: &CartId, account: &str) -> SealContext {
        SealContext::new([
            ("kind", "cart-subscription-secret"),
            ("cart", cart.as_str()),
            ("account", account),
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
        assert!(pairs.contains(&("account", "site1")));
        assert!(pairs.contains(&("cart", "squarespace")));
    }
}
