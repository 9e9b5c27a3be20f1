//! The hooks for what a cart's data cannot say: a callback proof (Shopify's HMAC, Wix's signed
//! instance) and an echo check (Walmart's `clientId`). Entries name these hooks (`checks = ["shopify_hmac"]`); the
//! flow runs whatever its entry names. (The public-host rule an entry names with
//! `normalize = "public_https_url"` is an outbound-URL rule: [`crate::net::public_https_url`].)

use std::collections::HashMap;
use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::credentials::ClientCredentials;
use crate::domain::secrets::constant_time_eq;
use crate::domain::{Refusal, Timestamp};

/// A hook for what a cart's callback must prove beyond the shared checks (Shopify's HMAC).
#[derive(Clone, Copy)]
pub struct CallbackCheck {
    /// Its name (for logs and the catalog).
    pub name: &'static str,
    /// The check: `Err` says why the callback is refused.
    pub run: fn(&CheckInput<'_>) -> Result<(), Refusal>,
}

impl fmt::Debug for CallbackCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// What a callback hook sees.
pub struct CheckInput<'a> {
    /// The callback's query parameters (first value of each).
    pub params: &'a HashMap<String, String>,
    /// The app's credentials at the cart.
    pub credentials: &'a ClientCredentials,
    /// Now.
    pub now: Timestamp,
}

/// How far a Shopify callback's `timestamp` may be from now: 90 seconds, as Shopify's own
/// library allows.
pub const SHOPIFY_TIMESTAMP_WINDOW_SECS: i64 = 90;

/// The message Shopify signs: every parameter but `hmac` and `signature`, sorted by name,
/// joined as `name=value` with `&`.
pub fn shopify_hmac_message(params: &HashMap<String, String>) -> String {
    let mut pairs: Vec<(&String, &String)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "hmac" && k.as_str() != "signature")
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The hex HMAC-SHA256 of the message with `secret` (what Shopify sends as `hmac`).
pub fn shopify_hmac(secret: &str, params: &HashMap<String, String>) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(shopify_hmac_message(params).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn shopify_callback(input: &CheckInput<'_>) -> Result<(), Refusal> {
    let secret = input
        .credentials
        .client_secret
        .as_ref()
        .ok_or(Refusal::HmacNoSecret)?;
    let given = input.params.get("hmac").ok_or(Refusal::HmacMissing)?;
    let expected = shopify_hmac(secret.expose(), input.params);
    if !constant_time_eq(given.to_ascii_lowercase().as_bytes(), expected.as_bytes()) {
        return Err(Refusal::HmacInvalid);
    }
    let ts: i64 = input
        .params
        .get("timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or(Refusal::TimestampMissing)?;
    if (input.now.0 - ts).abs() > SHOPIFY_TIMESTAMP_WINDOW_SECS {
        return Err(Refusal::TimestampStale);
    }
    Ok(())
}

/// Shopify: the callback's HMAC (constant-time) and its timestamp window.
pub const SHOPIFY_HMAC: CallbackCheck = CallbackCheck {
    name: "shopify_hmac",
    run: shopify_callback,
};

fn walmart_client_id(input: &CheckInput<'_>) -> Result<(), Refusal> {
    match input.params.get("clientId") {
        Some(id) if id == &input.credentials.client_id => Ok(()),
        _ => Err(Refusal::ClientIdMismatch),
    }
}

/// Walmart: the callback echoes our `clientId`.
pub const WALMART_CLIENT_ID_ECHO: CallbackCheck = CallbackCheck {
    name: "walmart_client_id_echo",
    run: walmart_client_id,
};

pub mod tiktok_shop;
pub mod wix;

/// Every callback hook an entry may name in its `checks`.
pub const CALLBACK_CHECKS: [CallbackCheck; 3] = [
    SHOPIFY_HMAC,
    WALMART_CLIENT_ID_ECHO,
    wix::WIX_SIGNED_INSTANCE,
];

/// The callback hook named `name`, if there is one.
pub fn callback_check(name: &str) -> Option<CallbackCheck> {
    CALLBACK_CHECKS.iter().find(|c| c.name == name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Secret;

    fn creds() -> ClientCredentials {
        ClientCredentials::new("app", Some(Secret::new("shh")))
    }

    fn signed(now: i64) -> HashMap<String, String> {
        let mut p: HashMap<String, String> = [
            ("code", "c0de"),
            ("shop", "acme.myshopify.com"),
            ("state", "st"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        p.insert("timestamp".into(), now.to_string());
        let h = shopify_hmac("shh", &p);
        p.insert("hmac".into(), h);
        p
    }

    #[test]
    fn a_shopify_callback_needs_a_valid_hmac_and_a_fresh_timestamp() {
        let c = creds();
        let now = Timestamp(1_800_000_000);
        // GIVEN a callback signed with our secret just now THEN it passes
        let p = signed(now.0);
        let run = |p: &HashMap<String, String>, now| {
            (SHOPIFY_HMAC.run)(&CheckInput {
                params: p,
                credentials: &c,
                now,
            })
            .map_err(Refusal::as_str)
        };
        assert_eq!(run(&p, now), Ok(()));
        // WHEN one value is changed THEN the HMAC fails
        let mut tampered = p.clone();
        tampered.insert("shop".into(), "evil.myshopify.com".into());
        assert_eq!(run(&tampered, now), Err("hmac_invalid"));
        // WHEN the hmac is dropped THEN it fails
        let mut dropped = p.clone();
        dropped.remove("hmac");
        assert_eq!(run(&dropped, now), Err("hmac_missing"));
        // WHEN it was signed ten minutes ago THEN it is stale
        let old = signed(now.0 - 600);
        assert_eq!(run(&old, now), Err("timestamp_stale"));
    }
}
