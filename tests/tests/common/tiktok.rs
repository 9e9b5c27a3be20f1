//! TikTok Shop's Get Authorized Shops, as its client libraries call it (the entry's sources):
//! `GET open-api.tiktokglobalshop.com/authorization/202309/shops` with the access token in
//! `x-tts-access-token` (and no `Authorization`), and a query of exactly `app_key`,
//! `timestamp` and `sign`, the sign the hex HMAC-SHA256 under the app secret of the app secret,
//! the path, the other parameters sorted as name and value, and the app secret again. This
//! stand-in checks that signature with its own code; a request that is not exactly so is
//! answered HTTP 200 with a non-zero `code` (assumed: TikTok Shop's token calls refuse so),
//! and every call is counted.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Where the stand-in serves Get Authorized Shops (a loopback override moves the host into
/// the path); the path TikTok Shop signs is [`SIGNED_PATH`].
pub const SHOPS_PATH: &str = "/open-api.tiktokglobalshop.com/authorization/202309/shops";
/// The path the signature covers.
pub const SIGNED_PATH: &str = "/authorization/202309/shops";
/// The seller's two shops, and their ciphers.
pub const SHOP_ID: &str = "7494049642642441621";
pub const SHOP_CIPHER: &str = "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3";
pub const OTHER_SHOP_ID: &str = "7494049642642441622";
pub const OTHER_SHOP_CIPHER: &str = "ROW_kkX9gAAAAAB2Xj3tGc0pPBy7sIbk";
/// The seller's open_id, which the token answer names: not a shop id.
pub const OPEN_ID: &str = "7010736057180325637";

/// How many calls the stand-in answered with the shops, and how many it refused.
#[derive(Clone, Default)]
pub struct ShopsCalls {
    pub served: Arc<AtomicU64>,
    pub refused: Arc<AtomicU64>,
}

impl ShopsCalls {
    /// `(served, refused)`.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.served.load(Ordering::SeqCst),
            self.refused.load(Ordering::SeqCst),
        )
    }
}

/// The hex sign of a request to `path` with `query` (all but `sign`) under `secret`.
pub fn sign(secret: &str, path: &str, query: &BTreeMap<String, String>) -> String {
    let mut message = format!("{secret}{path}");
    for (k, v) in query
        .iter()
        .filter(|(k, _)| *k != "sign" && *k != "access_token")
    {
        message.push_str(k);
        message.push_str(v);
    }
    message.push_str(secret);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `req` is Get Authorized Shops as the app `(key, secret)` signs it with `token`.
fn well_made(req: &Request, (key, secret): (&str, &str), token: &str) -> bool {
    let query: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
    let names: Vec<&str> = query.keys().map(String::as_str).collect();
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    names == ["app_key", "sign", "timestamp"]
        && query["app_key"] == key
        && query["timestamp"].bytes().all(|b| b.is_ascii_digit())
        && query["sign"] == sign(secret, SIGNED_PATH, &query)
        && header("x-tts-access-token") == Some(token)
        && header("authorization").is_none()
        && req.body.is_empty()
}

/// Serves Get Authorized Shops to the app `(key, secret)` for the access `token`: both shops
/// with their ciphers, under `data.shops` beside `code: 0`.
pub async fn serve_shops(stand: &MockServer, app: (&str, &str), token: &str) -> ShopsCalls {
    serve(
        stand,
        app,
        token,
        json!([
            {"id": SHOP_ID, "name": "Acme GB", "region": "GB", "seller_type": "LOCAL",
             "cipher": SHOP_CIPHER, "code": "GBLCA1B2C3"},
            {"id": OTHER_SHOP_ID, "name": "Acme DE", "region": "DE", "seller_type": "CROSS_BORDER",
             "cipher": OTHER_SHOP_CIPHER, "code": "DELCA1B2C3"}
        ]),
    )
    .await
}

/// Serves Get Authorized Shops answering `shops` to a well-made request.
pub async fn serve(
    stand: &MockServer,
    (key, secret): (&str, &str),
    token: &str,
    shops: serde_json::Value,
) -> ShopsCalls {
    let calls = ShopsCalls::default();
    let counted = calls.clone();
    let (key, secret, token) = (key.to_owned(), secret.to_owned(), token.to_owned());
    Mock::given(method("GET"))
        .and(path(SHOPS_PATH))
        .respond_with(move |req: &Request| {
            if well_made(req, (&key, &secret), &token) {
                counted.served.fetch_add(1, Ordering::SeqCst);
                ResponseTemplate::new(200).set_body_json(json!({
                    "code": 0, "message": "Success", "request_id": "2026113012345",
                    "data": {"shops": shops}
                }))
            } else {
                counted.refused.fetch_add(1, Ordering::SeqCst);
                ResponseTemplate::new(200).set_body_json(json!({
                    "code": 106001, "message": "Invalid credentials", "data": {}
                }))
            }
        })
        .mount(stand)
        .await;
    calls
}

/// The access token the grant stand-in ([`serve_grant`]) issues.
pub const ACCESS_TOKEN: &str = "ROW_tts-access";

/// TikTok Shop's grant, at the stand-in: the services site outside the US answers the code
/// and the state to `callback`, and the token GET answers the tokens under `data` with the
/// seller's `open_id` (no shop).
pub async fn serve_grant(stand: &MockServer, callback: &str) {
    let back = callback.to_owned();
    Mock::given(method("GET"))
        .and(path("/services.tiktokshop.com/open/authorize"))
        .respond_with(move |req: &Request| {
            let q: std::collections::HashMap<String, String> =
                req.url.query_pairs().into_owned().collect();
            let mut to = url::Url::parse(&back).unwrap();
            to.query_pairs_mut()
                .append_pair("code", "tts-auth-code")
                .append_pair("state", &q["state"]);
            ResponseTemplate::new(302).insert_header("location", to.as_str())
        })
        .mount(stand)
        .await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Mock::given(method("GET"))
        .and(path("/auth.tiktok-shops.com/api/v2/token/get"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": 0, "message": "success", "data": {
                "access_token": ACCESS_TOKEN, "access_token_expire_in": now + 7 * 86400,
                "refresh_token": "ROW_tts-refresh", "refresh_token_expire_in": now + 365 * 86400,
                "open_id": OPEN_ID, "seller_name": "Acme Shop"
            }
        })))
        .mount(stand)
        .await;
}
