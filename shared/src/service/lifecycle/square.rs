//! Square's `oauth.authorization.revoked` event, verified as Square documents it: the
//! `x-square-hmacsha256-signature` header is the base64 HMAC-SHA256, under the webhook
//! subscription's signature key, of the notification URL as registered followed by the raw
//! body (compared in constant time). Square names each event by `event_id` and asks apps to
//! skip one seen before; an event whose `created_at` is older than [`MAX_AGE_SECS`] (or further
//! ahead than [`MAX_SKEW_SECS`]) is stale.
//!
//! The event says the merchant (or the app, or Square) revoked every token the app holds for
//! that merchant (`merchant_id`, which the grant recorded as the connection's account), so
//! every connection to Square at that merchant is revoked ([`super`]). Other event types are
//! answered and change nothing: the subscription may carry more than cartlink reads.

use serde::Deserialize;

use super::shopify::hmac_verifies;
use super::{delivery_id, fresh_within, rfc3339_instant, CartEventError, CartEventOutcome};
use crate::domain::{CartId, Timestamp};
use crate::service::Services;

/// How old an event may be: Square retries an event that was not answered 2xx for up to 24
/// hours (developer.squareup.com/docs/webhooks/troubleshooting; another version of that page
/// says 72), with the same `created_at`; three days cover both, and bound how long event ids
/// are remembered.
pub const MAX_AGE_SECS: i64 = 3 * 24 * 3600;
/// How far ahead of our clock an event's time may be (clock skew).
pub const MAX_SKEW_SECS: i64 = 300;
/// The event type that revokes.
const REVOKED: &str = "oauth.authorization.revoked";

/// The fields of an event cartlink reads.
#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    event_id: String,
    created_at: String,
    merchant_id: Option<String>,
}

/// A merchant id as Square mints them: short, letters and digits.
fn merchant_id(raw: Option<&str>) -> Result<&str, CartEventError> {
    raw.filter(|id| (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or(CartEventError::Malformed("merchant_id"))
}

/// When the event happened, if it is fresh at `now`.
fn fresh(created_at: &str, now: Timestamp) -> Result<Timestamp, CartEventError> {
    let at = rfc3339_instant(created_at, "created_at")?;
    fresh_within(at, now, MAX_AGE_SECS, MAX_SKEW_SECS)
}

impl Services {
    /// Handles one Square event notification: verifies it (signature over the notification
    /// URL and the body, freshness, not seen before), then revokes the merchant's connections
    /// for `oauth.authorization.revoked`. A refused notification changes nothing.
    pub async fn square_event(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<CartEventOutcome, CartEventError> {
        let id = CartId::new("square");
        let webhooks = self
            .config
            .square_webhooks
            .as_ref()
            .filter(|_| self.catalog.get(&id).is_some())
            .ok_or(CartEventError::UnknownCart)?;
        let signed = [webhooks.notification_url.as_bytes(), body].concat();
        let signature = signature.ok_or(CartEventError::BadSignature)?;
        if !hmac_verifies(webhooks.signature_key.expose(), &signed, signature) {
            tracing::warn!(reason = "bad_signature", "square event refused");
            return Err(CartEventError::BadSignature);
        }
        let event: Event =
            serde_json::from_slice(body).map_err(|_| CartEventError::Malformed("body"))?;
        let now = self.clock.now();
        let created = fresh(&event.created_at, now)?;
        let key = format!(
            "cart-event:square:{}",
            delivery_id(&event.event_id, "event_id")?
        );
        if event.kind != REVOKED {
            tracing::info!(event_type = %event.kind, "square event of another type answered; nothing changed");
            return Ok(CartEventOutcome::Revoked { connections: 0 });
        }
        let merchant = merchant_id(event.merchant_id.as_deref())?;
        // A connection made more than the clock skew after the event is a new grant.
        let made_by = created.plus_secs(MAX_SKEW_SECS);
        let keep_until = created.plus_secs(MAX_AGE_SECS + MAX_SKEW_SECS);
        self.revoke_signalled(&key, &id, Some(merchant), made_by, keep_until)
            .await
    }
}

#[cfg(test)]
mod tests {
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    use super::*;

    #[test]
    fn an_event_older_than_the_window_is_stale() {
        // GIVEN an event created three days and a second before now
        let now = Timestamp(1_800_000_000);
        let at = OffsetDateTime::from_unix_timestamp(now.0 - MAX_AGE_SECS - 1)
            .unwrap()
            .format(&Rfc3339)
            .unwrap();
        // WHEN its freshness is checked THEN it is stale
        assert!(matches!(fresh(&at, now), Err(CartEventError::Stale)));
    }

    #[test]
    fn an_event_with_square_nanoseconds_inside_the_window_is_fresh() {
        // GIVEN an event created a minute ago, written as Square writes times
        let now = Timestamp(1_800_000_000);
        let at = OffsetDateTime::from_unix_timestamp(now.0 - 60)
            .unwrap()
            .format(&Rfc3339)
            .unwrap()
            .replace('Z', ".246373287Z");
        // WHEN its freshness is checked THEN it is fresh, at its own time
        assert_eq!(fresh(&at, now).unwrap(), Timestamp(now.0 - 60));
    }

    #[test]
    fn a_merchant_id_that_is_not_short_letters_and_digits_is_malformed() {
        // GIVEN ids with a separator, empty and too long WHEN checked THEN each is malformed
        assert!(merchant_id(Some("ML#1")).is_err());
        assert!(merchant_id(Some("")).is_err());
        assert!(merchant_id(Some(&"A".repeat(65))).is_err());
        assert_eq!(merchant_id(Some("MLSQUARE1")).unwrap(), "MLSQUARE1");
    }
}
