//! RFC 7009 token revocation over HTTP, on the adapter's one client (no redirects, a timeout).

use super::http::OAuthHttp;
use super::{OAuthError, RevokeCall};
use crate::carts::TokenAuth;
use crate::net::describe;

impl OAuthHttp {
    /// Sends the revocation request (RFC 7009 §2.1); a 200 is success (§2.2), an error
    /// answer's `error` is the refusal (§2.2.1), anything else is a bad answer.
    pub(super) async fn revoke_token(&self, call: &RevokeCall<'_>) -> Result<(), OAuthError> {
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
        let response = request
            .form(&form)
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
}
