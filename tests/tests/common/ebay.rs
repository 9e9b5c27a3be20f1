//! eBay's stand-in for its marketplace account deletion notifications: it signs as eBay does
//! (ECDSA on P-256 over SHA-1 of the body, DER, in a base64 JSON `X-EBAY-SIGNATURE` naming the
//! key id; eBay's SDK `test/test.json` shows each part), and serves what verifying needs, only
//! as eBay documents it: an application token for the client credentials grant (HTTP Basic,
//! `scope=https://api.ebay.com/oauth/api_scope`) and `getPublicKey` for that token only.
#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The application token the stand-in hands out.
pub const APP_TOKEN: &str = "v^1.1#i^1#app-canary";
/// The eBay user a test's grant is made by.
pub const USER_ID: &str = "ma8vp1jySJC";
/// The endpoint and verification token registered at eBay in the tests' configuration.
pub const ENDPOINT: &str = "https://cartlink.example.com/cart-events/ebay";
pub const VERIFICATION_TOKEN: &str = "cartlink-ebay-verification-token-0123456789";

/// `[ebay_account_deletion]` as the tests configure it.
pub fn deletion_config() -> String {
    format!(
        "\n[ebay_account_deletion]\nendpoint = \"{ENDPOINT}\"\nverification_token = \"{VERIFICATION_TOKEN}\"\n"
    )
}

/// One of eBay's signing keys, with its id.
pub struct EbayKey {
    pub kid: String,
    key: SigningKey,
}

impl EbayKey {
    /// A fresh key (random) under a fresh id.
    pub fn generate() -> EbayKey {
        let key = loop {
            let mut bytes = [0u8; 32];
            getrandom(&mut bytes);
            if let Ok(key) = SigningKey::from_slice(&bytes) {
                break key;
            }
        };
        let mut id = [0u8; 16];
        getrandom(&mut id);
        EbayKey {
            kid: format!("{}-{}", hex::encode(&id[..4]), hex::encode(&id[4..])),
            key,
        }
    }

    /// `getPublicKey`'s answer for this key, as eBay sends it (the PEM's lines run together).
    pub fn answer(&self) -> Value {
        // A P-256 SubjectPublicKeyInfo: its fixed header (id-ecPublicKey, prime256v1, a bit
        // string of 66 bytes), then the uncompressed point.
        let mut der = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        der.extend_from_slice(self.key.verifying_key().to_encoded_point(false).as_bytes());
        json!({
            "key": format!("-----BEGIN PUBLIC KEY-----{}-----END PUBLIC KEY-----", STANDARD.encode(&der)),
            "algorithm": "ECDSA",
            "digest": "SHA1"
        })
    }

    /// `X-EBAY-SIGNATURE` for `body`.
    pub fn sign(&self, body: &str) -> String {
        let signature: Signature = self
            .key
            .sign_prehash(&Sha1::digest(body.as_bytes()))
            .expect("sign");
        let header = json!({
            "alg": "ecdsa",
            "kid": self.kid,
            "signature": STANDARD.encode(signature.to_der().as_bytes()),
            "digest": "SHA1"
        });
        STANDARD.encode(header.to_string())
    }

    /// This key's `X-EBAY-SIGNATURE` for `body`, under another key's id (a forgery).
    pub fn sign_as(&self, other: &EbayKey, body: &str) -> String {
        let forged = EbayKey {
            kid: other.kid.clone(),
            key: self.key.clone(),
        };
        forged.sign(body)
    }
}

fn getrandom(out: &mut [u8]) {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(out))
        .expect("random bytes");
}

/// `Basic base64(client_id:client_secret)`.
pub fn basic(client_id: &str, client_secret: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{client_id}:{client_secret}"))
    )
}

/// Mounts the application token (client credentials, Basic, eBay's default scope) and the
/// public key of `key` (for that token only), the key served `key_fetches` times at most
/// (checked when the stand-in drops, if given).
pub async fn mount_keys(
    stand: &MockServer,
    (client_id, client_secret): (&str, &str),
    key: &EbayKey,
    key_fetches: Option<u64>,
) {
    Mock::given(method("POST"))
        .and(path("/api.ebay.com/identity/v1/oauth2/token"))
        .and(header(
            "authorization",
            basic(client_id, client_secret).as_str(),
        ))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains(
            "scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": APP_TOKEN, "expires_in": 7200,
            "token_type": "Application Access Token"
        })))
        .mount(stand)
        .await;
    let mut public_key = Mock::given(method("GET"))
        .and(path(public_key_path(&key.kid)))
        .and(header(
            "authorization",
            format!("Bearer {APP_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(key.answer()));
    if let Some(n) = key_fetches {
        public_key = public_key.expect(n);
    }
    public_key.mount(stand).await;
}

/// A marketplace account deletion notification, as eBay's AsyncAPI contract and its SDK's
/// sample write it, for `user`; its event `event_secs_ago` and its publication
/// `published_secs_ago` seconds before now.
pub fn notification(id: &str, user: &str, event_secs_ago: i64, published_secs_ago: i64) -> String {
    let at = |ago: i64| {
        (OffsetDateTime::now_utc() - time::Duration::seconds(ago))
            .format(&Rfc3339)
            .unwrap()
    };
    json!({
        "metadata": {"topic": "MARKETPLACE_ACCOUNT_DELETION", "schemaVersion": "1.0", "deprecated": false},
        "notification": {
            "notificationId": id,
            "eventDate": at(event_secs_ago),
            "publishDate": at(published_secs_ago),
            "publishAttemptCount": 1,
            "data": {"username": "acme_seller", "userId": user, "eiasToken": "nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ=="}
        }
    })
    .to_string()
}

/// Where the stand-in serves the public key of `kid` (eBay's Notification API `getPublicKey`).
pub fn public_key_path(kid: &str) -> String {
    format!("/api.ebay.com/commerce/notification/v1/public_key/{kid}")
}

/// How many application tokens (client credentials grants) the stand-in was asked for.
pub async fn app_token_requests(stand: &wiremock::MockServer) -> usize {
    stand
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("grant_type=client_credentials"))
        .count()
}
