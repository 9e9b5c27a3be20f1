//! Ecwid's `application.uninstalled` webhook, verified as Ecwid documents its webhooks: the
//! `X-Ecwid-Webhook-Signature` header is the base64 HMAC-SHA256, under the app's client secret,
//! of `{eventCreated}.{eventId}` from the body (compared in constant time). An event whose
//! `eventCreated` (UNIX seconds) is older than [`MAX_AGE_SECS`] (or further ahead than
//! [`MAX_SKEW_SECS`]) is stale, and one whose `eventId` was taken before is a replay.
//!
//! Ecwid signs only those two fields, not the store or the event type: a signature seen once
//! could be sent again beside another store. So the `eventId` of every verified webhook is
//! taken, whatever its type: a signature is good for one webhook only. The uninstall revokes every connection to Ecwid at the body's
//! `storeId` (which the grant recorded as the connection's account, from the token answer).

use serde::Deserialize;

use super::shopify::hmac_verifies;
use super::{delivery_id, fresh_within, CartEventError, CartEventOutcome};
use crate::domain::{CartId, Timestamp};
use crate::service::Services;

/// How old an event may be: Ecwid retries a webhook that was not answered 200 for 24 hours
/// (48 in an older version of its page), with the same `eventCreated`; three days cover both,
/// and bound how long event ids are remembered.
pub const MAX_AGE_SECS: i64 = 3 * 24 * 3600;
/// How far ahead of our clock an event's time may be (clock skew).
pub const MAX_SKEW_SECS: i64 = 300;
/// The event type that revokes.
const UNINSTALLED: &str = "application.uninstalled";

/// The fields of a webhook cartlink reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    event_id: String,
    event_created: i64,
    store_id: Option<serde_json::Value>,
    event_type: String,
}

/// A store id as Ecwid writes it: a number (or its digits as a string).
fn store_id(raw: Option<&serde_json::Value>) -> Result<String, CartEventError> {
    let digits = match raw {
        Some(serde_json::Value::Number(n)) => n.as_u64().map(|n| n.to_string()),
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    digits
        .filter(|s| (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(CartEventError::Malformed("storeId"))
}

/// When the event happened, if it is fresh at `now`.
fn fresh(created: i64, now: Timestamp) -> Result<Timestamp, CartEventError> {
    fresh_within(Timestamp(created), now, MAX_AGE_SECS, MAX_SKEW_SECS)
}

impl Services {
    /// Handles one Ecwid webhook: verifies it (signature over `eventCreated.eventId` with the
    /// app's client secret, freshness, not seen before), then revokes the store's connections
    /// for `application.uninstalled`. A refused webhook changes nothing.
    pub async fn ecwid_event(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<CartEventOutcome, CartEventError> {
        let id = CartId::new("ecwid");
        let secret = self
            .catalog
            .get(&id)
            .and_then(|cart| cart.credentials.as_ref())
            .and_then(|c| c.client_secret.as_ref())
            .ok_or(CartEventError::UnknownCart)?;
        // The signed fields are in the body: it is parsed to find them, and nothing else of it
        // is used before the signature verifies.
        let event: Event =
            serde_json::from_slice(body).map_err(|_| CartEventError::Malformed("body"))?;
        let signed = format!("{}.{}", event.event_created, event.event_id);
        let signature = signature.ok_or(CartEventError::BadSignature)?;
        if !hmac_verifies(secret.expose(), signed.as_bytes(), signature) {
            tracing::warn!(reason = "bad_signature", "ecwid event refused");
            return Err(CartEventError::BadSignature);
        }
        let now = self.clock.now();
        let created = fresh(event.event_created, now)?;
        let key = format!(
            "cart-event:ecwid:{}",
            delivery_id(&event.event_id, "eventId")?
        );
        let store = (event.event_type == UNINSTALLED)
            .then(|| store_id(event.store_id.as_ref()))
            .transpose()?;
        if store.is_none() {
            tracing::info!(event_type = %event.event_type, "ecwid event of another type: its id is taken, nothing changed");
        }
        // A connection made more than the clock skew after the event is a reinstall.
        let made_by = created.plus_secs(MAX_SKEW_SECS);
        let keep_until = created.plus_secs(MAX_AGE_SECS + MAX_SKEW_SECS);
        self.revoke_signalled(&key, &id, store.as_deref(), made_by, keep_until)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_id_is_read_as_a_number_or_its_digits() {
        // GIVEN a number and a digit string WHEN read THEN both give the digits
        assert_eq!(store_id(Some(&serde_json::json!(1003))).unwrap(), "1003");
        assert_eq!(store_id(Some(&serde_json::json!("1003"))).unwrap(), "1003");
    }

    #[test]
    fn a_store_id_that_is_not_digits_is_malformed() {
        // GIVEN a negative number, a name, an empty string and none WHEN read THEN each is refused
        for raw in [
            Some(serde_json::json!(-1)),
            Some(serde_json::json!("../1")),
            Some(serde_json::json!("")),
            None,
        ] {
            assert!(store_id(raw.as_ref()).is_err());
        }
    }

    #[test]
    fn an_event_older_than_the_window_is_stale_and_one_inside_it_is_fresh() {
        // GIVEN events created three days and a second ago, and a minute ago
        let now = Timestamp(1_800_000_000);
        // WHEN checked THEN the first is stale, the second fresh at its own time
        assert!(matches!(
            fresh(now.0 - MAX_AGE_SECS - 1, now),
            Err(CartEventError::Stale)
        ));
        assert_eq!(fresh(now.0 - 60, now).unwrap(), Timestamp(now.0 - 60));
    }

    #[test]
    fn an_event_further_ahead_than_the_skew_is_stale() {
        // GIVEN an event created six minutes in our future WHEN checked THEN it is stale
        let now = Timestamp(1_800_000_000);
        assert!(matches!(
            fresh(now.0 + 360, now),
            Err(CartEventError::Stale)
        ));
    }
}
