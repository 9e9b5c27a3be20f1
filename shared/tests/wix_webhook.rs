//! Wix's webhook JWT verification (`shared::service::lifecycle::wix::verify`) against tokens
//! signed here with the fixture keys of `tests/fixtures` (an RSA key pair standing for the
//! app's, and another key). Here, not beside the code: ring signs only with its own generator.

use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::json;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use shared::config::wix::rsa_public_key;
use shared::domain::Timestamp;
use shared::service::lifecycle::wix::{verify, WixWebhook};
use shared::service::lifecycle::CartEventError;

const SIGNING_KEY: &str = include_str!("../../tests/fixtures/wix-webhook-signing-key.pem");
const OTHER_KEY: &str = include_str!("../../tests/fixtures/wix-other-signing-key.pem");
const PUBLIC_KEY: &str = include_str!("../../tests/fixtures/wix-webhook-public-key.pem");
const NOW: Timestamp = Timestamp(1_800_000_000);

/// A compact JWS of `claims` under `header`, signed RS256 with the PKCS #8 PEM `key`.
fn signed(key: &str, header: serde_json::Value, claims: serde_json::Value) -> String {
    let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
    let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!("{}.{}", part(header), part(claims));
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn removal(iat: i64, exp: i64) -> serde_json::Value {
    let data = json!({"eventType": "AppRemoved", "instanceId": "5f2a9a0e-1c1d",
        "data": json!({"appId": "app-id"}).to_string()});
    json!({"data": data.to_string(), "iat": iat, "exp": exp})
}

fn rs256() -> serde_json::Value {
    json!({"kid": "qG1kD2dz", "alg": "RS256"})
}

fn verify_now(token: &str) -> Result<WixWebhook, CartEventError> {
    verify(&rsa_public_key(PUBLIC_KEY).unwrap(), token, NOW)
}

#[test]
fn a_token_signed_with_the_apps_key_is_read() {
    // GIVEN a removal signed with the app's key, issued a minute ago
    let token = signed(SIGNING_KEY, rs256(), removal(NOW.0 - 60, NOW.0 + 3600));
    // WHEN it is verified THEN its envelope and times are read
    let v = verify_now(&token).unwrap();
    assert_eq!(v.event_type, "AppRemoved");
    assert_eq!(v.instance_id.as_deref(), Some("5f2a9a0e-1c1d"));
    assert_eq!((v.iat, v.exp), (NOW.0 - 60, NOW.0 + 3600));
}

#[test]
fn a_token_signed_with_another_key_is_a_bad_signature() {
    // GIVEN a removal signed with a key that is not the app's
    let token = signed(OTHER_KEY, rs256(), removal(NOW.0 - 60, NOW.0 + 3600));
    // WHEN it is verified THEN it is refused
    assert!(matches!(
        verify_now(&token),
        Err(CartEventError::BadSignature)
    ));
}

#[test]
fn a_token_whose_claims_were_changed_is_a_bad_signature() {
    // GIVEN a genuine token whose claims part is swapped for other claims
    let token = signed(SIGNING_KEY, rs256(), removal(NOW.0 - 60, NOW.0 + 3600));
    let parts: Vec<&str> = token.split('.').collect();
    let other = URL_SAFE_NO_PAD.encode(removal(NOW.0 - 30, NOW.0 + 3600).to_string());
    let forged = format!("{}.{other}.{}", parts[0], parts[2]);
    // WHEN it is verified THEN it is refused
    assert!(matches!(
        verify_now(&forged),
        Err(CartEventError::BadSignature)
    ));
}

#[test]
fn a_token_whose_header_names_another_algorithm_is_a_bad_signature() {
    // GIVEN tokens signed with the app's key whose header says HS256, and none
    for alg in ["HS256", "none"] {
        let token = signed(SIGNING_KEY, json!({"alg": alg}), removal(NOW.0, NOW.0 + 60));
        // WHEN verified THEN each is refused
        assert!(matches!(
            verify_now(&token),
            Err(CartEventError::BadSignature)
        ));
    }
}

#[test]
fn a_token_past_its_exp_is_stale() {
    // GIVEN a genuine removal whose exp is now
    let token = signed(SIGNING_KEY, rs256(), removal(NOW.0 - 3600, NOW.0));
    // WHEN it is verified THEN it is stale
    assert!(matches!(verify_now(&token), Err(CartEventError::Stale)));
}

#[test]
fn a_token_issued_further_ahead_than_the_skew_is_stale() {
    // GIVEN a genuine removal issued six minutes in our future
    let token = signed(SIGNING_KEY, rs256(), removal(NOW.0 + 360, NOW.0 + 3600));
    // WHEN it is verified THEN it is stale
    assert!(matches!(verify_now(&token), Err(CartEventError::Stale)));
}

#[test]
fn a_body_that_is_not_a_compact_jws_is_a_bad_signature() {
    // GIVEN bodies with too few and too many parts, and plain JSON
    for body in ["a.b", "a.b.c.d", "{\"eventType\":\"AppRemoved\"}"] {
        // WHEN verified THEN each is refused
        assert!(matches!(
            verify_now(body),
            Err(CartEventError::BadSignature)
        ));
    }
}
