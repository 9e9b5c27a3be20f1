//! Token revocation over HTTP, on the adapter's one client (no redirects, a timeout): RFC 7009,
//! or the named style a cart documents instead (Square's RevokeToken).

use super::http::OAuthHttp;
use super::{OAuthError, RevokeCall};
use crate::carts::{RevocationStyle, TokenAuth};
use crate::net::describe;

impl OAuthHttp {
    /// Sends the revocation request in the cart's style; a 200 is success, an error answer's
    /// `error` is the refusal (RFC 7009 §2.2.1), anything else is a bad answer.
    pub(super) async fn revoke_token(&self, call: &RevokeCall<'_>) -> Result<(), OAuthError> {
        let request = match call.style {
            RevocationStyle::Rfc7009 => self.rfc7009_request(call),
            RevocationStyle::SquareJson => self.square_request(call)?,
        };
        let response = request
            .send()
            .await
            .map_err(|e| OAuthError::Unreachable(describe(&e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::OK {
            return Ok(());
        }
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        match body.get("error").and_then(|e| e.as_str()) {
            Some(code) if code.len() <= 64 && code.bytes().all(|b| b.is_ascii_graphic()) => {
                Err(OAuthError::Refused(code.to_owned()))
            }
            _ => Err(OAuthError::BadResponse(format!(
                "revocation answered {}",
                status.as_u16()
            ))),
        }
    }

    /// RFC 7009 §2.1: the token and its hint as a form, the client authenticated as at the
    /// token endpoint.
    fn rfc7009_request(&self, call: &RevokeCall<'_>) -> reqwest::RequestBuilder {
        let mut form: Vec<(&str, &str)> = vec![
            ("token", call.token.expose()),
            ("token_type_hint", call.token_type_hint),
        ];
        let id = call.credentials.client_id.as_str();
        let secret = call.credentials.client_secret.as_ref().map(|s| s.expose());
        let mut request = self.client().post(call.url.clone());
        match call.cart.token_auth {
            TokenAuth::Basic => request = request.basic_auth(id, secret),
            TokenAuth::Body => {
                form.push(("client_id", id));
                if let Some(secret) = secret {
                    form.push(("client_secret", secret));
                }
            }
            TokenAuth::None => form.push(("client_id", id)),
        }
        request.form(&form)
    }

    /// Square's RevokeToken: `client_id` and the access token as JSON, `Authorization: Client
    /// <app secret>` (developer.squareup.com/reference/square/o-auth/revoke-token).
    fn square_request(&self, call: &RevokeCall<'_>) -> Result<reqwest::RequestBuilder, OAuthError> {
        let secret = call
            .credentials
            .client_secret
            .as_ref()
            .ok_or_else(|| OAuthError::BadResponse("no app secret to revoke with".into()))?;
        Ok(self
            .client()
            .post(call.url.clone())
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Client {}", secret.expose()),
            )
            .json(&serde_json::json!({
                "client_id": call.credentials.client_id.as_str(),
                "access_token": call.token.expose(),
            })))
    }
}
