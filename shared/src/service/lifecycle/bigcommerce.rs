//! BigCommerce's uninstall callback, verified as BigCommerce documents it: `GET /uninstall`
//! from BigCommerce's server with `signed_payload_jwt`, a JWT signed HS256 with the app's
//! client secret whose `iss` is `bc`, `aud` the app's client id and `sub` the store
//! (`stores/{hash}`). The signature is compared in constant time and any other `alg` is
//! refused; a token outside its `nbf`..`exp` is stale, and one whose `jti` was taken before is
//! a replay. The store's connections are then revoked ([`super`]).
//!
//! The load and remove-user callbacks carry the same payload, verified by the same
//! [`Services::verified_bigcommerce_payload`] ([`super::bigcommerce_load`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::{delivery_id, CartEventError, CartEventOutcome};
use crate::carts::CartId;
use crate::domain::Timestamp;
use crate::service::Services;

/// How far BigCommerce's clock may be from ours, for `nbf` and `exp`.
const SKEW_SECS: i64 = 300;

/// The claims cartlink reads (others are ignored).
#[derive(Deserialize)]
pub(super) struct Claims {
    iss: String,
    aud: String,
    /// The store, `stores/{hash}`.
    pub(super) sub: String,
    jti: String,
    nbf: i64,
    exp: i64,
    /// The store's owner (load and remove-user callbacks).
    pub(super) owner: Option<Party>,
    /// The user the callback is for (load and remove-user callbacks).
    pub(super) user: Option<Party>,
}

/// A control panel user a payload names.
#[derive(Deserialize)]
pub(super) struct Party {
    /// BigCommerce's id of the user.
    pub(super) id: serde_json::Value,
    /// Their address (never logged).
    pub(super) email: String,
}

/// The HS256 signature of `header.payload` under `secret`, base64url without padding.
pub fn sign(secret: &str, signing_input: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(signing_input.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The claims of `jwt` if its header says HS256 and its signature verifies under `secret`.
fn verified_claims(secret: &str, jwt: &str) -> Result<Claims, CartEventError> {
    let mut parts = jwt.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CartEventError::Malformed("signed_payload_jwt"));
    };
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(CartEventError::Malformed("signed_payload_jwt"))?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(CartEventError::BadSignature);
    }
    let tag = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| CartEventError::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&jwt.as_bytes()[..jwt.len() - signature.len() - 1]);
    mac.verify_slice(&tag)
        .map_err(|_| CartEventError::BadSignature)?;
    URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or(CartEventError::Malformed("signed_payload_jwt"))
}

impl Services {
    /// Verifies a `signed_payload_jwt` of BigCommerce's callbacks (signature, issuer,
    /// audience, store, time) and answers its claims. `callback` names it in the logs.
    pub(super) fn verified_bigcommerce_payload(
        &self,
        signed_payload_jwt: Option<&str>,
        callback: &'static str,
    ) -> Result<Claims, CartEventError> {
        let id = CartId::new("bigcommerce");
        let cart = self.catalog.get(&id).ok_or(CartEventError::UnknownCart)?;
        let credentials = cart
            .credentials
            .as_ref()
            .ok_or(CartEventError::UnknownCart)?;
        let secret = credentials
            .client_secret
            .as_ref()
            .ok_or(CartEventError::UnknownCart)?;
        let jwt = signed_payload_jwt.ok_or(CartEventError::Malformed("signed_payload_jwt"))?;
        let claims = verified_claims(secret.expose(), jwt).inspect_err(|e| {
            tracing::warn!(reason = e.code(), callback, "bigcommerce callback refused");
        })?;
        if claims.iss != "bc" || claims.aud != credentials.client_id {
            return Err(CartEventError::BadSignature);
        }
        let store_pattern = cart
            .callback
            .vars
            .iter()
            .find(|v| v.param == "context")
            .ok_or(CartEventError::UnknownCart)?;
        if !crate::carts::pattern_matches(&store_pattern.pattern, &claims.sub) {
            return Err(CartEventError::Malformed("sub"));
        }
        let now = self.clock.now();
        if claims.nbf > now.0 + SKEW_SECS || claims.exp < now.0 - SKEW_SECS {
            return Err(CartEventError::Stale);
        }
        Ok(claims)
    }

    /// Handles BigCommerce's uninstall callback: verifies `signed_payload_jwt` (signature,
    /// issuer, audience, store, time, not seen before), then revokes the store's connections.
    /// A refused callback changes nothing.
    pub async fn bigcommerce_uninstall(
        &self,
        signed_payload_jwt: Option<&str>,
    ) -> Result<CartEventOutcome, CartEventError> {
        let id = CartId::new("bigcommerce");
        let claims = self.verified_bigcommerce_payload(signed_payload_jwt, "uninstall")?;
        let now = self.clock.now();
        let key = format!(
            "cart-event:bigcommerce:{}",
            delivery_id(&claims.jti, "jti")?
        );
        let owner = self.claim_delivery(&key, now).await?;
        // A connection made more than the clock skew after the token was issued is a reinstall.
        let made_by = Timestamp(claims.nbf).plus_secs(SKEW_SECS);
        let handled = self
            .uninstalled_at_cart(&id, &claims.sub, made_by)
            .await
            .map(|connections| {
                tracing::info!(cart = %id, revoked = connections, "bigcommerce uninstall handled");
                CartEventOutcome::Revoked { connections }
            });
        let keep_until = Timestamp(claims.exp).plus_secs(SKEW_SECS);
        self.settle_delivery(&key, &owner, handled, now, keep_until)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(secret: &str, alg: &str, claims: &serde_json::Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        format!("{input}.{}", sign(secret, &input))
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"iss": "bc", "aud": "app-id", "sub": "stores/abc123",
                           "jti": "j-1", "nbf": 100, "exp": 200, "iat": 100})
    }

    #[test]
    fn a_token_signed_with_the_secret_reads_back_its_claims() {
        // GIVEN a token signed HS256 with the secret WHEN verified THEN its claims read back
        let read = verified_claims("secret", &jwt("secret", "HS256", &claims())).unwrap();
        assert_eq!(
            (read.sub.as_str(), read.jti.as_str()),
            ("stores/abc123", "j-1")
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        // GIVEN a token signed with another secret WHEN verified THEN it is refused
        let forged = jwt("other", "HS256", &claims());
        assert!(matches!(
            verified_claims("secret", &forged),
            Err(CartEventError::BadSignature)
        ));
    }

    #[test]
    fn a_token_whose_header_names_another_algorithm_is_refused() {
        // GIVEN a token whose header says `none` (signature present or not) WHEN verified
        let none = jwt("secret", "none", &claims());
        // THEN it is refused before its signature is looked at
        assert!(matches!(
            verified_claims("secret", &none),
            Err(CartEventError::BadSignature)
        ));
    }
}
