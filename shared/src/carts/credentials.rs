//! The app's credentials at a cart: as an operator writes them (inline in a `[[carts]]` entry,
//! or a built-in cart's `[cart_credentials.<id>]` table), and checked against what the cart
//! needs. The configuration reads them; the rule of what a cart needs is here, once.

use serde::Deserialize;

use super::CartSpec;
use crate::domain::Secret;

/// The app's credentials at one cart, from configuration.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// The client id (not secret).
    pub client_id: String,
    /// The client secret; absent for public clients.
    pub client_secret: Option<Secret>,
    /// The app id, where it differs from the client id (Amazon's `application_id`).
    pub app_id: Option<String>,
    /// The RuName (eBay).
    pub ru_name: Option<String>,
    /// Whether the app is an unpublished draft (Amazon: `version=beta`).
    pub draft: bool,
}

impl ClientCredentials {
    /// Credentials with only a client id and secret.
    pub fn new(client_id: &str, client_secret: Option<Secret>) -> Self {
        ClientCredentials {
            client_id: client_id.into(),
            client_secret,
            app_id: None,
            ru_name: None,
            draft: false,
        }
    }
}

/// A credentials field a cart needs beyond the client id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// The RuName (eBay), sent as the redirect URI.
    RuName,
    /// The app id (Amazon's `application_id`).
    AppId,
}

impl Need {
    /// Its key in the credentials.
    pub fn as_str(self) -> &'static str {
        match self {
            Need::RuName => "ru_name",
            Need::AppId => "app_id",
        }
    }
}

/// The credentials an entry carries inline, as written (not yet checked against what the cart
/// needs).
#[derive(Default)]
pub struct EntryCredentials {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `client_secret`.
    pub client_secret: Option<String>,
    /// `client_secret_env`.
    pub client_secret_env: Option<String>,
    /// `app_id`.
    pub app_id: Option<String>,
    /// `ru_name`.
    pub ru_name: Option<String>,
    /// `draft`.
    pub draft: bool,
}

impl EntryCredentials {
    /// Whether any credential is written.
    pub fn is_empty(&self) -> bool {
        self.client_id.is_none()
            && self.client_secret.is_none()
            && self.client_secret_env.is_none()
            && self.app_id.is_none()
            && self.ru_name.is_none()
            && !self.draft
    }
}

/// A built-in cart's credentials as written: a `[cart_credentials.<id>]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsEntry {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret, inline.
    pub client_secret: Option<String>,
    /// The environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// The app id, where the cart needs one.
    pub app_id: Option<String>,
    /// The RuName, where the cart needs one.
    pub ru_name: Option<String>,
    /// Whether the app is an unpublished draft.
    #[serde(default)]
    pub draft: bool,
    /// Loopback test configurations only: where the cart's stand-in listens (the configuration
    /// checks that it is loopback).
    pub base_url_override: Option<String>,
}

impl CredentialsEntry {
    /// The credentials written, and the stand-in override as written.
    pub fn split(self) -> (EntryCredentials, Option<String>) {
        let given = EntryCredentials {
            client_id: Some(self.client_id),
            client_secret: self.client_secret,
            client_secret_env: self.client_secret_env,
            app_id: self.app_id,
            ru_name: self.ru_name,
            draft: self.draft,
        };
        (given, self.base_url_override)
    }
}

/// The client secret written inline or named by an environment variable (read through `env`),
/// never both.
fn secret_from(
    what: &str,
    secret: Option<String>,
    secret_env: Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, String> {
    match (secret, secret_env) {
        (Some(s), None) => Ok(Some(Secret::new(s))),
        (None, Some(var)) => Ok(Some(Secret::new(
            env(&var).ok_or_else(|| format!("{what}: {var} is not set"))?,
        ))),
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(format!(
            "{what}: give client_secret or client_secret_env, not both"
        )),
    }
}

impl EntryCredentials {
    /// The app's credentials at `cart`, checked against what the cart needs: a printable
    /// client id, a secret unless the cart takes none, and the fields it names in `needs`. One
    /// rule for built-in carts (`[cart_credentials.<id>]`) and the operator's own (inline in
    /// `[[carts]]`); `what` names the table in a refusal, `env` looks up a secret's variable.
    pub fn for_cart(
        self,
        what: &str,
        cart: &CartSpec,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ClientCredentials, String> {
        let client_id = self
            .client_id
            .ok_or_else(|| format!("{what}: client_id is missing"))?;
        if client_id.trim().is_empty() || client_id.contains(char::is_control) {
            return Err(format!("{what}: client_id must be printable"));
        }
        let secret = secret_from(what, self.client_secret, self.client_secret_env, env)?;
        if secret.is_none() && cart.uses_client_secret() {
            return Err(format!("{what}: this cart needs a client secret"));
        }
        for need in &cart.needs {
            let value = match need {
                Need::RuName => self.ru_name.as_deref(),
                Need::AppId => self.app_id.as_deref(),
            };
            if value.is_none_or(|v| v.trim().is_empty()) {
                return Err(format!("{what}: this cart needs {}", need.as_str()));
            }
        }
        Ok(ClientCredentials {
            client_id,
            client_secret: secret,
            app_id: self.app_id,
            ru_name: self.ru_name,
            draft: self.draft,
        })
    }
}
