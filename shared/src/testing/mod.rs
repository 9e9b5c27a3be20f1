//! Test support: fakes of the mailer and the token endpoint, and [`TestKit`], a set of
//! services on the embedded store and vault in a temporary folder, with a manual clock.

pub mod faults;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use url::Url;

use crate::carts::{CartSpec, Catalog, ClientCredentials, Pkce, TokenAuth};
use crate::clock::ManualClock;
use crate::config::Config;
use crate::domain::{
    CartId, Function, Secret, Timestamp, TokenHash, TokenSet, Warehouse, WarehouseId,
};
use crate::events::AuthorizedEvents;
use crate::mailer::{MailError, Mailer, OutgoingEmail};
use crate::oauth::{CodeExchange, OAuth1Call, OAuth1Token, OAuthError, RefreshCall, TokenEndpoint};
use crate::service::Services;
use crate::store::SqliteStore;
use crate::vault::{DataKey, LocalVault, SealContext, SealedBlob, Vault, VaultError};

/// A mailer that keeps what it is given, and can be told to fail.
#[derive(Default)]
pub struct RecordingMailer {
    /// Every message accepted.
    pub sent: Mutex<Vec<OutgoingEmail>>,
    /// When set, every send fails with this rejection.
    pub reject: Mutex<Option<String>>,
    /// When set, every send fails as if the mail service could not be reached.
    pub unavailable: Mutex<Option<String>>,
}

impl RecordingMailer {
    /// The messages accepted so far.
    pub fn messages(&self) -> Vec<OutgoingEmail> {
        self.sent.lock().expect("lock").clone()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        if let Some(reason) = self.reject.lock().expect("lock").clone() {
            return Err(MailError::Rejected(reason));
        }
        if let Some(reason) = self.unavailable.lock().expect("lock").clone() {
            return Err(MailError::Unavailable(reason));
        }
        let mut sent = self.sent.lock().expect("lock");
        sent.push(email.clone());
        Ok(format!("msg-{}", sent.len()))
    }
}

/// What a [`FakeTokenEndpoint`] was asked.
#[derive(Clone, Debug)]
pub struct SeenExchange {
    /// The code.
    pub code: String,
    /// The redirect URI.
    pub redirect_uri: String,
    /// The PKCE verifier.
    pub verifier: Option<String>,
}

/// A token endpoint that counts calls and answers as scripted.
#[derive(Default)]
pub struct FakeTokenEndpoint {
    /// Calls so far.
    pub calls: AtomicUsize,
    /// What it was asked.
    pub seen: Mutex<Vec<SeenExchange>>,
    /// When set, it refuses with this OAuth error.
    pub refuse: Mutex<Option<String>>,
    /// The OAuth 1.0a calls it was asked to make: URL, consumer key, request token (if any)
    /// and verifier (if any).
    pub oauth1_seen: Mutex<Vec<SeenOAuth1>>,
    /// Refreshes asked for so far.
    pub refreshes: AtomicUsize,
    /// The one refresh token it accepts (`None`: the first it hands out, `CANARY_RT`). It
    /// rotates on every use, and answers `invalid_grant` to any other token, as a strict cart
    /// with reuse detection does.
    pub live_refresh_token: Mutex<Option<String>>,
    /// When set, each refresh waits this long before answering (to widen races in tests).
    pub refresh_delay: Mutex<Option<std::time::Duration>>,
    /// When set, refreshes fail as if the cart could not be reached.
    pub refresh_unreachable: std::sync::atomic::AtomicBool,
    /// When set, each code exchange, key check and OAuth 1.0a call waits this long before
    /// answering (a slow cart, so concurrent requests overlap).
    pub exchange_delay: Mutex<Option<std::time::Duration>>,
    /// When set, refreshed access tokens live this many seconds from the call's `now`
    /// (otherwise they expire at 4_000_000_000).
    pub refreshed_ttl: Mutex<Option<i64>>,
}

/// One OAuth 1.0a call a [`FakeTokenEndpoint`] was asked to make.
#[derive(Clone, Debug)]
pub struct SeenOAuth1 {
    /// The endpoint.
    pub url: String,
    /// The consumer key.
    pub consumer_key: String,
    /// The request token sent, if any.
    pub token: Option<String>,
    /// The verifier sent, if any.
    pub verifier: Option<String>,
}

/// The request token a [`FakeTokenEndpoint`] hands out.
pub const FAKE_REQUEST_TOKEN: &str = "fakerequesttoken";
/// The access token a [`FakeTokenEndpoint`] hands out for OAuth 1.0a.
pub const FAKE_OAUTH1_ACCESS_TOKEN: &str = "CANARY_OAUTH1_AT";
/// That access token's secret.
pub const FAKE_OAUTH1_TOKEN_SECRET: &str = "CANARY_OAUTH1_TS";

impl FakeTokenEndpoint {
    /// How many exchanges were attempted.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn slow_cart(&self) {
        let delay = *self.exchange_delay.lock().expect("lock");
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
    }
}

#[async_trait]
impl TokenEndpoint for FakeTokenEndpoint {
    async fn exchange_code(&self, x: CodeExchange<'_>) -> Result<TokenSet, OAuthError> {
        // A real cart answers later: let concurrent callers run meanwhile.
        tokio::task::yield_now().await;
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().expect("lock").push(SeenExchange {
            code: x.code.expose().to_owned(),
            redirect_uri: x.redirect_uri.to_owned(),
            verifier: x.verifier.map(|v| v.expose().to_owned()),
        });
        self.slow_cart().await;
        if let Some(e) = self.refuse.lock().expect("lock").clone() {
            return Err(OAuthError::Refused(e));
        }
        Ok(TokenSet {
            access_token: Secret::new(format!("CANARY_AT_{}", x.code.expose())),
            refresh_token: Some(Secret::new("CANARY_RT")),
            expires_at: Some(Timestamp(2_000_000_000)),
            issued_at: Some(x.now),
            scope: None,
            account: None,
            key_secret: None,
            consumer_key: None,
            consumer_secret: None,
        })
    }

    async fn verify_keys(
        &self,
        _url: &Url,
        _key: &Secret,
        _secret: &Secret,
    ) -> Result<(), OAuthError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.slow_cart().await;
        match self.refuse.lock().expect("lock").clone() {
            Some(e) => Err(OAuthError::Refused(e)),
            None => Ok(()),
        }
    }

    async fn refresh(&self, r: RefreshCall<'_>) -> Result<TokenSet, OAuthError> {
        let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
        let delay = *self.refresh_delay.lock().expect("lock");
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        if self.refresh_unreachable.load(Ordering::SeqCst) {
            return Err(OAuthError::Unreachable("connection refused".into()));
        }
        let mut live = self.live_refresh_token.lock().expect("lock");
        let expected = live.clone().unwrap_or_else(|| "CANARY_RT".into());
        if r.refresh_token.expose() != expected {
            return Err(OAuthError::Refused("invalid_grant".into()));
        }
        let next = format!("CANARY_RT_{n}");
        *live = Some(next.clone());
        let ttl = *self.refreshed_ttl.lock().expect("lock");
        Ok(TokenSet {
            access_token: Secret::new(format!("CANARY_AT_R{n}")),
            refresh_token: Some(Secret::new(next)),
            expires_at: Some(ttl.map_or(Timestamp(4_000_000_000), |t| r.now.plus_secs(t))),
            issued_at: Some(r.now),
            scope: None,
            account: None,
            key_secret: None,
            consumer_key: None,
            consumer_secret: None,
        })
    }

    async fn oauth1_token(&self, call: OAuth1Call<'_>) -> Result<OAuth1Token, OAuthError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.oauth1_seen.lock().expect("lock").push(SeenOAuth1 {
            url: call.url.to_string(),
            consumer_key: call.consumer_key.expose().to_owned(),
            token: call.token.map(|(t, _)| t.expose().to_owned()),
            verifier: call.verifier.map(|v| v.expose().to_owned()),
        });
        self.slow_cart().await;
        if let Some(e) = self.refuse.lock().expect("lock").clone() {
            return Err(OAuthError::Refused(e));
        }
        Ok(match call.token {
            None => OAuth1Token {
                token: Secret::new(FAKE_REQUEST_TOKEN),
                secret: Secret::new("fakerequestsecret"),
            },
            Some(_) => OAuth1Token {
                token: Secret::new(FAKE_OAUTH1_ACCESS_TOKEN),
                secret: Secret::new(FAKE_OAUTH1_TOKEN_SECRET),
            },
        })
    }
}

/// A vault over another whose key service can be switched off, call by call: a switched-off
/// call fails as KMS does when the key is disabled or access is denied
/// ([`VaultError::Unavailable`]).
pub struct SwitchedVault {
    inner: Arc<dyn Vault>,
    /// When set, opening fails.
    pub open_off: AtomicBool,
    /// When set, making data keys (sealing) fails.
    pub seal_off: AtomicBool,
}

impl SwitchedVault {
    /// Over `inner`, both switches on.
    pub fn over(inner: Arc<dyn Vault>) -> Arc<Self> {
        Arc::new(SwitchedVault {
            inner,
            open_off: AtomicBool::new(false),
            seal_off: AtomicBool::new(false),
        })
    }
}

#[async_trait]
impl Vault for SwitchedVault {
    async fn data_key(&self, context: &SealContext) -> Result<DataKey, VaultError> {
        if self.seal_off.load(Ordering::SeqCst) {
            return Err(VaultError::Unavailable("DisabledException".into()));
        }
        self.inner.data_key(context).await
    }

    async fn open(
        &self,
        context: &SealContext,
        blob: &SealedBlob,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, VaultError> {
        if self.open_off.load(Ordering::SeqCst) {
            return Err(VaultError::Unavailable("AccessDeniedException".into()));
        }
        self.inner.open(context, blob).await
    }
}

/// Counts "invite authorized" events.
#[derive(Default)]
pub struct CountingEvents(pub Mutex<Vec<crate::domain::InviteId>>);

#[async_trait]
impl AuthorizedEvents for CountingEvents {
    async fn invite_authorized(&self, invite: &crate::domain::InviteId) {
        self.0.lock().expect("lock").push(invite.clone());
    }
}

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
    /// The store, concretely.
    pub store: Arc<SqliteStore>,
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

impl TestKit {
    /// A fresh kit with the public base URL `https://cartlink.test`.
    pub fn new() -> TestKit {
        let dir = tempfile::tempdir().expect("tempdir");
        let warehouse = Warehouse {
            id: WarehouseId::parse("wh-test").expect("id"),
            display_name: "Test Warehouse".into(),
            notify_email: "ops@warehouse.test".into(),
            api_key_hashes: vec![TokenHash::of(TEST_API_KEY)],
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
        };
        let mailer = Arc::new(RecordingMailer::default());
        let oauth = Arc::new(FakeTokenEndpoint::default());
        let clock = Arc::new(ManualClock::at(T0));
        let events = Arc::new(CountingEvents::default());
        let store = Arc::new(SqliteStore::open(dir.path()).expect("store"));
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
        };
        TestKit {
            services,
            mailer,
            oauth,
            clock,
            events,
            store,
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
