//! Shopify's lifecycle webhooks on the AWS adapters (moto), through the Lambda glue: a signed
//! uninstall for a shop that holds no connection is handled (nothing to revoke), and the same
//! delivery again is refused as a replay by the DynamoDB lease, changing nothing. The revoking
//! path itself runs on the embedded store (`tests/tests/cart_events.rs`).

use std::collections::HashMap;

use cartlink_e2e::aws::{invoke, World, VERIFIED_DOMAIN};
use cartlink_e2e::CLIENT_SECRET as E2E_CART_SECRET;
use serde_json::{json, Value};
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
    let text = format!(
        "{}\n[cart_credentials.shopify]\nclient_id = \"app-id\"\nclient_secret = \"{APP_SECRET}\"\n",
        world.cart.config_toml()
    );
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
