//! Known answers from eBay's own SDK (github.com/eBay/event-notification-nodejs-sdk @feaf337,
//! `test/test.json`, `test/test.js`): a notification its test signs, eBay's public key answer
//! for it, and the challenge inputs of its test.

use super::*;

/// The SDK's VALID message, as `JSON.stringify` writes it (what the SDK verifies).
const MESSAGE: &str = r#"{"metadata":{"topic":"MARKETPLACE_ACCOUNT_DELETION","schemaVersion":"1.0","deprecated":false},"notification":{"notificationId":"49feeaeb-4982-42d9-a377-9645b8479411_33f7e043-fed8-442b-9d44-791923bd9a6d","eventDate":"2021-03-19T20:43:59.462Z","publishDate":"2021-03-19T20:43:59.679Z","publishAttemptCount":1,"data":{"username":"test_user","userId":"ma8vp1jySJC","eiasToken":"nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ=="}}}"#;
/// The SDK's VALID `X-EBAY-SIGNATURE` for it.
const SIGNED: &str = "eyJhbGciOiJlY2RzYSIsImtpZCI6Ijk5MzYyNjFhLTdkN2ItNDYyMS1hMGYxLTk2Y2NiNDI4YWY0OSIsInNpZ25hdHVyZSI6Ik1FWUNJUUNmeGZJV3V4bVdjSUJRSjljNS9YN2lHREpxczJSQ0dzQkVhQWppbnlycmZBSWhBSVY2d0djVGlCdVY1S0pVaWYyaG9reXJMK1E5c3NIa2FkK214Mm5FRTI1dyIsImRpZ2VzdCI6IlNIQTEifQ==";
/// The SDK's SIGNATURE_MISMATCH header: the same key, a signature of another message.
const MISMATCHED: &str = "eyJhbGciOiJlY2RzYSIsImtpZCI6Ijk5MzYyNjFhLTdkN2ItNDYyMS1hMGYxLTk2Y2NiNDI4YWY0OSIsInNpZ25hdHVyZSI6Ik1FVUNJUUNHY1NubUFrVGZyK1paMlZnMGJXRW9zOGEvdGVCcWk3UGU2OCtoR21MTUNRSWdlRnZrcnRvKzhkczhSVndJM0dnbjFtTUdDck5NRVpKM1NSbE8yZngveHFJPSIsImRpZ2VzdCI6IlNIQTEifQ==";

fn sdk_key() -> VerifyingKey {
    key_of_answer(&serde_json::json!({
        "key": "-----BEGIN PUBLIC KEY-----MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZhhxXKtR+TOvtDbgTPCkSof02qgBB7IsYOyf76ilExJ/upAa/vKIKheOoCyOpcLmi4t0b4uepb7LLjmMr90FUg==-----END PUBLIC KEY-----",
        "algorithm": "ECDSA",
        "digest": "SHA1"
    }))
    .expect("the SDK's key reads")
}

#[test]
fn the_sdks_signed_notification_verifies_with_its_key() {
    // GIVEN the SDK's signed message, its header and eBay's key answer
    let header = SignatureHeader::parse(Some(SIGNED)).unwrap();
    // WHEN the signature is checked over the message THEN it verifies
    assert!(header.verifies(&sdk_key(), MESSAGE.as_bytes()));
}

#[test]
fn the_sdks_mismatched_signature_does_not_verify() {
    // GIVEN the SDK's header whose signature is of another message
    let header = SignatureHeader::parse(Some(MISMATCHED)).unwrap();
    // WHEN it is checked over the message THEN it does not verify
    assert!(!header.verifies(&sdk_key(), MESSAGE.as_bytes()));
}

#[test]
fn a_message_changed_after_signing_does_not_verify() {
    // GIVEN the SDK's signed message with its user changed
    let header = SignatureHeader::parse(Some(SIGNED)).unwrap();
    let changed = MESSAGE.replace("ma8vp1jySJC", "someoneelse");
    // WHEN it is checked THEN it does not verify
    assert!(!header.verifies(&sdk_key(), changed.as_bytes()));
}

#[test]
fn a_header_naming_another_algorithm_is_refused() {
    // GIVEN the SDK's header with its digest changed to SHA256
    let json = String::from_utf8(STANDARD.decode(SIGNED).unwrap()).unwrap();
    let other = STANDARD.encode(json.replace("SHA1", "SHA256"));
    // WHEN it is parsed THEN it is refused as a bad signature
    assert!(matches!(
        SignatureHeader::parse(Some(&other)),
        Err(CartEventError::BadSignature)
    ));
}

#[test]
fn a_key_answer_of_another_algorithm_is_not_used() {
    // GIVEN eBay's key answer claiming another digest
    let answer = serde_json::json!({"key": "-----BEGIN PUBLIC KEY-----MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZhhxXKtR+TOvtDbgTPCkSof02qgBB7IsYOyf76ilExJ/upAa/vKIKheOoCyOpcLmi4t0b4uepb7LLjmMr90FUg==-----END PUBLIC KEY-----", "algorithm": "ECDSA", "digest": "SHA256"});
    // WHEN it is read THEN no key comes of it
    assert!(key_of_answer(&answer).is_none());
}

#[test]
fn the_challenge_answer_is_the_sha256_of_code_token_and_endpoint() {
    // GIVEN the SDK test's challenge code, verification token and endpoint
    let code = "71745723-d031-455c-bfa5-f90d11b4f20a";
    // WHEN answered THEN it is the hex SHA-256 of the three run together (computed apart
    // with Python's hashlib.sha256)
    assert_eq!(
        challenge_response(code, code, "http://www.testendpoint.com/webhook"),
        "048de9ffd0e35021fefc0388d5c52e0f475324f582f3778ca81a53354ccbbc97"
    );
}
