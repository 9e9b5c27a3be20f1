//! The scope check (issue 13, item 2; security checklist B16): a cart whose token answer reports
//! the scopes granted (the catalog's `granted_scopes`) and grants fewer than the invite's
//! functions need leaves nothing stored, the merchant's page names the missing permission, the
//! warehouse's history shows `failed` with `scope_missing`, and a fresh "Grant API Access" can
//! succeed. The carts are wiremock stand-ins on loopback answering as Shopify and BigCommerce
//! document their token answers (a loopback `base_url_override` moves `https://host/path` to
//! `<stand-in>/host/path`).

#[path = "common/rig.rs"]
mod common;

use cartlink_e2e::browser;
use common::{mount_shopify, shopify_rig, Rig, CLIENT_ID, SHOP, SHOPIFY_ALL};
use serde_json::json;
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request as Seen, ResponseTemplate};

#[tokio::test]
async fn a_shopify_grant_missing_a_scope_is_not_stored() {
    // GIVEN Shopify's stand-in grants read_orders only, for an invite of all three functions
    let rig = shopify_rig("read_orders").await;
    let (invite, setup) = rig.invite("shopify", SHOP).await;
    // WHEN the merchant grants and comes back
    let (status, page) = rig.grant(&browser(), &setup).await;
    // THEN the page is no success and no connection is stored
    assert_eq!(status, 403, "{page}");
    assert!(!page.contains("Successful Authorization"), "{page}");
    assert!(rig.connection(&invite).await.is_none(), "nothing stored");
}

#[tokio::test]
async fn the_page_names_the_missing_permission_in_plain_words() {
    // GIVEN Shopify's stand-in grants everything but write_inventory
    let rig = shopify_rig(
        "read_orders,read_products,read_locations,write_merchant_managed_fulfillment_orders",
    )
    .await;
    let (_, setup) = rig.invite("shopify", SHOP).await;
    // WHEN the merchant grants and comes back
    let (_, page) = rig.grant(&browser(), &setup).await;
    // THEN the page names the inventory permission in words and the scope Shopify calls it,
    // and only that one
    assert!(page.contains("Some permissions were not granted"), "{page}");
    assert!(
        page.contains("read and update stock levels of your products"),
        "{page}"
    );
    assert!(page.contains("write_inventory"), "{page}");
    assert!(
        !page.contains("read your orders so they can be packed and shipped"),
        "{page}"
    );
}

#[tokio::test]
async fn the_warehouse_history_shows_the_grant_failed_with_scope_missing() {
    // GIVEN Shopify's stand-in grants read_orders only
    let rig = shopify_rig("read_orders").await;
    let (invite, setup) = rig.invite("shopify", SHOP).await;
    // WHEN the merchant grants and comes back
    rig.grant(&browser(), &setup).await;
    // THEN the invite's history has `failed` with the stable reason and no `authorized`
    let history = rig.history(&invite).await;
    assert!(
        history.contains(&("failed".into(), Some("scope_missing".into()))),
        "{history:?}"
    );
    assert!(
        !history.iter().any(|(t, _)| t == "authorized"),
        "{history:?}"
    );
}

#[tokio::test]
async fn after_a_narrower_grant_the_merchant_can_try_again_and_connect() {
    // GIVEN a grant that was refused for a missing scope
    let rig = shopify_rig("read_orders").await;
    let (invite, setup) = rig.invite("shopify", SHOP).await;
    let b = browser();
    rig.grant(&b, &setup).await;
    // WHEN the stand-in now grants every scope and the merchant presses "Grant API Access"
    // again
    rig.stand.reset().await;
    mount_shopify(&rig, SHOPIFY_ALL).await;
    let (status, page) = rig.grant(&b, &setup).await;
    // THEN the connection is stored
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Successful Authorization"), "{page}");
    assert!(rig.connection(&invite).await.is_some());
}

#[tokio::test]
async fn a_shopify_grant_of_every_scope_is_stored_with_the_scopes_split_on_commas() {
    // GIVEN Shopify's stand-in grants every scope the invite needs
    let rig = shopify_rig(SHOPIFY_ALL).await;
    let (invite, setup) = rig.invite("shopify", SHOP).await;
    // WHEN the merchant grants and comes back
    let (status, page) = rig.grant(&browser(), &setup).await;
    // THEN the connection is stored with each granted scope on its own
    assert_eq!(status, 200, "{page}");
    let conn = rig.connection(&invite).await.expect("a connection");
    assert_eq!(conn.scopes.join(","), SHOPIFY_ALL);
}

#[tokio::test]
async fn a_shopify_write_scope_stands_for_the_read_scope_it_covers() {
    // GIVEN Shopify's stand-in answers write_orders where the invite asked for read_orders
    // (Shopify answers only the write scope when both are held)
    let rig = shopify_rig(
        "write_orders,read_products,read_locations,write_inventory,write_merchant_managed_fulfillment_orders",
    )
    .await;
    let (invite, setup) = rig.invite("shopify", SHOP).await;
    // WHEN the merchant grants and comes back
    let (status, page) = rig.grant(&browser(), &setup).await;
    // THEN the grant is complete and stored
    assert_eq!(status, 200, "{page}");
    assert!(rig.connection(&invite).await.is_some());
}

const BC_CONTEXT: &str = "stores/abc123";

/// BigCommerce's stand-in: the install link sends the browser back with the store's context,
/// and the token endpoint answers `granted` as `scope` (space-separated, as documented).
async fn bigcommerce_rig(granted: &'static str) -> Rig {
    let rig = Rig::start("bigcommerce").await;
    let redirect = rig.callback("bigcommerce");
    Mock::given(method("GET"))
        .and(path(format!(
            "/login.bigcommerce.com/app/{CLIENT_ID}/install"
        )))
        .respond_with(move |_: &Seen| {
            let mut back = Url::parse(&redirect).unwrap();
            back.query_pairs_mut().extend_pairs([
                ("code", "bc-code"),
                ("scope", granted),
                ("context", BC_CONTEXT),
            ]);
            ResponseTemplate::new(302).insert_header("location", back.as_str())
        })
        .mount(&rig.stand)
        .await;
    Mock::given(method("POST"))
        .and(path("/login.bigcommerce.com/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "bc-permanent-token", "scope": granted, "context": BC_CONTEXT
        })))
        .mount(&rig.stand)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/login.bigcommerce.com/app/{CLIENT_ID}/install/succeeded"
        )))
        .respond_with(ResponseTemplate::new(200))
        .mount(&rig.stand)
        .await;
    rig
}

#[tokio::test]
async fn a_bigcommerce_grant_without_the_inventory_scope_is_not_stored() {
    // GIVEN BigCommerce's stand-in grants the orders scope only
    let rig = bigcommerce_rig("store_v2_orders").await;
    let (invite, setup) = rig.invite("bigcommerce", "abc123").await;
    // WHEN the merchant installs and comes back
    let (status, page) = rig.grant(&browser(), &setup).await;
    // THEN nothing is stored and the page names the inventory permission
    assert_eq!(status, 403, "{page}");
    assert!(rig.connection(&invite).await.is_none());
    assert!(page.contains("store_inventory"), "{page}");
}

#[tokio::test]
async fn a_bigcommerce_modify_scope_stands_for_its_read_only_variant() {
    // GIVEN BigCommerce's stand-in grants store_v2_orders (modify) and store_inventory, where
    // the orders function asks for store_v2_orders_read_only
    let rig = bigcommerce_rig("store_v2_orders store_inventory").await;
    let (invite, setup) = rig.invite("bigcommerce", "abc123").await;
    // WHEN the merchant installs and comes back
    let (status, page) = rig.grant(&browser(), &setup).await;
    // THEN the connection is stored (the install dialog is told: a 303 to install/succeeded)
    assert_eq!(status, 303, "{page}");
    assert!(rig.connection(&invite).await.is_some());
}
