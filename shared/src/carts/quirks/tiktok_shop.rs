//! TikTok Shop: the signature of its API requests (the 202309 versions), which cartlink makes
//! for the one call it makes itself, Get Authorized Shops at grant. As the client libraries
//! named in the entry's sources sign it (read there, not on TikTok's own pages): the query
//! carries `app_key` and `timestamp` (UNIX seconds), and `sign` is the lowercase hex
//! HMAC-SHA256, under the app secret, of the app secret, the request path, every query
//! parameter but `sign` and `access_token` sorted by name as `<name><value>`, the body (none for
//! a `GET`), and the app secret again.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::Url;

use crate::carts::ClientCredentials;
use crate::domain::Timestamp;

/// The hex signature of a request to `path` with `query` and `body` under `app_secret`.
pub fn signature(app_secret: &str, path: &str, query: &[(String, String)], body: &[u8]) -> String {
    let mut signed: Vec<&(String, String)> = query
        .iter()
        .filter(|(k, _)| k != "sign" && k != "access_token")
        .collect();
    signed.sort();
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(app_secret.as_bytes());
    mac.update(path.as_bytes());
    for (k, v) in signed {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac.update(body);
    mac.update(app_secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `url` (a body-less `GET`) with the app key, the time and the signature added to its query;
/// `path` is the path TikTok Shop sees, the catalog's (a test stand-in's URL prefixes it with
/// the host). `None` without an app secret.
pub fn signed(
    url: &Url,
    path: &str,
    credentials: &ClientCredentials,
    now: Timestamp,
) -> Option<Url> {
    let secret = credentials.client_secret.as_ref()?;
    let mut url = url.clone();
    url.query_pairs_mut()
        .append_pair("app_key", &credentials.client_id)
        .append_pair("timestamp", &now.0.to_string());
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let sign = signature(secret.expose(), path, &query, b"");
    url.query_pairs_mut().append_pair("sign", &sign);
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Secret;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_signature_matches_the_client_librarys_own_test_vector() {
        // GIVEN EcomPHP/tiktokshop-php tests/ClientTest.php @dbbec21 testPrepareSignature: a
        // GET to /test-api with foo=bar under the secret "app_secret" (python3: hmac.new(
        // b"app_secret", b"app_secret/test-apifoobarapp_secret", hashlib.sha256).hexdigest())
        // WHEN signed THEN it is the library's expected value
        assert_eq!(
            signature("app_secret", "/test-api", &pairs(&[("foo", "bar")]), b""),
            "d3cb7fe11ecae942802ceeca67e7cf10120cc12f1517d45fbc1c8cfe5413c80f"
        );
    }

    #[test]
    fn a_get_authorized_shops_request_is_signed_over_its_path_and_sorted_query() {
        // GIVEN the catalog's shops URL, the app key and secret, and a time; the expected sign
        // computed apart: python3 -c 'import hmac,hashlib; s="tts-secret"; print(hmac.new(
        // s.encode(), (s+"/authorization/202309/shops"+"app_keytts-app-key"
        // +"timestamp1800000000"+s).encode(), hashlib.sha256).hexdigest())'
        let url =
            Url::parse("https://open-api.tiktokglobalshop.com/authorization/202309/shops").unwrap();
        let credentials = ClientCredentials::new("tts-app-key", Some(Secret::new("tts-secret")));
        // WHEN signed
        let signed = signed(&url, url.path(), &credentials, Timestamp(1_800_000_000)).unwrap();
        // THEN the query is the app key, the time and that sign, in that order
        let query: Vec<(String, String)> = signed.query_pairs().into_owned().collect();
        assert_eq!(
            query,
            pairs(&[
                ("app_key", "tts-app-key"),
                ("timestamp", "1800000000"),
                (
                    "sign",
                    "ed29ec0fda546c47406f9533c2b67bb1b50d73989833f90c772e5c1fef212ef2"
                ),
            ])
        );
    }

    #[test]
    fn the_signature_leaves_out_sign_and_access_token_and_ignores_their_order() {
        // GIVEN a query in another order, with a sign and an access token among it
        let plain = pairs(&[("app_key", "k"), ("timestamp", "1")]);
        let noisy = pairs(&[
            ("timestamp", "1"),
            ("sign", "x"),
            ("access_token", "t"),
            ("app_key", "k"),
        ]);
        // WHEN both are signed THEN the signatures are the same
        assert_eq!(
            signature("s", "/p", &plain, b""),
            signature("s", "/p", &noisy, b"")
        );
    }

    #[test]
    fn a_request_cannot_be_signed_without_the_app_secret() {
        // GIVEN credentials without a secret WHEN signing THEN there is no signed URL
        let url = Url::parse("https://open-api.tiktokglobalshop.com/x").unwrap();
        let credentials = ClientCredentials::new("k", None);
        assert!(signed(&url, "/x", &credentials, Timestamp(1)).is_none());
    }
}
