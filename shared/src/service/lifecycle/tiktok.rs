//! TikTok Shop's seller deauthorization webhook (type 6), verified as TikTok Shop's webhooks are
//! signed (read from client libraries, not from TikTok's own pages; `shared/carts.toml` names
//! them): the `Authorization` header is the lowercase hex HMAC-SHA256, under the app secret (the
//! entry's client secret), of the app key (its client id) followed by the raw body, compared in
//! constant time. Nothing of the body is read before that.
//!
//! The body names the `type`, the `shop_id` and the `timestamp` (UNIX seconds) the notification
//! was pushed. A notification older than [`MAX_AGE_SECS`] (or further ahead than
//! [`MAX_SKEW_SECS`]) is stale. The whole body is signed, so a delivery is named by the SHA-256
//! of its body: the same body again is a replay until it is stale anyway.
//!
//! A deauthorization revokes the connections to TikTok Shop whose grant reaches that shop (the
//! shops Get Authorized Shops listed at the grant, [`crate::domain::Connection::shops`]; the
//! account is the seller's `open_id`, which the webhook never names) made through cartlink's
//! app. A connection granted before shops were recorded has none and is not found. Other types (order updates, the upcoming authorization expiration…) are answered
//! and change nothing: the app's subscription may carry more than cartlink reads.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{fresh_within, CartEventError, CartEventOutcome, Signalled};
use crate::domain::{CartId, Timestamp};
use crate::service::Services;
use crate::store::StoreError;

/// How old a notification may be: TikTok Shop retries one that was not answered 200 four
/// times, 2 minutes, 30 minutes, 3 hours and 12 hours after the previous failure (about 15.5
/// hours in all); a day covers them whether a retry keeps the first push's time or not, and
/// bounds how long delivery names are remembered.
pub const MAX_AGE_SECS: i64 = 24 * 3600;
/// How far ahead of our clock a notification's time may be (clock skew).
pub const MAX_SKEW_SECS: i64 = 300;
/// The type of the seller deauthorization webhook.
const SELLER_DEAUTHORIZATION: i64 = 6;

/// The fields of a notification cartlink reads.
#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "type")]
    kind: i64,
    timestamp: i64,
    shop_id: Option<serde_json::Value>,
}

/// Whether `given` (hex) is the HMAC-SHA256 of `app_key` followed by `body` under `app_secret`,
/// compared in constant time.
pub fn signature_verifies(app_key: &str, app_secret: &str, body: &[u8], given: &str) -> bool {
    let Ok(tag) = hex::decode(given.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(app_key.as_bytes());
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// The lowercase hex HMAC-SHA256 of `app_key` followed by `body` under `app_secret`: what
/// TikTok Shop sends in `Authorization`.
pub fn signature_of(app_key: &str, app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(app_key.as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A shop id as TikTok Shop writes it: its digits, as a string (or a number).
fn shop_id(raw: Option<&serde_json::Value>) -> Result<String, CartEventError> {
    let digits = match raw {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    };
    digits
        .filter(|s| (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(CartEventError::Malformed("shop_id"))
}

/// When the notification was pushed, if it is fresh at `now`.
fn fresh(pushed: i64, now: Timestamp) -> Result<Timestamp, CartEventError> {
    fresh_within(Timestamp(pushed), now, MAX_AGE_SECS, MAX_SKEW_SECS)
}

impl Services {
    /// Handles one TikTok Shop webhook: verifies it (signature over the app key and the body
    /// with the app secret, freshness, not seen before), then revokes the shop's connections
    /// for a seller deauthorization. A refused webhook changes nothing.
    pub async fn tiktok_shop_event(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<CartEventOutcome, CartEventError> {
        let id = CartId::new("tiktok-shop");
        let credentials = self
            .catalog
            .get(&id)
            .and_then(|cart| cart.credentials.as_ref())
            .ok_or(CartEventError::UnknownCart)?;
        let secret = credentials
            .client_secret
            .as_ref()
            .ok_or(CartEventError::UnknownCart)?;
        let signature = signature.ok_or(CartEventError::BadSignature)?;
        if !signature_verifies(&credentials.client_id, secret.expose(), body, signature) {
            tracing::warn!(reason = "bad_signature", "tiktok shop event refused");
            return Err(CartEventError::BadSignature);
        }
        let notification: Notification =
            serde_json::from_slice(body).map_err(|_| CartEventError::Malformed("body"))?;
        let pushed = fresh(notification.timestamp, self.clock.now())?;
        if notification.kind != SELLER_DEAUTHORIZATION {
            tracing::info!(
                event_type = notification.kind,
                "tiktok shop event of another type answered; nothing changed"
            );
            return Ok(CartEventOutcome::Revoked { connections: 0 });
        }
        let shop = shop_id(notification.shop_id.as_ref())?;
        let key = format!(
            "cart-event:tiktok-shop:{}",
            hex::encode(Sha256::digest(body))
        );
        // A connection made more than the clock skew after the push is a new authorization.
        let made_by = pushed.plus_secs(MAX_SKEW_SECS);
        let keep_until = pushed.plus_secs(MAX_AGE_SECS + MAX_SKEW_SECS);
        let now = self.clock.now();
        let owner = self.claim_delivery(&key, now).await?;
        let handled = self
            .revoked_at_shop(&id, &shop, made_by)
            .await
            .map(|connections| {
                tracing::info!(cart = %id, revoked = connections, "cart's revocation handled");
                CartEventOutcome::Revoked { connections }
            });
        self.settle_delivery(&key, &owner, handled, now, keep_until)
            .await
    }

    /// Revokes every connection to `cart` whose grant reaches `shop`, made through cartlink's
    /// app (whose secret verified the signal) by `signalled_at`, and finishes any such
    /// revocation a crash left owed. Answers how many this call revoked.
    async fn revoked_at_shop(
        &self,
        cart: &CartId,
        shop: &str,
        signalled_at: Timestamp,
    ) -> Result<usize, StoreError> {
        let mut revoked = 0;
        for id in self.store.ids_at_shop(cart, shop).await? {
            if self
                .revoke_one(&id, signalled_at, &Signalled::App(None))
                .await?
            {
                revoked += 1;
            }
        }
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_app_key_before_the_body() {
        // GIVEN a body signed as TikTok Shop signs it
        let body = br#"{"type":6,"shop_id":"7494049642642441621","timestamp":1644412885}"#;
        let signed = signature_of("app-key", "app-secret", body);
        // WHEN it is checked with the same key and secret, with another key, and over the body
        // alone (no key before it)
        // THEN only the first verifies
        assert!(signature_verifies("app-key", "app-secret", body, &signed));
        assert!(!signature_verifies(
            "other-key",
            "app-secret",
            body,
            &signed
        ));
        let mut bare = Hmac::<Sha256>::new_from_slice(b"app-secret").unwrap();
        bare.update(body);
        let bare = hex::encode(bare.finalize().into_bytes());
        assert!(!signature_verifies("app-key", "app-secret", body, &bare));
    }

    #[test]
    fn a_signature_that_is_not_hex_does_not_verify() {
        // GIVEN a body and the base64 form of its right tag
        let body = b"{}";
        let tag = hex::decode(signature_of("k", "s", body)).unwrap();
        let base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, tag);
        // WHEN checked THEN it does not verify (TikTok sends hex)
        assert!(!signature_verifies("k", "s", body, &base64));
    }

    #[test]
    fn a_shop_id_is_read_as_its_digits_from_a_string_or_a_number() {
        // GIVEN a string and a number WHEN read THEN both give the digits
        assert_eq!(
            shop_id(Some(&serde_json::json!("7494049642642441621"))).unwrap(),
            "7494049642642441621"
        );
        assert_eq!(shop_id(Some(&serde_json::json!(123455))).unwrap(), "123455");
    }

    #[test]
    fn a_shop_id_that_is_not_digits_is_malformed() {
        // GIVEN a cipher-like value, a negative number, an empty string, too many digits and
        // none WHEN read THEN each is refused
        for raw in [
            Some(serde_json::json!("ROW_xkMbgAAAeVAQ")),
            Some(serde_json::json!(-1)),
            Some(serde_json::json!("")),
            Some(serde_json::json!("1".repeat(33))),
            None,
        ] {
            assert!(shop_id(raw.as_ref()).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn a_notification_older_than_a_day_is_stale_and_one_inside_it_is_fresh() {
        // GIVEN notifications pushed a day and a second ago, and 15.5 hours ago (the last retry)
        let now = Timestamp(1_800_000_000);
        // WHEN checked THEN the first is stale, the second fresh at its own time
        assert!(matches!(
            fresh(now.0 - MAX_AGE_SECS - 1, now),
            Err(CartEventError::Stale)
        ));
        let last_retry = now.0 - (15 * 3600 + 32 * 60);
        assert_eq!(fresh(last_retry, now).unwrap(), Timestamp(last_retry));
    }

    #[test]
    fn a_notification_further_ahead_than_the_skew_is_stale() {
        // GIVEN a notification pushed six minutes in our future WHEN checked THEN it is stale
        let now = Timestamp(1_800_000_000);
        assert!(matches!(
            fresh(now.0 + 360, now),
            Err(CartEventError::Stale)
        ));
    }
}
