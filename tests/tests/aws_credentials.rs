//! The `credentials` flavour on the AWS adapters (moto): a key the merchant types on the grant
//! page is checked with its cart's one read call (a stand-in that accepts only the documented
//! HTTP Basic form), sealed under KMS and committed on DynamoDB; a refused key stores nothing.
//! The grant page's run here is also what the template tests compare its role with
//! (`infra/tests/test_operations.py`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cartlink_e2e::aws::{invoke, World};
use cartlink_e2e::API_KEY;
use serde_json::{json, Value};
use shared::carts::CartEntry;
use shared::service::Services;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The services with a credentials cart whose read call goes to `stand`.
fn services_with_keyshop(world: &World, stand: &MockServer) -> Services {
    let entry: CartEntry = toml::from_str(&format!(
        r#"
id = "keyshop"
name = "Keyshop"
flavour = "credentials"
authorize_url = "{uri}/admin"
token_url = "{uri}/api/"
token_auth = "basic"
token_request = {{ kind = "no_exchange" }}
pkce = "not_supported"
refresh = {{ kind = "none" }}
refresh_request = {{ kind = "no_exchange" }}
sources = ["a test entry"]
credential_fields = [
    {{ name = "key", label = "Webservice key", help = "Back office > Webservice.", role = "key", pattern = "^[A-Z0-9]{{32}}$" }},
]
[scopes]
orders = ["orders:GET"]
"#,
        uri = stand.uri()
    ))
    .unwrap();
    let mut svc = world.services();
    svc.catalog.add(entry.into_spec(true).unwrap().0);
    svc
}

/// Mounts the documented check: `GET /api/` with the key as the Basic user and no password.
async fn mount_check(stand: &MockServer, calls: u64) {
    let basic = format!("Basic {}", STANDARD.encode(format!("{KEY}:")));
    Mock::given(method("GET"))
        .and(path("/api/"))
        .and(header("authorization", basic.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_string("<prestashop><api/></prestashop>"))
        .expect(calls)
        .mount(stand)
        .await;
}

async fn invite(svc: &Services, world: &World) -> (String, String) {
    let auth = format!("Bearer {API_KEY}");
    let body = json!({"cart": "keyshop", "merchant_email": world.merchant_email}).to_string();
    let resp = invoke(
        |req| warehouse_api::handle(svc, req),
        "POST",
        "/v1/invites",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &[],
        Some(&body),
    )
    .await;
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(resp.status(), 201, "{v}");
    let token = v["setup_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    (v["id"].as_str().unwrap().to_owned(), token)
}

async fn post_key(svc: &Services, token: &str, key: &str) -> (u16, String) {
    let resp = invoke(
        |req| grant_page::handle(svc, req),
        "POST",
        &format!("/setup/{token}/credentials"),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("sec-fetch-site", "same-origin"),
        ],
        &[],
        Some(&format!("key={key}")),
    )
    .await;
    (
        resp.status().as_u16(),
        String::from_utf8_lossy(resp.body()).into_owned(),
    )
}

async fn status_of(svc: &Services, id: &str) -> String {
    let auth = format!("Bearer {API_KEY}");
    let resp = invoke(
        |req| warehouse_api::handle(svc, req),
        "GET",
        &format!("/v1/invites/{id}"),
        &[("authorization", &auth)],
        &[],
        None,
    )
    .await;
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    v["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_typed_key_is_checked_once_sealed_under_kms_and_connected_on_dynamodb() {
    // GIVEN an invite for a credentials cart on the AWS adapters, and its store's stand-in
    let world = World::new().await;
    let stand = MockServer::start().await;
    mount_check(&stand, 1).await;
    let svc = services_with_keyshop(&world, &stand);
    let (id, token) = invite(&svc, &world).await;
    // WHEN the merchant types the key
    let (status, page) = post_key(&svc, &token, KEY).await;
    // THEN the page says so, the invite is authorized, and the key is nowhere in plain text
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Successful Authorization"));
    assert_eq!(status_of(&svc, &id).await, "authorized");
    assert!(!world.scan_text().await.contains(KEY));
}

#[tokio::test]
async fn a_key_the_store_refuses_stores_nothing_on_dynamodb() {
    // GIVEN a stand-in that knows only another key
    let world = World::new().await;
    let stand = MockServer::start().await;
    mount_check(&stand, 0).await;
    Mock::given(method("GET"))
        .and(path("/api/"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&stand)
        .await;
    let svc = services_with_keyshop(&world, &stand);
    let (id, token) = invite(&svc, &world).await;
    // WHEN the merchant types a key of the right shape that the store does not know
    let other = "ZYXWVUTSRQPONMLKJIHGFEDCBA543210";
    let (status, page) = post_key(&svc, &token, other).await;
    // THEN the page says so, nothing is connected, and the key is stored nowhere
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("did not accept these credentials"));
    assert_ne!(status_of(&svc, &id).await, "authorized");
    assert!(!world.scan_text().await.contains(other));
}
