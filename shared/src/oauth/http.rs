//! The token endpoint over HTTP: the `oauth2` crate on one `reqwest` client that never follows
//! redirects and gives up after a timeout.

use std::time::Duration;

use async_trait::async_trait;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, TokenResponse, TokenUrl,
};

use super::{CodeExchange, OAuthError, TokenEndpoint};
use crate::carts::TokenAuth;
use crate::domain::{Secret, Timestamp, TokenSet};

/// Builds the one outbound HTTP client: no redirects, a total timeout, https only when asked
/// (production), no cookies.
pub fn outbound_client(timeout: Duration, https_only: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .https_only(https_only)
        .user_agent(concat!("cartlink/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client configuration is valid")
}

/// The token endpoint adapter.
pub struct OAuthHttp {
    client: reqwest::Client,
    now: fn() -> Timestamp,
}

impl OAuthHttp {
    /// Uses `client`, which must come from [`outbound_client`].
    pub fn new(client: reqwest::Client) -> Self {
        OAuthHttp {
            client,
            now: || Timestamp(time::OffsetDateTime::now_utc().unix_timestamp()),
        }
    }
}

#[async_trait]
impl TokenEndpoint for OAuthHttp {
    async fn exchange_code(&self, x: CodeExchange<'_>) -> Result<TokenSet, OAuthError> {
        let redirect = RedirectUrl::new(x.redirect_uri.to_owned())
            .map_err(|e| OAuthError::BadResponse(format!("redirect URI: {e}")))?;
        let mut client = BasicClient::new(ClientId::new(x.credentials.client_id.clone()))
            .set_token_uri(TokenUrl::from_url(x.cart.token_url.clone()))
            .set_redirect_uri(redirect)
            .set_auth_type(match x.cart.token_auth {
                TokenAuth::Basic => AuthType::BasicAuth,
                TokenAuth::Body | TokenAuth::None => AuthType::RequestBody,
            });
        if x.cart.token_auth != TokenAuth::None {
            if let Some(secret) = &x.credentials.client_secret {
                client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
            }
        }
        let mut request = client.exchange_code(AuthorizationCode::new(x.code.expose().to_owned()));
        if let Some(v) = x.verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(v.expose().to_owned()));
        }
        let response = request
            .request_async(&self.client)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => OAuthError::Refused(r.error().to_string()),
                RequestTokenError::Request(e) => OAuthError::Unreachable(describe(&e)),
                RequestTokenError::Parse(_, _) => {
                    OAuthError::BadResponse("not a token response".into())
                }
                RequestTokenError::Other(m) => OAuthError::BadResponse(m),
            })?;
        let expires_at = response
            .expires_in()
            .map(|d| (self.now)().plus_secs(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)));
        let scope = response
            .scopes()
            .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "));
        Ok(TokenSet {
            access_token: Secret::new(response.access_token().secret().clone()),
            refresh_token: response
                .refresh_token()
                .map(|t| Secret::new(t.secret().clone())),
            expires_at,
            scope,
        })
    }
}

/// Describes a transport error by its chain of causes (the token URL holds no secret; the
/// request body, which holds the code, is never part of it).
fn describe<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
