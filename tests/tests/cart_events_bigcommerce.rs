//! BigCommerce's uninstall callback (issue 13, item 1) at
//! `GET /cart-events/bigcommerce/uninstall?signed_payload_jwt=…`, against a connection made
//! through BigCommerce's stand-in. The JWT is signed here as BigCommerce documents it: HS256
//! with the app's client secret, `iss` `bc`, `aud` the client id, `sub` the store.

#[path = "common/rig.rs"]
mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cartlink_e2e::browser;
use common::{Rig, CLIENT_ID, CLIENT_SECRET};
use serde_json::{json, Value};
use shared::domain::ConnectionId;
use shared::service::lifecycle::bigcommerce::sign;
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request as Seen, ResponseTemplate};

const CONTEXT: &str = "stores/abc123";

/// A store connected through BigCommerce's stand-in: the rig and the connection's id.
async fn connected() -> (Rig, ConnectionId) {
    let rig = Rig::start("bigcommerce").await;
    let redirect = rig.callback("bigcommerce");
    let scope = "store_v2_orders store_inventory";
    Mock::given(method("GET"))
        .and(path(format!(
            "/login.bigcommerce.com/app/{CLIENT_ID}/install"
        )))
        .respond_with(move |_: &Seen| {
            let mut back = Url::parse(&redirect).unwrap();
            back.query_pairs_mut().extend_pairs([
                ("code", "bc-code"),
                ("scope", scope),
                ("context", CONTEXT),
            ]);
            ResponseTemplate::new(302).insert_header("location", back.as_str())
        })
        .mount(&rig.stand)
        .await;
    Mock::given(method("POST"))
        .and(path("/login.bigcommerce.com/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "bc-permanent-token", "scope": scope, "context": CONTEXT
        })))
        .mount(&rig.stand)
        .await;
    let (invite, setup) = rig.invite("bigcommerce", "abc123").await;
    let (status, page) = rig.grant(&browser(), &setup).await;
    assert_eq!(status, 303, "{page}");
    let conn = rig.connection(&invite).await.expect("a connection");
    (rig, conn.id)
}

fn now() -> i64 {
    common::now()
}

/// A `signed_payload_jwt` as BigCommerce sends it, signed with `secret`.
fn jwt(secret: &str, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{payload}");
    format!("{input}.{}", sign(secret, &input))
}

fn claims(jti: &str, nbf: i64) -> Value {
    json!({"iss": "bc", "aud": CLIENT_ID, "sub": CONTEXT, "jti": jti, "iat": nbf, "nbf": nbf,
           "exp": nbf + 86_400, "user": {"id": 9, "email": "merchant@shop.test"},
           "owner": {"id": 9, "email": "merchant@shop.test"}, "url": "/", "channel_id": null})
}

async fn uninstall(rig: &Rig, token: &str) -> (u16, Value) {
    let mut url = Url::parse(&format!("{}/cart-events/bigcommerce/uninstall", rig.base)).unwrap();
    url.query_pairs_mut()
        .append_pair("signed_payload_jwt", token);
    let resp = reqwest::get(url).await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn a_signed_uninstall_revokes_the_store_and_tells_the_warehouse() {
    // GIVEN a connected store
    let (rig, id) = connected().await;
    // WHEN BigCommerce calls the uninstall callback with a signed payload
    let (status, v) = uninstall(&rig, &jwt(CLIENT_SECRET, &claims("j-1", now()))).await;
    // THEN the connection is revoked at the cart, its tokens gone, and the warehouse emailed
    assert_eq!((status, &v["revoked"]), (200, &json!(1)), "{v}");
    assert_eq!(rig.token_status(&id).await, 404);
    let record = rig.app.services.store.disconnection(&id).await.unwrap();
    assert_eq!(
        record.map(|r| shared::views::ConnectionDisconnected::of(&r).status),
        Some("revoked_at_cart")
    );
    assert_eq!(rig.emails_of_kind("revoked_at_cart").len(), 1);
}

#[tokio::test]
async fn a_payload_signed_with_another_secret_is_refused_and_changes_nothing() {
    // GIVEN a connected store
    let (rig, id) = connected().await;
    // WHEN the callback carries a payload signed with another secret
    let (status, v) = uninstall(&rig, &jwt("not-the-secret", &claims("j-1", now()))).await;
    // THEN it is 401 and the connection still serves tokens
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_signature")));
    assert_eq!(rig.token_status(&id).await, 200);
}

#[tokio::test]
async fn an_expired_payload_is_refused_and_changes_nothing() {
    // GIVEN a connected store
    let (rig, id) = connected().await;
    // WHEN the callback carries a correctly signed payload that expired two days ago
    let old = claims("j-old", now() - 3 * 86_400);
    let (status, v) = uninstall(&rig, &jwt(CLIENT_SECRET, &old)).await;
    // THEN it is 400 stale and the connection still serves tokens
    assert_eq!((status, v["error"].as_str()), (400, Some("stale")));
    assert_eq!(rig.token_status(&id).await, 200);
}

#[tokio::test]
async fn a_replayed_payload_is_refused_and_changes_nothing() {
    // GIVEN an uninstall that was handled
    let (rig, _) = connected().await;
    let token = jwt(CLIENT_SECRET, &claims("j-1", now()));
    assert_eq!(uninstall(&rig, &token).await.0, 200);
    // WHEN the same signed payload arrives again
    let (status, v) = uninstall(&rig, &token).await;
    // THEN it is 409 replayed and there is still one email
    assert_eq!((status, v["error"].as_str()), (409, Some("replayed")));
    assert_eq!(rig.emails_of_kind("revoked_at_cart").len(), 1);
}

#[tokio::test]
async fn a_payload_for_another_app_is_refused() {
    // GIVEN a connected store
    let (rig, id) = connected().await;
    // WHEN the payload is signed with our secret but addressed to another client id
    let mut other = claims("j-aud", now());
    other["aud"] = json!("another-app");
    let (status, _) = uninstall(&rig, &jwt(CLIENT_SECRET, &other)).await;
    // THEN it is refused and the connection stays
    assert_eq!(status, 401);
    assert_eq!(rig.token_status(&id).await, 200);
}

// ---------------------------------------------------------------- the load callback

/// The load page (or its refusal) for `token`: status, CSP and body.
async fn load(rig: &Rig, path_end: &str, token: &str) -> (u16, String, String) {
    let mut url = Url::parse(&format!("{}/cart-events/bigcommerce/{path_end}", rig.base)).unwrap();
    url.query_pairs_mut()
        .append_pair("signed_payload_jwt", token);
    let resp = reqwest::get(url).await.unwrap();
    let csp = resp
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (resp.status().as_u16(), csp, resp.text().await.unwrap())
}

/// Waits until the merchant's confirmation (which carries the manage link) was sent.
async fn confirmed(rig: &Rig) {
    for _ in 0..200 {
        if !rig.emails_of_kind("merchant_confirmation").is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no merchant confirmation was sent");
}

#[tokio::test]
async fn a_verified_load_shows_the_warehouse_connected_and_how_to_withdraw_it() {
    // GIVEN a connected store whose merchant got the confirmation with its manage link
    let (rig, id) = connected().await;
    confirmed(&rig).await;
    // WHEN BigCommerce loads the app with a signed payload for that store
    let (status, csp, page) = load(&rig, "load", &jwt(CLIENT_SECRET, &claims("l-1", now()))).await;
    // THEN the page names the warehouse, since when, and the manage link to withdraw it, and
    // only that store's control panel may frame it
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Scope Fulfilment"), "{page}");
    assert!(page.contains("Connected since"), "{page}");
    assert!(page.contains("Manage this connection"), "{page}");
    assert!(
        csp.contains("frame-ancestors https://store-abc123.mybigcommerce.com;"),
        "{csp}"
    );
    // AND it changed nothing: the connection still serves tokens
    assert_eq!(rig.token_status(&id).await, 200);
}

#[tokio::test]
async fn a_load_for_a_store_without_connections_says_none() {
    // GIVEN a connected store
    let (rig, _) = connected().await;
    // WHEN BigCommerce loads the app for another store
    let mut other = claims("l-2", now());
    other["sub"] = json!("stores/zzz999");
    let (status, _, page) = load(&rig, "load", &jwt(CLIENT_SECRET, &other)).await;
    // THEN the page says no warehouse is connected, naming none
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("No warehouse is connected"), "{page}");
    assert!(!page.contains("Scope Fulfilment"), "{page}");
}

#[tokio::test]
async fn a_load_signed_with_another_secret_gets_a_refusal_page() {
    // GIVEN a connected store
    let (rig, _) = connected().await;
    // WHEN the load carries a payload signed with another secret
    let (status, _, page) = load(&rig, "load", &jwt("not-the-secret", &claims("l-3", now()))).await;
    // THEN it is a 401 page that says the request could not be verified and names nobody
    assert_eq!(status, 401);
    assert!(page.contains("could not be verified"), "{page}");
    assert!(!page.contains("Scope Fulfilment"), "{page}");
}

#[tokio::test]
async fn an_expired_load_gets_a_refusal_page() {
    // GIVEN a connected store
    let (rig, _) = connected().await;
    // WHEN the load carries a payload that expired two days ago
    let old = claims("l-4", now() - 3 * 86_400);
    let (status, _, page) = load(&rig, "load", &jwt(CLIENT_SECRET, &old)).await;
    // THEN it is a 400 page that says the request expired and names nobody
    assert_eq!(status, 400);
    assert!(page.contains("expired"), "{page}");
    assert!(!page.contains("Scope Fulfilment"), "{page}");
}

#[tokio::test]
async fn a_load_naming_no_owner_is_refused() {
    // GIVEN a connected store, and a payload signed with our secret but without `owner`
    let (rig, _) = connected().await;
    let mut bare = claims("l-5", now());
    bare.as_object_mut().unwrap().remove("owner");
    // WHEN BigCommerce loads the app with it
    let (status, _, page) = load(&rig, "load", &jwt(CLIENT_SECRET, &bare)).await;
    // THEN it is a 400 page and names nobody
    assert_eq!(status, 400);
    assert!(!page.contains("Scope Fulfilment"), "{page}");
}

#[tokio::test]
async fn a_verified_remove_user_is_answered_204_and_changes_nothing() {
    // GIVEN a connected store
    let (rig, id) = connected().await;
    // WHEN BigCommerce calls remove_user with a signed payload, then with a forged one
    let (ok, _, _) = load(
        &rig,
        "remove_user",
        &jwt(CLIENT_SECRET, &claims("r-1", now())),
    )
    .await;
    let (forged, _, _) = load(&rig, "remove_user", &jwt("nope", &claims("r-2", now()))).await;
    // THEN the first is 204, the second 401, and the connection still serves tokens
    assert_eq!((ok, forged), (204, 401));
    assert_eq!(rig.token_status(&id).await, 200);
}
