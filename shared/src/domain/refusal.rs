//! Why a request that would complete a grant (a callback, a key delivery, an integration's
//! activation, a key handshake's return) was refused before anything was sent to the cart.
//! Each reason has one stable code: logged as `reason`, answered as `{"error": <code>}` to a
//! store's server-to-server delivery, and listed in `docs/api.md` (a test holds the list to this
//! enum).

use std::fmt;

/// Declares [`Refusal`] from one list of variants and their codes, so the enum, its codes and
/// [`Refusal::ALL`] cannot drift apart.
macro_rules! refusals {
    ($($(#[$doc:meta])* $variant:ident => $code:literal,)*) => {
        /// Why a grant-completing request was refused. The request does not belong to a grant
        /// a browser started here, or it fails a check of its cart; nothing was sent anywhere.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Refusal {
            $($(#[$doc])* $variant,)*
        }

        impl Refusal {
            /// Every refusal, in the order the documentation lists them.
            pub const ALL: &'static [Refusal] = &[$(Refusal::$variant,)*];

            /// The stable code (`state_missing`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Refusal::$variant => $code,)*
                }
            }
        }
    };
}

refusals! {
    /// No cart has the path's id, or that cart takes no request of this kind.
    UnknownCart => "unknown_cart",
    /// The callback carries no `state` (in its query, or its state cookie).
    StateMissing => "state_missing",
    /// The callback's query carries a parameter more than once (RFC 6749 §3.1 forbids it):
    /// which `state` or `code` is meant cannot be told.
    ParameterRepeated => "parameter_repeated",
    /// Nobody issued the callback's `state`.
    StateUnknown => "state_unknown",
    /// The callback's attempt is past its 15 minutes.
    AttemptExpired => "attempt_expired",
    /// The callback's attempt was used already.
    AttemptUsed => "attempt_used",
    /// The nonce of a delivery does not name an attempt.
    NonceUnknown => "nonce_unknown",
    /// The nonce's attempt is past its life.
    NonceExpired => "nonce_expired",
    /// The nonce's attempt was used already.
    NonceUsed => "nonce_used",
    /// The attempt was started for another cart (a mix-up).
    CartMixUp => "cart_mix_up",
    /// The attempt's invite is gone from the store.
    InviteMissing => "invite_missing",
    /// The attempt's invite is not granting (withdrawn, or its email bounced).
    InviteNotGranting => "invite_not_granting",
    /// The request comes from another browser than the one that started the attempt.
    BrowserMismatch => "browser_mismatch",
    /// The callback's `iss` is not the cart's issuer.
    IssuerMismatch => "issuer_mismatch",
    /// The cart has no credentials configured.
    CartNotEnabled => "cart_not_enabled",
    /// The cart's echo of a value we sent is not that value.
    InputMismatch => "input_mismatch",
    /// A value the cart returns does not match its pattern.
    CallbackValueInvalid => "callback_value_invalid",
    /// The account the cart returns does not match its pattern.
    AccountInvalid => "account_invalid",
    /// The callback carries no code, or an empty or overlong one.
    CodeMissing => "code_missing",
    /// The token endpoint cannot be built for this store (a host the entry does not allow).
    TokenEndpointRefused => "token_endpoint_refused",
    /// Another request changed the invite or the attempt before this one committed.
    CommitConflict => "commit_conflict",
    /// Shopify: we hold no secret to check the callback's HMAC with.
    HmacNoSecret => "hmac_no_secret",
    /// Shopify: the callback carries no HMAC.
    HmacMissing => "hmac_missing",
    /// Shopify: the callback's HMAC is wrong.
    HmacInvalid => "hmac_invalid",
    /// Shopify: the callback carries no timestamp.
    TimestampMissing => "timestamp_missing",
    /// Shopify: the callback's timestamp is more than 90 seconds from now.
    TimestampStale => "timestamp_stale",
    /// Walmart: the callback's `clientId` is not ours.
    ClientIdMismatch => "client_id_mismatch",
    /// A key delivery is not the JSON of one, or its keys are not shaped as the store mints
    /// them.
    KeysMalformed => "keys_malformed",
    /// A key delivery grants other permissions than we asked for.
    KeysPermissions => "keys_permissions",
    /// The endpoint that checks delivered keys cannot be built for this store.
    VerifyEndpointRefused => "verify_endpoint_refused",
    /// An activation repeats a field, or its credentials are not shaped as the store mints
    /// them.
    IntegrationMalformed => "integration_malformed",
    /// An activation lacks one of its four fields.
    IntegrationIncomplete => "integration_incomplete",
    /// The cart names no store input to check an activation's store against.
    IntegrationStoreUnknown => "integration_store_unknown",
    /// An activation comes from another store than the invite's.
    StoreMismatch => "store_mismatch",
    /// A re-authorization was granted for a connection the warehouse disconnected meanwhile.
    ConnectionGone => "connection_gone",
    /// A re-authorization was granted for another account than the connection's.
    AccountMismatch => "account_mismatch",
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_refusal_has_its_own_snake_case_code() {
        // GIVEN every refusal's code
        let codes: Vec<&str> = Refusal::ALL.iter().map(|r| r.as_str()).collect();
        // THEN no two share one, and each is lower snake case
        assert_eq!(codes.iter().collect::<HashSet<_>>().len(), codes.len());
        for code in codes {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
    }
}
