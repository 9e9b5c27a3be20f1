//! The token endpoint over HTTP: the `oauth2` crate on one `reqwest` client that never follows
//! redirects and gives up after a timeout.

use async_trait::async_trait;
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, TokenResponse, TokenUrl,
};

use url::Url;

use super::oauth1::{authorization_header, nonce, Signer};
use super::{
    CodeExchange, OAuth1Call, OAuth1Token, OAuthError, RefreshCall, RevokeCall, TokenEndpoint,
};
use crate::carts::{ClientCredentials, CredentialCheck, TokenAuth, TokenRequest};
use crate::domain::{Secret, Timestamp, TokenSet};
use crate::net::describe;

/// The token endpoint adapter. It keeps no clock: expiries are counted from the `now` each call
/// carries, which comes from the clock port.
pub struct OAuthHttp {
    client: reqwest::Client,
}

impl OAuthHttp {
    /// Uses `client`, which must come from [`crate::net::outbound_client`].
    pub fn new(client: reqwest::Client) -> Self {
        OAuthHttp { client }
    }

    pub(super) fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

#[async_trait]
impl TokenEndpoint for OAuthHttp {
    async fn exchange_code(&self, x: CodeExchange<'_>) -> Result<TokenSet, OAuthError> {
        match &x.cart.token_request {
            TokenRequest::Standard => self.standard(&x).await,
            TokenRequest::Described(spec) => {
                super::described::exchange(&self.client, &x, spec).await
            }
            TokenRequest::NoExchange | TokenRequest::OAuth1(_) => Err(OAuthError::BadResponse(
                "this cart has no code exchange".into(),
            )),
        }
    }

    async fn verify_keys(
        &self,
        url: &Url,
        check: CredentialCheck,
        key: &Secret,
        secret: &Secret,
    ) -> Result<(), OAuthError> {
        let request = match check {
            CredentialCheck::BasicGet => self
                .client
                .get(url.clone())
                .basic_auth(key.expose(), Some(secret.expose())),
            CredentialCheck::ClientCredentials => {
                self.client.post(url.clone()).json(&serde_json::json!({
                    "grant_type": "client_credentials",
                    "client_id": key.expose(),
                    "client_secret": secret.expose(),
                }))
            }
        };
        let response = request
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| OAuthError::Unreachable(describe(&e)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_redirection() {
            Err(OAuthError::Unreachable(format!(
                "the store redirected ({status}); redirects are never followed"
            )))
        } else if status.is_server_error() {
            Err(OAuthError::Unreachable(format!(
                "the store answered {status}"
            )))
        } else {
            Err(OAuthError::Refused(format!(
                "keys_refused_http_{}",
                status.as_u16()
            )))
        }
    }

    async fn refresh(&self, r: RefreshCall<'_>) -> Result<TokenSet, OAuthError> {
        match &r.cart.refresh_request {
            TokenRequest::Standard => self.standard_refresh(&r).await,
            TokenRequest::Described(spec) => {
                super::described::refresh(&self.client, &r, spec).await
            }
            TokenRequest::NoExchange | TokenRequest::OAuth1(_) => {
                Err(OAuthError::BadResponse("this cart has no refresh".into()))
            }
        }
    }

    async fn oauth1_token(&self, call: OAuth1Call<'_>) -> Result<OAuth1Token, OAuthError> {
        self.signed_token_call(call).await
    }

    async fn revoke(&self, call: RevokeCall<'_>) -> Result<(), OAuthError> {
        self.revoke_token(&call).await
    }

    async fn app_token(
        &self,
        credentials: &ClientCredentials,
        token_url: &Url,
        scope: &str,
    ) -> Result<Secret, OAuthError> {
        self.client_credentials(credentials, token_url, scope).await
    }

    async fn get_json(
        &self,
        url: &Url,
        token: &Secret,
        token_header: Option<&str>,
    ) -> Result<serde_json::Value, OAuthError> {
        self.token_get(url, token, token_header).await
    }

    async fn post_json(
        &self,
        url: &Url,
        bearer: &Secret,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, OAuthError> {
        self.bearer_post(url, bearer, body).await
    }
}

impl OAuthHttp {
    async fn signed_token_call(&self, call: OAuth1Call<'_>) -> Result<OAuth1Token, OAuthError> {
        let extra: Vec<(&str, &str)> = call
            .verifier
            .map(|v| vec![("oauth_verifier", v.expose())])
            .unwrap_or_default();
        let header = authorization_header(
            "POST",
            call.url,
            &Signer {
                consumer_key: call.consumer_key.expose(),
                consumer_secret: call.consumer_secret.expose(),
                token: call.token.map(|(t, s)| (t.expose(), s.expose())),
            },
            &extra,
            &[],
            call.now,
            &nonce(),
        );
        let response = self
            .client
            .post(call.url.clone())
            .header("Authorization", header)
            .header("Accept", "application/x-www-form-urlencoded")
            .send()
            .await
            .map_err(|e| OAuthError::Unreachable(describe(&e)))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(OAuthError::Unreachable(format!(
                "the store redirected ({status}); redirects are never followed"
            )));
        }
        if !status.is_success() {
            return Err(OAuthError::Refused(format!(
                "oauth1_refused_http_{}",
                status.as_u16()
            )));
        }
        let body = crate::net::read_bounded(response, super::MAX_TOKEN_ANSWER).await?;
        let mut token = None;
        let mut secret = None;
        for (k, v) in url::form_urlencoded::parse(&body) {
            match k.as_ref() {
                "oauth_token" if token.is_none() && !v.is_empty() => token = Some(v.into_owned()),
                "oauth_token_secret" if secret.is_none() && !v.is_empty() => {
                    secret = Some(v.into_owned())
                }
                _ => {}
            }
        }
        match (token, secret) {
            (Some(t), Some(s)) => Ok(OAuth1Token {
                token: Secret::new(t),
                secret: Secret::new(s),
            }),
            _ => Err(OAuthError::BadResponse(
                "no oauth_token and oauth_token_secret in the answer".into(),
            )),
        }
    }

    /// The RFC 6749 §6 refresh through the `oauth2` crate.
    async fn standard_refresh(&self, r: &RefreshCall<'_>) -> Result<TokenSet, OAuthError> {
        let refresh_token = r
            .refresh_token
            .ok_or_else(|| OAuthError::BadResponse("no refresh token".into()))?;
        let token = RefreshToken::new(refresh_token.expose().to_owned());
        let response = oauth2_client(r.cart.token_auth, r.credentials, r.token_url)
            .exchange_refresh_token(&token)
            .request_async(&Bounded(&self.client))
            .await
            .map_err(token_error)?;
        Ok(token_set(&response, r.now))
    }

    /// The RFC 6749 exchange through the `oauth2` crate.
    async fn standard(&self, x: &CodeExchange<'_>) -> Result<TokenSet, OAuthError> {
        let redirect = RedirectUrl::new(x.redirect_uri.to_owned())
            .map_err(|e| OAuthError::BadResponse(format!("redirect URI: {e}")))?;
        let client =
            oauth2_client(x.cart.token_auth, x.credentials, x.token_url).set_redirect_uri(redirect);
        let code = x
            .code
            .ok_or_else(|| OAuthError::BadResponse("no authorization code".into()))?;
        let mut request = client.exchange_code(AuthorizationCode::new(code.expose().to_owned()));
        if let Some(v) = x.verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(v.expose().to_owned()));
        }
        let response = request
            .request_async(&Bounded(&self.client))
            .await
            .map_err(token_error)?;
        Ok(token_set(&response, x.now))
    }
}

/// A standard token answer to a request sent at `now` as a token set.
fn token_set(response: &BasicTokenResponse, now: Timestamp) -> TokenSet {
    let expires_at = response
        .expires_in()
        .map(|d| now.plus_secs(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)));
    let scope = response
        .scopes()
        .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "));
    TokenSet {
        access_token: Secret::new(response.access_token().secret().clone()),
        refresh_token: response
            .refresh_token()
            .map(|t| Secret::new(t.secret().clone())),
        expires_at,
        issued_at: Some(now),
        scope,
        account: None,
        key_secret: None,
        consumer_key: None,
        consumer_secret: None,
    }
}

/// The `oauth2` crate's client for one token endpoint, authenticating as `auth` says (a public
/// client sends no secret even when one is configured).
fn oauth2_client(
    auth: TokenAuth,
    credentials: &ClientCredentials,
    token_url: &Url,
) -> BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet> {
    let mut client = BasicClient::new(ClientId::new(credentials.client_id.clone()))
        .set_token_uri(TokenUrl::from_url(token_url.clone()))
        .set_auth_type(match auth {
            TokenAuth::Basic => AuthType::BasicAuth,
            TokenAuth::Body | TokenAuth::None => AuthType::RequestBody,
        });
    if auth != TokenAuth::None {
        if let Some(secret) = &credentials.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
        }
    }
    client
}

/// Why the `oauth2` crate's request through [`bounded_call`] got no answer to parse.
#[derive(Debug, thiserror::Error)]
enum TokenTransport {
    #[error("{}", describe(.0))]
    Request(reqwest::Error),
    #[error("{0}")]
    Body(crate::net::BodyError),
    #[error("the answer is not HTTP: {0}")]
    Http(#[from] http::Error),
}

/// Our client as the `oauth2` crate's HTTP client, through [`bounded_call`].
struct Bounded<'a>(&'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for Bounded<'_> {
    type Error = TokenTransport;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<oauth2::HttpResponse, TokenTransport>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(bounded_call(self.0, request))
    }
}

/// The `oauth2` crate's request on our client, its answer read at most
/// [`super::MAX_TOKEN_ANSWER`] bytes (the crate's own reqwest glue reads an answer whole).
async fn bounded_call(
    client: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, TokenTransport> {
    let request = reqwest::Request::try_from(request).map_err(TokenTransport::Request)?;
    let response = client
        .execute(request)
        .await
        .map_err(TokenTransport::Request)?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = crate::net::read_bounded(response, super::MAX_TOKEN_ANSWER)
        .await
        .map_err(TokenTransport::Body)?;
    Ok(builder.body(body)?)
}

/// A failed `oauth2` token request, without the request (which holds the code or token).
fn token_error(
    e: RequestTokenError<TokenTransport, oauth2::basic::BasicErrorResponse>,
) -> OAuthError {
    match e {
        RequestTokenError::ServerResponse(r) => OAuthError::Refused(r.error().to_string()),
        RequestTokenError::Request(TokenTransport::Body(b)) => b.into(),
        RequestTokenError::Request(e) => OAuthError::Unreachable(e.to_string()),
        RequestTokenError::Parse(_, _) => OAuthError::BadResponse("not a token response".into()),
        RequestTokenError::Other(m) => OAuthError::BadResponse(m),
    }
}

#[cfg(test)]
mod tests;
