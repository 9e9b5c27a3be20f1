//! eBay's marketplace account deletion notifications, as eBay documents them
//! (developer.ebay.com/marketplace-account-deletion) and its own SDK verifies them
//! (github.com/eBay/event-notification-nodejs-sdk, `lib/validator.js`, `lib/client.js`):
//!
//! - The endpoint's challenge: `GET ?challenge_code=X` is answered with the hex SHA-256 of the
//!   challenge code, the verification token and the endpoint URL, in that order, both as
//!   registered at eBay (`[ebay_account_deletion]`).
//! - A notification: `X-EBAY-SIGNATURE` is base64 of a JSON object naming the key (`kid`), the
//!   algorithm (`ecdsa`), the digest (`SHA1`) and the DER signature (base64) of the body. The
//!   key is what eBay's Notification API answers for `kid` (`getPublicKey`, called with an
//!   application token of the client credentials grant), kept an hour per kid as eBay asks.
//!   The key is P-256 (the SDK's test key is a prime256v1 SubjectPublicKeyInfo); the body is
//!   verified as received.
//!
//! A verified `MARKETPLACE_ACCOUNT_DELETION` ends every connection to eBay whose account is
//! the notification's `userId` (recorded at grant by the entry's account lookup), as an
//! uninstall does ([`super`]). A bad signature changes nothing; so do a stale `publishDate`
//! and a `notificationId` taken before.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde::Deserialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::{delivery_id, fresh_within, rfc3339_instant, CartEventError, CartEventOutcome};
use crate::carts::{CartId, CartSpec, Vars};
use crate::domain::{Secret, Timestamp};
use crate::oauth::OAuthError;
use crate::service::Services;

/// How old a notification's `publishDate` may be: eBay publishes each attempt anew; an hour
/// lets a short outage of ours pass and bounds how long notification ids are remembered.
pub const MAX_AGE_SECS: i64 = 3600;
/// How far ahead of our clock a notification's time may be (clock skew).
pub const MAX_SKEW_SECS: i64 = 300;
/// How long a fetched public key is used: an hour, as `getPublicKey`'s documentation advises.
const KEY_LIFE_SECS: i64 = 3600;
/// At most this many keys are kept (eBay's SDK keeps an LRU of 100).
const KEYS_KEPT: usize = 100;
/// The Notification API's public keys (production; a stand-in is reached by the entry's
/// override like every other eBay endpoint).
const PUBLIC_KEY_URL: &str = "https://api.ebay.com/commerce/notification/v1/public_key/";
/// The application token's scope (the client credentials grant's default).
pub const APP_SCOPE: &str = "https://api.ebay.com/oauth/api_scope";
/// The one topic cartlink subscribes to.
pub const TOPIC: &str = "MARKETPLACE_ACCOUNT_DELETION";

/// eBay's public keys fetched so far, by kid, with when each was fetched; and the application
/// token they were fetched with, so a notification under an unknown kid costs one call to
/// eBay, not two.
#[derive(Default)]
pub struct NotificationKeys {
    keys: Mutex<HashMap<String, (VerifyingKey, Timestamp)>>,
    app_token: Mutex<Option<(Secret, Timestamp)>>,
}

/// How long an application token is used: an hour (eBay's live 7,200 s, `expires_in`).
const APP_TOKEN_LIFE_SECS: i64 = 3600;

impl NotificationKeys {
    fn app_token(&self, now: Timestamp) -> Option<Secret> {
        let kept = self.app_token.lock().unwrap_or_else(|p| p.into_inner());
        kept.as_ref()
            .filter(|(_, at)| now.0 - at.0 < APP_TOKEN_LIFE_SECS)
            .map(|(token, _)| token.clone())
    }

    fn keep_app_token(&self, token: Option<(&Secret, Timestamp)>) {
        *self.app_token.lock().unwrap_or_else(|p| p.into_inner()) =
            token.map(|(token, at)| (token.clone(), at));
    }

    fn get(&self, kid: &str, now: Timestamp) -> Option<VerifyingKey> {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.get(kid)
            .filter(|(_, at)| now.0 - at.0 < KEY_LIFE_SECS)
            .map(|(key, _)| *key)
    }

    fn put(&self, kid: &str, key: VerifyingKey, now: Timestamp) {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if keys.len() >= KEYS_KEPT {
            keys.retain(|_, (_, at)| now.0 - at.0 < KEY_LIFE_SECS);
            if keys.len() >= KEYS_KEPT {
                keys.clear();
            }
        }
        keys.insert(kid.to_owned(), (key, now));
    }
}

/// The challenge answer: hex SHA-256 of the code, the verification token and the endpoint.
pub fn challenge_response(
    challenge_code: &str,
    verification_token: &str,
    endpoint: &str,
) -> String {
    let mut hash = Sha256::new();
    hash.update(challenge_code.as_bytes());
    hash.update(verification_token.as_bytes());
    hash.update(endpoint.as_bytes());
    hex::encode(hash.finalize())
}

/// `X-EBAY-SIGNATURE`, decoded.
#[derive(Deserialize)]
pub struct SignatureHeader {
    alg: String,
    kid: String,
    signature: String,
    digest: String,
}

impl SignatureHeader {
    /// The header's JSON, if it is base64 of one with every field; its `kid` checked for use in
    /// a URL.
    pub fn parse(raw: Option<&str>) -> Result<SignatureHeader, CartEventError> {
        let header: SignatureHeader = raw
            .and_then(|r| STANDARD.decode(r.trim()).ok())
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(CartEventError::BadSignature)?;
        let kid_ok = (1..=64).contains(&header.kid.len())
            && header
                .kid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !kid_ok
            || !header.alg.eq_ignore_ascii_case("ecdsa")
            || !header.digest.eq_ignore_ascii_case("sha1")
        {
            return Err(CartEventError::BadSignature);
        }
        Ok(header)
    }

    /// Whether the header's signature (DER, base64) is `key`'s ECDSA over SHA-1 of `body`.
    pub fn verifies(&self, key: &VerifyingKey, body: &[u8]) -> bool {
        let Some(signature) = STANDARD
            .decode(self.signature.trim())
            .ok()
            .and_then(|der| Signature::from_der(&der).ok())
        else {
            return false;
        };
        key.verify_prehash(&Sha1::digest(body), &signature).is_ok()
    }
}

/// The key of a `getPublicKey` answer: ECDSA with SHA1 (what eBay answers), the key a PEM
/// SubjectPublicKeyInfo, its lines run together as eBay sends it.
pub fn key_of_answer(answer: &serde_json::Value) -> Option<VerifyingKey> {
    let field = |name: &str| answer.get(name).and_then(|v| v.as_str());
    if !field("algorithm")?.eq_ignore_ascii_case("ecdsa")
        || !field("digest")?.eq_ignore_ascii_case("sha1")
    {
        return None;
    }
    let body: String = field("key")?
        .replace("-----BEGIN PUBLIC KEY-----", "")
        .replace("-----END PUBLIC KEY-----", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD.decode(body).ok()?;
    VerifyingKey::from_public_key_der(&der).ok()
}

/// The notification's fields cartlink reads.
#[derive(Deserialize)]
struct Notification {
    metadata: Metadata,
    notification: Body,
}

#[derive(Deserialize)]
struct Metadata {
    topic: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    notification_id: String,
    event_date: String,
    publish_date: String,
    data: Deleted,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Deleted {
    user_id: String,
}

/// A key fetch that failed: eBay knows no such key id (404, or 400 for one it cannot read: the
/// signature cannot verify), or eBay could not be asked or refused our token (the notification
/// is not refused for it: eBay delivers it again).
fn key_fetch_failed(e: OAuthError) -> CartEventError {
    tracing::warn!(error = %e, "ebay public key not fetched");
    match e {
        OAuthError::Refused(code) if code == "http_404" || code == "http_400" => {
            CartEventError::BadSignature
        }
        _ => CartEventError::KeysUnavailable,
    }
}

/// The application token could not be had: whatever eBay said, that is about our credentials
/// or eBay's service, never the notification's sender, so it is not refused for it.
fn app_token_failed(e: OAuthError) -> CartEventError {
    tracing::warn!(error = %e, "ebay application token not had");
    CartEventError::KeysUnavailable
}

impl Services {
    /// Answers eBay's endpoint challenge, when the endpoint is configured.
    pub fn ebay_challenge(&self, challenge_code: Option<&str>) -> Result<String, CartEventError> {
        let settings = self
            .config
            .ebay_account_deletion
            .as_ref()
            .ok_or(CartEventError::UnknownCart)?;
        let code = challenge_code
            .filter(|c| (1..=512).contains(&c.len()))
            .ok_or(CartEventError::Malformed("challenge_code"))?;
        Ok(challenge_response(
            code,
            settings.verification_token.expose(),
            &settings.endpoint,
        ))
    }

    /// Handles one eBay notification: verifies its signature with eBay's key for its kid, its
    /// topic, freshness and id, then revokes the deleted user's connections. A refused
    /// notification changes nothing.
    pub async fn ebay_notification(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<CartEventOutcome, CartEventError> {
        let id = CartId::new("ebay");
        let cart = self.catalog.get(&id).ok_or(CartEventError::UnknownCart)?;
        if self.config.ebay_account_deletion.is_none() {
            return Err(CartEventError::UnknownCart);
        }
        let header = SignatureHeader::parse(signature)?;
        let key = self.ebay_key(cart, &header.kid).await?;
        if !header.verifies(&key, body) {
            tracing::warn!(reason = "bad_signature", "ebay notification refused");
            return Err(CartEventError::BadSignature);
        }
        let n: Notification =
            serde_json::from_slice(body).map_err(|_| CartEventError::Malformed("body"))?;
        if n.metadata.topic != TOPIC {
            return Err(CartEventError::Malformed("topic"));
        }
        let now = self.clock.now();
        let published = rfc3339_instant(&n.notification.publish_date, "publishDate")?;
        let published = fresh_within(published, now, MAX_AGE_SECS, MAX_SKEW_SECS)?;
        let deleted_at = rfc3339_instant(&n.notification.event_date, "eventDate")?;
        let key = format!(
            "cart-event:ebay:{}",
            delivery_id(&n.notification.notification_id, "notificationId")?
        );
        let owner = self.claim_delivery(&key, now).await?;
        // A connection made more than the clock skew after the deletion is a new grant.
        let made_by = deleted_at.plus_secs(MAX_SKEW_SECS);
        let user = &n.notification.data.user_id;
        let handled = self
            .account_gone_at_cart(&id, user, made_by)
            .await
            .map(|connections| {
                tracing::info!(cart = %id, revoked = connections, "ebay account deletion handled");
                CartEventOutcome::Revoked { connections }
            });
        let keep_until = published.plus_secs(MAX_AGE_SECS + MAX_SKEW_SECS);
        self.settle_delivery(&key, &owner, handled, now, keep_until)
            .await
    }

    /// eBay's public key for `kid`: kept, or fetched with an application token.
    async fn ebay_key(&self, cart: &CartSpec, kid: &str) -> Result<VerifyingKey, CartEventError> {
        let now = self.clock.now();
        if let Some(key) = self.notification_keys.get(kid, now) {
            return Ok(key);
        }
        let credentials = cart
            .credentials
            .as_ref()
            .ok_or(CartEventError::UnknownCart)?;
        let built = |template: &str| {
            cart.endpoint(template, &Vars::new())
                .map_err(|_| CartEventError::UnknownCart)
        };
        let token_url = built(&cart.token_url)?;
        let key_url = built(&format!("{PUBLIC_KEY_URL}{kid}"))?;
        let token = match self.notification_keys.app_token(now) {
            Some(token) => token,
            None => {
                let token = self
                    .oauth
                    .app_token(credentials, &token_url, APP_SCOPE)
                    .await
                    .map_err(app_token_failed)?;
                self.notification_keys.keep_app_token(Some((&token, now)));
                token
            }
        };
        let answer = self
            .oauth
            .get_json(&key_url, &token, None)
            .await
            .map_err(|e| {
                // The token may be what eBay refused: the next notification asks for another.
                self.notification_keys.keep_app_token(None);
                key_fetch_failed(e)
            })?;
        let key = key_of_answer(&answer).ok_or_else(|| {
            tracing::warn!("ebay public key answer unreadable");
            CartEventError::KeysUnavailable
        })?;
        self.notification_keys.put(kid, key, now);
        Ok(key)
    }
}

#[cfg(test)]
mod tests;
