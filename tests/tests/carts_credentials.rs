//! The built-in `credentials` carts against stand-ins of the merchant's store that accept only
//! what each documents: PrestaShop's `GET /api/` with the webservice key as the HTTP Basic user
//! and no password, Shopware's client-credentials token call with an integration's keys. Grant page → typed key → checked → sealed connection; a key of the
//! wrong shape calls nobody, a key the store refuses stores nothing. (A loopback
//! `base_url_override` moves `https://host/path` to `<stand-in>/host/path`.)

#[path = "common/rig.rs"]
mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cartlink_e2e::browser;
use common::Rig;
use shared::domain::TokenSet;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

const KEY: &str = "UCCLLQ9N2ARSHWCXLT74KUKSSK34BFKX";
const STORE: &str = "https://shop.example.com";

/// The store's one documented check, for `KEY` only, expected `calls` times; anything else 401.
async fn prestashop(calls: u64) -> Rig {
    let rig = Rig::start("prestashop").await;
    let basic = format!("Basic {}", STANDARD.encode(format!("{KEY}:")));
    Mock::given(method("GET"))
        .and(path("/shop.example.com/api/"))
        .and(header("authorization", basic.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_string("<prestashop><api/></prestashop>"))
        .expect(calls)
        .mount(&rig.stand)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&rig.stand)
        .await;
    rig
}

/// Opens the setup link (the page asks for the key) and posts `key` from it.
async fn type_key(rig: &Rig, setup: &str, key: &str) -> (u16, String) {
    let b = browser();
    let page = b.get(setup).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("Webservice key") && page.contains("Advanced Parameters"),
        "{page}"
    );
    let resp = b
        .post(format!("{setup}/credentials"))
        .header("origin", rig.base.as_str())
        .form(&[("key", key)])
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn prestashop_a_typed_webservice_key_is_checked_with_get_api_and_sealed() {
    // GIVEN an invite for a PrestaShop store
    let rig = prestashop(1).await;
    let (invite, setup) = rig.invite("prestashop", STORE).await;
    // WHEN the merchant types the key they generated
    let (status, page) = type_key(&rig, &setup, KEY).await;
    // THEN the store was asked once as PrestaShop documents, and the key is sealed as the token
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Successful Authorization"));
    let svc = &rig.app.services;
    let conn = rig.connection(&invite).await.expect("a connection");
    let plain = svc.vault.open(&conn.context(), &conn.tokens).await.unwrap();
    assert_eq!(
        TokenSet::from_plaintext(&plain)
            .unwrap()
            .access_token
            .expose(),
        KEY
    );
}

#[tokio::test]
async fn prestashop_a_key_of_the_wrong_shape_calls_nobody() {
    // GIVEN an invite for a PrestaShop store
    let rig = prestashop(0).await;
    let (invite, setup) = rig.invite("prestashop", STORE).await;
    for bad in ["", "short-key", "UCCLLQ9N2ARSHWCXLT74KUKSSK34BFK!"] {
        // WHEN a value that is no webservice key is typed
        let (status, page) = type_key(&rig, &setup, bad).await;
        // THEN the field is named, and nothing is stored
        assert_eq!(status, 400, "{bad:?}");
        assert!(
            page.contains("Webservice key” does not look right"),
            "{page}"
        );
    }
    assert!(rig.connection(&invite).await.is_none());
    // AND the store was never called (the mounted check expects zero calls)
    assert!(rig.stand.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn prestashop_a_key_the_store_refuses_stores_nothing() {
    // GIVEN an invite for a PrestaShop store
    let rig = prestashop(0).await;
    let (invite, setup) = rig.invite("prestashop", STORE).await;
    // WHEN a well-formed key the store does not know is typed
    let (status, page) = type_key(&rig, &setup, "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ").await;
    // THEN the page says the store did not accept it, and nothing is stored
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("did not accept these credentials"));
    assert!(rig.connection(&invite).await.is_none());
}

// ---------------------------------------------------------------- Shopware 6

const ACCESS_KEY_ID: &str = "SWIAQWXOCM5SVDHKTG1HV0JYRA";
const SECRET_ACCESS_KEY: &str = "cmRGTEtJUnVqc0FmQ2hXQWxuOVFKcEprVjZXbjh1Z0Z5cmJ2NUQ";

/// The Admin API's client-credentials token call, for the one integration it knows, expected
/// `calls` times; anything else 401.
async fn shopware(calls: u64) -> Rig {
    let rig = Rig::start("shopware").await;
    Mock::given(method("POST"))
        .and(path("/shop.example.com/api/oauth/token"))
        .and(wiremock::matchers::body_json(serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": ACCESS_KEY_ID,
            "client_secret": SECRET_ACCESS_KEY,
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer", "expires_in": 600, "access_token": "eyJ0eXAi.canary.sig"
        })))
        .expect(calls)
        .mount(&rig.stand)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&rig.stand)
        .await;
    rig
}

/// Opens the setup link (the page asks for both fields) and posts them from it.
async fn type_integration(rig: &Rig, setup: &str, id: &str, secret: &str) -> (u16, String) {
    let b = browser();
    let page = b.get(setup).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("Access key ID") && page.contains("Secret access key"),
        "{page}"
    );
    let resp = b
        .post(format!("{setup}/credentials"))
        .header("origin", rig.base.as_str())
        .form(&[("access_key_id", id), ("secret_access_key", secret)])
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn shopware_an_integrations_keys_are_checked_with_the_token_call_and_sealed() {
    // GIVEN an invite for a Shopware store
    let rig = shopware(1).await;
    let (invite, setup) = rig.invite("shopware", STORE).await;
    // WHEN the merchant types the integration's access key ID and secret
    let (status, page) = type_integration(&rig, &setup, ACCESS_KEY_ID, SECRET_ACCESS_KEY).await;
    // THEN the token call was made once as Shopware documents, and both are sealed
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Successful Authorization"));
    let svc = &rig.app.services;
    let conn = rig.connection(&invite).await.expect("a connection");
    let plain = svc.vault.open(&conn.context(), &conn.tokens).await.unwrap();
    let tokens = TokenSet::from_plaintext(&plain).unwrap();
    assert_eq!(tokens.access_token.expose(), ACCESS_KEY_ID);
    assert_eq!(tokens.key_secret.unwrap().expose(), SECRET_ACCESS_KEY);
}

#[tokio::test]
async fn shopware_a_missing_secret_or_a_foreign_key_calls_nobody() {
    // GIVEN an invite for a Shopware store
    let rig = shopware(0).await;
    let (invite, setup) = rig.invite("shopware", STORE).await;
    for (id, secret, field) in [
        (ACCESS_KEY_ID, "", "Secret access key"),
        (
            "SWUAQWXOCM5SVDHKTG1HV0JYRA",
            SECRET_ACCESS_KEY,
            "Access key ID",
        ),
    ] {
        // WHEN a field is missing, or the key is a user's (SWUA), not an integration's
        let (status, page) = type_integration(&rig, &setup, id, secret).await;
        // THEN that field is named, and nothing is stored or called
        assert_eq!(status, 400, "{field}");
        assert!(
            page.contains(&format!("{field}” does not look right")),
            "{page}"
        );
    }
    assert!(rig.connection(&invite).await.is_none());
    assert!(rig.stand.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn shopware_keys_the_store_refuses_store_nothing() {
    // GIVEN an invite for a Shopware store
    let rig = shopware(0).await;
    let (invite, setup) = rig.invite("shopware", STORE).await;
    // WHEN an integration's keys the store does not know are typed
    let (status, page) = type_integration(
        &rig,
        &setup,
        "SWIAZZZZZZZZZZZZZZZZZZZZZZ",
        SECRET_ACCESS_KEY,
    )
    .await;
    // THEN the page says the store did not accept them, and nothing is stored
    assert_eq!(status, 422, "{page}");
    assert!(rig.connection(&invite).await.is_none());
}
