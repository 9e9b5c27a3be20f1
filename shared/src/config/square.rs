//! Square's webhook subscription as registered in Square's Developer Console
//! (`[square_webhooks]`): the notification URL typed there and the subscription's signature
//! key, which sign every event notification together with its body.

use serde::Deserialize;

use super::{err, ConfigError};
use crate::domain::Secret;
use crate::net::endpoint_url;

/// The notification URL and signature key of the app's Square webhook subscription.
#[derive(Clone, Debug)]
pub struct SquareWebhooks {
    /// The notification URL exactly as registered (Square signs it with the body).
    pub notification_url: String,
    /// The subscription's signature key.
    pub signature_key: Secret,
}

/// `[square_webhooks]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SquareWebhooksEntry {
    notification_url: String,
    signature_key: Option<String>,
    signature_key_env: Option<String>,
}

impl SquareWebhooksEntry {
    /// The settings, checked: an https notification URL (plain http only to loopback in a
    /// loopback configuration) and a key, inline or from the named variable.
    pub(super) fn read(
        self,
        env: &dyn Fn(&str) -> Option<String>,
        local: bool,
    ) -> Result<SquareWebhooks, ConfigError> {
        let what = "square_webhooks";
        endpoint_url(
            &format!("{what}: notification_url"),
            &self.notification_url,
            local,
        )
        .map_err(err)?;
        let key = match (self.signature_key, self.signature_key_env) {
            (Some(key), None) => key,
            (None, Some(var)) => {
                env(&var).ok_or_else(|| err(format!("{what}: the variable {var} is not set")))?
            }
            _ => {
                return Err(err(format!(
                    "{what}: give exactly one of signature_key and signature_key_env"
                )))
            }
        };
        if key.trim().is_empty() || key.contains(char::is_control) {
            return Err(err(format!("{what}: the signature key must be printable")));
        }
        Ok(SquareWebhooks {
            notification_url: self.notification_url,
            signature_key: Secret::new(&key),
        })
    }
}
