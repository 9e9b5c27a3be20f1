//! The OAuth port: building the authorization request and exchanging the code.

pub mod http;

use async_trait::async_trait;
use url::Url;

use crate::carts::{CartSpec, ClientCredentials};
use crate::domain::{GrantState, PkceVerifier, Secret, TokenSet};

pub use http::{outbound_client, OAuthHttp};

/// What went wrong exchanging a code.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The cart answered with an OAuth error (`invalid_grant`, `invalid_client`…).
    #[error("the cart refused the exchange: {0}")]
    Refused(String),
    /// The cart could not be reached, timed out, or redirected (never followed).
    #[error("the cart could not be reached: {0}")]
    Unreachable(String),
    /// The cart's answer was not a token response.
    #[error("the cart's answer could not be read: {0}")]
    BadResponse(String),
}

/// One code exchange.
pub struct CodeExchange<'a> {
    /// The cart.
    pub cart: &'a CartSpec,
    /// The app's credentials at the cart.
    pub credentials: &'a ClientCredentials,
    /// The authorization code from the callback.
    pub code: &'a Secret,
    /// The redirect URI sent in the authorization request, byte for byte.
    pub redirect_uri: &'a str,
    /// The PKCE verifier, when the cart uses PKCE.
    pub verifier: Option<&'a PkceVerifier>,
}

/// The token endpoint port.
#[async_trait]
pub trait TokenEndpoint: Send + Sync {
    /// Exchanges an authorization code for tokens.
    async fn exchange_code(&self, exchange: CodeExchange<'_>) -> Result<TokenSet, OAuthError>;
}

/// Builds the authorization request URL: `response_type=code`, client id, redirect URI, the
/// scopes (space separated), `state`, and the S256 challenge when the cart uses PKCE.
pub fn authorize_url(
    cart: &CartSpec,
    credentials: &ClientCredentials,
    redirect_uri: &str,
    scopes: &[String],
    state: &GrantState,
    verifier: Option<&PkceVerifier>,
) -> Url {
    let mut url = cart.authorize_url.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code");
        q.append_pair("client_id", &credentials.client_id);
        q.append_pair("redirect_uri", redirect_uri);
        if !scopes.is_empty() {
            q.append_pair("scope", &scopes.join(" "));
        }
        q.append_pair("state", state.expose());
        if let Some(v) = verifier {
            q.append_pair("code_challenge", &v.challenge());
            q.append_pair("code_challenge_method", "S256");
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carts::{CallbackParams, CartId, Pkce, TokenAuth};
    use crate::domain::{BrowserBinding, Function};
    use std::collections::BTreeMap;

    #[test]
    fn the_authorize_url_carries_state_and_an_s256_challenge() {
        // GIVEN a cart that uses PKCE
        let cart = CartSpec {
            id: CartId::new("acme"),
            name: "Acme".into(),
            scopes: BTreeMap::from([(Function::Orders, vec!["read".into()])]),
            authorize_url: Url::parse("https://auth.acme.test/authorize?prompt=consent").unwrap(),
            token_url: Url::parse("https://auth.acme.test/token").unwrap(),
            token_auth: TokenAuth::Body,
            pkce: Pkce::Required,
            callback: CallbackParams::default(),
            issuer: None,
            credentials: None,
        };
        let creds = ClientCredentials {
            client_id: "app".into(),
            client_secret: None,
        };
        let state = GrantState::generate();
        let verifier = PkceVerifier::derive(&BrowserBinding::generate(), &state);
        // WHEN the authorization request is built
        let url = authorize_url(
            &cart,
            &creds,
            "https://cartlink.test/oauth/callback/acme",
            &["read".into(), "write".into()],
            &state,
            Some(&verifier),
        );
        // THEN it keeps the cart's own parameters and adds ours, the challenge being S256
        let q: BTreeMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "app");
        assert_eq!(
            q["redirect_uri"],
            "https://cartlink.test/oauth/callback/acme"
        );
        assert_eq!(q["scope"], "read write");
        assert_eq!(q["state"], state.expose());
        assert_eq!(q["code_challenge"], verifier.challenge());
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(!url.as_str().contains(verifier.expose()));
    }
}
