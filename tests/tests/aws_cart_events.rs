//! Shopify's lifecycle webhooks and eBay's account deletion notifications on the AWS adapters
//! (moto), through the Lambda glue: a signed uninstall (or deletion) for an account that holds
//! no connection is handled (nothing to revoke), and the same delivery again is refused as a
//! replay by the DynamoDB lease, changing nothing; an eBay notification that does not verify is
//! refused before the lease is taken; a Squarespace notification is verified with its site's
//! subscription secret, sealed by KMS. The revoking path itself runs on the embedded store
//! (`tests/tests/cart_events.rs`, `tests/tests/cart_events_ebay.rs`).

#[path = "common/ebay.rs"]
mod ebay;

use std::collections::HashMap;

use cartlink_e2e::aws::{invoke, World, VERIFIED_DOMAIN};
use cartlink_e2e::CLIENT_SECRET as E2E_CART_SECRET;
use serde_json::{json, Value};
use sha2::Digest;
use shared::carts::Catalog;
use shared::config::{Config, ConfigText};
use shared::service::lifecycle::shopify::hmac_of;
use shared::service::Services;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const APP_SECRET: &str = "shopify-app-secret";
const SHOP: &str = "moto-shop.myshopify.com";

/// The services on moto with Shopify's app credentials configured beside the world's cart.
fn with_shopify(world: &World) -> Services {
    with_carts(
        world,
        &format!("[cart_credentials.shopify]\nclient_id = \"app-id\"\nclient_secret = \"{APP_SECRET}\"\n"),
    )
}

/// The services on moto with `more` configuration beside the world's cart.
fn with_carts(world: &World, more: &str) -> Services {
    let vars: HashMap<&str, String> = HashMap::from([
        ("CARTLINK_PUBLIC_BASE_URL", world.base.clone()),
        ("CARTLINK_TABLE", world.table.clone()),
        ("CARTLINK_KMS_KEY_ID", world.key_id.clone()),
        (
            "CARTLINK_MAIL_FROM",
            format!("cartlink <no-reply@{VERIFIED_DOMAIN}>"),
        ),
        ("E2E_CART_SECRET", E2E_CART_SECRET.to_owned()),
    ]);
    let text = format!("{}\n{more}", world.cart.config_toml());
    let file = ConfigText {
        source: "test".into(),
        text,
    };
    let config = Config::load_with(&|k| vars.get(k).cloned(), Some(file)).expect("config");
    let catalog = Catalog::from_config(&config);
    Services::aws(config, catalog, &world.sdk).expect("services")
}

async fn deliver(svc: &Services, id: &str) -> (u16, Value) {
    let body = json!({"id": 1, "name": "Moto", "myshopify_domain": SHOP}).to_string();
    let at = (OffsetDateTime::now_utc() - time::Duration::seconds(5))
        .format(&Rfc3339)
        .unwrap();
    let hmac = hmac_of(APP_SECRET, body.as_bytes());
    let headers = [
        ("content-type", "application/json"),
        ("x-shopify-topic", "app/uninstalled"),
        ("x-shopify-hmac-sha256", hmac.as_str()),
        ("x-shopify-shop-domain", SHOP),
        ("x-shopify-webhook-id", id),
        ("x-shopify-triggered-at", at.as_str()),
    ];
    let resp = invoke(
        |req| cart_events::handle(svc, req),
        "POST",
        "/cart-events/shopify",
        &headers,
        &[],
        Some(&body),
    )
    .await;
    let v = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    (resp.status().as_u16(), v)
}

#[tokio::test]
async fn a_signed_uninstall_is_handled_once_on_dynamodb_and_its_replay_refused() {
    // GIVEN Shopify's app configured on the AWS adapters, and a shop with no connection
    let world = World::new().await;
    let svc = with_shopify(&world);
    // WHEN Shopify delivers a signed uninstall, then the same delivery again
    let first = deliver(&svc, "moto-delivery-1").await;
    let again = deliver(&svc, "moto-delivery-1").await;
    // THEN the first is handled with nothing to revoke, the second refused as a replay
    assert_eq!(first, (200, json!({"handled": true, "revoked": 0})));
    assert_eq!(again.0, 409, "{}", again.1);
}

/// The services on moto with eBay's app and deletion endpoint configured, eBay's keys served
/// by its stand-in for `key`.
async fn with_ebay(world: &World, key: &ebay::EbayKey) -> (Services, wiremock::MockServer) {
    let stand = wiremock::MockServer::start().await;
    ebay::mount_keys(&stand, ("ebay-app", APP_SECRET), key, None).await;
    let more = format!(
        "[cart_credentials.ebay]\nclient_id = \"ebay-app\"\nclient_secret = \"{APP_SECRET}\"\nru_name = \"Cartlink-RuName\"\nbase_url_override = \"{}\"\n{}",
        stand.uri(),
        ebay::deletion_config()
    );
    (with_carts(world, &more), stand)
}

async fn notify(svc: &Services, body: &str, signature: &str) -> (u16, Value) {
    let headers = [
        ("content-type", "application/json"),
        ("x-ebay-signature", signature),
    ];
    let resp = invoke(
        |req| cart_events::handle(svc, req),
        "POST",
        "/cart-events/ebay",
        &headers,
        &[],
        Some(body),
    )
    .await;
    let v = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    (resp.status().as_u16(), v)
}

#[tokio::test]
async fn an_ebay_deletion_is_handled_once_on_dynamodb_and_its_replay_refused() {
    // GIVEN eBay's app and deletion endpoint on the AWS adapters, and a user with no connection
    let world = World::new().await;
    let key = ebay::EbayKey::generate();
    let (svc, _stand) = with_ebay(&world, &key).await;
    let body = ebay::notification("moto-n-1", "motoUser1", 30, 5);
    let signature = key.sign(&body);
    // WHEN eBay delivers the signed notification, then the same one again
    let first = notify(&svc, &body, &signature).await;
    let again = notify(&svc, &body, &signature).await;
    // THEN the first is handled with nothing to revoke, the second refused as a replay
    assert_eq!(first, (200, json!({"handled": true, "revoked": 0})));
    assert_eq!(again.0, 409, "{}", again.1);
}

#[tokio::test]
async fn an_ebay_notification_that_does_not_verify_takes_no_lease_on_dynamodb() {
    // GIVEN eBay's app on the AWS adapters, and a notification signed by a key not eBay's
    let world = World::new().await;
    let key = ebay::EbayKey::generate();
    let (svc, _stand) = with_ebay(&world, &key).await;
    let body = ebay::notification("moto-n-2", "motoUser1", 30, 5);
    let forged = ebay::EbayKey::generate().sign_as(&key, &body);
    // WHEN it arrives, then the genuine notification with the same id
    let refused = notify(&svc, &body, &forged).await;
    let genuine = notify(&svc, &body, &key.sign(&body)).await;
    // THEN the forgery is 412 and took nothing: the genuine one is handled
    assert_eq!(refused.0, 412, "{}", refused.1);
    assert_eq!(genuine.0, 200, "{}", genuine.1);
}

#[tokio::test]
async fn ebays_challenge_is_answered_through_the_lambda_glue() {
    // GIVEN eBay's deletion endpoint configured on the AWS wiring
    let world = World::new().await;
    let key = ebay::EbayKey::generate();
    let (svc, _stand) = with_ebay(&world, &key).await;
    // WHEN eBay sends its challenge
    let resp = invoke(
        |req| cart_events::handle(&svc, req),
        "GET",
        "/cart-events/ebay?challenge_code=moto-challenge",
        &[],
        &[],
        None,
    )
    .await;
    // THEN it is answered with the SHA-256 of code, token and endpoint, computed here apart
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    let expected = hex::encode(sha2::Sha256::digest(
        format!(
            "moto-challenge{}{}",
            ebay::VERIFICATION_TOKEN,
            ebay::ENDPOINT
        )
        .as_bytes(),
    ));
    assert_eq!(
        (resp.status().as_u16(), v),
        (200, json!({"challengeResponse": expected}))
    );
}

const SQSP_SITE: &str = "5f3c3d55ac435e1a051f77b3";
const SQSP_SECRET: &str = "F3F9B981C78E7A6187E42853F6CE2804177E98206164779423B02DEC981ACD6B";

/// The services on moto with Squarespace's app configured, and the site's subscription secret
/// stored as care stores it (sealed by KMS), outside any handler.
async fn with_squarespace_site(world: &World) -> Services {
    let svc = with_carts(
        world,
        "[cart_credentials.squarespace]\nclient_id = \"sqsp-app\"\nclient_secret = \"sqsp-secret\"\n",
    );
    let cart = shared::carts::CartId::new("squarespace");
    let context = shared::domain::CartSubscription::seal_context(&cart, SQSP_SITE);
    let secret = svc
        .vault
        .seal(&context, SQSP_SECRET.as_bytes())
        .await
        .unwrap();
    let record = shared::domain::CartSubscription {
        cart,
        account: SQSP_SITE.into(),
        subscription_id: "7aff04bb-90e0-4002-96c2-69d8162c8dae".into(),
        secret,
        stored_at: shared::domain::Timestamp(OffsetDateTime::now_utc().unix_timestamp()),
    };
    svc.store.put_cart_subscription(&record).await.unwrap();
    svc
}

async fn squarespace_notify(svc: &Services, id: &str, secret: &str) -> (u16, Value) {
    let at = (OffsetDateTime::now_utc() - time::Duration::seconds(5))
        .format(&Rfc3339)
        .unwrap();
    let body = json!({"id": id, "websiteId": SQSP_SITE, "subscriptionId": "7aff04bb",
        "topic": "extension.uninstall", "createdOn": at, "data": {}})
    .to_string();
    let signature = shared::service::lifecycle::squarespace::signature_of(secret, body.as_bytes());
    let headers = [
        ("content-type", "application/json"),
        ("squarespace-signature", signature.as_str()),
    ];
    let resp = invoke(
        |req| cart_events::handle(svc, req),
        "POST",
        "/cart-events/squarespace",
        &headers,
        &[],
        Some(&body),
    )
    .await;
    let v = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    (resp.status().as_u16(), v)
}

#[tokio::test]
async fn a_squarespace_uninstall_is_verified_with_the_kms_sealed_site_secret_and_its_replay_refused(
) {
    // GIVEN Squarespace on the AWS adapters, a site whose subscription secret is stored sealed,
    // and no connection at it
    let world = World::new().await;
    let svc = with_squarespace_site(&world).await;
    // WHEN a notification signed with another secret arrives, then the genuine one twice
    let forged = squarespace_notify(&svc, "moto-sq-1", &"ab".repeat(32)).await;
    let first = squarespace_notify(&svc, "moto-sq-1", SQSP_SECRET).await;
    let again = squarespace_notify(&svc, "moto-sq-1", SQSP_SECRET).await;
    // THEN the forgery is 401 and took nothing, the genuine one is handled with nothing to
    // revoke, and its replay is refused
    assert_eq!(forged.0, 401, "{}", forged.1);
    assert_eq!(first, (200, json!({"handled": true, "revoked": 0})));
    assert_eq!(again.0, 409, "{}", again.1);
}
