//! Wix's App Instance Removed webhook, verified as Wix documents its webhooks: the whole body
//! is a JWT signed by Wix with RS256, verified with the app's public key from the app
//! dashboard (`[wix_webhooks]`); its `exp` must not have passed. Only then is it read: the
//! claim `data` is a JSON string naming the `eventType` and the `instanceId` (the site's
//! instance of the app, which the install recorded as the connection's account).
//!
//! `AppRemoved` revokes every connection to Wix at that instance ([`super`]); other event
//! types are answered and change nothing. Wix gives this event no id of its own, so a delivery
//! is named by the SHA-256 of its token: the same token again is a replay until its `exp`, after
//! which it is stale anyway. A reinstall keeps the instance id, so the token's `iat` bounds
//! which connections the removal ends: one made later is the reinstall's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{CartEventError, CartEventOutcome};
use crate::domain::{CartId, Timestamp};
use crate::service::Services;

/// How far ahead of our clock a token's `iat` may be (clock skew).
pub const MAX_SKEW_SECS: i64 = 300;
/// The event type of App Instance Removed.
const APP_REMOVED: &str = "AppRemoved";

/// The JWT's header: only RS256 is Wix's.
#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// The JWT's claims.
#[derive(Deserialize)]
struct Claims {
    data: String,
    iat: i64,
    exp: i64,
}

/// The envelope in the `data` claim.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    event_type: String,
    instance_id: Option<String>,
}

/// A verified webhook: what it says, when Wix signed it and until when it is valid.
#[derive(Debug)]
pub struct WixWebhook {
    /// The envelope's `eventType` (`AppRemoved` for an uninstall).
    pub event_type: String,
    /// The envelope's `instanceId`, as sent (checked before use).
    pub instance_id: Option<String>,
    /// The token's `iat`.
    pub iat: i64,
    /// The token's `exp`.
    pub exp: i64,
}

/// Verifies `token` with the RSAPublicKey `public_key` (RS256, and the header must say so),
/// then its times at `now`, then reads its envelope.
pub fn verify(
    public_key: &[u8],
    token: &str,
    now: Timestamp,
) -> Result<WixWebhook, CartEventError> {
    let mut parts = token.split('.');
    let (Some(raw_header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CartEventError::BadSignature);
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(raw_header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(CartEventError::BadSignature)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| CartEventError::BadSignature)?;
    let signed = &token[..raw_header.len() + 1 + payload.len()];
    let key = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key);
    if header.alg != "RS256" || key.verify(signed.as_bytes(), &signature).is_err() {
        return Err(CartEventError::BadSignature);
    }
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or(CartEventError::Malformed("claims"))?;
    if now.0 >= claims.exp || claims.iat > now.0 + MAX_SKEW_SECS {
        return Err(CartEventError::Stale);
    }
    let envelope: Envelope =
        serde_json::from_str(&claims.data).map_err(|_| CartEventError::Malformed("data"))?;
    Ok(WixWebhook {
        event_type: envelope.event_type,
        instance_id: envelope.instance_id,
        iat: claims.iat,
        exp: claims.exp,
    })
}

/// An instance id as Wix mints them (a GUID): short, hex digits and dashes.
fn instance_id(raw: Option<&str>) -> Result<&str, CartEventError> {
    raw.filter(|id| {
        (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
    })
    .ok_or(CartEventError::Malformed("instanceId"))
}

impl Services {
    /// Handles one Wix webhook (the raw body, a JWT): verifies it (signature, expiry, not
    /// seen before), then revokes the instance's connections for `AppRemoved`. A refused
    /// webhook changes nothing.
    pub async fn wix_event(&self, body: &[u8]) -> Result<CartEventOutcome, CartEventError> {
        let id = CartId::new("wix");
        let webhooks = self
            .config
            .wix_webhooks
            .as_ref()
            .filter(|_| self.catalog.get(&id).is_some())
            .ok_or(CartEventError::UnknownCart)?;
        let token = std::str::from_utf8(body)
            .map_err(|_| CartEventError::BadSignature)?
            .trim();
        let now = self.clock.now();
        let verified = verify(&webhooks.public_key, token, now).inspect_err(|e| {
            tracing::warn!(reason = e.code(), "wix event refused");
        })?;
        let key = format!(
            "cart-event:wix:{}",
            hex::encode(Sha256::digest(token.as_bytes()))
        );
        if verified.event_type != APP_REMOVED {
            tracing::info!(event_type = %verified.event_type, "wix event of another type answered; nothing changed");
            return Ok(CartEventOutcome::Revoked { connections: 0 });
        }
        let instance = instance_id(verified.instance_id.as_deref())?;
        // A connection made more than the clock skew after Wix signed is the reinstall's.
        let made_by = Timestamp(verified.iat).plus_secs(MAX_SKEW_SECS);
        self.revoke_signalled(&key, &id, Some(instance), made_by, Timestamp(verified.exp))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_id_that_is_not_a_guid_shape_is_malformed() {
        // GIVEN ids with a separator, empty, too long and none WHEN checked THEN each is malformed
        assert!(instance_id(Some("../x")).is_err());
        assert!(instance_id(Some("")).is_err());
        assert!(instance_id(Some(&"a".repeat(65))).is_err());
        assert!(instance_id(None).is_err());
        let id = "5f2a9a0e-1c1d-4b7e-9a55-0d3b8c8e7f10";
        assert_eq!(instance_id(Some(id)).unwrap(), id);
    }
}
