//! How the merchant authorizes cartlink at a cart: the flavour of the grant, PKCE, and the
//! authorization request's URL template, parameters and redirect value.

use serde::{Deserialize, Serialize};

/// How the merchant authorizes cartlink at this cart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavour {
    /// Authorization code in a popup from the grant page, back to `/oauth/callback/{cart}`.
    PopupOauth,
    /// The grant page sends the merchant to their own store, which posts API keys to
    /// `/oauth/keys/{cart}` (WooCommerce's `/wc-auth/v1/authorize`).
    KeyHandshake,
    /// The merchant creates an integration in their own admin (Magento / Adobe Commerce) with
    /// the Callback URL and Identity link URL cartlink gives them on the grant page; on
    /// activation the store posts the integration's credentials to the Callback URL, server to
    /// server (`/oauth/integration/{cart}/{nonce}`), and cartlink fetches the access token with
    /// them ([`TokenRequest::OAuth1`](super::TokenRequest::OAuth1)).
    AdminIntegration,
    /// The merchant creates API credentials in their own admin and types them into the grant
    /// page (the entry's `credential_fields`); they are checked with one read call
    /// (`token_url`) before they are sealed.
    Credentials,
}

impl Flavour {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::PopupOauth => "popup_oauth",
            Flavour::KeyHandshake => "key_handshake",
            Flavour::AdminIntegration => "admin_integration",
            Flavour::Credentials => "credentials",
        }
    }

    /// How long a grant attempt of this flavour waits for the cart. A sign-in in a popup or at
    /// the store takes a minute or two; creating an integration by hand (a form, an admin
    /// password, the API resource tree, then Activate) takes several minutes, so an admin
    /// integration's attempt lives an hour.
    pub fn attempt_ttl_secs(self) -> i64 {
        match self {
            Flavour::AdminIntegration => crate::domain::ADMIN_INTEGRATION_ATTEMPT_TTL_SECS,
            Flavour::PopupOauth | Flavour::KeyHandshake | Flavour::Credentials => {
                crate::domain::ATTEMPT_TTL_SECS
            }
        }
    }
}

/// Whether a cart takes PKCE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pkce {
    /// The cart refuses a code exchange without it.
    Required,
    /// The cart accepts it; cartlink always sends it (S256).
    Supported,
    /// The cart does not take it in the flow cartlink uses: none is sent, and `state` alone
    /// guards the flow.
    NotSupported,
}

impl Pkce {
    /// Whether cartlink sends a PKCE challenge to this cart.
    pub fn is_used(self) -> bool {
        !matches!(self, Pkce::NotSupported)
    }
}

/// The value of one authorize-request parameter. In the catalog's TOML a value from the flow is
/// its name (`"state"`), a fixed one `{ lit = "code" }`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Param {
    /// A fixed value.
    Lit(String),
    /// The client id.
    ClientId,
    /// The app id from configuration (Amazon's `application_id`).
    AppId,
    /// The redirect value of [`CartSpec::redirect`](super::CartSpec::redirect) (our callback URL, or eBay's RuName).
    RedirectUri,
    /// The scopes, joined by [`AuthorizeSpec::scope_separator`]; left out when there are none.
    Scope,
    /// The grant attempt's `state` (for WooCommerce: the one-time `user_id` nonce).
    State,
    /// A fresh random value used once (Walmart's `nonce`).
    Nonce,
    /// This value only when the app is a draft (Amazon's `version=beta`).
    IfDraft(String),
    /// A public URL of cartlink at this path.
    PublicUrl(String),
    /// The redirect value with the grant attempt's `state` added to its own query, for an
    /// install link that takes no `state` but returns to a callback URL keeping that URL's query
    /// (Wix's installer and its `postInstallationUrl`): the `state` comes back in the callback's
    /// query as usual.
    RedirectUriWithState,
}

/// The authorization request.
#[derive(Clone, Debug)]
pub struct AuthorizeSpec {
    /// The URL template (`https://{shop}/admin/oauth/authorize`).
    pub url: String,
    /// The query parameters, in order; PKCE's are appended when used.
    pub params: Vec<(String, Param)>,
    /// How scopes are joined (space for most; comma for Squarespace).
    pub scope_separator: String,
}

impl AuthorizeSpec {
    /// The RFC 6749 request at `url`: `response_type=code`, `client_id`, `redirect_uri`,
    /// `scope`, `state`.
    pub fn standard(url: &str) -> AuthorizeSpec {
        AuthorizeSpec {
            url: url.into(),
            params: vec![
                ("response_type".into(), Param::Lit("code".into())),
                ("client_id".into(), Param::ClientId),
                ("redirect_uri".into(), Param::RedirectUri),
                ("scope".into(), Param::Scope),
                ("state".into(), Param::State),
            ],
            scope_separator: " ".into(),
        }
    }
}

/// What is sent as the redirect URI in both steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Redirect {
    /// `<public base>/oauth/callback/<cart>`.
    #[default]
    Callback,
    /// The RuName from configuration (eBay): a name whose accepted URL, registered at the cart,
    /// is our callback.
    RuName,
}
