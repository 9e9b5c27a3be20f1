//! eBay's marketplace account deletion endpoint as registered at eBay
//! (`[ebay_account_deletion]`): the endpoint URL and verification token typed into eBay's
//! developer portal, which eBay's challenge hashes together with its challenge code.

use serde::Deserialize;

use super::{err, ConfigError};
use crate::domain::Secret;
use crate::net::endpoint_url;

/// The endpoint and verification token registered at eBay for account deletion notifications.
#[derive(Clone, Debug)]
pub struct EbayAccountDeletion {
    /// The endpoint URL exactly as registered at eBay (eBay hashes it into the challenge).
    pub endpoint: String,
    /// The verification token registered with it.
    pub verification_token: Secret,
}

/// `[ebay_account_deletion]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EbayAccountDeletionEntry {
    endpoint: String,
    verification_token: Option<String>,
    verification_token_env: Option<String>,
}

/// eBay's rule for a verification token: 32 to 80 characters, alphanumeric, `_` and `-`.
fn token_shape(token: &str) -> bool {
    (32..=80).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl EbayAccountDeletionEntry {
    /// The settings, checked: an https endpoint (plain http only to loopback in a loopback
    /// configuration) and a token of eBay's shape, inline or from the named variable.
    pub(super) fn read(
        self,
        env: &dyn Fn(&str) -> Option<String>,
        local: bool,
    ) -> Result<EbayAccountDeletion, ConfigError> {
        let what = "ebay_account_deletion";
        endpoint_url(&format!("{what}: endpoint"), &self.endpoint, local).map_err(err)?;
        let token = match (self.verification_token, self.verification_token_env) {
            (Some(token), None) => token,
            (None, Some(var)) => {
                env(&var).ok_or_else(|| err(format!("{what}: the variable {var} is not set")))?
            }
            _ => {
                return Err(err(format!(
                    "{what}: give exactly one of verification_token and verification_token_env"
                )))
            }
        };
        if !token_shape(&token) {
            return Err(err(format!(
                "{what}: the verification token must be 32 to 80 characters of letters, digits, _ and -"
            )));
        }
        Ok(EbayAccountDeletion {
            endpoint: self.endpoint,
            verification_token: Secret::new(&token),
        })
    }
}
