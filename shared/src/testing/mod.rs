//! Test support: fakes of the ports (`fakes`), and [`TestKit`], a set of services on the
//! embedded store and vault in a temporary folder, with a manual clock.

mod fakes;
pub mod faults;
pub mod lines;
pub mod metrics;

pub use fakes::{
    CountingEvents, CountingVault, FakeTokenEndpoint, RecordingMailer, ScriptedSender,
    SeenExchange, SeenOAuth1, SwitchedVault, FAKE_OAUTH1_ACCESS_TOKEN, FAKE_OAUTH1_TOKEN_SECRET,
    FAKE_REQUEST_TOKEN,
};

use std::collections::BTreeMap;
use std::sync::Arc;

use url::Url;

use crate::carts::{CartSpec, Catalog, ClientCredentials, Pkce, TokenAuth};
use crate::clock::ManualClock;
use crate::config::Config;
use crate::domain::{CartId, Function, Secret, Timestamp, TokenHash, Warehouse, WarehouseId};
use crate::service::Services;
use crate::store::SqliteStore;
use crate::vault::LocalVault;

/// The API key of the test warehouse.
pub const TEST_API_KEY: &str = "test-api-key";
/// The start time of the manual clock: 2026-12-01T00:00:00Z.
pub const T0: Timestamp = Timestamp(1_796_083_200);

/// Services over the embedded store and vault in a temporary folder, with fakes for mail and
/// the token endpoint, a manual clock, one warehouse (`wh-test`, key [`TEST_API_KEY`]) and one
/// generic cart (`acme`, PKCE required, `iss` checked).
pub struct TestKit {
    /// The services.
    pub services: Services,
    /// The mailer fake.
    pub mailer: Arc<RecordingMailer>,
    /// The token endpoint fake.
    pub oauth: Arc<FakeTokenEndpoint>,
    /// The clock.
    pub clock: Arc<ManualClock>,
    /// The events.
    pub events: Arc<CountingEvents>,
    /// The store, concretely (also the webhook queue and step feed).
    pub store: Arc<SqliteStore>,
    /// The webhook sender fake.
    pub sender: Arc<ScriptedSender>,
    /// The folder (removed on drop).
    pub dir: tempfile::TempDir,
}

/// The test cart.
pub fn acme_cart() -> CartSpec {
    let mut cart = CartSpec::generic(
        CartId::new("acme"),
        "Acme Cart",
        &Url::parse("https://auth.acme.test/authorize").expect("url"),
        &Url::parse("https://auth.acme.test/token").expect("url"),
        TokenAuth::Body,
        Pkce::Required,
        BTreeMap::from([
            (Function::Orders, vec!["orders:read".into()]),
            (Function::Inventory, vec!["inventory:write".into()]),
        ]),
    );
    cart.issuer = Some("https://auth.acme.test".into());
    cart.credentials = Some(ClientCredentials::new(
        "acme-app",
        Some(Secret::new("acme-secret")),
    ));
    cart
}

/// A `credentials` cart (`keyshop`) as an operator would write it: the merchant types a
/// 32-character webservice key, checked with `GET https://keyshop.test/api/`.
pub fn typed_cart() -> CartSpec {
    let entry: crate::carts::CartEntry = toml::from_str(
        r#"
id = "keyshop"
name = "Keyshop"
flavour = "credentials"
authorize_url = "https://keyshop.test/admin"
token_url = "https://keyshop.test/api/"
token_auth = "basic"
token_request = { kind = "no_exchange" }
pkce = "not_supported"
refresh = { kind = "none" }
refresh_request = { kind = "no_exchange" }
sources = ["a test entry"]
credential_fields = [
    { name = "key", label = "Webservice key", help = "Back office > Advanced Parameters > Webservice > Add new webservice key.", role = "key", pattern = "^[A-Z0-9]{32}$" },
]
[scopes]
orders = ["orders"]
"#,
    )
    .expect("the test entry reads");
    entry.into_spec(false).expect("the test entry is valid").0
}

impl TestKit {
    /// A fresh kit with the public base URL `https://cartlink.test`.
    pub fn new() -> TestKit {
        TestKit::with_warehouse_named("Test Warehouse")
    }

    /// A fresh kit whose one warehouse shows itself as `display_name` (a warehouse's own
    /// words: untrusted on every page and email that names it).
    pub fn with_warehouse_named(display_name: &str) -> TestKit {
        let dir = tempfile::tempdir().expect("tempdir");
        let warehouse = Warehouse {
            id: WarehouseId::parse("wh-test").expect("id"),
            display_name: display_name.into(),
            notify_email: "ops@warehouse.test".into(),
            api_key_hashes: vec![TokenHash::of(TEST_API_KEY)],
            brand: Default::default(),
            locale: None,
        };
        let config = Config {
            public_base_url: "https://cartlink.test".into(),
            data_dir: dir.path().to_path_buf(),
            mail_from: "cartlink <no-reply@cartlink.test>".into(),
            warehouses: vec![warehouse.clone()],
            carts: vec![acme_cart()],
            cart_credentials: BTreeMap::new(),
            http_timeout: std::time::Duration::from_secs(5),
            aws: Default::default(),
            limits: Default::default(),
            webhook_schedule: Default::default(),
            ebay_account_deletion: None,
            square_webhooks: None,
            wix_webhooks: None,
            origin_memo: Default::default(),
        };
        let mailer = Arc::new(RecordingMailer::default());
        let oauth = Arc::new(FakeTokenEndpoint::default());
        let clock = Arc::new(ManualClock::at(T0));
        let events = Arc::new(CountingEvents::default());
        let store = Arc::new(SqliteStore::open(dir.path()).expect("store"));
        let sender = Arc::new(ScriptedSender::default());
        let services = Services {
            catalog: Catalog::from_config(&config),
            warehouses: crate::domain::WarehouseDirectory::new(vec![warehouse]),
            config,
            store: store.clone(),
            vault: Arc::new(LocalVault::open(dir.path()).expect("vault")),
            mailer: mailer.clone(),
            clock: clock.clone(),
            oauth: oauth.clone(),
            events: events.clone(),
            refreshing: Default::default(),
            webhooks: crate::service::WebhookPorts {
                queue: store.clone(),
                feed: store.clone(),
                sender: sender.clone(),
            },
            notification_keys: Default::default(),
            grant_pages: Default::default(),
        };
        TestKit {
            services,
            mailer,
            oauth,
            clock,
            events,
            store,
            sender,
            dir,
        }
    }
}

impl Default for TestKit {
    fn default() -> Self {
        TestKit::new()
    }
}

/// An invite request for `cart` with defaults (merchant `Merchant@Shop.TEST`).
pub fn new_invite(cart: &str) -> crate::service::invites::NewInvite {
    crate::service::invites::NewInvite {
        cart: cart.into(),
        merchant_email: "Merchant@Shop.TEST".into(),
        merchant_name: Some("Zoë Merchant".into()),
        store: None,
        functions: None,
        expires_in_hours: None,
        locale: None,
    }
}

/// A grant started through the services, as the browser would hold it.
pub struct StartedGrant {
    /// The `state` sent to the cart.
    pub state: String,
    /// The binding cookie's value.
    pub binding: String,
    /// The authorization request.
    pub authorize_url: Url,
}

/// The `iss` the test cart sends.
pub const ACME_ISS: (&str, &str) = ("iss", "https://auth.acme.test");

impl TestKit {
    /// Creates an invite as the test warehouse; answers its id and link token.
    pub async fn invite_with(
        &self,
        request: crate::service::invites::NewInvite,
    ) -> (crate::domain::InviteId, String) {
        let wh = self
            .services
            .warehouses
            .authenticate(TEST_API_KEY)
            .expect("test key")
            .clone();
        let created = self
            .services
            .create_invite(&wh, request)
            .await
            .expect("invite created");
        let token = created
            .setup_url
            .rsplit('/')
            .next()
            .expect("token")
            .to_owned();
        (created.invite.id, token)
    }

    /// Creates an invite for the `acme` cart with defaults.
    pub async fn invite(&self) -> (crate::domain::InviteId, String) {
        self.invite_with(new_invite("acme")).await
    }

    /// Starts a grant for a link token.
    pub async fn start(&self, token: &str) -> StartedGrant {
        let started = self
            .services
            .start_grant(token)
            .await
            .expect("grant started");
        let crate::service::setup::GrantNext::Redirect(url) = &started.next else {
            panic!("the grant starts with a redirect");
        };
        let url = Url::parse(url).expect("authorize URL");
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .expect("state")
            .1
            .into_owned();
        StartedGrant {
            state,
            binding: started.binding.expose().to_owned(),
            authorize_url: url,
        }
    }

    /// Delivers a callback to the services.
    pub async fn callback(
        &self,
        cart: &str,
        params: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Result<crate::service::callback::Authorized, crate::service::callback::CallbackError> {
        let params: std::collections::HashMap<String, String> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.services
            .complete_callback(crate::service::callback::CallbackRequest {
                cart,
                params: &params,
                repeated: None,
                binding_cookie: cookie,
                state_cookie: None,
            })
            .await
    }

    /// An invite taken through a good grant: authorized, connection stored.
    pub async fn authorized(&self) -> crate::domain::InviteId {
        let (id, token) = self.invite().await;
        let g = self.start(&token).await;
        self.callback(
            "acme",
            &[("code", "C"), ("state", &g.state), ACME_ISS],
            Some(&g.binding),
        )
        .await
        .expect("callback completes");
        id
    }

    /// The access code printed in the first email.
    pub fn access_code(&self) -> String {
        let text = self.mailer.messages()[0].text.clone();
        text.lines()
            .map(str::trim)
            .find(|l| l.len() == 11 && l.as_bytes()[5] == b'-')
            .expect("an access code in the invite email")
            .to_owned()
    }
}

/// Names a hostile or careless warehouse (or a cart's answer) could carry: each would run
/// script, add an attribute or close an element if written unescaped. Every page and email
/// that shows such a value is tested with each (checklist D3).
pub const HOSTILE_TEXTS: &[&str] = &[
    "</script><script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "</title><a href=\"javascript:alert(1)\">x</a>",
    "\" autofocus onfocus=\"alert(1)",
    "<!--",
    "&lt;b&gt; already escaped",
];
