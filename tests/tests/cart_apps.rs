//! A warehouse's own app at a cart (`/v1/cart-apps`), end to end on the local server with a
//! Shopify stand-in: Shopify keeps one active token per app and shop, so a shop connected by
//! one warehouse through cartlink's app is refused to a second warehouse on the same app (at
//! the invite, and before the exchange when the first connected after the second's invite),
//! while a second warehouse that brings its own app connects the same shop beside the first.
//!
//! The stand-in signs each callback with the secret of the app the authorization named, and
//! its token endpoint answers each app only for that app's id and secret.

#[path = "common/rig.rs"]
mod common;

use std::collections::HashMap;

use cartlink_e2e::browser;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use shared::carts::quirks::shopify_hmac;
use shared::domain::{InviteId, TokenSet};
use url::Url;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, Request as Seen, ResponseTemplate};

/// Warehouse one is the common rig's; warehouse two is added beside it.
const ONE: &str = common::KEY;
const TWO: &str = "key-of-warehouse-two";
/// cartlink's own app at Shopify (the common rig's credentials) and warehouse two's.
const OURS: (&str, &str) = (common::CLIENT_ID, common::CLIENT_SECRET);
const THEIRS: (&str, &str) = ("their-own-app", "their-own-app-secret");
const SHOP: &str = common::SHOP;

/// The common rig on Shopify, with a second warehouse and a stand-in that signs per app.
struct Rig(common::Rig);

impl std::ops::Deref for Rig {
    type Target = common::Rig;
    fn deref(&self) -> &common::Rig {
        &self.0
    }
}

impl Rig {
    async fn start() -> Rig {
        let second = format!(
            "\n[[warehouses]]\nid = \"wh-two\"\nname = \"wh-two Ltd\"\nnotify_email = \"ops@wh-two.test\"\napi_key_sha256 = [\"{}\"]\n",
            hex::encode(Sha256::digest(TWO.as_bytes()))
        );
        let rig = Rig(common::Rig::start_with("shopify", &second).await);
        rig.mount_authorize().await;
        rig
    }

    /// The shop's authorize endpoint: it redirects back signed with the secret of the app the
    /// request names.
    async fn mount_authorize(&self) {
        let redirect = format!("{}/oauth/callback/shopify", self.base);
        Mock::given(method("GET"))
            .and(path(format!("/{SHOP}/admin/oauth/authorize")))
            .respond_with(move |req: &Seen| {
                let q: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
                let secret = match q.get("client_id").map(String::as_str) {
                    Some(id) if id == OURS.0 => OURS.1,
                    Some(id) if id == THEIRS.0 => THEIRS.1,
                    _ => return ResponseTemplate::new(400),
                };
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let mut p: HashMap<String, String> = HashMap::from([
                    ("code".into(), format!("code-for-{}", q["client_id"])),
                    ("shop".into(), SHOP.into()),
                    ("state".into(), q["state"].clone()),
                    ("timestamp".into(), now.to_string()),
                ]);
                p.insert("hmac".into(), shopify_hmac(secret, &p));
                let mut back = Url::parse(&redirect).unwrap();
                back.query_pairs_mut().extend_pairs(p.iter());
                ResponseTemplate::new(302).insert_header("location", back.as_str())
            })
            .mount(&self.stand)
            .await;
    }

    /// The shop's token endpoint for `app`, expecting `calls` exchanges.
    async fn token_endpoint(&self, app: (&str, &str), calls: u64) {
        Mock::given(method("POST"))
            .and(path(format!("/{SHOP}/admin/oauth/access_token")))
            .and(body_json(json!({
                "client_id": app.0, "client_secret": app.1,
                "code": format!("code-for-{}", app.0), "expiring": "1"
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": format!("shpat-of-{}", app.0),
                "scope": "read_orders,read_products,read_locations,write_inventory,write_merchant_managed_fulfillment_orders",
                "expires_in": 3600, "refresh_token": format!("shprt-of-{}", app.0),
            })))
            .expect(calls)
            .mount(&self.stand)
            .await;
    }

    async fn call(
        &self,
        key: &str,
        method: reqwest::Method,
        route: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{route}", self.base))
            .bearer_auth(key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn invite(&self, key: &str) -> (u16, Value) {
        let body =
            json!({"cart": "shopify", "merchant_email": "merchant@shop.test", "store": SHOP});
        self.call(key, reqwest::Method::POST, "/v1/invites", Some(body))
            .await
    }

    /// The merchant presses the button, consents at the stand-in and comes back: answers the
    /// callback page's status and text.
    async fn grant(&self, invite: &Value) -> (u16, String) {
        let b = browser();
        let setup = invite["setup_url"].as_str().unwrap();
        let resp = b.post(format!("{setup}/grant")).send().await.unwrap();
        assert_eq!(resp.status(), 303);
        let authorize = resp.headers()["location"].to_str().unwrap().to_owned();
        let resp = b.get(authorize).send().await.unwrap();
        assert_eq!(resp.status(), 302, "the stand-in refused the authorization");
        let back = resp.headers()["location"].to_str().unwrap().to_owned();
        let resp = b.get(back).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn tokens(&self, invite: &Value) -> Option<TokenSet> {
        let svc = &self.app.services;
        let id = InviteId::parse(invite["id"].as_str().unwrap()).unwrap();
        let conn = svc.store.connection_for_invite(&id).await.unwrap()?;
        let plain = svc.vault.open(&conn.context(), &conn.tokens).await.unwrap();
        TokenSet::from_plaintext(&plain)
    }

    async fn register_own_app(&self) -> (u16, Value) {
        let body = json!({"client_id": THEIRS.0, "client_secret": THEIRS.1});
        self.call(
            TWO,
            reqwest::Method::PUT,
            "/v1/cart-apps/shopify",
            Some(body),
        )
        .await
    }

    /// Shopify's `app/uninstalled` for the shop, signed with `secret`, naming the shop in its
    /// (unsigned) header as Shopify does: answers the status and the answer.
    async fn uninstall_signed_by(&self, secret: &str, id: &str) -> (u16, Value) {
        let body = json!({"id": 1, "myshopify_domain": SHOP}).to_string();
        let at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let resp = reqwest::Client::new()
            .post(format!("{}/cart-events/shopify", self.base))
            .header("x-shopify-topic", "app/uninstalled")
            .header(
                "x-shopify-hmac-sha256",
                shared::service::lifecycle::shopify::hmac_of(secret, body.as_bytes()),
            )
            .header("x-shopify-shop-domain", SHOP)
            .header("x-shopify-webhook-id", id)
            .header("x-shopify-triggered-at", at)
            .body(body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// Both warehouses connected to the shop: one through cartlink's app, two through its own.
    async fn both_connected(&self) -> (Value, Value) {
        self.token_endpoint(OURS, 1).await;
        self.token_endpoint(THEIRS, 1).await;
        let first = self.first_warehouse_connected().await;
        self.register_own_app().await;
        let (_, second) = self.invite(TWO).await;
        let (status, page) = self.grant(&second).await;
        assert_eq!(status, 200, "{page}");
        (first, second)
    }

    /// Warehouse one connects the shop through cartlink's app.
    async fn first_warehouse_connected(&self) -> Value {
        let (status, first) = self.invite(ONE).await;
        assert_eq!(status, 201, "{first}");
        let (status, page) = self.grant(&first).await;
        assert_eq!(status, 200, "{page}");
        first
    }
}

#[tokio::test]
async fn a_shop_connected_through_cartlinks_app_is_refused_to_another_warehouse_on_it() {
    // GIVEN warehouse one connected the shop through cartlink's app
    let rig = Rig::start().await;
    rig.token_endpoint(OURS, 1).await;
    rig.first_warehouse_connected().await;
    // WHEN warehouse two, with no app of its own, invites the same shop
    let (status, problem) = rig.invite(TWO).await;
    // THEN it is refused with a problem that says why and what to do, and nothing is made
    assert_eq!(status, 409, "{problem}");
    assert_eq!(
        problem["type"],
        "urn:cartlink:problem:store-connected-elsewhere"
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("one active token per app and store"),
        "{detail}"
    );
    assert!(detail.contains("PUT /v1/cart-apps/shopify"), "{detail}");
    let (_, listed) = rig
        .call(TWO, reqwest::Method::GET, "/v1/invites", None)
        .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 0, "{listed}");
}

#[tokio::test]
async fn a_warehouse_with_its_own_app_connects_the_same_shop_beside_the_other() {
    // GIVEN warehouse one connected the shop through cartlink's app, and warehouse two
    // registered its own Shopify app
    let rig = Rig::start().await;
    rig.token_endpoint(OURS, 1).await;
    rig.token_endpoint(THEIRS, 1).await;
    let first = rig.first_warehouse_connected().await;
    let (status, registered) = rig.register_own_app().await;
    assert_eq!(status, 201, "{registered}");
    // WHEN warehouse two invites the shop and the merchant grants
    let (status, second) = rig.invite(TWO).await;
    assert_eq!(status, 201, "{second}");
    let (status, page) = rig.grant(&second).await;
    // THEN the grant went through warehouse two's app (its own token endpoint call, signed
    // callback and secret), and warehouse one's connection keeps its tokens
    assert_eq!(status, 200, "{page}");
    let theirs = rig.tokens(&second).await.expect("warehouse two connected");
    assert_eq!(theirs.access_token.expose(), "shpat-of-their-own-app");
    let ours = rig
        .tokens(&first)
        .await
        .expect("warehouse one still connected");
    assert_eq!(ours.access_token.expose(), format!("shpat-of-{}", OURS.0));
}

#[tokio::test]
async fn a_grant_after_another_warehouse_connected_meanwhile_is_refused_before_the_exchange() {
    // GIVEN warehouse two invited the shop first, then warehouse one connected it through
    // cartlink's app (one exchange, warehouse one's)
    let rig = Rig::start().await;
    rig.token_endpoint(OURS, 1).await;
    let (status, second) = rig.invite(TWO).await;
    assert_eq!(status, 201, "{second}");
    let first = rig.first_warehouse_connected().await;
    // WHEN warehouse two's merchant grants through the same app
    let (status, page) = rig.grant(&second).await;
    // THEN the callback says why, nothing is exchanged (the mock expects one call in all) and
    // warehouse one's access stands
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("connected to another warehouse"), "{page}");
    assert!(rig.tokens(&second).await.is_none());
    assert!(rig.tokens(&first).await.is_some());
}

#[tokio::test]
async fn an_apps_secret_is_never_answered() {
    // GIVEN warehouse two registered its own app
    let rig = Rig::start().await;
    let (_, registered) = rig.register_own_app().await;
    // WHEN its apps are listed and shown
    let (_, listed) = rig
        .call(TWO, reqwest::Method::GET, "/v1/cart-apps", None)
        .await;
    let (_, shown) = rig
        .call(TWO, reqwest::Method::GET, "/v1/cart-apps/shopify", None)
        .await;
    // THEN each answer names the app and that a secret is held, never the secret
    for answer in [&registered, &listed, &shown] {
        assert!(!answer.to_string().contains(THEIRS.1), "{answer}");
    }
    assert_eq!(shown["client_id"], THEIRS.0);
    assert_eq!(shown["has_client_secret"], true);
    assert_eq!(listed["data"][0]["cart"], "shopify");
}

#[tokio::test]
async fn an_app_is_the_warehouses_own_and_removed_once() {
    // GIVEN warehouse two registered its own app
    let rig = Rig::start().await;
    rig.register_own_app().await;
    // WHEN warehouse one asks for it, and warehouse two removes it twice
    let (seen_by_one, _) = rig
        .call(ONE, reqwest::Method::GET, "/v1/cart-apps/shopify", None)
        .await;
    let (first, _) = rig
        .call(TWO, reqwest::Method::DELETE, "/v1/cart-apps/shopify", None)
        .await;
    let (second, problem) = rig
        .call(TWO, reqwest::Method::DELETE, "/v1/cart-apps/shopify", None)
        .await;
    // THEN warehouse one sees none, the first removal is done and the second finds none
    assert_eq!((seen_by_one, first, second), (404, 204, 404), "{problem}");
}

#[tokio::test]
async fn a_cart_whose_merchants_authorize_without_an_app_takes_none() {
    // GIVEN WooCommerce, whose merchants hand over keys they create
    let rig = Rig::start().await;
    // WHEN warehouse two registers an app there
    let body = json!({"client_id": "x", "client_secret": "y"});
    let (status, problem) = rig
        .call(
            TWO,
            reqwest::Method::PUT,
            "/v1/cart-apps/woocommerce",
            Some(body),
        )
        .await;
    // THEN it is refused with a problem that says so
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "urn:cartlink:problem:cart-takes-no-app");
}

#[tokio::test]
async fn an_uninstall_of_cartlinks_app_leaves_the_connection_through_a_warehouses_own_app() {
    // GIVEN one shop connected by warehouse one through cartlink's app and by warehouse two
    // through its own app
    let rig = Rig::start().await;
    let (first, second) = rig.both_connected().await;
    // WHEN Shopify tells cartlink's app that the shop uninstalled it (signed with its secret)
    let (status, answer) = rig.uninstall_signed_by(OURS.1, "uninstall-1").await;
    // THEN warehouse one's connection ends, and warehouse two's, another app's grant, stands
    assert_eq!((status, &answer["revoked"]), (200, &json!(1)), "{answer}");
    assert!(rig.tokens(&first).await.is_none());
    assert!(rig.tokens(&second).await.is_some());
}

#[tokio::test]
async fn an_uninstall_signed_by_a_warehouses_own_app_ends_only_the_connection_through_it() {
    // GIVEN one shop connected by warehouse one through cartlink's app and by warehouse two
    // through its own app
    let rig = Rig::start().await;
    let (first, second) = rig.both_connected().await;
    // WHEN Shopify tells warehouse two's app, at cartlink's address, that the shop uninstalled it
    let (status, answer) = rig.uninstall_signed_by(THEIRS.1, "their-uninstall-1").await;
    // THEN warehouse two's connection ends, and warehouse one's stands
    assert_eq!((status, &answer["revoked"]), (200, &json!(1)), "{answer}");
    assert!(rig.tokens(&second).await.is_none());
    assert!(rig.tokens(&first).await.is_some());
}

#[tokio::test]
async fn an_uninstall_signed_by_no_app_of_the_shop_is_refused_and_ends_nothing() {
    // GIVEN one shop connected through cartlink's app and through warehouse two's own app
    let rig = Rig::start().await;
    let (first, second) = rig.both_connected().await;
    // WHEN an uninstall signed with a secret neither app has arrives, naming the shop
    let (status, answer) = rig.uninstall_signed_by("forged-secret", "forged-1").await;
    // THEN it is refused and both connections stand
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("bad_signature"))
    );
    assert!(rig.tokens(&first).await.is_some());
    assert!(rig.tokens(&second).await.is_some());
}
