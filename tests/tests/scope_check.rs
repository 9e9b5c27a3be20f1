//! The scope check (issue 13, item 2; security checklist B16): a cart whose token answer reports
//! the scopes granted (the catalog's `granted_scopes`) and grants fewer than the invite's
//! functions need leaves nothing stored, the merchant's page names the missing permission, the
//! warehouse's history shows `failed` with `scope_missing`, and a fresh "Grant API Access" can
//! succeed. The carts are wiremock stand-ins on loopback answering as Shopify and BigCommerce
//! document their token answers (a loopback `base_url_override` moves `https://host/path` to
//! `<stand-in>/host/path`).

use std::collections::HashMap;
use std::sync::Arc;

use cartlink_e2e::{browser, free_port};
use cartlink_local::{build, confirmation_worker, serve, App, LocalSettings};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use shared::carts::quirks::shopify_hmac;
use shared::config::Config;
use shared::domain::{Connection, InviteId};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request as Seen, ResponseTemplate};

const KEY: &str = "scope-e2e-key";
const CLIENT_ID: &str = "app-id";
const CLIENT_SECRET: &str = "app-secret";
const SHOP: &str = "acme.myshopify.com";
/// Every scope the Shopify entry asks for with all three functions, as Shopify answers them.
const SHOPIFY_ALL: &str =
    "read_orders,read_products,read_locations,write_inventory,write_merchant_managed_fulfillment_orders";

/// cartlink in this process with one built-in cart pointed at a wiremock stand-in.
struct Rig {
    base: String,
    app: Arc<App>,
    stand: MockServer,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn start(cart: &str) -> Rig {
        let stand = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let file = dir.path().join("cartlink.toml");
        std::fs::write(
            &file,
            format!(
                r#"
[[warehouses]]
id = "wh-scope"
name = "Scope Fulfilment"
notify_email = "ops@scope-warehouse.test"
api_key_sha256 = ["{hash}"]

[cart_credentials.{cart}]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
base_url_override = "{uri}"
"#,
                hash = hex::encode(Sha256::digest(KEY.as_bytes())),
                uri = stand.uri(),
            ),
        )
        .unwrap();
        let env: HashMap<&str, String> = HashMap::from([
            ("CARTLINK_CONFIG", file.display().to_string()),
            ("CARTLINK_PUBLIC_BASE_URL", base.clone()),
            (
                "CARTLINK_DATA_DIR",
                dir.path().join("data").display().to_string(),
            ),
        ]);
        let config = Config::load(&|k| env.get(k).cloned()).unwrap();
        let settings = LocalSettings {
            listen: format!("127.0.0.1:{port}").parse().unwrap(),
            dev_api_key: None,
            halt_after_commit: false,
            admin_key: None,
        };
        let (app, _, events) = build(config, &settings).unwrap();
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .unwrap();
        tokio::spawn(confirmation_worker(app.clone(), events));
        tokio::spawn(serve(listener, app.clone()));
        Rig {
            base,
            app,
            stand,
            _dir: dir,
        }
    }

    fn callback(&self, cart: &str) -> String {
        format!("{}/oauth/callback/{cart}", self.base)
    }

    /// Creates an invite for all the cart's functions and answers its id and setup link.
    async fn invite(&self, cart: &str, store: &str) -> (InviteId, String) {
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/invites", self.base))
            .bearer_auth(KEY)
            .json(&json!({"cart": cart, "merchant_email": "merchant@shop.test", "store": store}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let v: Value = resp.json().await.unwrap();
        (
            InviteId::parse(v["id"].as_str().unwrap()).unwrap(),
            v["setup_url"].as_str().unwrap().to_owned(),
        )
    }

    /// Presses "Grant API Access" on a setup link, follows the stand-in's redirect back and
    /// answers the callback's status and page.
    async fn grant(&self, b: &reqwest::Client, setup: &str) -> (u16, String) {
        let page = b.get(setup).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Grant API Access"), "{page}");
        let resp = b.post(format!("{setup}/grant")).send().await.unwrap();
        assert_eq!(resp.status(), 303);
        let authorize = resp.headers()["location"].to_str().unwrap().to_owned();
        let resp = b.get(&authorize).send().await.unwrap();
        assert_eq!(
            resp.status(),
            302,
            "the stand-in refused the authorize request"
        );
        let back = resp.headers()["location"].to_str().unwrap().to_owned();
        let resp = b.get(&back).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn connection(&self, invite: &InviteId) -> Option<Connection> {
        let svc = &self.app.services;
        svc.store.connection_for_invite(invite).await.unwrap()
    }

    /// The invite's history as the warehouse reads it: each event's type and reason.
    async fn history(&self, invite: &InviteId) -> Vec<(String, Option<String>)> {
        let v: Value = reqwest::Client::new()
            .get(format!("{}/v1/invites/{invite}/events", self.base))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_owned(),
                    e["reason"].as_str().map(str::to_owned),
                )
            })
            .collect()
    }
}

/// Shopify's stand-in: the authorize endpoint signs its redirect back as Shopify does, and the
/// token endpoint answers `granted` as the answer's `scope` (comma-separated, as documented).
async fn shopify_rig(granted: &'static str) -> Rig {
    let rig = Rig::start("shopify").await;
    mount_shopify(&rig, granted).await;
    rig
}

async fn mount_shopify(rig: &Rig, granted: &'static str) {
    let redirect = rig.callback("shopify");
    Mock::given(method("GET"))
        .and(path(format!("/{SHOP}/admin/oauth/authorize")))
        .respond_with(move |req: &Seen| {
            let q: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
            let mut p: HashMap<String, String> = HashMap::from([
                ("code".into(), "shop-code".into()),
                ("shop".into(), SHOP.into()),
                ("state".into(), q["state"].clone()),
                ("timestamp".into(), now().to_string()),
            ]);
            let h = shopify_hmac(CLIENT_SECRET, &p);
            p.insert("hmac".into(), h);
            let mut back = Url::parse(&redirect).unwrap();
            back.query_pairs_mut().extend_pairs(p.iter());
            ResponseTemplate::new(302).insert_header("location", back.as_str())
        })
        .mount(&rig.stand)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/{SHOP}/admin/oauth/access_token")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "shpat_canary", "scope": granted,
            "expires_in": 3600, "refresh_token": "shprt_canary"
        })))
        .mount(&rig.stand)
        .await;
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

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
