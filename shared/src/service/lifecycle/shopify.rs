//! Shopify's webhooks to the app, verified as Shopify documents: `X-Shopify-Hmac-Sha256` is the
//! base64 HMAC-SHA256 of the raw body with the app's client secret (compared in constant time);
//! a delivery whose `X-Shopify-Triggered-At` is older than [`MAX_AGE_SECS`] (or further ahead
//! than [`MAX_SKEW_SECS`]) is stale, and one whose `X-Shopify-Webhook-Id` was taken before is a
//! replay. Shopify signs the body only, so the shop is read from the signed body, never from
//! `X-Shopify-Shop-Domain`.
//!
//! Topics: `app/uninstalled` revokes the shop's connections ([`super`]); `shop/redact` (sent
//! 48 hours after an uninstall) does the same for anything left; `customers/data_request` and
//! `customers/redact` are answered: cartlink holds no customer data.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{fresh_within, rfc3339_instant, CartEventError, CartEventOutcome};
use crate::carts::{pattern_matches, CartId, CartSpec};
use crate::domain::{CartApp, OwnApp, Timestamp};
use crate::service::Services;
use crate::vault::VaultError;

/// How old a delivery may be: Shopify retries a delivery that was not answered 2xx for hours,
/// with the same triggered-at; an hour lets a short outage of ours pass and bounds how long
/// webhook ids must be remembered.
pub const MAX_AGE_SECS: i64 = 3600;
/// How far ahead of our clock a delivery's time may be (clock skew).
pub const MAX_SKEW_SECS: i64 = 300;

/// The topics cartlink subscribes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Topic {
    AppUninstalled,
    ShopRedact,
    CustomersDataRequest,
    CustomersRedact,
}

impl Topic {
    fn parse(raw: &str) -> Option<Topic> {
        Some(match raw {
            "app/uninstalled" => Topic::AppUninstalled,
            "shop/redact" => Topic::ShopRedact,
            "customers/data_request" => Topic::CustomersDataRequest,
            "customers/redact" => Topic::CustomersRedact,
            _ => return None,
        })
    }

    /// The body field naming the shop: the Shop resource's `myshopify_domain` for an uninstall,
    /// `shop_domain` for the privacy topics.
    fn shop_field(self) -> &'static str {
        match self {
            Topic::AppUninstalled => "myshopify_domain",
            _ => "shop_domain",
        }
    }
}

/// A Shopify webhook delivery as it arrived: its headers and raw body.
pub struct ShopifyDelivery<'a> {
    /// `X-Shopify-Topic`.
    pub topic: Option<&'a str>,
    /// `X-Shopify-Hmac-Sha256`.
    pub hmac: Option<&'a str>,
    /// `X-Shopify-Webhook-Id`.
    pub webhook_id: Option<&'a str>,
    /// `X-Shopify-Triggered-At`.
    pub triggered_at: Option<&'a str>,
    /// `X-Shopify-Shop-Domain`: unsigned, so only a hint of which warehouses' own apps may have
    /// signed the delivery when cartlink's app did not.
    pub shop_domain: Option<&'a str>,
    /// The raw body, exactly as received.
    pub body: &'a [u8],
}

/// Whether `given` (base64) is the HMAC-SHA256 of `body` under `secret`, compared in constant
/// time.
pub fn hmac_verifies(secret: &str, body: &[u8], given: &str) -> bool {
    let Ok(tag) = STANDARD.decode(given.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// The base64 HMAC-SHA256 of `body` under `secret`: what Shopify sends.
pub fn hmac_of(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// When the delivery's event happened, if it is fresh at `now`.
fn fresh(triggered_at: Option<&str>, now: Timestamp) -> Result<Timestamp, CartEventError> {
    let raw = triggered_at.ok_or(CartEventError::Malformed("X-Shopify-Triggered-At"))?;
    let at = rfc3339_instant(raw, "X-Shopify-Triggered-At")?;
    fresh_within(at, now, MAX_AGE_SECS, MAX_SKEW_SECS)
}

/// The delivery id, if it has the shape of one (printable, short: it becomes a lease key).
fn webhook_id(raw: Option<&str>) -> Result<&str, CartEventError> {
    raw.filter(|id| {
        (1..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    })
    .ok_or(CartEventError::Malformed("X-Shopify-Webhook-Id"))
}

/// The shop the signed body names, checked by the catalog's shop pattern.
fn shop_of(cart: &CartSpec, topic: Topic, body: &[u8]) -> Result<String, CartEventError> {
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| CartEventError::Malformed("body"))?;
    let shop = json
        .get(topic.shop_field())
        .and_then(|v| v.as_str())
        .map(str::to_ascii_lowercase)
        .ok_or(CartEventError::Malformed("shop"))?;
    let pattern = &cart
        .callback
        .account
        .as_ref()
        .ok_or(CartEventError::UnknownCart)?
        .pattern;
    if !pattern_matches(pattern, &shop) {
        return Err(CartEventError::Malformed("shop"));
    }
    Ok(shop)
}

impl Services {
    /// Handles one Shopify webhook delivery: verifies it (signature, freshness, not seen
    /// before), then acts on its topic. A refused delivery changes nothing.
    pub async fn shopify_event(
        &self,
        delivery: ShopifyDelivery<'_>,
    ) -> Result<CartEventOutcome, CartEventError> {
        let id = CartId::new("shopify");
        let cart = self.catalog.get(&id).ok_or(CartEventError::UnknownCart)?;
        let app = self.shopify_signer(cart, &delivery).await?;
        let now = self.clock.now();
        let triggered = fresh(delivery.triggered_at, now)?;
        let topic = delivery
            .topic
            .and_then(Topic::parse)
            .ok_or(CartEventError::Malformed("X-Shopify-Topic"))?;
        let shop = shop_of(cart, topic, delivery.body)?;
        let key = format!("cart-event:shopify:{}", webhook_id(delivery.webhook_id)?);
        let owner = self.claim_delivery(&key, now).await?;
        let handled = self.shopify_topic(&id, topic, &shop, triggered, app).await;
        // Remembered as long as a copy could still be fresh.
        let keep_until = triggered.plus_secs(MAX_AGE_SECS + MAX_SKEW_SECS);
        self.settle_delivery(&key, &owner, handled, now, keep_until)
            .await
    }

    /// The app whose secret signed the delivery: cartlink's (`None`), else a warehouse's own
    /// app that granted a connection at the shop the unsigned `X-Shopify-Shop-Domain` names
    /// (each such app's secret opened and tried once). A delivery no app signed is refused.
    async fn shopify_signer(
        &self,
        cart: &CartSpec,
        delivery: &ShopifyDelivery<'_>,
    ) -> Result<Option<OwnApp>, CartEventError> {
        let hmac = delivery.hmac.ok_or(CartEventError::BadSignature)?;
        let ours = cart
            .credentials
            .as_ref()
            .and_then(|c| c.client_secret.as_ref());
        if ours.is_some_and(|s| hmac_verifies(s.expose(), delivery.body, hmac)) {
            return Ok(None);
        }
        let pattern = cart.callback.account.as_ref().map(|a| &a.pattern);
        let shop = delivery
            .shop_domain
            .map(str::to_ascii_lowercase)
            .filter(|s| pattern.is_some_and(|p| pattern_matches(p, s)));
        let mut tried: Vec<OwnApp> = Vec::new();
        for id in match &shop {
            Some(shop) => self.store.ids_at_account(&cart.id, shop).await?,
            None => Vec::new(),
        } {
            let Some(app) = self.store.connection(&id).await?.and_then(|c| c.app) else {
                continue;
            };
            if tried.contains(&app) {
                continue;
            }
            tried.push(app.clone());
            if self.own_app_signed(cart, &app, delivery.body, hmac).await? {
                return Ok(Some(app));
            }
        }
        tracing::warn!(
            reason = "bad_signature",
            own_apps_tried = tried.len(),
            "shopify webhook refused"
        );
        Err(if ours.is_none() && tried.is_empty() {
            CartEventError::UnknownCart
        } else {
            CartEventError::BadSignature
        })
    }

    /// Whether `app`'s secret (as stored now, for the client id it names) signed `body`.
    async fn own_app_signed(
        &self,
        cart: &CartSpec,
        app: &OwnApp,
        body: &[u8],
        hmac: &str,
    ) -> Result<bool, CartEventError> {
        let Some(sealed) = self
            .store
            .cart_app(&app.warehouse, &cart.id)
            .await?
            .filter(|s| s.client_id == app.client_id)
            .and_then(|s| s.secret)
        else {
            return Ok(false);
        };
        let context = CartApp::seal_context(&app.warehouse, &cart.id);
        match self.vault.open(&context, &sealed).await {
            Ok(secret) => {
                Ok(std::str::from_utf8(&secret).is_ok_and(|s| hmac_verifies(s, body, hmac)))
            }
            Err(VaultError::Refused) => Ok(false),
            Err(VaultError::Unavailable(e)) => {
                tracing::error!(error = %e, "key service failed opening a cart app's secret");
                Err(CartEventError::KeysUnavailable)
            }
        }
    }

    async fn shopify_topic(
        &self,
        cart: &CartId,
        topic: Topic,
        shop: &str,
        triggered: Timestamp,
        app: Option<OwnApp>,
    ) -> Result<CartEventOutcome, crate::store::StoreError> {
        match topic {
            Topic::AppUninstalled | Topic::ShopRedact => {
                // A connection made more than the clock skew after the event is a reinstall.
                let made_by = triggered.plus_secs(MAX_SKEW_SECS);
                let connections = self.uninstalled_through(cart, shop, made_by, app).await?;
                tracing::info!(cart = %cart, topic = ?topic, revoked = connections, "shopify uninstall handled");
                Ok(CartEventOutcome::Revoked { connections })
            }
            Topic::CustomersDataRequest | Topic::CustomersRedact => {
                tracing::info!(cart = %cart, topic = ?topic, customer_data_held = false, "shopify privacy request answered: no customer data is held");
                Ok(CartEventOutcome::NoCustomerData)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    use super::*;

    #[test]
    fn a_body_signed_with_the_secret_verifies() {
        // GIVEN a body and its HMAC under the app's secret
        let tag = hmac_of("secret", b"{\"id\":1}");
        // WHEN it is checked THEN it verifies
        assert!(hmac_verifies("secret", b"{\"id\":1}", &tag));
    }

    #[test]
    fn a_body_changed_after_signing_does_not_verify() {
        // GIVEN the HMAC of one body
        let tag = hmac_of("secret", b"{\"id\":1}");
        // WHEN another body is checked with it THEN it does not verify
        assert!(!hmac_verifies("secret", b"{\"id\":2}", &tag));
    }

    #[test]
    fn a_signature_under_another_secret_does_not_verify() {
        // GIVEN a body signed with another secret
        let tag = hmac_of("other", b"{}");
        // WHEN checked with ours THEN it does not verify
        assert!(!hmac_verifies("secret", b"{}", &tag));
    }

    #[test]
    fn a_delivery_older_than_the_window_is_stale() {
        // GIVEN a delivery triggered an hour and a second before now
        let now = Timestamp(1_800_000_000);
        let at = OffsetDateTime::from_unix_timestamp(now.0 - MAX_AGE_SECS - 1)
            .unwrap()
            .format(&Rfc3339)
            .unwrap();
        // WHEN its freshness is checked THEN it is stale
        assert!(matches!(fresh(Some(&at), now), Err(CartEventError::Stale)));
    }

    #[test]
    fn a_delivery_inside_the_window_is_fresh() {
        // GIVEN a delivery triggered a minute ago, with Shopify's nanoseconds
        let now = Timestamp(1_800_000_000);
        let at = OffsetDateTime::from_unix_timestamp(now.0 - 60)
            .unwrap()
            .format(&Rfc3339)
            .unwrap()
            .replace('Z', ".877041743Z");
        // WHEN its freshness is checked THEN it is fresh, at its own time
        assert_eq!(fresh(Some(&at), now).unwrap(), Timestamp(now.0 - 60));
    }

    #[test]
    fn a_webhook_id_that_is_not_printable_and_short_is_malformed() {
        // GIVEN ids with a separator and one too long WHEN checked THEN both are malformed
        assert!(webhook_id(Some("a:b")).is_err());
        assert!(webhook_id(Some(&"a".repeat(129))).is_err());
    }
}
