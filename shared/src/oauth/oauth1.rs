//! OAuth 1.0a request signing (RFC 5849) with HMAC-SHA256, as Magento / Adobe Commerce
//! integrations require: the signature base string of §3.4.1, the percent-encoding of §3.6, the
//! HMAC of §3.4.2 (with SHA-256 in place of SHA-1) and the `Authorization: OAuth …` header of
//! §3.5.1. The timestamp comes from the caller (the Clock port); the nonce is fresh per request.
//!
//! Written here because no maintained crate signs HMAC-SHA256 (checked 2026-11-30):
//! `oauth1-request` 0.6.1 signs HMAC-SHA1, RSA-SHA1 and PLAINTEXT (another method means
//! writing its signer anyway), `reqwest-oauth1` 0.3.0 builds on it, and `oauth-client` 0.8.0
//! hard-codes HMAC-SHA1.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::Url;

use crate::domain::secrets::random_bytes;
use crate::domain::Timestamp;

/// The `oauth_signature_method` cartlink signs with.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA256";

/// RFC 5849 §3.6: every byte but the unreserved characters (`A-Z a-z 0-9 - . _ ~`) as `%XX`
/// with upper-case hex digits.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// RFC 5849 §3.4.1.2: scheme and host in lower case, the port only when it is not the
/// scheme's default, the path; no query or fragment.
pub fn base_string_uri(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{host}{port}{}",
        url.scheme().to_ascii_lowercase(),
        url.path()
    )
}

/// RFC 5849 §3.4.1.3.2: each name and value encoded, sorted by name then value, joined as
/// `name=value` pairs with `&`.
pub fn normalized_parameters(params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 5849 §3.4.1.1: `METHOD&uri&parameters`, each part encoded. `params` are the protocol
/// parameters and any form-body parameters (decoded); the URL's query parameters are added
/// here.
pub fn signature_base_string(method: &str, url: &Url, params: &[(String, String)]) -> String {
    let mut all: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    all.extend(params.iter().cloned());
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode(&base_string_uri(url)),
        percent_encode(&normalized_parameters(&all))
    )
}

/// RFC 5849 §3.4.2 with SHA-256: base64(HMAC(consumer secret `&` token secret, base string)).
/// The token secret is empty when there is no token yet.
pub fn sign(base_string: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!(
        "{}&{}",
        percent_encode(consumer_secret),
        percent_encode(token_secret)
    );
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(base_string.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A fresh nonce: 32 lower-case hex digits (128 random bits), the length and alphabet Magento
/// itself uses for nonces (`LENGTH_NONCE = 32`).
pub fn nonce() -> String {
    hex::encode(random_bytes::<16>())
}

/// Who signs a request: the consumer, and the token once there is one.
pub struct Signer<'a> {
    /// `oauth_consumer_key`.
    pub consumer_key: &'a str,
    /// The consumer secret (never sent).
    pub consumer_secret: &'a str,
    /// `oauth_token` and its secret (never sent), once there is a token.
    pub token: Option<(&'a str, &'a str)>,
}

/// The `Authorization` header value of a signed request (RFC 5849 §3.5.1): the protocol
/// parameters (`oauth_consumer_key`, `oauth_nonce`, `oauth_signature_method`,
/// `oauth_timestamp`, `oauth_token` when there is one, `oauth_version="1.0"`, and `extra`
/// such as `oauth_verifier`) and `oauth_signature`, each encoded. `body` holds the form-body
/// parameters, if any, which are signed but not put in the header.
pub fn authorization_header(
    method: &str,
    url: &Url,
    signer: &Signer<'_>,
    extra: &[(&str, &str)],
    body: &[(String, String)],
    timestamp: Timestamp,
    nonce: &str,
) -> String {
    let mut protocol: Vec<(String, String)> = vec![
        ("oauth_consumer_key".into(), signer.consumer_key.into()),
        ("oauth_nonce".into(), nonce.into()),
        ("oauth_signature_method".into(), SIGNATURE_METHOD.into()),
        ("oauth_timestamp".into(), timestamp.0.to_string()),
        ("oauth_version".into(), "1.0".into()),
    ];
    if let Some((token, _)) = signer.token {
        protocol.push(("oauth_token".into(), token.into()));
    }
    for (k, v) in extra {
        protocol.push(((*k).into(), (*v).into()));
    }
    let mut signed = protocol.clone();
    signed.extend(body.iter().cloned());
    let base = signature_base_string(method, url, &signed);
    let signature = sign(
        &base,
        signer.consumer_secret,
        signer.token.map_or("", |(_, s)| s),
    );
    protocol.push(("oauth_signature".into(), signature));
    protocol.sort();
    let fields: Vec<String> = protocol
        .iter()
        .map(|(k, v)| format!("{}=\"{}\"", percent_encode(k), percent_encode(v)))
        .collect();
    format!("OAuth {}", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// RFC 5849 §3.4.1.1's example request: its query, its form body (`c2&a3=2+q`) and its
    /// protocol parameters.
    fn rfc_request() -> (Url, Vec<(String, String)>) {
        let url = Url::parse("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b").unwrap();
        let params = pairs(&[
            ("c2", ""),
            ("a3", "2 q"),
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
        ]);
        (url, params)
    }

    /// The base string RFC 5849 §3.4.1.1 prints for that request.
    const RFC_BASE_STRING: &str = "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7";

    #[test]
    fn the_base_string_of_rfc_5849s_example_is_the_one_it_prints() {
        // GIVEN the RFC's example request
        let (url, params) = rfc_request();
        // WHEN its signature base string is built
        let base = signature_base_string("post", &url, &params);
        // THEN it is the RFC's, byte for byte
        assert_eq!(base, RFC_BASE_STRING);
    }

    #[test]
    fn the_hmac_sha256_signature_matches_an_independent_computation() {
        // GIVEN the RFC's base string, a consumer secret and a token secret
        // WHEN it is signed
        let signature = sign(RFC_BASE_STRING, "j49sj83j4dj7dnq9", "dh893hdasih9");
        // THEN it equals what python3 computed independently:
        // base64.b64encode(hmac.new(b"j49sj83j4dj7dnq9&dh893hdasih9", base, hashlib.sha256).digest())
        assert_eq!(signature, "JutOh7AH+zNzkS5OhazLZIP1g18l4joK1K1pB4KLjFA=");
    }

    #[test]
    fn percent_encoding_keeps_only_the_unreserved_characters() {
        assert_eq!(percent_encode("Ab9-._~"), "Ab9-._~");
        assert_eq!(percent_encode("a b+c/d=é"), "a%20b%2Bc%2Fd%3D%C3%A9");
        assert_eq!(percent_encode("*!'()"), "%2A%21%27%28%29");
    }

    #[test]
    fn the_base_string_uri_drops_default_ports_and_keeps_others() {
        let u = |s| base_string_uri(&Url::parse(s).unwrap());
        assert_eq!(
            u("HTTPS://Shop.Example.com:443/oauth/token/request?x=1#f"),
            "https://shop.example.com/oauth/token/request"
        );
        assert_eq!(
            u("http://127.0.0.1:8080/shop/oauth"),
            "http://127.0.0.1:8080/shop/oauth"
        );
    }

    #[test]
    fn the_header_carries_every_protocol_parameter_and_a_signature_over_them() {
        // GIVEN a token-bearing signer, a verifier and a fixed time and nonce
        let url = Url::parse("https://shop.example.com/oauth/token/access").unwrap();
        let signer = Signer {
            consumer_key: "ck",
            consumer_secret: "cs",
            token: Some(("rt", "rts")),
        };
        // WHEN the header is built
        let header = authorization_header(
            "POST",
            &url,
            &signer,
            &[("oauth_verifier", "v 1")],
            &[],
            Timestamp(1_700_000_000),
            "n0nce",
        );
        // THEN it names every parameter, sorted and encoded, and no secret
        assert!(
            header.starts_with(
                "OAuth oauth_consumer_key=\"ck\", oauth_nonce=\"n0nce\", oauth_signature=\""
            ),
            "{header}"
        );
        assert!(header.contains("oauth_signature_method=\"HMAC-SHA256\", oauth_timestamp=\"1700000000\", oauth_token=\"rt\", oauth_verifier=\"v%201\", oauth_version=\"1.0\""), "{header}");
        assert!(!header.contains("rts") && !header.contains("\"cs\""));
        // AND the signature is the HMAC of the base string of those parameters
        let base = signature_base_string(
            "POST",
            &url,
            &pairs(&[
                ("oauth_consumer_key", "ck"),
                ("oauth_nonce", "n0nce"),
                ("oauth_signature_method", "HMAC-SHA256"),
                ("oauth_timestamp", "1700000000"),
                ("oauth_version", "1.0"),
                ("oauth_token", "rt"),
                ("oauth_verifier", "v 1"),
            ]),
        );
        let expected = percent_encode(&sign(&base, "cs", "rts"));
        assert!(
            header.contains(&format!("oauth_signature=\"{expected}\"")),
            "{header}"
        );
    }

    #[test]
    fn nonces_are_fresh_and_shaped_like_magentos() {
        let (a, b) = (nonce(), nonce());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
    }
}
