//! The app's credentials at a cart, as the flow uses them (checked against what the cart needs
//! when the configuration is read: [`super::EntryCredentials::for_cart`]).

use serde::Deserialize;

use super::token::{TokenAuth, TokenRequest};
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

/// What an app's credentials must hold at a cart beyond a printable client id: the rule
/// [`super::EntryCredentials::for_cart`] checks them against. A built-in cart's terms are read
/// without its entry ([`super::builtin::Builtin::terms`]), so a configuration that gives
/// credentials to a cart does not make every start read that cart's whole entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialTerms {
    /// Whether the app has a client secret of its own at the cart.
    pub client_secret: bool,
    /// The fields the cart needs beyond the client id.
    pub needs: Vec<Need>,
}

impl CredentialTerms {
    /// The terms of a cart that authenticates at its token endpoint with `token_auth` and
    /// exchanges the code with `token_request`: a secret unless it is a public client (PKCE
    /// carries the proof) or an admin integration (each store hands over its own consumer key
    /// and secret when it activates).
    pub fn new(token_auth: TokenAuth, token_request: &TokenRequest, needs: Vec<Need>) -> Self {
        CredentialTerms {
            client_secret: token_auth != TokenAuth::None
                && !matches!(token_request, TokenRequest::OAuth1(_)),
            needs,
        }
    }
}
