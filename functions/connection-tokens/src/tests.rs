use http::{HeaderValue, Method, StatusCode};
use serde_json::Value;
use shared::domain::{ConnectionStatus, TokenHash, Warehouse, WarehouseDirectory, WarehouseId};
use shared::store::ConnectionStore;
use shared::testing::{TestKit, TEST_API_KEY};
use shared::web::Request;

use super::handle;

const OTHER_KEY: &str = "other-warehouse-key";

/// A kit with a second warehouse beside `wh-test`.
fn kit() -> TestKit {
    let mut kit = TestKit::new();
    let mut all = kit.services.warehouses.all().to_vec();
    all.push(Warehouse {
        id: WarehouseId::parse("wh-other").unwrap(),
        display_name: "Other Fulfilment".into(),
        notify_email: "ops@other.test".into(),
        api_key_hashes: vec![TokenHash::of(OTHER_KEY)],
        brand: Default::default(),
        locale: None,
    });
    kit.services.warehouses = WarehouseDirectory::new(all);
    kit
}

async fn connection_id(kit: &TestKit) -> String {
    let invite = kit.authorized().await;
    let c = kit.store.connection_for_invite(&invite).await.unwrap();
    c.unwrap().id.to_string()
}

fn get(path: &str, key: Option<&str>) -> Request {
    let mut req = Request::new(Method::GET, path);
    if let Some(k) = key {
        req.headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {k}")).unwrap(),
        );
    }
    req
}

fn body(resp: &shared::web::Response) -> Value {
    serde_json::from_slice(resp.body()).unwrap()
}

#[tokio::test]
async fn the_owning_warehouse_gets_the_access_token_and_never_the_refresh_token() {
    // GIVEN a connection of wh-test
    let kit = kit();
    let id = connection_id(&kit).await;
    // WHEN wh-test asks for its tokens
    let resp = handle(
        &kit.services,
        get(&format!("/v1/connections/{id}/tokens"), Some(TEST_API_KEY)),
    )
    .await;
    // THEN it gets the access token, uncached, and nothing of the refresh token
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let v = body(&resp);
    assert_eq!(v["connection_id"], id.as_str());
    assert_eq!(v["access_token"], "CANARY_AT_C");
    assert_eq!(v["cart"], "acme");
    assert!(v["expires_at"].as_str().unwrap().starts_with("2033-"));
    let text = String::from_utf8_lossy(resp.body()).to_string();
    assert!(!text.contains("CANARY_RT"), "{text}");
}

#[tokio::test]
async fn another_warehouse_an_unknown_id_and_a_bad_key_learn_nothing() {
    let kit = kit();
    let id = connection_id(&kit).await;
    let path = format!("/v1/connections/{id}/tokens");
    // another warehouse's key: as if the connection did not exist
    let resp = handle(&kit.services, get(&path, Some(OTHER_KEY))).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(&resp)["type"], "urn:cartlink:problem:not-found");
    assert!(!String::from_utf8_lossy(resp.body()).contains("CANARY"));
    // unknown and malformed ids
    for bad in ["con_0000000000000000000000000000", "..", "%2F"] {
        let resp = handle(
            &kit.services,
            get(&format!("/v1/connections/{bad}/tokens"), Some(TEST_API_KEY)),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    // no key, or a wrong one
    for key in [None, Some("wrong")] {
        let resp = handle(&kit.services, get(&path, key)).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    }
    // other methods
    let mut post = get(&path, Some(TEST_API_KEY));
    post.method = Method::POST;
    assert_eq!(
        handle(&kit.services, post).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    // AND none of it asked the cart for anything
    assert_eq!(
        kit.oauth
            .refreshes
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn a_connection_the_cart_no_longer_honours_answers_needs_reauthorization() {
    // GIVEN a connection marked as needing re-authorization
    let kit = kit();
    let id = connection_id(&kit).await;
    let cid = shared::domain::ConnectionId::parse(&id).unwrap();
    let version = kit.store.connection(&cid).await.unwrap().unwrap().version;
    kit.store
        .set_connection_status(&cid, ConnectionStatus::NeedsReauth, version)
        .await
        .unwrap();
    // WHEN its tokens are asked for
    let resp = handle(
        &kit.services,
        get(&format!("/v1/connections/{id}/tokens"), Some(TEST_API_KEY)),
    )
    .await;
    // THEN the warehouse is told to invite the merchant again, and gets no token
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(
        body(&resp)["type"],
        "urn:cartlink:problem:needs-reauthorization"
    );
    assert!(!String::from_utf8_lossy(resp.body()).contains("CANARY"));
}

#[tokio::test]
async fn an_expiring_token_is_refreshed_before_it_is_handed_out() {
    // GIVEN a connection a minute from expiry
    let kit = kit();
    let id = connection_id(&kit).await;
    let now = shared::clock::Clock::now(kit.clock.as_ref()).0;
    kit.clock.advance(2_000_000_000 - 60 - now);
    // WHEN its tokens are asked for
    let resp = handle(
        &kit.services,
        get(&format!("/v1/connections/{id}/tokens"), Some(TEST_API_KEY)),
    )
    .await;
    // THEN the refreshed token comes back
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body(&resp)["access_token"], "CANARY_AT_R1");
    // AND a cart that cannot be reached answers 502 with the stored tokens kept
    kit.clock.advance(4_000_000_000 - 2_000_000_000);
    kit.oauth
        .refresh_unreachable
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let resp = handle(
        &kit.services,
        get(&format!("/v1/connections/{id}/tokens"), Some(TEST_API_KEY)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(body(&resp)["type"], "urn:cartlink:problem:cart-unavailable");
}

#[tokio::test]
async fn a_key_service_outage_answers_503_and_leaves_the_connection_active() {
    // GIVEN a connection, and a key service that answers access denied
    let mut kit = kit();
    let id = connection_id(&kit).await;
    let vault = shared::testing::SwitchedVault::over(kit.services.vault.clone());
    vault
        .open_off
        .store(true, std::sync::atomic::Ordering::SeqCst);
    kit.services.vault = vault.clone();
    let path = format!("/v1/connections/{id}/tokens");
    // WHEN its tokens are asked for
    let resp = handle(&kit.services, get(&path, Some(TEST_API_KEY))).await;
    // THEN the warehouse is told to try again shortly, and gets no token
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "2");
    assert_eq!(body(&resp)["type"], "urn:cartlink:problem:unavailable");
    assert!(!String::from_utf8_lossy(resp.body()).contains("CANARY"));
    // AND the connection is still active
    let stored = kit
        .store
        .connection(&shared::domain::ConnectionId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    // AND once the key service is back, the token is served
    vault
        .open_off
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let resp = handle(&kit.services, get(&path, Some(TEST_API_KEY))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body(&resp)["access_token"], "CANARY_AT_C");
}

#[tokio::test]
async fn a_store_outage_answers_503_and_changes_nothing() {
    // GIVEN a connection, and a store whose connection reads fail
    let kit = kit();
    let id = connection_id(&kit).await;
    let db = rusqlite::Connection::open(kit.dir.path().join("cartlink.db")).unwrap();
    db.execute_batch("ALTER TABLE connections RENAME TO connections_away")
        .unwrap();
    let path = format!("/v1/connections/{id}/tokens");
    // WHEN its tokens are asked for
    let resp = handle(&kit.services, get(&path, Some(TEST_API_KEY))).await;
    // THEN the warehouse is told to try again shortly
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "2");
    assert_eq!(body(&resp)["type"], "urn:cartlink:problem:unavailable");
    // AND once the store is back, the connection is active and served
    db.execute_batch("ALTER TABLE connections_away RENAME TO connections")
        .unwrap();
    let resp = handle(&kit.services, get(&path, Some(TEST_API_KEY))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body(&resp)["access_token"], "CANARY_AT_C");
}

#[test]
fn the_answer_prints_no_secret_in_debug() {
    // GIVEN an answer holding an access token, a token secret and a consumer secret
    let answer = crate::ConnectionTokens {
        connection_id: "con-1".into(),
        invite_id: "inv-1".into(),
        cart: "magento".into(),
        account: None,
        scopes: vec![],
        access_token: "CANARY_AT".into(),
        expires_at: None,
        token_secret: Some("CANARY_TS".into()),
        consumer_key: Some("ck".into()),
        consumer_secret: Some("CANARY_CS".into()),
        api: Some(crate::ApiDetails {
            base_url: "https://api.etsy.com/v3/application".into(),
            headers: [("x-api-key".to_owned(), "key:CANARY_APP_SECRET".to_owned())].into(),
            shops: vec![],
        }),
    };
    // WHEN it is printed with {:?} THEN no secret shows, and the ids and header names still do
    let printed = format!("{answer:?}");
    assert!(!printed.contains("CANARY"), "{printed}");
    assert!(
        printed.contains("con-1") && printed.contains("x-api-key"),
        "{printed}"
    );
}

#[tokio::test]
async fn the_answer_names_the_carts_api_and_the_headers_its_calls_need() {
    // GIVEN a connection at a cart whose entry names its API and a header of the app's id
    let mut kit = kit();
    let mut cart = shared::testing::acme_cart();
    cart.api = Some(shared::carts::ApiSpec {
        base_url: "https://auth.acme.test/api/v2".into(),
        headers: vec![("X-Acme-App".into(), "{client_id}".into())],
        source: "a test entry".into(),
    });
    kit.services.catalog.add(cart);
    let id = connection_id(&kit).await;
    // WHEN the warehouse asks for its tokens
    let resp = handle(
        &kit.services,
        get(&format!("/v1/connections/{id}/tokens"), Some(TEST_API_KEY)),
    )
    .await;
    // THEN the answer says where to call and with which header
    assert_eq!(resp.status(), StatusCode::OK);
    let v = body(&resp);
    assert_eq!(v["api"]["base_url"], "https://auth.acme.test/api/v2");
    assert_eq!(v["api"]["headers"]["X-Acme-App"], "acme-app");
}

#[tokio::test]
async fn a_cart_that_names_no_api_answers_the_tokens_alone() {
    // GIVEN a connection at a cart whose entry names no API
    let kit = kit();
    let id = connection_id(&kit).await;
    // WHEN the warehouse asks for its tokens
    let resp = handle(
        &kit.services,
        get(&format!("/v1/connections/{id}/tokens"), Some(TEST_API_KEY)),
    )
    .await;
    // THEN there is no api member
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(body(&resp).get("api").is_none());
}
