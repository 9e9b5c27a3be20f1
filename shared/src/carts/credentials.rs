//! The app's credentials at a cart, as the flow uses them (checked against what the cart needs
//! when the configuration is read: [`super::EntryCredentials::for_cart`]).

use serde::Deserialize;

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
