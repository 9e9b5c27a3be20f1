//! The two plain calls beside the token requests: an application token by the client
//! credentials grant, and a `GET` of JSON with a bearer token (eBay's notification public keys
//! and its `getUser`; Squarespace's webhook subscriptions, also `POST`). All on the one outbound client, answers bounded, redirects refused.

use url::Url;

use super::described::post;
use super::{OAuthError, OAuthHttp};
use crate::carts::ClientCredentials;
use crate::domain::Secret;

impl OAuthHttp {
    pub(super) async fn client_credentials(
        &self,
        credentials: &ClientCredentials,
        token_url: &Url,
        scope: &str,
    ) -> Result<Secret, OAuthError> {
        let request = self
            .client()
            .post(token_url.clone())
            .basic_auth(
                &credentials.client_id,
                credentials.client_secret.as_ref().map(Secret::expose),
            )
            .header("Accept", "application/json")
            .form(&[("grant_type", "client_credentials"), ("scope", scope)]);
        let json = post(request).await?;
        json.get("access_token")
            .and_then(|t| t.as_str())
            .map(Secret::new)
            .ok_or_else(|| OAuthError::BadResponse("no access_token".into()))
    }

    pub(super) async fn token_get(
        &self,
        url: &Url,
        token: &Secret,
        token_header: Option<&str>,
    ) -> Result<serde_json::Value, OAuthError> {
        self.token_call(self.client().get(url.clone()), token, token_header)
            .await
    }

    /// A `POST` with `bearer`, its body `json` (none: an empty body), read as [`Self::token_get`].
    pub(super) async fn bearer_post(
        &self,
        url: &Url,
        bearer: &Secret,
        json: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, OAuthError> {
        let request = self.client().post(url.clone());
        let request = match json {
            Some(body) => request.json(body),
            None => request.header("Content-Length", "0"),
        };
        self.token_call(request, bearer, None).await
    }

    /// Sends `request` with the access `token` as `Authorization: Bearer`, or bare in
    /// `token_header`, and reads its JSON answer.
    async fn token_call(
        &self,
        request: reqwest::RequestBuilder,
        token: &Secret,
        token_header: Option<&str>,
    ) -> Result<serde_json::Value, OAuthError> {
        let request = match token_header {
            Some(name) => request.header(name, token.expose()),
            None => request.bearer_auth(token.expose()),
        };
        let response = request
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| OAuthError::Unreachable(crate::net::describe(&e)))?;
        let status = response.status();
        // A server that fails or redirects has not refused anything: asked again later, it may
        // answer. Only a 4xx is its refusal.
        if status.is_server_error() || status.is_redirection() {
            return Err(OAuthError::Unreachable(format!("answered {status}")));
        }
        if !status.is_success() {
            return Err(OAuthError::Refused(format!("http_{}", status.as_u16())));
        }
        let bytes = crate::net::read_bounded(response, super::MAX_TOKEN_ANSWER).await?;
        serde_json::from_slice(&bytes).map_err(|_| OAuthError::BadResponse("not JSON".into()))
    }
}
