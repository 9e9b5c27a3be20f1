//! The hooks for what a cart's data cannot say: a callback proof (Shopify's HMAC), an echo
//! check (Walmart's `clientId`), and the public-host rule for merchant-typed store URLs.
//! Entries name these hooks (`checks = ["shopify_hmac"]`, `normalize = "public_https_url"`);
//! the flow runs whatever its entry names.

use std::collections::HashMap;
use std::net::IpAddr;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::{Host, Url};

use super::{CallbackCheck, ClientCredentials};
use crate::domain::secrets::constant_time_eq;
use crate::domain::Timestamp;

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

fn shopify_callback(input: &CheckInput<'_>) -> Result<(), &'static str> {
    let secret = input
        .credentials
        .client_secret
        .as_ref()
        .ok_or("hmac_no_secret")?;
    let given = input.params.get("hmac").ok_or("hmac_missing")?;
    let expected = shopify_hmac(secret.expose(), input.params);
    if !constant_time_eq(given.to_ascii_lowercase().as_bytes(), expected.as_bytes()) {
        return Err("hmac_invalid");
    }
    let ts: i64 = input
        .params
        .get("timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or("timestamp_missing")?;
    if (input.now.0 - ts).abs() > SHOPIFY_TIMESTAMP_WINDOW_SECS {
        return Err("timestamp_stale");
    }
    Ok(())
}

/// Shopify: the callback's HMAC (constant-time) and its timestamp window.
pub const SHOPIFY_HMAC: CallbackCheck = CallbackCheck {
    name: "shopify_hmac",
    run: shopify_callback,
};

fn walmart_client_id(input: &CheckInput<'_>) -> Result<(), &'static str> {
    match input.params.get("clientId") {
        Some(id) if id == &input.credentials.client_id => Ok(()),
        _ => Err("client_id_mismatch"),
    }
}

/// Walmart: the callback echoes our `clientId`.
pub const WALMART_CLIENT_ID_ECHO: CallbackCheck = CallbackCheck {
    name: "walmart_client_id_echo",
    run: walmart_client_id,
};

/// Every callback hook an entry may name in its `checks`.
pub const CALLBACK_CHECKS: [CallbackCheck; 2] = [SHOPIFY_HMAC, WALMART_CLIENT_ID_ECHO];

/// The callback hook named `name`, if there is one.
pub fn callback_check(name: &str) -> Option<CallbackCheck> {
    CALLBACK_CHECKS.iter().find(|c| c.name == name).copied()
}

/// Whether an address is one cartlink may call on a merchant's behalf: not loopback, private,
/// link-local, shared (CGNAT), unspecified, broadcast, documentation, multicast or unique-local.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_ip(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

const PRIVATE_SUFFIXES: [&str; 7] = [
    "localhost",
    ".localhost",
    ".local",
    ".internal",
    ".lan",
    ".home.arpa",
    ".localdomain",
];

/// Cleans a merchant-typed store URL: `https://` to a named public host (IP literals, local
/// names and single-label hosts are refused; addresses are checked again when connecting),
/// no credentials, query or fragment; answered as `https://host[:port][/path]` without a
/// trailing slash.
pub fn public_https_url(raw: &str) -> Result<String, String> {
    let url = Url::parse(raw).map_err(|_| "must be a URL such as https://shop.example.com")?;
    if url.scheme() != "https" {
        return Err("must start with https://".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold a user name or password".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not hold a query or fragment".into());
    }
    let host = match url.host() {
        Some(Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(Host::Ipv4(_)) | Some(Host::Ipv6(_)) => {
            return Err("must name the store's public host, not an IP address".into())
        }
        None => return Err("must name a host".into()),
    };
    let bare = host.trim_end_matches('.');
    if !bare.contains('.')
        || PRIVATE_SUFFIXES
            .iter()
            .any(|s| bare == s.trim_start_matches('.') || bare.ends_with(s))
    {
        return Err("must name a public host".into());
    }
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = url.path().trim_end_matches('/');
    Ok(format!("https://{bare}{port}{path}"))
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

    #[test]
    fn store_urls_must_be_https_to_a_public_named_host() {
        assert_eq!(
            public_https_url("https://Shop.Example.com/store/").unwrap(),
            "https://shop.example.com/store"
        );
        for bad in [
            "http://shop.example.com",
            "https://127.0.0.1",
            "https://[::1]/",
            "https://10.0.0.5",
            "https://169.254.169.254/latest",
            "https://localhost",
            "https://shop.localhost",
            "https://intranet",
            "https://nas.local",
            "https://u:p@shop.example.com",
            "https://shop.example.com/?x=1",
            "ftp://shop.example.com",
        ] {
            assert!(public_https_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public_ip(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "2606:4700::1111"] {
            assert!(is_public_ip(public.parse().unwrap()), "{public}");
        }
    }
}
