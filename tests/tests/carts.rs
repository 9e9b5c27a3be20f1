//! Every built-in cart against a scripted stand-in of its endpoints (wiremock on loopback):
//! warehouse API → grant page → authorize redirect (to the stand-in, which answers as the cart
//! does) → callback → sealed connection. The stand-ins accept only what the real cart requires
//! (parameter names, client authentication, per-store host as the first path segment, since a
//! loopback `base_url_override` moves `https://host/path` to `<stand-in>/host/path`).
//! Negative cases end with zero calls to the token endpoint (`expect(0)`) and no connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use cartlink_e2e::browser;
use cartlink_local::{build, confirmation_worker, serve, App, LocalSettings};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use shared::carts::quirks::shopify_hmac;
use shared::config::Config;
use shared::domain::{Connection, ConnectionStatus, InviteId, Timestamp, TokenSet};
use shared::service::connections::ConnectionError;
use url::Url;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request as Seen, ResponseTemplate};

const KEY: &str = "carts-e2e-key";
const CLIENT_ID: &str = "app-id";
const CLIENT_SECRET: &str = "app-secret";

fn basic() -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    )
}

fn form(req: &Seen) -> HashMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// cartlink in this process on a free loopback port, with one built-in cart pointed at a
/// stand-in.
struct Rig {
    base: String,
    app: Arc<App>,
    stand: MockServer,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn start(cart: &str, extra: &str) -> Rig {
        Rig::start_with(cart, extra, MockServer::start().await).await
    }

    async fn start_with(cart: &str, extra: &str, stand: MockServer) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let (held, port) = cartlink_e2e::loopback_listener();
        let base = format!("http://127.0.0.1:{port}");
        let file = dir.path().join("cartlink.toml");
        std::fs::write(
            &file,
            format!(
                r#"
[[warehouses]]
id = "wh-carts"
name = "Carts Fulfilment"
notify_email = "ops@carts-warehouse.test"
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
            dev_api_key: Some("carts-dev-key".into()),
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
            _dir: dir,
        }
    }

    fn callback(&self, cart: &str) -> String {
        format!("{}/oauth/callback/{cart}", self.base)
    }

    async fn invite(&self, cart: &str, store: Option<&str>) -> (u16, Value) {
        let mut body = json!({"cart": cart, "merchant_email": "merchant@shop.test"});
        if let Some(s) = store {
            body["store"] = json!(s);
        }
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/invites", self.base))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// Creates an invite, opens the grant page and presses the button: answers the invite id,
    /// the setup link and the authorize URL the browser is sent to.
    async fn grant(&self, b: &reqwest::Client, cart: &str, store: Option<&str>) -> Grant {
        let (status, v) = self.invite(cart, store).await;
        assert_eq!(status, 201, "{v}");
        let setup = v["setup_url"].as_str().unwrap().to_owned();
        let page = b.get(&setup).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Grant API Access"), "grant page of {cart}");
        let resp = b.post(format!("{setup}/grant")).send().await.unwrap();
        assert_eq!(resp.status(), 303);
        let authorize = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
        assert!(
            authorize.as_str().starts_with(&self.stand.uri()),
            "{authorize}"
        );
        Grant {
            invite: InviteId::parse(v["id"].as_str().unwrap()).unwrap(),
            setup,
            authorize,
        }
    }

    /// The browser at the stand-in's authorize endpoint, which redirects back as the cart
    /// would; then at our callback. Answers the callback's status and page.
    async fn consent(&self, b: &reqwest::Client, authorize: &Url) -> (u16, String) {
        let resp = b.get(authorize.clone()).send().await.unwrap();
        assert_eq!(
            resp.status(),
            302,
            "the stand-in refused the authorize request"
        );
        let back = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(back.starts_with(&format!("{}/oauth/", self.base)), "{back}");
        let resp = b.get(&back).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn connection(&self, invite: &InviteId) -> Option<(Connection, TokenSet)> {
        let svc = &self.app.services;
        let conn = svc.store.connection_for_invite(invite).await.unwrap()?;
        let plain = svc.vault.open(&conn.context(), &conn.tokens).await.unwrap();
        let tokens = TokenSet::from_plaintext(&plain).unwrap();
        Some((conn, tokens))
    }

    /// Makes a stored connection's access token an hour-long one that expires in a minute, as
    /// an hour later would: due for a refresh.
    async fn expire_soon(&self, invite: &InviteId) -> Connection {
        let svc = &self.app.services;
        let (conn, mut tokens) = self.connection(invite).await.expect("a connection");
        tokens.expires_at = Some(Timestamp(now() + 60));
        tokens.issued_at = Some(Timestamp(now() - 3540));
        let sealed = svc
            .vault
            .seal(&conn.context(), &tokens.to_plaintext())
            .await
            .unwrap();
        svc.store
            .update_tokens(
                &conn.id,
                &sealed,
                tokens.expires_at,
                None,
                None,
                conn.version,
            )
            .await
            .unwrap();
        svc.store.connection(&conn.id).await.unwrap().unwrap()
    }

    /// Asks for fresh tokens as the warehouse API does.
    async fn fresh(&self, conn: &Connection) -> Result<TokenSet, ConnectionError> {
        self.app
            .services
            .fresh_connection(&conn.id)
            .await
            .map(|o| o.tokens)
    }

    async fn assert_connected(
        &self,
        g: &Grant,
        (status, page): (u16, String),
    ) -> (Connection, TokenSet) {
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Successful Authorization"), "{page}");
        self.connection(&g.invite)
            .await
            .expect("a sealed connection")
    }

    async fn assert_refused(&self, g: &Grant, (status, page): (u16, String)) {
        assert!(status >= 400, "{status}: {page}");
        assert!(!page.contains("Successful Authorization"));
        assert!(self.connection(&g.invite).await.is_none(), "no connection");
    }
}

struct Grant {
    invite: InviteId,
    setup: String,
    authorize: Url,
}

/// A stand-in authorize endpoint at `/<host><path>` that needs `required` query parameters and
/// redirects to `back(query)`.
async fn authorize_endpoint(
    stand: &MockServer,
    at: &str,
    required: &[(&str, &str)],
    back: impl Fn(&HashMap<String, String>) -> String + Send + Sync + 'static,
) {
    let mut mock = Mock::given(method("GET")).and(path(at));
    for (k, v) in required {
        mock = mock.and(query_param(*k, *v));
    }
    mock.respond_with(move |req: &Seen| {
        let q = query(&req.url);
        ResponseTemplate::new(302).insert_header("location", back(&q).as_str())
    })
    .mount(stand)
    .await;
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut u = Url::parse(base).unwrap();
    u.query_pairs_mut().extend_pairs(pairs);
    u.to_string()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

// ---------------------------------------------------------------- Shopify

fn shopify_back(redirect: &str, state: &str, shop: &str, ts: i64, tamper: bool) -> String {
    let mut p: HashMap<String, String> = HashMap::from([
        ("code".into(), "shop-code".into()),
        ("shop".into(), shop.into()),
        ("state".into(), state.into()),
        ("timestamp".into(), ts.to_string()),
    ]);
    let h = shopify_hmac(CLIENT_SECRET, &p);
    p.insert("hmac".into(), h);
    if tamper {
        p.insert("code".into(), "other-code".into());
    }
    let pairs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    with_query(redirect, &pairs)
}

async fn shopify_token(stand: &MockServer, expect: u64) {
    Mock::given(method("POST"))
        .and(path("/acme.myshopify.com/admin/oauth/access_token"))
        .and(body_json(json!({
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "code": "shop-code", "expiring": "1"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "shpat_canary",
            "scope": "read_orders,read_products,read_locations,write_inventory,write_merchant_managed_fulfillment_orders",
            "expires_in": 3600, "refresh_token": "shprt_canary",
            "refresh_token_expires_in": 7_776_000
        })))
        .expect(expect)
        .mount(stand)
        .await;
}

#[tokio::test]
async fn shopify_connects_with_a_signed_callback_and_an_expiring_offline_token() {
    let rig = Rig::start("shopify", "").await;
    let redirect = rig.callback("shopify");
    let r = redirect.clone();
    authorize_endpoint(
        &rig.stand,
        "/acme.myshopify.com/admin/oauth/authorize",
        &[("client_id", CLIENT_ID), ("redirect_uri", &redirect)],
        move |q| shopify_back(&r, &q["state"], "acme.myshopify.com", now(), false),
    )
    .await;
    shopify_token(&rig.stand, 1).await;
    let b = browser();
    let g = rig.grant(&b, "shopify", Some("Acme.myshopify.com")).await;
    assert!(query(&g.authorize)["scope"].contains("read_orders"));
    let (conn, tokens) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    assert_eq!(tokens.access_token.expose(), "shpat_canary");
    assert_eq!(tokens.refresh_token.unwrap().expose(), "shprt_canary");
    assert_eq!(conn.account.as_deref(), Some("acme.myshopify.com"));
    assert!(conn.token_expires_at.is_some());

    // AND an hour later the expiring token is refreshed on the shop's host with JSON, and the
    // rotated pair is stored
    let conn = rig.expire_soon(&g.invite).await;
    Mock::given(method("POST"))
        .and(path("/acme.myshopify.com/admin/oauth/access_token"))
        .and(body_json(json!({
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "grant_type": "refresh_token", "refresh_token": "shprt_canary"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "shpat_second", "scope": "read_orders", "expires_in": 3600,
            "refresh_token": "shprt_second", "refresh_token_expires_in": 7_776_000
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    let fresh = rig.fresh(&conn).await.unwrap();
    assert_eq!(fresh.access_token.expose(), "shpat_second");
    let (_, stored) = rig.connection(&g.invite).await.unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose(), "shprt_second");
    // and a second ask uses it without another refresh (the mock expects one call)
    assert_eq!(
        rig.fresh(&conn).await.unwrap().access_token.expose(),
        "shpat_second"
    );
}

#[tokio::test]
async fn a_shopify_grant_logs_no_shop_domain_and_no_token() {
    // GIVEN every line logged while a merchant connects a Shopify shop
    let logs = cartlink_e2e::LogCapture::start();
    let rig = Rig::start("shopify", "").await;
    let redirect = rig.callback("shopify");
    let r = redirect.clone();
    authorize_endpoint(
        &rig.stand,
        "/acme.myshopify.com/admin/oauth/authorize",
        &[("client_id", CLIENT_ID), ("redirect_uri", &redirect)],
        move |q| shopify_back(&r, &q["state"], "acme.myshopify.com", now(), false),
    )
    .await;
    shopify_token(&rig.stand, 1).await;
    let b = browser();
    let g = rig.grant(&b, "shopify", Some("Acme.myshopify.com")).await;
    let state = query(&g.authorize)["state"].clone();
    rig.assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    // THEN the grant was logged, but never the shop's domain (it names the merchant) nor a
    // token, the state or the app's secret
    let text = logs.text();
    assert!(text.contains("connection stored"), "{text}");
    for never in [
        "myshopify.com",
        "shpat_canary",
        "shprt_canary",
        CLIENT_SECRET,
        state.as_str(),
    ] {
        assert!(
            !text.to_lowercase().contains(&never.to_lowercase()),
            "{never} in: {text}"
        );
    }
}

#[tokio::test]
async fn shopify_callbacks_that_fail_a_check_never_reach_the_token_endpoint() {
    let rig = Rig::start("shopify", "").await;
    shopify_token(&rig.stand, 0).await;
    let redirect = rig.callback("shopify");
    let cases: [(&str, bool, i64, &str); 4] = [
        ("tampered HMAC", true, 0, "acme.myshopify.com"),
        ("stale timestamp", false, -600, "acme.myshopify.com"),
        ("another shop", false, 0, "other.myshopify.com"),
        (
            "shop failing the pattern",
            false,
            0,
            "evil.com/x.myshopify.com",
        ),
    ];
    for (what, tamper, age, shop) in cases {
        let b = browser();
        let g = rig.grant(&b, "shopify", Some("acme.myshopify.com")).await;
        let state = query(&g.authorize)["state"].clone();
        let url = shopify_back(&redirect, &state, shop, now() + age, tamper);
        let resp = b.get(&url).send().await.unwrap();
        let status = resp.status().as_u16();
        assert_eq!(status, 400, "{what}");
        rig.assert_refused(&g, (status, resp.text().await.unwrap()))
            .await;
    }
    // AND shop domains failing the anchored pattern are refused before any URL is built
    for bad in [
        "evil.com/x.myshopify.com",
        "a.myshopify.com.evil.test",
        "acme.myshopify.com:443@evil.test",
        "acme",
    ] {
        let (status, v) = rig.invite("shopify", Some(bad)).await;
        assert_eq!(status, 422, "{bad}: {v}");
        assert_eq!(v["type"], "urn:cartlink:problem:invalid-field");
    }
    let (status, _) = rig.invite("shopify", None).await;
    assert_eq!(status, 422, "the shop domain is required");
}

// ---------------------------------------------------------------- eBay and Amazon

const RUNAME: &str = "Cartlink-Test-RuName";

async fn ebay_rig(token_calls: u64) -> Rig {
    let rig = Rig::start("ebay", &format!("ru_name = \"{RUNAME}\"")).await;
    let accepted = rig.callback("ebay");
    authorize_endpoint(
        &rig.stand,
        "/auth.ebay.com/oauth2/authorize",
        &[
            ("client_id", CLIENT_ID),
            ("redirect_uri", RUNAME),
            ("response_type", "code"),
        ],
        move |q| {
            with_query(
                &accepted,
                &[
                    ("state", &q["state"]),
                    ("code", "v^1.1#code"),
                    ("expires_in", "299"),
                ],
            )
        },
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/api.ebay.com/identity/v1/oauth2/token"))
        .and(header("authorization", basic().as_str()))
        .and(|r: &Seen| {
            let f = form(r);
            f.get("grant_type").map(String::as_str) == Some("authorization_code")
                && f.get("code").map(String::as_str) == Some("v^1.1#code")
                && f.get("redirect_uri").map(String::as_str) == Some(RUNAME)
                && !f.contains_key("client_secret")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "v^1.1#i^1#canary", "expires_in": 7200,
            "refresh_token": "v^1.1#r^1#canary", "refresh_token_expires_in": 47_304_000,
            "token_type": "User Access Token"
        })))
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    // getUser names the eBay user for the new token (the account its deletion notices name).
    Mock::given(method("GET"))
        .and(path("/apiz.ebay.com/commerce/identity/v1/user/"))
        .and(header("authorization", "Bearer v^1.1#i^1#canary"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"userId": "ma8vp1jySJC"})))
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    rig
}

#[tokio::test]
async fn ebay_sends_the_runame_in_both_steps_and_authenticates_with_basic() {
    let rig = ebay_rig(1).await;
    let b = browser();
    let g = rig.grant(&b, "ebay", None).await;
    let (_, tokens) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    assert_eq!(tokens.access_token.expose(), "v^1.1#i^1#canary");

    // AND the refresh is a form with HTTP Basic that names the scopes again; eBay keeps its
    // refresh token, so the stored one stays
    let conn = rig.expire_soon(&g.invite).await;
    let scopes = conn.scopes.join(" ");
    Mock::given(method("POST"))
        .and(path("/api.ebay.com/identity/v1/oauth2/token"))
        .and(header("authorization", basic().as_str()))
        .and(move |r: &Seen| {
            let f = form(r);
            f.get("grant_type").map(String::as_str) == Some("refresh_token")
                && f.get("refresh_token").map(String::as_str) == Some("v^1.1#r^1#canary")
                && f.get("scope") == Some(&scopes)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "v^1.1#i^2#canary", "expires_in": 7200,
            "token_type": "User Access Token"
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    let fresh = rig.fresh(&conn).await.unwrap();
    assert_eq!(fresh.access_token.expose(), "v^1.1#i^2#canary");
    assert_eq!(
        fresh.refresh_token.unwrap().expose(),
        "v^1.1#r^1#canary",
        "eBay's refresh token is kept"
    );
}

async fn amazon_rig(token_calls: u64) -> Rig {
    amazon_rig_at(
        "amazon-sp-api",
        "/sellercentral-europe.amazon.com/apps/authorize/consent",
        token_calls,
    )
    .await
}

/// An Amazon cart (Seller or Vendor Central) whose consent page is at `consent`.
async fn amazon_rig_at(cart: &str, consent: &str, token_calls: u64) -> Rig {
    let extra = "app_id = \"amzn1.sellerapps.app.test\"\ndraft = true";
    let rig = Rig::start(cart, extra).await;
    let redirect = rig.callback(cart);
    let r = redirect.clone();
    authorize_endpoint(
        &rig.stand,
        consent,
        &[
            ("application_id", "amzn1.sellerapps.app.test"),
            ("redirect_uri", &redirect),
            ("version", "beta"),
        ],
        move |q| {
            with_query(
                &r,
                &[
                    ("state", &q["state"]),
                    ("selling_partner_id", "A3SELLER0EXAMPLE"),
                    ("spapi_oauth_code", "ANcodeCanary"),
                ],
            )
        },
    )
    .await;
    let r = redirect.clone();
    Mock::given(method("POST"))
        .and(path("/api.amazon.com/auth/o2/token"))
        .and(move |req: &Seen| {
            let f = form(req);
            f.get("grant_type").map(String::as_str) == Some("authorization_code")
                && f.get("code").map(String::as_str) == Some("ANcodeCanary")
                && f.get("redirect_uri") == Some(&r)
                && f.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && f.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "Atza|canary", "refresh_token": "Atzr|canary",
            "token_type": "bearer", "expires_in": 3600
        })))
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    rig
}

#[tokio::test]
async fn amazon_consents_on_the_regions_seller_central_and_names_the_selling_partner() {
    let rig = amazon_rig(1).await;
    let b = browser();
    let g = rig.grant(&b, "amazon-sp-api", Some("eu")).await;
    let (conn, tokens) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    assert_eq!(tokens.refresh_token.unwrap().expose(), "Atzr|canary");
    assert_eq!(conn.account.as_deref(), Some("A3SELLER0EXAMPLE"));
}

#[tokio::test]
async fn amazon_vendor_central_consents_on_the_marketplaces_vendor_central_and_names_the_vendor() {
    // GIVEN a vendor in the UK, and Vendor Central's consent and LWA's token stand-ins
    let rig = amazon_rig_at(
        "amazon-vendor-central",
        "/vendorcentral.amazon.co.uk/apps/authorize/consent",
        1,
    )
    .await;
    let b = browser();
    // WHEN the vendor grants on their marketplace's Vendor Central
    let g = rig.grant(&b, "amazon-vendor-central", Some("uk")).await;
    let (conn, tokens) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    // THEN the tokens are sealed and the selling partner is the connection's account
    assert_eq!(tokens.refresh_token.unwrap().expose(), "Atzr|canary");
    assert_eq!(conn.account.as_deref(), Some("A3SELLER0EXAMPLE"));
}

#[tokio::test]
async fn amazon_vendor_central_refuses_a_marketplace_it_has_no_vendor_central_for() {
    // GIVEN Vendor Central's stand-ins, which expect no token request
    let rig = amazon_rig_at(
        "amazon-vendor-central",
        "/vendorcentral.amazon.co.uk/apps/authorize/consent",
        0,
    )
    .await;
    // WHEN an invite names Seller Central's pan-European region, which Vendor Central lacks
    let (status, v) = rig.invite("amazon-vendor-central", Some("eu")).await;
    // THEN it is refused, and nothing reaches the token endpoint
    assert_eq!(status, 422, "{v}");
}

#[tokio::test]
async fn amazon_and_ebay_callbacks_on_another_carts_path_are_refused() {
    // Amazon's answer delivered to eBay's callback path (and to a generic one)
    let rig = amazon_rig(0).await;
    let b = browser();
    let g = rig.grant(&b, "amazon-sp-api", Some("eu")).await;
    let resp = b.get(g.authorize.clone()).send().await.unwrap();
    let back = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    for other in ["ebay", "etsy"] {
        let mut moved = back.clone();
        moved.set_path(&format!("/oauth/callback/{other}"));
        let resp = b.get(moved).send().await.unwrap();
        let status = resp.status().as_u16();
        rig.assert_refused(&g, (status, resp.text().await.unwrap()))
            .await;
    }
    // eBay's answer delivered to Amazon's callback path
    let rig = ebay_rig(0).await;
    let b = browser();
    let g = rig.grant(&b, "ebay", None).await;
    let resp = b.get(g.authorize.clone()).send().await.unwrap();
    let mut back = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    back.set_path("/oauth/callback/amazon-sp-api");
    let resp = b.get(back).send().await.unwrap();
    let status = resp.status().as_u16();
    rig.assert_refused(&g, (status, resp.text().await.unwrap()))
        .await;
}

// ---------------------------------------------------------------- Etsy, Square, Ecwid

#[tokio::test]
async fn etsy_requires_pkce_and_takes_no_client_secret() {
    let rig = Rig::start("etsy", "").await;
    let redirect = rig.callback("etsy");
    let challenge = Arc::new(Mutex::new(String::new()));
    let (r, c) = (redirect.clone(), challenge.clone());
    authorize_endpoint(
        &rig.stand,
        "/www.etsy.com/oauth/connect",
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("code_challenge_method", "S256"),
        ],
        move |q| {
            *c.lock().unwrap() = q["code_challenge"].clone();
            with_query(&r, &[("code", "etsy-code"), ("state", &q["state"])])
        },
    )
    .await;
    let c = challenge.clone();
    Mock::given(method("POST"))
        .and(path("/api.etsy.com/v3/public/oauth/token"))
        .and(move |req: &Seen| {
            let f = form(req);
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let s256 = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            f.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && !f.contains_key("client_secret")
                && !req.headers.contains_key("authorization")
                && s256 == *c.lock().unwrap()
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "12345678.etsy-canary", "token_type": "Bearer",
            "expires_in": 3600, "refresh_token": "12345678.etsy-refresh"
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    let b = browser();
    let g = rig.grant(&b, "etsy", None).await;
    let (_, tokens) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    assert_eq!(tokens.access_token.expose(), "12345678.etsy-canary");
}

/// A merchant connected through the Square stand-in (its authorize and token endpoints as
/// Square documents them).
async fn connect_square(rig: &Rig) -> (Connection, TokenSet) {
    let redirect = rig.callback("square");
    authorize_endpoint(
        &rig.stand,
        "/connect.squareup.com/oauth2/authorize",
        &[("client_id", CLIENT_ID), ("session", "false")],
        move |q| {
            with_query(
                &redirect,
                &[
                    ("code", "sq0cgb-code"),
                    ("response_type", "code"),
                    ("state", &q["state"]),
                ],
            )
        },
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/connect.squareup.com/oauth2/token"))
        .and(body_json(json!({
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "code": "sq0cgb-code", "grant_type": "authorization_code"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "EAAAsquare", "token_type": "bearer",
            "expires_at": "2027-01-30T00:00:00Z", "merchant_id": "MLSQUARE1",
            "refresh_token": "EQAAsquare"
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    let b = browser();
    let g = rig.grant(&b, "square", None).await;
    rig.assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await
}

#[tokio::test]
async fn square_reads_expires_at_as_a_date_and_the_merchant_id() {
    let rig = Rig::start("square", "").await;
    let (conn, tokens) = connect_square(&rig).await;
    assert_eq!(conn.account.as_deref(), Some("MLSQUARE1"));
    assert_eq!(tokens.expires_at.unwrap().rfc3339(), "2027-01-30T00:00:00Z");
}

#[tokio::test]
async fn a_square_disconnect_calls_revoke_token_as_square_documents_it() {
    // GIVEN a connected Square merchant, and Square's RevokeToken stand-in, which takes only a
    // JSON client_id and access token with `Authorization: Client <app secret>`
    let rig = Rig::start("square", "").await;
    let (conn, _) = connect_square(&rig).await;
    Mock::given(method("POST"))
        .and(path("/connect.squareup.com/oauth2/revoke"))
        .and(header(
            "authorization",
            format!("Client {CLIENT_SECRET}").as_str(),
        ))
        .and(body_json(
            json!({"client_id": CLIENT_ID, "access_token": "EAAAsquare"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&rig.stand)
        .await;
    // WHEN the warehouse disconnects it
    let resp = reqwest::Client::new()
        .delete(format!("{}/v1/connections/{}", rig.base, conn.id))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    // THEN Square was asked once (the stand-in's expectation) and the answer says revoked
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["revocation"], "revoked", "{v}");
    assert!(rig.connection(&conn.invite_id).await.is_none());
}

#[tokio::test]
async fn ecwid_records_the_store_id_from_the_token_response() {
    let rig = Rig::start("ecwid", "").await;
    let redirect = rig.callback("ecwid");
    let r = redirect.clone();
    authorize_endpoint(
        &rig.stand,
        "/my.ecwid.com/api/oauth/authorize",
        &[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", &redirect),
        ],
        move |q| with_query(&r, &[("code", "ecwid-code"), ("state", &q["state"])]),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/my.ecwid.com/api/oauth/token"))
        .and(move |req: &Seen| {
            let f = form(req);
            f.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
                && f.get("code").map(String::as_str) == Some("ecwid-code")
                && f.get("redirect_uri") == Some(&redirect)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "secret_ecwid", "token_type": "Bearer",
            "scope": "read_store_profile read_orders", "store_id": 1003
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    let b = browser();
    let g = rig.grant(&b, "ecwid", None).await;
    let (conn, _) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    assert_eq!(conn.account.as_deref(), Some("1003"));
}

// ---------------------------------------------------------------- Lightspeed

async fn lightspeed_rig(prefix: &'static str, token_calls: u64) -> Rig {
    let rig = Rig::start("lightspeed-retail", "").await;
    let redirect = rig.callback("lightspeed-retail");
    authorize_endpoint(
        &rig.stand,
        "/secure.retail.lightspeed.app/connect",
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            // X-Series scopes are per domain, space-separated
            (
                "scope",
                "sales:read products:read products:write sales:write",
            ),
        ],
        move |q| {
            with_query(
                &redirect,
                &[
                    ("code", "ls-code"),
                    ("domain_prefix", prefix),
                    ("state", &q["state"]),
                ],
            )
        },
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/acmeshop.retail.lightspeed.app/api/1.0/token"))
        .and(|req: &Seen| {
            let f = form(req);
            f.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
                && f.get("grant_type").map(String::as_str) == Some("authorization_code")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ls-access", "token_type": "Bearer", "expires_in": 86400,
            "refresh_token": "ls-refresh", "domain_prefix": "acmeshop"
        })))
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    rig
}

#[tokio::test]
async fn lightspeed_x_series_builds_the_token_host_from_a_checked_domain_prefix() {
    let rig = lightspeed_rig("acmeshop", 1).await;
    let b = browser();
    let g = rig.grant(&b, "lightspeed-retail", Some("x")).await;
    let (conn, _) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    assert_eq!(conn.account.as_deref(), Some("acmeshop"));
    assert_eq!(
        conn.scopes,
        [
            "sales:read",
            "products:read",
            "products:write",
            "sales:write"
        ]
    );
}

#[tokio::test]
async fn a_lightspeed_domain_prefix_failing_its_pattern_is_refused() {
    for bad in ["evil.test/x", "acme.shop", "Acme", "-x"] {
        let rig = lightspeed_rig(bad, 0).await;
        let b = browser();
        let g = rig.grant(&b, "lightspeed-retail", Some("x")).await;
        rig.assert_refused(&g, rig.consent(&b, &g.authorize).await)
            .await;
    }
}

// ---------------------------------------------------------------- Keap, ChannelAdvisor, Squarespace

/// Mercado Libre's Brazilian authorization site, which answers with `code` and the state, and
/// its token endpoint, which takes the code with the secret in a form body `token_calls` times.
async fn mercadolibre_rig(token_calls: u64) -> Rig {
    let rig = Rig::start("mercadolibre", "").await;
    let redirect = rig.callback("mercadolibre");
    let r = redirect.clone();
    authorize_endpoint(
        &rig.stand,
        "/auth.mercadolivre.com.br/authorization",
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", &redirect),
        ],
        move |q| with_query(&r, &[("code", "TG-meli-code"), ("state", &q["state"])]),
    )
    .await;
    let r = redirect.clone();
    Mock::given(method("POST"))
        .and(path("/api.mercadolibre.com/oauth/token"))
        .and(move |req: &Seen| {
            let f = form(req);
            f.get("grant_type").map(String::as_str) == Some("authorization_code")
                && f.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && f.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
                && f.get("code").map(String::as_str) == Some("TG-meli-code")
                && f.get("redirect_uri") == Some(&r)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "APP_USR-meli-access", "token_type": "Bearer", "expires_in": 21600,
            "scope": "offline_access read write", "user_id": 123456789,
            "refresh_token": "TG-meli-refresh"
        })))
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    rig
}

#[tokio::test]
async fn mercadolibre_grants_on_the_sellers_country_site_with_the_secret_in_the_body() {
    // GIVEN a seller in Brazil, Mercado Libre's authorization site and its token stand-ins
    let rig = mercadolibre_rig(1).await;
    // WHEN the seller grants
    let b = browser();
    let g = rig.grant(&b, "mercadolibre", Some("br")).await;
    let (_, tokens) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    // THEN the tokens are sealed
    assert_eq!(tokens.access_token.expose(), "APP_USR-meli-access");
    assert_eq!(tokens.refresh_token.unwrap().expose(), "TG-meli-refresh");
}

#[tokio::test]
async fn mercadolibre_callbacks_with_another_state_or_from_another_browser_exchange_nothing() {
    // GIVEN a grant started at Mercado Libre, whose token endpoint expects no call
    let rig = mercadolibre_rig(0).await;
    let b = browser();
    let g = rig.grant(&b, "mercadolibre", Some("br")).await;
    let state = query(&g.authorize)["state"].clone();
    // WHEN the callback comes with a state nobody issued, and with the real one in another
    // browser
    // (the issued state with its first symbol changed)
    let first = if state.starts_with('A') { 'B' } else { 'A' };
    let forged = format!(
        "{}?code=TG-meli-code&state={first}{}",
        rig.callback("mercadolibre"),
        &state[1..]
    );
    let resp = b.get(&forged).send().await.unwrap();
    let (status, page) = (resp.status().as_u16(), resp.text().await.unwrap());
    rig.assert_refused(&g, (status, page)).await;
    let real = format!(
        "{}?code=TG-meli-code&state={state}",
        rig.callback("mercadolibre")
    );
    let resp = browser().get(&real).send().await.unwrap();
    let (status, page) = (resp.status().as_u16(), resp.text().await.unwrap());
    // THEN both are refused and nothing reaches the token endpoint (expect(0))
    rig.assert_refused(&g, (status, page)).await;
}

#[tokio::test]
async fn keap_takes_the_secret_in_the_body() {
    let rig = Rig::start("keap", "").await;
    let redirect = rig.callback("keap");
    authorize_endpoint(
        &rig.stand,
        "/accounts.infusionsoft.com/app/oauth/authorize",
        &[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("scope", "full"),
        ],
        move |q| {
            with_query(
                &redirect,
                &[
                    ("code", "keap-code"),
                    ("scope", "full|ab123.infusionsoft.com"),
                    ("state", &q["state"]),
                ],
            )
        },
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/api.infusionsoft.com/token"))
        .and(|req: &Seen| {
            let f = form(req);
            f.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && f.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
                && f.get("code").map(String::as_str) == Some("keap-code")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "keap-access", "token_type": "bearer", "expires_in": 86400,
            "refresh_token": "keap-refresh", "scope": "full|ab123.infusionsoft.com"
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    let b = browser();
    let g = rig.grant(&b, "keap", None).await;
    let (conn, _) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    assert_eq!(conn.scopes, vec!["full|ab123.infusionsoft.com"]);

    // AND its refresh authenticates with HTTP Basic, not the body, and rotates
    let conn = rig.expire_soon(&g.invite).await;
    Mock::given(method("POST"))
        .and(path("/api.infusionsoft.com/token"))
        .and(header("authorization", basic().as_str()))
        .and(|req: &Seen| {
            let f = form(req);
            f.get("grant_type").map(String::as_str) == Some("refresh_token")
                && f.get("refresh_token").map(String::as_str) == Some("keap-refresh")
                && !f.contains_key("client_secret")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "keap-access-2", "token_type": "bearer", "expires_in": 86400,
            "refresh_token": "keap-refresh-2"
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    let fresh = rig.fresh(&conn).await.unwrap();
    assert_eq!(fresh.refresh_token.unwrap().expose(), "keap-refresh-2");
}

#[tokio::test]
async fn channeladvisor_asks_for_offline_access_and_authenticates_with_basic() {
    let rig = Rig::start("channeladvisor", "").await;
    let redirect = rig.callback("channeladvisor");
    authorize_endpoint(
        &rig.stand,
        "/api.channeladvisor.com/oauth2/authorize",
        &[
            ("client_id", CLIENT_ID),
            ("access_type", "offline"),
            ("scope", "orders inventory"),
        ],
        move |q| with_query(&redirect, &[("code", "ca-code"), ("state", &q["state"])]),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/api.channeladvisor.com/oauth2/token"))
        .and(header("authorization", basic().as_str()))
        .and(|req: &Seen| form(req).get("code").map(String::as_str) == Some("ca-code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ca-access", "token_type": "bearer", "expires_in": 3600,
            "refresh_token": "ca-refresh"
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    let b = browser();
    let g = rig.grant(&b, "channeladvisor", None).await;
    rig.assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;

    // AND when the merchant has revoked access, the refused refresh (invalid_grant, through
    // the oauth2 crate with Basic) marks the connection, and later asks do not call again
    let conn = rig.expire_soon(&g.invite).await;
    Mock::given(method("POST"))
        .and(path("/api.channeladvisor.com/oauth2/token"))
        .and(header("authorization", basic().as_str()))
        .and(|req: &Seen| form(req).get("refresh_token").map(String::as_str) == Some("ca-refresh"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .expect(1)
        .mount(&rig.stand)
        .await;
    for _ in 0..2 {
        assert!(matches!(
            rig.fresh(&conn).await,
            Err(ConnectionError::NeedsReauthorization)
        ));
    }
    let stored = rig.app.services.store.connection(&conn.id).await.unwrap();
    assert_eq!(stored.unwrap().status, ConnectionStatus::NeedsReauth);
}

#[tokio::test]
async fn squarespace_joins_scopes_with_commas_and_posts_json_with_basic() {
    let rig = Rig::start("squarespace", "").await;
    let redirect = rig.callback("squarespace");
    let r = redirect.clone();
    authorize_endpoint(
        &rig.stand,
        "/login.squarespace.com/api/1/login/oauth/provider/authorize",
        &[
            ("client_id", CLIENT_ID),
            ("access_type", "offline"),
            (
                "scope",
                "website.orders.read,website.inventory,website.products.read,website.orders",
            ),
        ],
        move |q| with_query(&r, &[("code", "sqsp-code"), ("state", &q["state"])]),
    )
    .await;
    Mock::given(method("POST"))
        .and(path(
            "/login.squarespace.com/api/1/login/oauth/provider/tokens",
        ))
        .and(header("authorization", basic().as_str()))
        .and(body_json(json!({
            "grant_type": "authorization_code", "code": "sqsp-code", "redirect_uri": redirect
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "bearer", "access_token": "sqsp-access",
            "access_token_expires_at": 1_900_000_000.5, "refresh_token": "sqsp-refresh",
            "refresh_token_expires_at": 1_900_600_000.5
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    // The site's id, which its uninstall notifications name, read with the new token.
    Mock::given(method("GET"))
        .and(path("/api.squarespace.com/1.0/authorization/website"))
        .and(header("authorization", "Bearer sqsp-access"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "5863f6faf7e0abc3cf95ce3a"})),
        )
        .expect(1)
        .mount(&rig.stand)
        .await;
    let b = browser();
    let g = rig.grant(&b, "squarespace", None).await;
    let (_, tokens) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    assert_eq!(tokens.expires_at.unwrap().0, 1_900_000_000);
}

// ---------------------------------------------------------------- Walmart

#[tokio::test]
async fn walmart_uses_camel_case_parameters_and_partner_headers() {
    let rig = Rig::start("walmart", "").await;
    let redirect = rig.callback("walmart");
    let r = redirect.clone();
    authorize_endpoint(
        &rig.stand,
        "/login.account.wal-mart.com/authorize",
        &[
            ("responseType", "code"),
            ("clientId", CLIENT_ID),
            ("redirectUri", &redirect),
            ("clientType", "seller"),
        ],
        move |q| {
            assert!(q.contains_key("nonce"));
            with_query(
                &r,
                &[
                    ("code", "wm-code"),
                    ("type", "auth"),
                    ("clientId", CLIENT_ID),
                    ("state", &q["state"]),
                    ("sellerId", "43423324"),
                ],
            )
        },
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/marketplace.walmartapis.com/v3/token"))
        .and(header("authorization", basic().as_str()))
        .and(header("wm_partner.id", "43423324"))
        .and(header("wm_svc.name", "Walmart Marketplace"))
        .and(move |req: &Seen| {
            let f = form(req);
            req.headers.contains_key("wm_qos.correlation_id")
                && f.get("grant_type").map(String::as_str) == Some("authorization_code")
                && f.get("code").map(String::as_str) == Some("wm-code")
                && f.get("redirect_uri") == Some(&redirect)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "eyJwm", "refresh_token": "APXwm", "expires_in": 900,
            "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    let b = browser();
    let g = rig.grant(&b, "walmart", None).await;
    let (conn, _) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    assert_eq!(conn.account.as_deref(), Some("43423324"));
}

// ---------------------------------------------------------------- WooCommerce

async fn woo_rig(verify_calls: u64) -> Rig {
    let rig = Rig::start("woocommerce", "").await;
    let (ret, cb) = (
        format!("{}/oauth/return/woocommerce", rig.base),
        format!("{}/oauth/keys/woocommerce", rig.base),
    );
    Mock::given(method("GET"))
        .and(path("/shop.example.com/wc-auth/v1/authorize"))
        .and(query_param("app_name", "cartlink"))
        .and(query_param("scope", "read_write"))
        .and(query_param("return_url", ret.as_str()))
        .and(query_param("callback_url", cb.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_string("Approve cartlink?"))
        .mount(&rig.stand)
        .await;
    let good = format!("Basic {}", STANDARD.encode("ck_canarykey:cs_canarysecret"));
    Mock::given(method("GET"))
        .and(path("/shop.example.com/wp-json/wc/v3/orders"))
        .and(header("authorization", good.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(verify_calls)
        .mount(&rig.stand)
        .await;
    rig
}

async fn post_keys(rig: &Rig, user_id: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/oauth/keys/woocommerce", rig.base))
        .json(&json!({
            "key_id": 7, "user_id": user_id, "consumer_key": "ck_canarykey",
            "consumer_secret": "cs_canarysecret", "key_permissions": "read_write"
        }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn woocommerce_keys_are_taken_once_for_a_pending_nonce_and_checked_against_the_store() {
    let rig = woo_rig(1).await;
    let b = browser();
    let g = rig
        .grant(&b, "woocommerce", Some("https://Shop.Example.com/"))
        .await;
    // GIVEN the merchant approves at their store (the stand-in shows its page)
    assert_eq!(
        b.get(g.authorize.clone()).send().await.unwrap().status(),
        200
    );
    let nonce = query(&g.authorize)["user_id"].clone();
    // WHEN the store posts the keys for an unknown nonce THEN they are refused unchecked
    assert_eq!(post_keys(&rig, "not-our-nonce").await, 400);
    assert_eq!(post_keys(&rig, &"A".repeat(43)).await, 400);
    assert!(rig.connection(&g.invite).await.is_none());
    // WHEN it posts them for our nonce THEN they are checked against the store and sealed
    assert_eq!(post_keys(&rig, &nonce).await, 200);
    let (_, tokens) = rig.connection(&g.invite).await.expect("sealed keys");
    assert_eq!(tokens.access_token.expose(), "ck_canarykey");
    assert_eq!(tokens.key_secret.unwrap().expose(), "cs_canarysecret");
    // AND a reused nonce is refused without another check
    assert!(post_keys(&rig, &nonce).await >= 400);
    // AND the merchant's return shows success
    let back = with_query(
        &format!("{}/oauth/return/woocommerce", rig.base),
        &[("success", "1"), ("user_id", &nonce)],
    );
    let page = b.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Successful Authorization"));
    let status: Value = b
        .get(format!("{}/status", g.setup))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "authorized");
}

#[tokio::test]
async fn woocommerce_refuses_private_store_urls_and_stray_key_posts() {
    let rig = woo_rig(0).await;
    for bad in [
        "http://shop.example.com",
        "https://127.0.0.1",
        "https://10.0.0.8/shop",
        "https://localhost:8443",
        "https://[::1]",
        "https://intranet",
    ] {
        let (status, v) = rig.invite("woocommerce", Some(bad)).await;
        assert_eq!(status, 422, "{bad}: {v}");
    }
    // a key POST with no pending attempt at all is refused and nothing is called
    assert_eq!(post_keys(&rig, &"B".repeat(43)).await, 400);
    let b = browser();
    let g = rig
        .grant(&b, "woocommerce", Some("https://shop.example.com"))
        .await;
    // a nonce of another attempt's shape but not ours
    let mut other = query(&g.authorize)["user_id"].clone();
    other.replace_range(0..1, if other.starts_with('A') { "B" } else { "A" });
    assert_eq!(post_keys(&rig, &other).await, 400);
    assert!(rig.connection(&g.invite).await.is_none());
}

// ---------------------------------------------------------------- BigCommerce

const BC_STORE: &str = "abc123";

/// BigCommerce's stand-in: the external install link (which takes no parameters at all) sends
/// the browser back with the store's `context` and no `state`; the token endpoint takes only
/// the documented JSON; `install/succeeded` ends the install dialog.
async fn bigcommerce_rig(context: &'static str, token_calls: u64) -> Rig {
    let rig = Rig::start("bigcommerce", "").await;
    let redirect = rig.callback("bigcommerce");
    let r = redirect.clone();
    authorize_endpoint(
        &rig.stand,
        "/login.bigcommerce.com/app/app-id/install",
        &[],
        move |q| {
            assert!(q.is_empty(), "the install link takes no parameters: {q:?}");
            with_query(
                &r,
                &[
                    ("code", "bc-code"),
                    ("scope", "store_v2_orders store_inventory"),
                    ("context", context),
                    ("account_uuid", "5b5c6d7e-0000-4000-8000-000000000001"),
                    ("external_install", "1"),
                ],
            )
        },
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/login.bigcommerce.com/oauth2/token"))
        .and(body_json(json!({
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": "bc-code",
            "context": context, "scope": "store_v2_orders store_inventory",
            "grant_type": "authorization_code", "redirect_uri": redirect
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "bc-permanent-token",
            "scope": "store_v2_orders store_inventory",
            "user": {"id": 24654, "username": "merchant@shop.test", "email": "merchant@shop.test"},
            "owner": {"id": 24654, "username": "merchant@shop.test", "email": "merchant@shop.test"},
            "context": context,
            "account_uuid": "5b5c6d7e-0000-4000-8000-000000000001"
        })))
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    Mock::given(method("GET"))
        .and(path("/login.bigcommerce.com/app/app-id/install/succeeded"))
        .respond_with(ResponseTemplate::new(200).set_body_string("installed"))
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    rig
}

#[tokio::test]
async fn bigcommerce_installs_through_its_link_bound_by_cookie_and_store_hash() {
    // GIVEN an invite for the store abc123 and BigCommerce's stand-in
    let rig = bigcommerce_rig("stores/abc123", 1).await;
    let b = browser();
    let g = rig.grant(&b, "bigcommerce", Some(BC_STORE)).await;
    assert!(g.authorize.query().is_none(), "{}", g.authorize);
    // WHEN the merchant installs in the popup and BigCommerce calls back without a state
    let resp = b.get(g.authorize.clone()).send().await.unwrap();
    let back = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(!back.contains("state="), "{back}");
    let resp = b.get(&back).send().await.unwrap();
    // THEN the install dialog is sent to BigCommerce's install/succeeded, and the state
    // cookie, used once, is cleared
    assert_eq!(resp.status(), 303);
    assert!(
        resp.headers().get_all("set-cookie").iter().any(|c| c
            .to_str()
            .unwrap()
            .starts_with("cartlink-state=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")),
        "{:?}",
        resp.headers()
    );
    let finish = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        finish,
        format!(
            "{}/login.bigcommerce.com/app/app-id/install/succeeded",
            rig.stand.uri()
        )
    );
    assert_eq!(b.get(&finish).send().await.unwrap().status(), 200);
    // AND the connection is sealed for the store, and the grant page sees it
    let (conn, tokens) = rig
        .connection(&g.invite)
        .await
        .expect("a sealed connection");
    assert_eq!(conn.account.as_deref(), Some("stores/abc123"));
    assert_eq!(tokens.access_token.expose(), "bc-permanent-token");
    assert!(tokens.refresh_token.is_none() && tokens.expires_at.is_none());
    assert_eq!(status_of(&b, &g.setup).await, "authorized");
}

#[tokio::test]
async fn bigcommerce_callbacks_for_another_store_or_browser_never_reach_the_token_endpoint() {
    // GIVEN the stand-in installs into another store than the invite names
    let rig = bigcommerce_rig("stores/other9", 0).await;
    let b = browser();
    let g = rig.grant(&b, "bigcommerce", Some(BC_STORE)).await;
    // WHEN the callback comes back with that store's context
    let resp = b.get(g.authorize.clone()).send().await.unwrap();
    let back = resp.headers()["location"].to_str().unwrap().to_owned();
    let resp = b.get(&back).send().await.unwrap();
    // THEN it is refused before any exchange
    let status = resp.status().as_u16();
    rig.assert_refused(&g, (status, resp.text().await.unwrap()))
        .await;

    // AND a callback for the right store in a browser that did not start the grant (no
    // state or binding cookie) is refused too
    let g = rig.grant(&b, "bigcommerce", Some(BC_STORE)).await;
    let other = browser();
    let right = with_query(
        &rig.callback("bigcommerce"),
        &[
            ("code", "bc-code"),
            ("scope", "store_v2_orders_read_only"),
            ("context", "stores/abc123"),
        ],
    );
    let resp = other.get(&right).send().await.unwrap();
    let status = resp.status().as_u16();
    rig.assert_refused(&g, (status, resp.text().await.unwrap()))
        .await;
    // AND a state in the query does not stand in for the cookie
    let resp = other
        .get(format!("{right}&state={}", "A".repeat(43)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // AND a store hash that is not a bare hash takes no invite
    for bad in ["stores/abc123", "abc123.mybigcommerce.com", "abc-123"] {
        let (status, v) = rig.invite("bigcommerce", Some(bad)).await;
        assert_eq!(status, 422, "{bad}: {v}");
    }
}

// ---------------------------------------------------------------- Wix (legacy custom authentication)

const WIX_INSTANCE: &str = "5f2a9a0e-1c1d-4b7e-9a55-0d3b8c8e7f10";

async fn wix_rig(instance: &'static str, token_calls: u64) -> Rig {
    let rig = Rig::start("wix-legacy", "").await;
    let redirect = rig.callback("wix-legacy");
    let r = redirect.clone();
    authorize_endpoint(
        &rig.stand,
        "/www.wix.com/installer/install",
        &[("appId", CLIENT_ID), ("redirectUrl", &redirect)],
        move |q| {
            with_query(
                &r,
                &[
                    ("code", "wix-code"),
                    ("state", &q["state"]),
                    ("instanceId", instance),
                ],
            )
        },
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/www.wixapis.com/oauth/access"))
        .and(body_json(json!({
            "grant_type": "authorization_code", "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "code": "wix-code"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "OAUTH2.wix-access", "refresh_token": "OAUTH2.wix-refresh"
        })))
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    Mock::given(method("GET"))
        .and(path("/www.wix.com/installer/close-window"))
        .and(query_param("access_token", "OAUTH2.wix-access"))
        .respond_with(ResponseTemplate::new(200).set_body_string("closing"))
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    rig
}

#[tokio::test]
async fn wix_legacy_installs_through_the_installer_and_closes_its_window() {
    // GIVEN a legacy Wix invite and the stand-in of its code flow
    let rig = wix_rig(WIX_INSTANCE, 1).await;
    let b = browser();
    let g = rig.grant(&b, "wix-legacy", None).await;
    // WHEN the merchant approves in the installer
    let resp = b.get(g.authorize.clone()).send().await.unwrap();
    let back = resp.headers()["location"].to_str().unwrap().to_owned();
    let resp = b.get(&back).send().await.unwrap();
    // THEN the installer's window is closed through Wix, and the instance is connected
    assert_eq!(resp.status(), 303);
    let finish = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        finish.starts_with(&format!(
            "{}/www.wix.com/installer/close-window?",
            rig.stand.uri()
        )),
        "{finish}"
    );
    assert_eq!(b.get(&finish).send().await.unwrap().status(), 200);
    let (conn, tokens) = rig
        .connection(&g.invite)
        .await
        .expect("a sealed connection");
    assert_eq!(conn.account.as_deref(), Some(WIX_INSTANCE));
    assert_eq!(
        tokens.refresh_token.as_ref().map(|t| t.expose()),
        Some("OAUTH2.wix-refresh")
    );
    assert_eq!(status_of(&b, &g.setup).await, "authorized");
}

#[tokio::test]
async fn a_wix_legacy_instance_id_failing_its_pattern_is_refused_before_the_exchange() {
    let rig = wix_rig("../../evil", 0).await;
    let b = browser();
    let g = rig.grant(&b, "wix-legacy", None).await;
    rig.assert_refused(&g, rig.consent(&b, &g.authorize).await)
        .await;
}

// ---------------------------------------------------------------- Magento (OAuth 1.0a integration)

const MAGENTO_CK: &str = "ck0123456789abcdefghijklmnopqrst";
const MAGENTO_CS: &str = "cs0123456789abcdefghijklmnopqrst";
const MAGENTO_VERIFIER: &str = "vf0123456789abcdefghijklmnopqrst";
const MAGENTO_REQUEST_TOKEN: &str = "rt0123456789abcdefghijklmnopqrst";
const MAGENTO_REQUEST_SECRET: &str = "rs0123456789abcdefghijklmnopqrst";
const MAGENTO_ACCESS_TOKEN: &str = "at0123456789abcdefghijklmnopqrst";
const MAGENTO_TOKEN_SECRET: &str = "ts0123456789abcdefghijklmnopqrst";

/// RFC 5849 §3.6, written here apart from the code under test.
fn rfc3986(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What a Magento token endpoint checks of an `Authorization: OAuth …` header: its consumer
/// key, token and verifier, the method HMAC-SHA256, version 1.0, a fresh timestamp, and an
/// HMAC-SHA256 signature over the RFC 5849 base string of the request it received, keyed with
/// `consumer secret & token secret`. Answers the form body Magento answers, or 401.
struct MagentoTokenEndpoint {
    consumer_secret: &'static str,
    token: Option<(&'static str, &'static str)>,
    verifier: Option<&'static str>,
    answer: (&'static str, &'static str),
}

impl MagentoTokenEndpoint {
    fn verified(&self, req: &Seen) -> Result<(), String> {
        let header = req
            .headers
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .ok_or("no Authorization header")?;
        let fields = header.strip_prefix("OAuth ").ok_or("not OAuth")?;
        let mut params: Vec<(String, String)> = Vec::new();
        let mut signature = None;
        for field in fields.split(", ") {
            let (k, v) = field.split_once('=').ok_or("bad field")?;
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or("unquoted")?;
            let v: String = url::form_urlencoded::parse(format!("v={v}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            if k == "oauth_signature" {
                signature = Some(v);
            } else {
                params.push((k.to_owned(), v));
            }
        }
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("oauth_consumer_key") != Some(MAGENTO_CK) {
            return Err("consumer key".into());
        }
        if get("oauth_signature_method") != Some("HMAC-SHA256")
            || get("oauth_version") != Some("1.0")
        {
            return Err("method or version".into());
        }
        if get("oauth_token") != self.token.map(|(t, _)| t)
            || get("oauth_verifier") != self.verifier
        {
            return Err("token or verifier".into());
        }
        let ts: i64 = get("oauth_timestamp")
            .and_then(|t| t.parse().ok())
            .ok_or("timestamp")?;
        if (ts - now()).abs() > 300 || get("oauth_nonce").is_none_or(str::is_empty) {
            return Err("stale or no nonce".into());
        }
        let mut encoded: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (rfc3986(k), rfc3986(v)))
            .collect();
        encoded.sort();
        let normalized: Vec<String> = encoded.iter().map(|(k, v)| format!("{k}={v}")).collect();
        // The authority as a server sees it: the Host header (the stand-in is plain http).
        let host = req
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .ok_or("no Host header")?;
        let uri = format!("http://{host}{}", req.url.path());
        let base = format!("POST&{}&{}", rfc3986(&uri), rfc3986(&normalized.join("&")));
        let key = format!(
            "{}&{}",
            self.consumer_secret,
            self.token.map_or("", |(_, s)| s)
        );
        let mut mac = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(key.as_bytes()).unwrap();
        hmac::Mac::update(&mut mac, base.as_bytes());
        let expected = STANDARD.encode(hmac::Mac::finalize(mac).into_bytes());
        if signature.as_deref() != Some(expected.as_str()) {
            return Err("signature".into());
        }
        Ok(())
    }
}

impl wiremock::Respond for MagentoTokenEndpoint {
    fn respond(&self, req: &Seen) -> ResponseTemplate {
        match self.verified(req) {
            Ok(()) => ResponseTemplate::new(200).set_body_string(format!(
                "oauth_token={}&oauth_token_secret={}",
                self.answer.0, self.answer.1
            )),
            Err(why) => ResponseTemplate::new(401).set_body_json(json!({
                "message": format!("The signature is invalid ({why})")
            })),
        }
    }
}

/// cartlink with Magento enabled, and the store's two token endpoints: they accept only the
/// consumer secret `consumer_secret` and are called `calls` times each.
async fn magento_rig(consumer_secret: &'static str, request_calls: u64, access_calls: u64) -> Rig {
    let rig = Rig::start("magento", "").await;
    Mock::given(method("POST"))
        .and(path("/shop.example.com/oauth/token/request"))
        .respond_with(MagentoTokenEndpoint {
            consumer_secret,
            token: None,
            verifier: None,
            answer: (MAGENTO_REQUEST_TOKEN, MAGENTO_REQUEST_SECRET),
        })
        .expect(request_calls)
        .mount(&rig.stand)
        .await;
    Mock::given(method("POST"))
        .and(path("/shop.example.com/oauth/token/access"))
        .respond_with(MagentoTokenEndpoint {
            consumer_secret,
            token: Some((MAGENTO_REQUEST_TOKEN, MAGENTO_REQUEST_SECRET)),
            verifier: Some(MAGENTO_VERIFIER),
            answer: (MAGENTO_ACCESS_TOKEN, MAGENTO_TOKEN_SECRET),
        })
        .expect(access_calls)
        .mount(&rig.stand)
        .await;
    rig
}

/// A Magento invite taken to its integration settings: the invite, its setup link and the
/// Callback URL and Identity link URL the page shows.
struct Integration {
    invite: InviteId,
    setup: String,
    callback_url: String,
    identity_url: String,
}

fn field_value(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\"")).expect(id);
    let value = &html[at..];
    let start = value.find("value=\"").unwrap() + "value=\"".len();
    value[start..start + value[start..].find('"').unwrap()].to_owned()
}

async fn integration_settings(rig: &Rig, b: &reqwest::Client) -> Integration {
    let (status, v) = rig
        .invite("magento", Some("https://Shop.Example.com/"))
        .await;
    assert_eq!(status, 201, "{v}");
    let setup = v["setup_url"].as_str().unwrap().to_owned();
    let page = b.get(&setup).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Show my integration settings"), "{page}");
    let resp = b.post(format!("{setup}/grant")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("System › Extensions › Integrations"),
        "{page}"
    );
    let callback_url = field_value(&page, "callback-url");
    let identity_url = field_value(&page, "identity-url");
    assert!(callback_url.starts_with(&format!("{}/oauth/integration/magento/", rig.base)));
    assert!(identity_url.starts_with(&format!("{}/oauth/identity/magento/", rig.base)));
    Integration {
        invite: InviteId::parse(v["id"].as_str().unwrap()).unwrap(),
        setup,
        callback_url,
        identity_url,
    }
}

fn activation_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("oauth_consumer_key", MAGENTO_CK),
        ("oauth_consumer_secret", MAGENTO_CS),
        ("store_base_url", "https://shop.example.com/"),
        ("oauth_verifier", MAGENTO_VERIFIER),
    ]
}

/// The store's activation POST (form-encoded, unauthenticated).
async fn activate(url: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .form(fields)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn status_of(b: &reqwest::Client, setup: &str) -> Value {
    let v: Value = b
        .get(format!("{setup}/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["status"].clone()
}

#[tokio::test]
async fn magento_takes_the_activation_post_and_fetches_signed_oauth1_tokens_from_the_store() {
    // GIVEN a Magento store whose token endpoints accept only correctly signed requests
    let rig = magento_rig(MAGENTO_CS, 1, 1).await;
    let b = browser();
    // AND the merchant asked the grant page for the integration settings
    let g = integration_settings(&rig, &b).await;
    assert_eq!(status_of(&b, &g.setup).await, "waiting");
    // WHEN the merchant activates the integration and the store posts its credentials
    let (status, v) = activate(&g.callback_url, &activation_fields()).await;
    // THEN cartlink fetched the tokens and stored them, and only then answered 200
    assert_eq!((status, v), (200, json!({"stored": true})));
    let (conn, tokens) = rig
        .connection(&g.invite)
        .await
        .expect("a sealed connection");
    assert_eq!(tokens.access_token.expose(), MAGENTO_ACCESS_TOKEN);
    assert_eq!(tokens.key_secret.unwrap().expose(), MAGENTO_TOKEN_SECRET);
    assert_eq!(tokens.consumer_key.unwrap().expose(), MAGENTO_CK);
    assert_eq!(tokens.consumer_secret.unwrap().expose(), MAGENTO_CS);
    assert_eq!(tokens.refresh_token.map(|t| t.expose().to_owned()), None);
    assert_eq!(conn.account.as_deref(), Some("https://shop.example.com"));
    assert_eq!(conn.token_expires_at, None);
    // AND the grant page's poll says authorized
    assert_eq!(status_of(&b, &g.setup).await, "authorized");
    // AND the Identity link sends the store's popup back to its success_call_back
    let back = "https://shop.example.com/admin/admin/integration/tokensExchange/id/7/";
    let resp = b
        .get(with_query(
            &g.identity_url,
            &[
                ("oauth_consumer_key", MAGENTO_CK),
                ("success_call_back", back),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], back);
    // AND a success_call_back on another host is not followed
    let resp = b
        .get(with_query(
            &g.identity_url,
            &[("success_call_back", "https://evil.example.net/")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Successful Authorization"));
    // AND the same activation again is refused without another call (expect(1) above)
    let (status, v) = activate(&g.callback_url, &activation_fields()).await;
    assert_eq!((status, v), (409, json!({"error": "already_connected"})));
}

/// What is refused, where it is posted, its fields, and the code it gets.
type RefusedActivation = (
    &'static str,
    String,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

#[tokio::test]
async fn magento_activation_posts_that_fail_a_check_never_reach_the_store() {
    // GIVEN a Magento store whose token endpoints must not be called
    let rig = magento_rig(MAGENTO_CS, 0, 0).await;
    let b = browser();
    let g = integration_settings(&rig, &b).await;
    let nonce = g.callback_url.rsplit('/').next().unwrap().to_owned();
    let with_field = |name: &str, value: &'static str| -> Vec<(&'static str, &'static str)> {
        activation_fields()
            .into_iter()
            .map(|(k, v)| (k, if k == name { value } else { v }))
            .collect()
    };
    let unknown = shared::domain::GrantState::generate();
    let mut other_nonce = nonce.clone();
    other_nonce.replace_range(0..1, if nonce.starts_with('A') { "B" } else { "A" });
    let on = |n: &str| format!("{}/oauth/integration/magento/{n}", rig.base);
    let cases: Vec<RefusedActivation> = vec![
        (
            "unknown nonce",
            on(unknown.expose()),
            activation_fields(),
            "nonce_unknown",
        ),
        (
            "a nonce one letter off",
            on(&other_nonce),
            activation_fields(),
            "nonce_unknown",
        ),
        (
            "a malformed nonce",
            on("not-a-nonce"),
            activation_fields(),
            "nonce_unknown",
        ),
        (
            "another cart's path",
            format!("{}/oauth/integration/woocommerce/{nonce}", rig.base),
            activation_fields(),
            "unknown_cart",
        ),
        (
            "another store",
            g.callback_url.clone(),
            with_field("store_base_url", "https://other-shop.example.com/"),
            "store_mismatch",
        ),
        (
            "a loopback store",
            g.callback_url.clone(),
            with_field("store_base_url", "https://127.0.0.1/"),
            "store_mismatch",
        ),
        (
            "a private store",
            g.callback_url.clone(),
            with_field("store_base_url", "https://10.0.0.8/"),
            "store_mismatch",
        ),
        (
            "a missing verifier",
            g.callback_url.clone(),
            activation_fields()
                .into_iter()
                .filter(|(k, _)| *k != "oauth_verifier")
                .collect(),
            "integration_incomplete",
        ),
        (
            "a misshaped consumer key",
            g.callback_url.clone(),
            with_field("oauth_consumer_key", "CK0123456789ABCDEFGHIJKLMNOPQRST"),
            "integration_malformed",
        ),
    ];
    for (what, url, fields, code) in cases {
        // WHEN the store (or anyone) posts such an activation
        let (status, v) = activate(&url, &fields).await;
        // THEN it is refused with a stable code
        assert_eq!((status, v), (400, json!({"error": code})), "{what}");
    }
    // AND there is no connection, and the page still waits for the real activation
    assert!(rig.connection(&g.invite).await.is_none());
    assert_eq!(status_of(&b, &g.setup).await, "waiting");
    // AND the store's endpoints were never called (expect(0) above)
}

#[tokio::test]
async fn a_magento_store_that_refuses_our_signature_leaves_no_connection_and_fails_the_attempt() {
    // GIVEN a store that knows the integration under another consumer secret, so our
    // signature does not verify
    let rig = magento_rig("cs9999999999999999999999999999zz", 1, 0).await;
    let b = browser();
    let g = integration_settings(&rig, &b).await;
    // WHEN the store posts the credentials
    let (status, v) = activate(&g.callback_url, &activation_fields()).await;
    // THEN the store is told they did not work, nothing is stored, the attempt failed
    assert_eq!(
        (status, v),
        (400, json!({"error": "integration_not_verified"}))
    );
    assert!(rig.connection(&g.invite).await.is_none());
    assert_eq!(status_of(&b, &g.setup).await, "failed");
    // AND the Identity link says so, without a redirect
    let resp = b
        .get(with_query(
            &g.identity_url,
            &[("success_call_back", "https://shop.example.com/admin/cb")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert!(resp.headers().get("location").is_none());
}

// ---------------------------------------------------------------- listing and outbound safety

#[tokio::test]
async fn the_warehouse_api_lists_all_twenty_one_entries_with_functions_and_inputs() {
    let extra = "\n[[carts]]\nid = \"acme-cart\"\nname = \"Acme Cart\"\nauthorize_url = \"http://127.0.0.1:9/a\"\ntoken_url = \"http://127.0.0.1:9/t\"\nclient_id = \"c\"\nclient_secret = \"s\"\n[carts.scopes]\norders = [\"o\"]\n";
    let rig = Rig::start("etsy", extra).await;
    let list = |key: &'static str| {
        let url = format!("{}/v1/carts", rig.base);
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(list("wrong").await.status(), 401);
    let v: Value = list(KEY).await.json().await.unwrap();
    let carts = v["carts"].as_array().unwrap();
    let ids: Vec<&str> = carts.iter().map(|c| c["id"].as_str().unwrap()).collect();
    for id in [
        "shopify",
        "bigcommerce",
        "woocommerce",
        "ebay",
        "amazon-sp-api",
        "amazon-vendor-central",
        "mercadolibre",
        "etsy",
        "square",
        "ecwid",
        "lightspeed-retail",
        "keap",
        "channeladvisor",
        "squarespace",
        "walmart",
        "wix",
        "magento",
        "prestashop",
        "shopware",
        "extensiv-order-manager",
        "tiktok-shop",
        "wix-legacy",
        "acme-cart",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // the local server adds its sandbox cart beside the twenty-three
    assert_eq!(ids.iter().filter(|i| **i != "sandbox").count(), 23);
    let by_id = |id: &str| carts.iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(by_id("etsy")["enabled"], true);
    assert_eq!(by_id("acme-cart")["enabled"], true);
    // a credentials cart needs no app of ours: it is offered as soon as it is built in
    assert_eq!(by_id("prestashop")["enabled"], true);
    assert_eq!(by_id("shopify")["enabled"], false);
    assert_eq!(by_id("shopify")["inputs"][0]["key"], "shop");
    assert_eq!(
        by_id("shopify")["inputs"][0]["pattern"],
        r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$"
    );
    assert_eq!(
        by_id("amazon-sp-api")["inputs"][0]["choices"],
        json!(["na", "ca", "mx", "br", "eu", "nl", "se", "pl", "tr", "ae", "in", "sg", "au", "fe"])
    );
    assert_eq!(by_id("woocommerce")["flavour"], "key_handshake");
    assert_eq!(by_id("wix")["flavour"], "popup_oauth");
    assert_eq!(by_id("bigcommerce")["inputs"][0]["key"], "store_hash");
    assert_eq!(by_id("magento")["flavour"], "admin_integration");
    assert_eq!(by_id("magento")["inputs"][0]["key"], "store_url");
    assert_eq!(
        by_id("ebay")["functions"],
        json!(["orders", "inventory", "shipments"])
    );
    assert_eq!(by_id("ebay")["inputs"], json!([]));
    // and a cart without credentials takes no invites
    let (status, v) = rig.invite("shopify", Some("acme.myshopify.com")).await;
    assert_eq!(
        (status, v["type"].as_str()),
        (422, Some("urn:cartlink:problem:cart-not-enabled"))
    );
}

#[tokio::test]
async fn a_token_endpoint_that_redirects_is_not_followed() {
    // GIVEN a cart whose token endpoint answers 302 to another server
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let rig = Rig::start("keap", "").await;
    let redirect = rig.callback("keap");
    authorize_endpoint(
        &rig.stand,
        "/accounts.infusionsoft.com/app/oauth/authorize",
        &[("client_id", CLIENT_ID)],
        move |q| with_query(&redirect, &[("code", "keap-code"), ("state", &q["state"])]),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/api.infusionsoft.com/token"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/x", elsewhere.uri()).as_str()),
        )
        .expect(1)
        .mount(&rig.stand)
        .await;
    let b = browser();
    let g = rig.grant(&b, "keap", None).await;
    // THEN the exchange fails, nothing reaches the other server, no connection
    let (status, page) = rig.consent(&b, &g.authorize).await;
    assert_eq!(status, 502);
    rig.assert_refused(&g, (status, page)).await;
}

#[tokio::test]
async fn the_production_client_refuses_plain_http() {
    let stand = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&stand)
        .await;
    let production = shared::net::outbound_client(Duration::from_secs(2), true);
    assert!(production
        .post(format!("{}/token", stand.uri()))
        .send()
        .await
        .is_err());
    // while the loopback test client reaches it
    let local = shared::net::outbound_client(Duration::from_secs(2), false);
    let other = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&other)
        .await;
    assert_eq!(local.get(other.uri()).send().await.unwrap().status(), 204);
    // and the production resolver answers only public addresses
    let loopback = ["127.0.0.1:443".parse().unwrap()].into_iter();
    assert!(shared::net::public_addrs("localhost", loopback).is_err());
}

// ---------------------------------------------------------------- Extensiv Order Manager

const EOM_CID: &str = "4711";
const EOM_AUTHORIZE: &str = "/app.skubana.com/oauth/authorize";

/// Extensiv Order Manager's stand-in: its authorize page takes the client id, the scopes, our
/// callback and `response_type=code`, and sends the browser back with `code` and the company id
/// `cid` and no `state`; its token endpoint takes only HTTP Basic of the app key and secret with
/// the code, the callback and `grant_type=authorization_code` (anything else 401), `token_calls`
/// times.
async fn extensiv_rig(token_calls: u64) -> Rig {
    let rig = Rig::start("extensiv-order-manager", "").await;
    let redirect = rig.callback("extensiv-order-manager");
    let r = redirect.clone();
    authorize_endpoint(
        &rig.stand,
        EOM_AUTHORIZE,
        &[
            ("client_id", CLIENT_ID),
            ("redirect_uri", &redirect),
            ("response_type", "code"),
            (
                "scope",
                "read_orders read_products read_inventory write_inventory read_shipments write_shipments",
            ),
        ],
        move |q| {
            assert!(!q.contains_key("state"), "no state is sent: {q:?}");
            with_query(&r, &[("code", "eom-code"), ("cid", EOM_CID)])
        },
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/app.skubana.com/oauth/token"))
        .and(header("authorization", basic().as_str()))
        .and(move |req: &Seen| {
            let f = form(req);
            f.len() == 3
                && f.get("grant_type").map(String::as_str) == Some("authorization_code")
                && f.get("code").map(String::as_str) == Some("eom-code")
                && f.get("redirect_uri") == Some(&redirect)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "eom-access-token", "token_type": "bearer",
            "scope": "read_orders read_products read_inventory write_inventory read_shipments write_shipments"
        })))
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    Mock::given(method("POST"))
        .and(path("/app.skubana.com/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "unauthorized"})))
        .expect(0)
        .mount(&rig.stand)
        .await;
    rig
}

#[tokio::test]
async fn extensiv_order_manager_connects_the_company_its_callback_names_bound_by_cookie() {
    // GIVEN Extensiv Order Manager's stand-in
    let rig = extensiv_rig(1).await;
    // WHEN the merchant approves the app in the popup and Order Manager calls back with the
    // code and the company id, without a state
    let b = browser();
    let g = rig.grant(&b, "extensiv-order-manager", None).await;
    let (conn, tokens) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    // THEN the token is sealed for that company, with no expiry and nothing to refresh
    assert_eq!(conn.account.as_deref(), Some(EOM_CID));
    assert_eq!(tokens.access_token.expose(), "eom-access-token");
    assert!(tokens.refresh_token.is_none() && tokens.expires_at.is_none());
    assert_eq!(status_of(&b, &g.setup).await, "authorized");
}

#[tokio::test]
async fn extensiv_callbacks_from_another_browser_or_with_a_bad_company_id_exchange_nothing() {
    // GIVEN a grant started at Extensiv Order Manager, whose token endpoint expects no call
    let rig = extensiv_rig(0).await;
    let b = browser();
    let g = rig.grant(&b, "extensiv-order-manager", None).await;
    let callback = |cid: &str| {
        with_query(
            &rig.callback("extensiv-order-manager"),
            &[("code", "eom-code"), ("cid", cid)],
        )
    };
    // WHEN the callback comes to a browser that did not start the grant (no state cookie)
    let resp = browser().get(callback(EOM_CID)).send().await.unwrap();
    let refused = (resp.status().as_u16(), resp.text().await.unwrap());
    // THEN it is refused
    rig.assert_refused(&g, refused).await;
    // AND a state in the query does not stand in for the cookie
    let forged = format!("{}&state={}", callback(EOM_CID), "A".repeat(43));
    let resp = browser().get(forged).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    // AND in the browser that started it, a company id that fails its pattern is refused
    let resp = b.get(callback("47/../11")).send().await.unwrap();
    let refused = (resp.status().as_u16(), resp.text().await.unwrap());
    rig.assert_refused(&g, refused).await;
    // AND nothing reached the token endpoint (expect(0) on both of its mocks)
}

// ---------------------------------------------------------------- TikTok Shop

#[path = "common/tiktok.rs"]
mod tiktok_shops;

const TTS_SERVICE_ID: &str = "7310403104158238510";

/// TikTok Shop's stand-in: the services site of the seller's market takes the service id and
/// the state and answers with `code` and the state; the two token calls are GETs to
/// auth.tiktok-shops.com taking exactly the documented query (app key and secret, the code or
/// refresh token, the grant type) and no body, answered under `data` beside `code: 0`
/// (`token_calls` exchanges, `refresh_calls` refreshes); anything else at the auth host answers
/// a non-zero `code`. Get Authorized Shops answers the seller's shops to a call signed as
/// TikTok Shop signs ([`tiktok_shops`]).
async fn tiktok_rig(auth_host: &str, token_calls: u64, refresh_calls: u64) -> Rig {
    let rig = Rig::start("tiktok-shop", &format!("app_id = \"{TTS_SERVICE_ID}\"")).await;
    tiktok_shops::serve_shops(&rig.stand, (CLIENT_ID, CLIENT_SECRET), "ROW_tts-access-1").await;
    let r = rig.callback("tiktok-shop");
    authorize_endpoint(
        &rig.stand,
        &format!("/{auth_host}/open/authorize"),
        &[("service_id", TTS_SERVICE_ID)],
        move |q| {
            assert_eq!(q.len(), 2, "service_id and state only: {q:?}");
            with_query(&r, &[("code", "tts-auth-code"), ("state", &q["state"])])
        },
    )
    .await;
    let answer = |access: &str, refresh: &str| {
        json!({"code": 0, "message": "success", "request_id": "202611301234", "data": {
            "access_token": access, "access_token_expire_in": 1_900_000_000_i64,
            "refresh_token": refresh, "refresh_token_expire_in": 1_930_000_000_i64,
            "open_id": "7010736057180325637", "seller_name": "Acme Shop",
            "seller_base_region": "GB", "user_type": 0,
            "granted_scopes": ["seller.order.info", "seller.product.basic"]
        }})
    };
    let exact = |pairs: [(&'static str, &'static str); 4]| {
        move |req: &Seen| {
            let q = query(&req.url);
            req.body.is_empty()
                && q.len() == 4
                && pairs
                    .iter()
                    .all(|(k, v)| q.get(*k).map(String::as_str) == Some(*v))
        }
    };
    Mock::given(method("GET"))
        .and(path("/auth.tiktok-shops.com/api/v2/token/get"))
        .and(exact([
            ("app_key", CLIENT_ID),
            ("app_secret", CLIENT_SECRET),
            ("auth_code", "tts-auth-code"),
            ("grant_type", "authorized_code"),
        ]))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(answer("ROW_tts-access-1", "ROW_tts-refresh-1")),
        )
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    Mock::given(method("GET"))
        .and(path("/auth.tiktok-shops.com/api/v2/token/refresh"))
        .and(exact([
            ("app_key", CLIENT_ID),
            ("app_secret", CLIENT_SECRET),
            ("refresh_token", "ROW_tts-refresh-1"),
            ("grant_type", "refresh_token"),
        ]))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(answer("ROW_tts-access-2", "ROW_tts-refresh-2")),
        )
        .expect(refresh_calls)
        .mount(&rig.stand)
        .await;
    Mock::given(wiremock::matchers::any())
        .and(wiremock::matchers::path_regex(
            "^/auth\\.tiktok-shops\\.com/",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code": 36004004, "message": "invalid request", "data": {}})),
        )
        .expect(0)
        .mount(&rig.stand)
        .await;
    rig
}

#[tokio::test]
async fn tiktok_shop_grants_on_its_services_site_and_exchanges_the_code_by_get() {
    // GIVEN a seller outside the US and TikTok Shop's stand-in
    let rig = tiktok_rig("services.tiktokshop.com", 1, 0).await;
    // WHEN the seller authorizes the app's service
    let b = browser();
    let g = rig.grant(&b, "tiktok-shop", Some("global")).await;
    let (conn, tokens) = rig
        .assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    // THEN the tokens under `data` are sealed, the expiry is the answer's instant, and the
    // connection names the seller's open_id
    assert_eq!(tokens.access_token.expose(), "ROW_tts-access-1");
    assert_eq!(tokens.refresh_token.unwrap().expose(), "ROW_tts-refresh-1");
    assert_eq!(tokens.expires_at, Some(Timestamp(1_900_000_000)));
    assert_eq!(conn.account.as_deref(), Some("7010736057180325637"));
}

#[tokio::test]
async fn tiktok_shop_us_sellers_authorize_on_the_us_services_site() {
    // GIVEN a US seller and the US services site's stand-in
    let rig = tiktok_rig("services.tiktokshops.us", 1, 0).await;
    let b = browser();
    // WHEN the seller grants
    let g = rig.grant(&b, "tiktok-shop", Some("us")).await;
    assert!(
        g.authorize.path().starts_with("/services.tiktokshops.us/"),
        "{}",
        g.authorize
    );
    // THEN the connection is made from the same token call
    rig.assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
}

#[tokio::test]
async fn a_tiktok_shop_connection_refreshes_by_get_and_keeps_the_new_tokens() {
    // GIVEN a TikTok Shop connection whose access token is due
    let rig = tiktok_rig("services.tiktokshop.com", 1, 1).await;
    let b = browser();
    let g = rig.grant(&b, "tiktok-shop", Some("global")).await;
    rig.assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    let conn = rig.expire_soon(&g.invite).await;
    // WHEN the warehouse asks for a token
    let fresh = rig.fresh(&conn).await.unwrap();
    // THEN the refresh went to /api/v2/token/refresh (expect(1)) and its new tokens are the
    // ones served and sealed
    assert_eq!(fresh.access_token.expose(), "ROW_tts-access-2");
    let (_, sealed) = rig.connection(&g.invite).await.unwrap();
    assert_eq!(sealed.refresh_token.unwrap().expose(), "ROW_tts-refresh-2");
    assert_eq!(sealed.expires_at, Some(Timestamp(1_900_000_000)));
}

#[tokio::test]
async fn tiktok_shop_callbacks_with_another_state_or_browser_exchange_nothing() {
    // GIVEN a grant started at TikTok Shop, whose token endpoint expects no call
    let rig = tiktok_rig("services.tiktokshop.com", 0, 0).await;
    let b = browser();
    let g = rig.grant(&b, "tiktok-shop", Some("global")).await;
    let state = query(&g.authorize)["state"].clone();
    let callback = |state: &str| {
        with_query(
            &rig.callback("tiktok-shop"),
            &[("code", "tts-auth-code"), ("state", state)],
        )
    };
    // WHEN the callback comes with a state nobody issued (the issued one, first symbol changed)
    let first = if state.starts_with('A') { 'B' } else { 'A' };
    let resp = b
        .get(callback(&format!("{first}{}", &state[1..])))
        .send()
        .await
        .unwrap();
    let refused = (resp.status().as_u16(), resp.text().await.unwrap());
    rig.assert_refused(&g, refused).await;
    // AND with the real state in another browser
    let resp = browser().get(callback(&state)).send().await.unwrap();
    let refused = (resp.status().as_u16(), resp.text().await.unwrap());
    // THEN both are refused and nothing reaches the auth host (expect(0))
    rig.assert_refused(&g, refused).await;
    // AND a market TikTok Shop has no services site for takes no invite
    let (status, v) = rig.invite("tiktok-shop", Some("uk")).await;
    assert_eq!(status, 422, "{v}");
}

#[tokio::test]
async fn a_tiktok_shop_answer_with_a_non_zero_code_stores_nothing() {
    // GIVEN TikTok Shop's token call answers HTTP 200 with a non-zero code (a used code)
    let rig = Rig::start("tiktok-shop", &format!("app_id = \"{TTS_SERVICE_ID}\"")).await;
    let r = rig.callback("tiktok-shop");
    authorize_endpoint(
        &rig.stand,
        "/services.tiktokshop.com/open/authorize",
        &[("service_id", TTS_SERVICE_ID)],
        move |q| with_query(&r, &[("code", "tts-used-code"), ("state", &q["state"])]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/auth.tiktok-shops.com/api/v2/token/get"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": 36004004, "message": "auth code is invalid", "data": {"access_token": "ROW_never"}
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    // WHEN the seller grants
    let b = browser();
    let g = rig.grant(&b, "tiktok-shop", Some("global")).await;
    let outcome = rig.consent(&b, &g.authorize).await;
    // THEN no connection is stored, though the answer carried an access token
    rig.assert_refused(&g, outcome).await;
}

#[tokio::test]
async fn a_tiktok_shop_refresh_refused_as_unknown_marks_the_connection_for_reauthorization() {
    // GIVEN a TikTok Shop connection whose access token is due, and whose refresh token
    // TikTok Shop no longer knows (HTTP 200, code 36004005)
    let rig = Rig::start("tiktok-shop", &format!("app_id = \"{TTS_SERVICE_ID}\"")).await;
    let r = rig.callback("tiktok-shop");
    authorize_endpoint(
        &rig.stand,
        "/services.tiktokshop.com/open/authorize",
        &[("service_id", TTS_SERVICE_ID)],
        move |q| with_query(&r, &[("code", "tts-auth-code"), ("state", &q["state"])]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/auth.tiktok-shops.com/api/v2/token/get"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"code": 0, "data": {
                "access_token": "ROW_tts-access-1", "access_token_expire_in": 1_900_000_000_i64,
                "refresh_token": "ROW_tts-refresh-1", "open_id": "7010736057180325637"
            }})),
        )
        .mount(&rig.stand)
        .await;
    tiktok_shops::serve_shops(&rig.stand, (CLIENT_ID, CLIENT_SECRET), "ROW_tts-access-1").await;
    Mock::given(method("GET"))
        .and(path("/auth.tiktok-shops.com/api/v2/token/refresh"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": 36004005, "message": "can not find related auth record", "data": {}
        })))
        .expect(1)
        .mount(&rig.stand)
        .await;
    let b = browser();
    let g = rig.grant(&b, "tiktok-shop", Some("global")).await;
    rig.assert_connected(&g, rig.consent(&b, &g.authorize).await)
        .await;
    let conn = rig.expire_soon(&g.invite).await;
    // WHEN the warehouse asks for a token, twice
    for _ in 0..2 {
        // THEN each ask answers that the merchant must reconnect, and the refusal was asked for
        // once (expect(1)): the connection is marked, not retried
        assert!(matches!(
            rig.fresh(&conn).await,
            Err(ConnectionError::NeedsReauthorization)
        ));
    }
    let stored = rig.app.services.store.connection(&conn.id).await.unwrap();
    assert_eq!(stored.unwrap().status, ConnectionStatus::NeedsReauth);
}
