//! A cartlink local server in the test's process with one built-in cart pointed at a wiremock
//! stand-in (a loopback `base_url_override` moves `https://host/path` to
//! `<stand-in>/host/path`), and Shopify's stand-in, which signs its redirect back as Shopify
//! does. Shared by the test files that include it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use cartlink_e2e::browser;
use cartlink_local::{build, confirmation_worker, serve, App, LocalSettings};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use shared::carts::quirks::shopify_hmac;
use shared::config::Config;
use shared::domain::{Connection, InviteId};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request as Seen, ResponseTemplate};

pub const KEY: &str = "scope-e2e-key";
pub const CLIENT_ID: &str = "app-id";
pub const CLIENT_SECRET: &str = "app-secret";
pub const SHOP: &str = "acme.myshopify.com";
/// Every scope the Shopify entry asks for with all three functions, as Shopify answers them.
pub const SHOPIFY_ALL: &str =
    "read_orders,read_products,read_locations,write_inventory,write_merchant_managed_fulfillment_orders";

/// cartlink in this process with one built-in cart pointed at a wiremock stand-in.
pub struct Rig {
    pub base: String,
    pub app: Arc<App>,
    pub stand: MockServer,
    pub dir_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Rig {
    pub async fn start(cart: &str) -> Rig {
        Rig::start_with(cart, "").await
    }

    /// As [`Rig::start`], with `extra` written right after the cart's credentials (more keys of
    /// that table, then any tables of its own).
    pub async fn start_with(cart: &str, extra: &str) -> Rig {
        let stand = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let (held, port) = cartlink_e2e::loopback_listener();
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
{extra}
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
        let listener = tokio::net::TcpListener::from_std(held).unwrap();
        tokio::spawn(confirmation_worker(app.clone(), events));
        tokio::spawn(serve(listener, app.clone()));
        Rig {
            base,
            app,
            stand,
            dir_path: dir.path().to_owned(),
            _dir: dir,
        }
    }

    pub fn callback(&self, cart: &str) -> String {
        format!("{}/oauth/callback/{cart}", self.base)
    }

    /// Creates an invite for all the cart's functions and answers its id and setup link.
    pub async fn invite(&self, cart: &str, store: &str) -> (InviteId, String) {
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
    pub async fn grant(&self, b: &reqwest::Client, setup: &str) -> (u16, String) {
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

    pub async fn connection(&self, invite: &InviteId) -> Option<Connection> {
        let svc = &self.app.services;
        svc.store.connection_for_invite(invite).await.unwrap()
    }

    /// The token API's status for a connection (200 while it is connected).
    pub async fn token_status(&self, id: &shared::domain::ConnectionId) -> u16 {
        reqwest::Client::new()
            .get(format!("{}/v1/connections/{id}/tokens", self.base))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// The connection still serves tokens and its invite's history has no `revoked_at_cart`:
    /// a refused (or another account's) signal changed nothing.
    pub async fn assert_untouched(&self, invite: &InviteId, id: &shared::domain::ConnectionId) {
        assert_eq!(self.token_status(id).await, 200);
        assert_eq!(self.revoked_steps(invite).await, 0);
    }

    /// The invite's history shows `revoked_at_cart` once and the warehouse got one email of
    /// it, however many signals arrived.
    pub async fn assert_told_once(&self, invite: &InviteId) {
        assert_eq!(self.revoked_steps(invite).await, 1);
        assert_eq!(self.emails_of_kind("revoked_at_cart").len(), 1);
    }

    /// The connection's tokens are gone (the token API answers 404) and its record says the
    /// cart revoked it.
    pub async fn assert_revoked_by_cart(&self, id: &shared::domain::ConnectionId) {
        assert_eq!(self.token_status(id).await, 404);
        let record = self.app.services.store.disconnection(id).await.unwrap();
        assert_eq!(
            record.map(|r| r.by),
            Some(shared::domain::DisconnectedBy::Cart)
        );
    }

    /// How often the invite's history shows `revoked_at_cart`.
    pub async fn revoked_steps(&self, invite: &InviteId) -> usize {
        self.history(invite)
            .await
            .iter()
            .filter(|(t, _)| t == "revoked_at_cart")
            .count()
    }

    /// The invite's history as the warehouse reads it: each event's type and reason.
    pub async fn history(&self, invite: &InviteId) -> Vec<(String, Option<String>)> {
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
pub async fn shopify_rig(granted: &'static str) -> Rig {
    let rig = Rig::start("shopify").await;
    mount_shopify(&rig, granted).await;
    rig
}

pub async fn mount_shopify(rig: &Rig, granted: &'static str) {
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

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Rig {
    /// The emails in the outbox of the given kind (`X-Cartlink-kind`).
    pub fn emails_of_kind(&self, kind: &str) -> Vec<cartlink_e2e::Email> {
        let dir = self.dir_path.join("data").join("outbox");
        std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .map(|p| cartlink_e2e::Email::parse(&std::fs::read(p).unwrap()))
                    .filter(|e| e.kind == kind)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Connects a merchant of `cart` (a cart that needs no store input) through its stand-in,
    /// mounted by the caller: the invite and its connection.
    pub async fn connect_storeless(&self, cart: &str) -> (InviteId, Connection) {
        let made: Value = reqwest::Client::new()
            .post(format!("{}/v1/invites", self.base))
            .bearer_auth(KEY)
            .json(&json!({"cart": cart, "merchant_email": "merchant@shop.test"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let invite = InviteId::parse(made["id"].as_str().unwrap()).unwrap();
        let (status, page) = self
            .grant(&browser(), made["setup_url"].as_str().unwrap())
            .await;
        assert_eq!(status, 200, "{page}");
        let conn = self.connection(&invite).await.expect("a connection");
        (invite, conn)
    }

    /// Connects `SHOP` through Shopify's stand-in (every scope granted): the invite and its
    /// connection.
    pub async fn connect_shop(&self) -> (InviteId, Connection) {
        let (invite, setup) = self.invite("shopify", SHOP).await;
        let (status, page) = self.grant(&browser(), &setup).await;
        assert_eq!(status, 200, "{page}");
        let conn = self.connection(&invite).await.expect("a connection");
        (invite, conn)
    }
}
