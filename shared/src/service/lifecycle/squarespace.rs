//! Squarespace's `extension.uninstall` notification, verified as Squarespace documents its
//! webhooks: the `Squarespace-Signature` header is the hex HMAC-SHA256 of the raw body, keyed
//! with the bytes of the subscription's hex secret (compared in constant time). The secret is
//! the one care stored for the site the body names (`websiteId`, which the grant recorded as the
//! connection's account; `service::care`'s subscription step): a site cartlink holds no
//! subscription for has nothing to verify with, and its notification is refused as unsigned.
//!
//! A notification whose `createdOn` is older than [`MAX_AGE_SECS`] (or further ahead than
//! [`MAX_SKEW_SECS`]) is stale, and one whose `id` was taken before is a replay. Other topics
//! are answered and change nothing: the subscription carries only this one.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use time::format_description::well_known::Iso8601;

use super::{delivery_id, fresh_within, rfc3339_instant, CartEventError, CartEventOutcome};
use crate::carts::pattern_matches;
use crate::domain::{CartId, CartSubscription, Timestamp};
use crate::service::Services;
use crate::vault::VaultError;

/// How old a notification may be: Squarespace retries one not answered 2xx "for up to 48
/// hours" (developers.squarespace.com/webhooks/notification-delivery), with the same
/// `createdOn`; three days cover it with room, and bound how long ids are remembered.
pub const MAX_AGE_SECS: i64 = 3 * 24 * 3600;
/// How far ahead of our clock a notification's time may be (clock skew).
pub const MAX_SKEW_SECS: i64 = 300;
/// The cart whose notifications these are.
const CART: &str = "squarespace";
/// The topic that revokes.
const UNINSTALL: &str = "extension.uninstall";

/// The fields of a notification cartlink reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    id: String,
    website_id: String,
    topic: String,
    created_on: String,
}

/// When the notification was made, if it is fresh at `now`. Squarespace's example writes it
/// to the minute (`2020-04-22T22:18+00:00`), which RFC 3339 does not take but ISO 8601 does.
fn fresh(created_on: &str, now: Timestamp) -> Result<Timestamp, CartEventError> {
    let at = rfc3339_instant(created_on, "createdOn").or_else(|_| {
        time::OffsetDateTime::parse(created_on.trim(), &Iso8601::DEFAULT)
            .map(|t| Timestamp(t.unix_timestamp()))
            .map_err(|_| CartEventError::Malformed("createdOn"))
    })?;
    fresh_within(at, now, MAX_AGE_SECS, MAX_SKEW_SECS)
}

/// Whether `given` (hex) is the HMAC-SHA256 of `body` under the bytes of the hex `secret`.
pub fn signature_verifies(secret_hex: &str, body: &[u8], given: &str) -> bool {
    let (Ok(key), Ok(tag)) = (hex::decode(secret_hex.trim()), hex::decode(given.trim())) else {
        return false;
    };
    if key.is_empty() {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// The hex HMAC-SHA256 of `body` under the bytes of the hex `secret`: what Squarespace sends.
pub fn signature_of(secret_hex: &str, body: &[u8]) -> String {
    let key = hex::decode(secret_hex).unwrap_or_default();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

impl Services {
    /// Handles one Squarespace notification: verifies it (signature with the site's
    /// subscription secret, freshness, not seen before), then revokes the site's connections
    /// for `extension.uninstall`. A refused notification changes nothing.
    pub async fn squarespace_event(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<CartEventOutcome, CartEventError> {
        let cart = CartId::new(CART);
        let spec = self
            .catalog
            .get(&cart)
            .filter(|c| c.uninstall_subscription.is_some())
            .ok_or(CartEventError::UnknownCart)?;
        // The site names the secret to verify with, so the body is parsed first; nothing else of
        // it is used before the signature verifies.
        let notification: Notification =
            serde_json::from_slice(body).map_err(|_| CartEventError::Malformed("body"))?;
        let website = notification.website_id.as_str();
        let shaped = spec
            .account_lookup
            .as_ref()
            .and_then(|lookup| lookup.pattern.as_ref())
            .is_none_or(|pattern| pattern_matches(pattern, website));
        if !shaped {
            return Err(CartEventError::Malformed("websiteId"));
        }
        let signature = signature.ok_or(CartEventError::BadSignature)?;
        if !self
            .signed_for_site(&cart, website, body, signature)
            .await?
        {
            tracing::warn!(reason = "bad_signature", "squarespace event refused");
            return Err(CartEventError::BadSignature);
        }
        let now = self.clock.now();
        let created = fresh(&notification.created_on, now)?;
        let key = format!(
            "cart-event:squarespace:{}",
            delivery_id(&notification.id, "id")?
        );
        if notification.topic != UNINSTALL {
            tracing::info!(topic = %notification.topic, "squarespace event of another topic answered; nothing changed");
            return Ok(CartEventOutcome::Revoked { connections: 0 });
        }
        // A connection made more than the clock skew after the notification is a reinstall's.
        let made_by = created.plus_secs(MAX_SKEW_SECS);
        let keep_until = created.plus_secs(MAX_AGE_SECS + MAX_SKEW_SECS);
        self.revoke_signalled(&key, &cart, Some(website), made_by, keep_until)
            .await
    }

    /// Whether `signature` verifies `body` with the secret of the subscription stored for
    /// `website` (false when none is stored).
    async fn signed_for_site(
        &self,
        cart: &CartId,
        website: &str,
        body: &[u8],
        signature: &str,
    ) -> Result<bool, CartEventError> {
        let Some(subscription) = self.store.cart_subscription(cart, website).await? else {
            return Ok(false);
        };
        let context = CartSubscription::seal_context(cart, website);
        let secret = match self.vault.open(&context, &subscription.secret).await {
            Ok(secret) => secret,
            Err(VaultError::Refused) => return Ok(false),
            Err(VaultError::Unavailable(_)) => return Err(CartEventError::KeysUnavailable),
        };
        let secret = std::str::from_utf8(&secret).unwrap_or_default();
        Ok(signature_verifies(secret, body, signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "F3F9B981C78E7A6187E42853F6CE2804177E98206164779423B02DEC981ACD6B";

    #[test]
    fn a_signature_made_with_the_secret_bytes_verifies_and_another_does_not() {
        // GIVEN a body signed as Squarespace documents (key = the secret's bytes)
        let body = br#"{"id":"n1"}"#;
        let good = signature_of(SECRET, body);
        // WHEN checked THEN it verifies; one keyed with the hex text itself does not
        assert!(signature_verifies(SECRET, body, &good));
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        let text_keyed = hex::encode(mac.finalize().into_bytes());
        assert!(!signature_verifies(SECRET, body, &text_keyed));
    }

    #[test]
    fn a_signature_over_another_body_or_not_hex_does_not_verify() {
        // GIVEN a signature of one body WHEN another body or garbage is checked THEN refused
        let good = signature_of(SECRET, b"one");
        assert!(!signature_verifies(SECRET, b"two", &good));
        assert!(!signature_verifies(SECRET, b"one", "not hex"));
        assert!(!signature_verifies("", b"one", &signature_of("", b"one")));
    }

    #[test]
    fn a_time_written_to_the_minute_as_squarespace_shows_it_is_read() {
        // GIVEN Squarespace's documented example, a minute-precision offset time
        let at = time::macros::datetime!(2020-04-22 22:18 UTC).unix_timestamp();
        // WHEN read at that moment THEN it is that instant, fresh
        assert_eq!(
            fresh("2020-04-22T22:18+00:00", Timestamp(at)).unwrap(),
            Timestamp(at)
        );
    }

    #[test]
    fn a_notification_older_than_the_window_or_ahead_of_the_skew_is_stale() {
        // GIVEN times three days and a second ago, and six minutes ahead
        let now = Timestamp(1_800_000_000);
        let write = |secs: i64| {
            time::OffsetDateTime::from_unix_timestamp(secs)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        // WHEN checked THEN both are stale
        assert!(matches!(
            fresh(&write(now.0 - MAX_AGE_SECS - 1), now),
            Err(CartEventError::Stale)
        ));
        assert!(matches!(
            fresh(&write(now.0 + 360), now),
            Err(CartEventError::Stale)
        ));
    }
}
