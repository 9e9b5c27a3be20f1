//! The OAuth port: building the authorization request, exchanging the code, and checking API
//! keys a cart delivered.

pub mod described;
pub mod http;
pub mod oauth1;
mod reads;
mod revoke;

use async_trait::async_trait;
use url::Url;

use crate::carts::{
    with_client_id, CartSpec, ClientCredentials, CredentialCheck, EndpointError, Param,
    RevocationStyle, Vars,
};
use crate::domain::secrets::random_token;
use crate::domain::{GrantState, PkceVerifier, Secret, Timestamp, TokenSet};

/// The outbound client lives with the outbound-URL rules; named here too for the wiring being
/// changed alongside.
pub use crate::net::outbound_client;
pub use http::OAuthHttp;

/// What went wrong exchanging a code or checking keys.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The cart answered with an OAuth error (`invalid_grant`, `invalid_client`…), or refused
    /// the keys.
    #[error("the cart refused the exchange: {0}")]
    Refused(String),
    /// The cart could not be reached, timed out, or redirected (never followed).
    #[error("the cart could not be reached: {0}")]
    Unreachable(String),
    /// The cart's answer was not a token response.
    #[error("the cart's answer could not be read: {0}")]
    BadResponse(String),
}

/// Largest token answer read: 16 KiB (a token answer is a few short values).
pub(crate) const MAX_TOKEN_ANSWER: usize = 16 * 1024;

impl From<crate::net::BodyError> for OAuthError {
    fn from(e: crate::net::BodyError) -> Self {
        match e {
            crate::net::BodyError::TooLong(_) => {
                OAuthError::BadResponse("the answer is too long".into())
            }
            crate::net::BodyError::Broken(why) => OAuthError::Unreachable(why),
        }
    }
}

/// One code exchange.
pub struct CodeExchange<'a> {
    /// The cart.
    pub cart: &'a CartSpec,
    /// The app's credentials at the cart.
    pub credentials: &'a ClientCredentials,
    /// The token endpoint, built from the catalog template and validated values, host checked.
    pub token_url: &'a Url,
    /// The authorization code from the callback (none for a cart whose callback carries none:
    /// its exchange asks with the app's own credentials).
    pub code: Option<&'a Secret>,
    /// The redirect value sent in the authorization request, byte for byte.
    pub redirect_uri: &'a str,
    /// The PKCE verifier, when the cart uses PKCE.
    pub verifier: Option<&'a PkceVerifier>,
    /// Validated values a described request may send (Walmart's seller id).
    pub vars: &'a Vars,
    /// When the request is sent, from the clock port: the answer's `expires_in` is counted
    /// from it, and it is the tokens' `issued_at`.
    pub now: Timestamp,
}

/// One OAuth 1.0a token call (RFC 5849 §2.1, §2.3): a `POST` to `url` signed with
/// HMAC-SHA256 by the consumer (and the request token, for the access token), answered with a
/// form body holding `oauth_token` and `oauth_token_secret`.
pub struct OAuth1Call<'a> {
    /// The endpoint, built from the catalog template and validated values, host checked.
    pub url: &'a Url,
    /// The consumer key.
    pub consumer_key: &'a Secret,
    /// The consumer secret.
    pub consumer_secret: &'a Secret,
    /// The request token and its secret (the access-token call).
    pub token: Option<(&'a Secret, &'a Secret)>,
    /// The verifier the store gave (the access-token call).
    pub verifier: Option<&'a Secret>,
    /// The signature's timestamp, from the Clock port.
    pub now: Timestamp,
}

/// A token and its secret, from an OAuth 1.0a token call.
pub struct OAuth1Token {
    /// `oauth_token`.
    pub token: Secret,
    /// `oauth_token_secret`.
    pub secret: Secret,
}

/// The token endpoint port.
#[async_trait]
pub trait TokenEndpoint: Send + Sync {
    /// Exchanges an authorization code for tokens.
    async fn exchange_code(&self, exchange: CodeExchange<'_>) -> Result<TokenSet, OAuthError>;

    /// Checks API keys (delivered by a store, or typed by the merchant) with one call to `url`
    /// (an allowed host), made as `check` says: `Ok` only on a 2xx answer.
    async fn verify_keys(
        &self,
        url: &Url,
        check: CredentialCheck,
        key: &Secret,
        secret: &Secret,
    ) -> Result<(), OAuthError>;

    /// Makes one signed OAuth 1.0a token call: `Ok` only on a 2xx answer whose form body
    /// holds a token and its secret.
    async fn oauth1_token(&self, call: OAuth1Call<'_>) -> Result<OAuth1Token, OAuthError>;

    /// Redeems a refresh token (RFC 6749 §6) as the cart's [`CartSpec::refresh_request`]
    /// says. The answer's `refresh_token` is absent when the cart keeps the old one.
    async fn refresh(&self, call: RefreshCall<'_>) -> Result<TokenSet, OAuthError>;

    /// Revokes a token at the cart's revocation endpoint (RFC 7009 §2.1: a form `POST` of
    /// `token` and `token_type_hint`, the client authenticated as at its token endpoint):
    /// `Ok` only on a 200 answer.
    async fn revoke(&self, call: RevokeCall<'_>) -> Result<(), OAuthError>;

    /// Asks for an application token (the client credentials grant, RFC 6749 §4.4) at
    /// `token_url` for `scope`, the client authenticated with HTTP Basic as eBay takes it:
    /// the answer's `access_token`.
    async fn app_token(
        &self,
        credentials: &ClientCredentials,
        token_url: &Url,
        scope: &str,
    ) -> Result<Secret, OAuthError>;

    /// Reads the JSON answer of a `GET` to `url` (an allowed host) with the access `token` as
    /// its `Authorization: Bearer`, or bare in `token_header` where the cart names one
    /// (TikTok Shop's `x-tts-access-token`): `Ok` only on a 2xx answer.
    async fn get_json(
        &self,
        url: &Url,
        token: &Secret,
        token_header: Option<&str>,
    ) -> Result<serde_json::Value, OAuthError>;

    /// Reads the JSON answer of a `POST` to `url` (an allowed host) with `bearer` as its
    /// `Authorization: Bearer` and `body` as its JSON body (none: empty): `Ok` only on a 2xx
    /// answer.
    async fn post_json(
        &self,
        url: &Url,
        bearer: &Secret,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, OAuthError>;
}

/// One token revocation (RFC 7009).
pub struct RevokeCall<'a> {
    /// The cart.
    pub cart: &'a CartSpec,
    /// The app's credentials at the cart.
    pub credentials: &'a ClientCredentials,
    /// The revocation endpoint, built from the catalog template and the connection's validated
    /// values, host checked.
    pub url: &'a Url,
    /// How the call is made.
    pub style: RevocationStyle,
    /// The token to revoke ([`RevocationStyle::token_to_revoke`]).
    pub token: &'a Secret,
    /// `refresh_token` or `access_token`.
    pub token_type_hint: &'static str,
}

/// One refresh.
pub struct RefreshCall<'a> {
    /// The cart.
    pub cart: &'a CartSpec,
    /// The app's credentials at the cart.
    pub credentials: &'a ClientCredentials,
    /// The token endpoint, built from the catalog template and the connection's validated
    /// values, host checked.
    pub token_url: &'a Url,
    /// The refresh token (none for a cart whose tokens are minted again with the app's own
    /// credentials, [`Refresh::Remint`](crate::carts::Refresh::Remint)).
    pub refresh_token: Option<&'a Secret>,
    /// The connection's scopes (for carts that ask for them again).
    pub scopes: &'a [String],
    /// The connection's validated values (Walmart's seller id for its partner header).
    pub vars: &'a Vars,
    /// When the request is sent, from the clock port (as [`CodeExchange::now`]).
    pub now: Timestamp,
}

impl OAuthError {
    /// Whether the cart refused the refresh token itself (`invalid_grant`): revoked, expired or
    /// already rotated. Anything else (unreachable, a bad answer, another refusal) may pass.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, OAuthError::Refused(code) if code == "invalid_grant")
    }
}

/// What an authorization request is built from.
pub struct AuthorizeRequest<'a> {
    /// Validated merchant-input values.
    pub vars: &'a Vars,
    /// The redirect value (our callback URL, or the RuName).
    pub redirect: &'a str,
    /// The scopes.
    pub scopes: &'a [String],
    /// The state (for key handshakes, the one-time nonce).
    pub state: &'a GrantState,
    /// The PKCE verifier, when used.
    pub verifier: Option<&'a PkceVerifier>,
    /// cartlink's public base URL.
    pub public_base: &'a str,
}

/// Builds the authorization request URL as the cart's entry describes it: its parameters in
/// order, then the S256 challenge when the cart uses PKCE. The URL is built from validated
/// values only and its host is checked against the entry.
pub fn authorize_url(
    cart: &CartSpec,
    credentials: &ClientCredentials,
    req: &AuthorizeRequest<'_>,
) -> Result<Url, EndpointError> {
    let vars = with_client_id(req.vars, credentials);
    let mut url = cart.endpoint(&cart.authorize.url, &vars)?;
    {
        let mut q = url.query_pairs_mut();
        for (name, value) in &cart.authorize.params {
            let value = match value {
                Param::Lit(v) => v.clone(),
                Param::ClientId => credentials.client_id.clone(),
                Param::AppId => credentials
                    .app_id
                    .clone()
                    .ok_or_else(|| EndpointError::MissingVar("app_id".into()))?,
                Param::RedirectUri => req.redirect.to_owned(),
                Param::Scope if req.scopes.is_empty() => continue,
                Param::Scope => req.scopes.join(&cart.authorize.scope_separator),
                Param::State => req.state.expose().to_owned(),
                Param::Nonce => random_token()[..16].to_owned(),
                Param::IfDraft(v) if credentials.draft => v.clone(),
                Param::IfDraft(_) => continue,
                Param::PublicUrl(path) => format!("{}{path}", req.public_base),
                Param::RedirectUriWithState => with_state(req.redirect, req.state)?,
            };
            q.append_pair(name, &value);
        }
        if let Some(v) = req.verifier {
            q.append_pair("code_challenge", &v.challenge());
            q.append_pair("code_challenge_method", "S256");
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    Ok(url)
}

/// `redirect` with `state` added to its query ([`Param::RedirectUriWithState`]).
fn with_state(redirect: &str, state: &GrantState) -> Result<String, EndpointError> {
    let mut url = Url::parse(redirect).map_err(|_| EndpointError::NotUrl)?;
    url.query_pairs_mut().append_pair("state", state.expose());
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carts::{Pkce, TokenAuth};
    use crate::domain::{BrowserBinding, CartId, Function};
    use std::collections::BTreeMap;

    #[test]
    fn the_authorize_url_carries_state_and_an_s256_challenge() {
        // GIVEN a cart that uses PKCE
        let cart = CartSpec::generic(
            CartId::new("acme"),
            "Acme",
            &Url::parse("https://auth.acme.test/authorize?prompt=consent").unwrap(),
            &Url::parse("https://auth.acme.test/token").unwrap(),
            TokenAuth::Body,
            Pkce::Required,
            BTreeMap::from([(Function::Orders, vec!["read".into()])]),
        );
        let creds = ClientCredentials::new("app", None);
        let state = GrantState::generate();
        let verifier = PkceVerifier::derive(&BrowserBinding::generate(), &state);
        // WHEN the authorization request is built
        let url = authorize_url(
            &cart,
            &creds,
            &AuthorizeRequest {
                vars: &Vars::new(),
                redirect: "https://cartlink.test/oauth/callback/acme",
                scopes: &["read".into(), "write".into()],
                state: &state,
                verifier: Some(&verifier),
                public_base: "https://cartlink.test",
            },
        )
        .unwrap();
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

    #[test]
    fn a_redirect_with_state_carries_the_state_inside_the_callback_url() {
        // GIVEN a cart whose install link takes the callback URL, and no state, as one parameter
        let mut cart = CartSpec::generic(
            CartId::new("acme"),
            "Acme",
            &Url::parse("https://www.acme.test/installer").unwrap(),
            &Url::parse("https://api.acme.test/token").unwrap(),
            TokenAuth::Body,
            Pkce::NotSupported,
            BTreeMap::from([(Function::Orders, vec![])]),
        );
        cart.authorize.params = vec![
            ("appId".into(), Param::ClientId),
            ("postInstallationUrl".into(), Param::RedirectUriWithState),
        ];
        let state = GrantState::generate();
        // WHEN the authorization request is built
        let url = authorize_url(
            &cart,
            &ClientCredentials::new("app", None),
            &AuthorizeRequest {
                vars: &Vars::new(),
                redirect: "https://cartlink.test/oauth/callback/acme",
                scopes: &[],
                state: &state,
                verifier: None,
                public_base: "https://cartlink.test",
            },
        )
        .unwrap();
        // THEN the state is inside the callback URL, not beside it
        let q: BTreeMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q.len(), 2);
        let back = Url::parse(&q["postInstallationUrl"]).unwrap();
        assert_eq!(back.path(), "/oauth/callback/acme");
        let inner: BTreeMap<_, _> = back.query_pairs().into_owned().collect();
        assert_eq!(inner["state"], state.expose());
    }
}
