//! The end-to-end harness: starts the real peers (oidc-provider as a cart, `cartlink-local`)
//! on free loopback ports with a fresh data dir, and gives tests a browser-like HTTP client,
//! the outbox, and the peer's view of token requests. Everything stops when the harness drops.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

/// The API key of the test warehouse.
pub const API_KEY: &str = "e2e-warehouse-key";
/// The dev warehouse's API key (the sandbox walk-through of the README uses it).
pub const DEV_API_KEY: &str = "e2e-dev-key";
/// The admin API's key of every local server the tests start (`CARTLINK_ADMIN_KEY`).
pub const ADMIN_KEY: &str = "e2e-admin-key";
/// The generic cart's id, served by oidc-provider.
pub const CART: &str = "oidc-cart";
/// The app's client id at the cart.
pub const CLIENT_ID: &str = "cartlink-e2e";
/// The app's client secret at the cart.
pub const CLIENT_SECRET: &str = "e2e-client-secret";

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A listener on a free loopback port, bound now and kept, with its port: a server started on
/// it later cannot lose the port to another test in between (as one bound by port number
/// could, after [`free_port`] gave it out).
pub fn loopback_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

pub mod aws;
pub mod aws_faults;
pub mod aws_ops;

/// The workspace's root: the folder that holds `tests/`.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds tests/")
        .to_path_buf()
}

/// What `cargo tree --locked -e normal --prefix none` prints for `args` (the package and any
/// other options) in the workspace: each package's normal dependencies, one per line.
pub fn cargo_tree(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .current_dir(workspace())
        .args(["tree", "--locked", "-e", "normal", "--prefix", "none"])
        .args(args)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The Lambda functions: every package under `functions/`, one crate each, sorted.
pub fn function_crates() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace().join("functions"))
        .expect("functions/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| {
            p.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert!(names.len() >= 6, "the functions were found: {names:?}");
    names
}

fn local_binary() -> PathBuf {
    if let Ok(p) = std::env::var("CARTLINK_LOCAL_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join("target"));
    let bin = target.join("debug").join("cartlink-local");
    assert!(
        bin.exists(),
        "{} is missing: run `make test` (it builds it first)",
        bin.display()
    );
    bin
}

/// The `cartlink` command-line client (`CARTLINK_CLI_BIN`, else `target/debug/cartlink`,
/// which `make test` builds first).
pub fn cli_binary() -> PathBuf {
    if let Ok(p) = std::env::var("CARTLINK_CLI_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join("target"));
    let bin = target.join("debug").join("cartlink");
    assert!(
        bin.exists(),
        "{} is missing: run `make test` (it builds it first)",
        bin.display()
    );
    bin
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether the child printed a line starting with `prefix` (it is ready) before it ended or
/// 20 s passed. Every line it prints, before and after, is copied to `sink` if given (its log:
/// cartlink logs to standard output), else dropped.
fn wait_for_line(child: &mut Child, prefix: &str, mut sink: Option<std::fs::File>) -> bool {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut copy = move |line: &str| {
        if let Some(f) = sink.as_mut() {
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) if line.starts_with(prefix) => {
                copy(&line);
                std::thread::spawn(move || {
                    for line in lines.map_while(Result::ok) {
                        copy(&line);
                    }
                });
                return true;
            }
            Some(Ok(line)) => copy(&line),
            _ => break,
        }
    }
    false
}

/// Starts a peer with `start` on fresh free ports until one comes up: a port found free can be
/// taken by any outbound connection before the peer binds it, so a start may fail for that
/// alone. Three tries, then the test fails saying which peer.
fn with_fresh_ports<T>(what: &str, start: impl Fn() -> Option<T>) -> T {
    (0..3).find_map(|_| start()).unwrap_or_else(|| {
        panic!("{what} did not start (is `npm ci --prefix tests` done? `make test` does it)")
    })
}

/// Starts cartlink-local on `port` with the data dir, configuration and log under `dir`
/// (`data/`, `cartlink.toml`, `cartlink.log`, appended to), plus `env`; `None` if it did not
/// come up.
fn spawn_cartlink(port: u16, dir: &Path, env: &[(&str, &str)]) -> Option<Killed> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("cartlink.log"))
        .unwrap();
    let child = Command::new(local_binary())
        .env("CARTLINK_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "CARTLINK_PUBLIC_BASE_URL",
            format!("http://127.0.0.1:{port}"),
        )
        .env("CARTLINK_DATA_DIR", dir.join("data"))
        .env("CARTLINK_CONFIG", dir.join("cartlink.toml"))
        .env("CARTLINK_DEV_API_KEY", DEV_API_KEY)
        .env("CARTLINK_ADMIN_KEY", ADMIN_KEY)
        .env("E2E_CART_SECRET", CLIENT_SECRET)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log.try_clone().unwrap()))
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    wait_for_line(&mut child.0, "cartlink (local) listening", Some(log)).then_some(child)
}

/// A warehouse's webhook receiver (`tests/peers/webhook_receiver.py`), verifying every delivery
/// with the Standard Webhooks reference library.
pub struct Receiver {
    /// Where cartlink posts (`http://127.0.0.1:<port>/hook`).
    pub url: String,
    base: String,
    _child: Killed,
}

impl Receiver {
    /// Starts it on a free port.
    pub fn start() -> Receiver {
        with_fresh_ports("webhook receiver", || {
            let port = free_port();
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let mut child = Killed(
                Command::new(root.join("../.venv-api/bin/python"))
                    .arg(root.join("peers/webhook_receiver.py"))
                    .arg(port.to_string())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .expect("the API venv's python (make test-deps)"),
            );
            let base = format!("http://127.0.0.1:{port}");
            wait_for_line(&mut child.0, "listening", None).then(|| Receiver {
                url: format!("{base}/hook"),
                base,
                _child: child,
            })
        })
    }

    /// Sets its control (`secrets`, `fail_first`, `fail_status`, `hang_first`, `hang_secs`,
    /// `always_status`).
    pub async fn control(&self, control: Value) {
        reqwest::Client::new()
            .post(format!("{}/_control", self.base))
            .json(&control)
            .send()
            .await
            .unwrap();
    }

    /// Every delivery it saw, oldest first.
    pub async fn log(&self) -> Vec<Value> {
        reqwest::get(format!("{}/_log", self.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits (up to `secs`) until `done` holds of its log; answers the log.
    pub async fn wait_until(&self, secs: u64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let log = self.log().await;
            if done(&log) || Instant::now() > deadline {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// oidc-provider, running as the generic cart `oidc-cart`.
pub struct Cart {
    /// Its issuer URL (`http://127.0.0.1:<port>`).
    pub base: String,
    _child: Killed,
}

impl Cart {
    /// Starts it with `redirect_uri` as the one registered callback.
    pub fn start(redirect_uri: &str) -> Cart {
        Cart::start_with(redirect_uri, 3600)
    }

    /// Starts it with access tokens living `access_ttl` seconds (refreshed ones an hour).
    pub fn start_with(redirect_uri: &str, access_ttl: u32) -> Cart {
        Cart::start_with_ttls(redirect_uri, access_ttl, 3600)
    }

    /// Starts it with access tokens from the code living `access_ttl` seconds, and refreshed
    /// ones `refreshed_ttl` seconds.
    pub fn start_with_ttls(redirect_uri: &str, access_ttl: u32, refreshed_ttl: u32) -> Cart {
        with_fresh_ports("oidc-provider", || {
            Cart::try_start(redirect_uri, access_ttl, refreshed_ttl, 0)
        })
    }

    /// Starts it answering every token request only after `token_delay_ms` (a slow cart).
    pub fn start_with_token_delay(redirect_uri: &str, token_delay_ms: u32) -> Cart {
        with_fresh_ports("oidc-provider", || {
            Cart::try_start(redirect_uri, 3600, 3600, token_delay_ms)
        })
    }

    fn try_start(
        redirect_uri: &str,
        access_ttl: u32,
        refreshed_ttl: u32,
        token_delay_ms: u32,
    ) -> Option<Cart> {
        let port = free_port();
        let tests_dir = workspace().join("tests");
        let child = Command::new("node")
            .arg(tests_dir.join("peers/oidc-cart.mjs"))
            .current_dir(&tests_dir)
            .env("PORT", port.to_string())
            .env("REDIRECT_URI", redirect_uri)
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("ACCESS_TOKEN_TTL", access_ttl.to_string())
            .env("TOKEN_DELAY_MS", token_delay_ms.to_string())
            .env("REFRESHED_ACCESS_TOKEN_TTL", refreshed_ttl.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node must be installed");
        let mut child = Killed(child);
        wait_for_line(&mut child.0, "ready", None).then(|| Cart {
            base: format!("http://127.0.0.1:{port}"),
            _child: child,
        })
    }

    /// The cart's counters: token requests and issued tokens.
    pub async fn stats(&self) -> Value {
        reqwest::get(format!("{}/__peer/stats", self.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// How many token requests reached the cart.
    pub async fn token_requests(&self) -> u64 {
        self.stats().await["tokenRequests"].as_u64().unwrap()
    }

    /// The configuration file text that makes cartlink use this cart (and know the e2e
    /// warehouse); the client secret comes from `E2E_CART_SECRET` ([`CLIENT_SECRET`]).
    pub fn config_toml(&self) -> String {
        let cart_base = &self.base;
        format!(
            r#"
[[warehouses]]
id = "wh-e2e"
name = "E2E Fulfilment"
notify_email = "ops@e2e-warehouse.test"
api_key_sha256 = ["{key_hash}"]

[[carts]]
id = "{CART}"
name = "OIDC Cart"
authorize_url = "{cart_base}/auth"
token_url = "{cart_base}/token"
client_id = "{CLIENT_ID}"
client_secret_env = "E2E_CART_SECRET"
token_auth = "body"
pkce = "required"
issuer = "{cart_base}"
[carts.revocation]
url = "{cart_base}/token/revocation"
source = "oidc-provider features.revocation (RFC 7009)"
[carts.scopes]
orders = ["orders:read"]
inventory = ["inventory:write"]
"#,
            key_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(API_KEY.as_bytes())),
        )
    }
}

/// The running peers of one test.
pub struct Peers {
    /// cartlink's public base URL.
    pub base: String,
    /// The cart's issuer URL.
    pub cart_base: String,
    /// cartlink's data dir.
    pub data_dir: tempfile::TempDir,
    cart: Cart,
    port: u16,
    cartlink: Option<Killed>,
    env: Vec<(String, String)>,
}

impl Peers {
    /// Starts oidc-provider and cartlink-local.
    pub fn start() -> Peers {
        Peers::start_with_access_ttl(3600)
    }

    /// Starts them with the cart's access tokens living `access_ttl` seconds.
    pub fn start_with_access_ttl(access_ttl: u32) -> Peers {
        with_fresh_ports("cartlink-local", || Peers::try_start(access_ttl, 0, &[]))
    }

    /// Starts them with a cart that answers every token request only after `token_delay_ms`.
    pub fn start_with_token_delay(token_delay_ms: u32) -> Peers {
        with_fresh_ports("cartlink-local", || {
            Peers::try_start(3600, token_delay_ms, &[])
        })
    }

    /// Starts them with `env` added to cartlink-local's environment (every start of it).
    pub fn start_with_env(env: &[(&str, &str)]) -> Peers {
        with_fresh_ports("cartlink-local", || Peers::try_start(3600, 0, env))
    }

    fn try_start(access_ttl: u32, token_delay_ms: u32, env: &[(&str, &str)]) -> Option<Peers> {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let redirect_uri = format!("{base}/oauth/callback/{CART}");
        let cart = with_fresh_ports("oidc-provider", || {
            Cart::try_start(&redirect_uri, access_ttl, 3600, token_delay_ms)
        });
        let data_dir = tempfile::tempdir().unwrap();
        std::fs::write(data_dir.path().join("cartlink.toml"), cart.config_toml()).unwrap();
        let cartlink = spawn_cartlink(port, data_dir.path(), env)?;
        Some(Peers {
            base,
            cart_base: cart.base.clone(),
            data_dir,
            cart,
            port,
            cartlink: Some(cartlink),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })
    }

    /// Kills cartlink-local with SIGKILL (`Child::kill` on Unix: no handler, no flush, as a
    /// crash) and waits until it is gone.
    pub fn kill_cartlink(&mut self) {
        if let Some(mut child) = self.cartlink.take() {
            child.0.kill().unwrap();
            child.0.wait().unwrap();
        }
    }

    /// Starts cartlink-local again on the same port, data dir and configuration.
    pub fn restart_cartlink(&mut self) {
        self.start_cartlink(&[]);
    }

    /// Starts cartlink-local again on the same port, data dir and configuration, with `env`
    /// added (a test hook, say). A start can lose the port to an outbound connection for a
    /// moment, so it is tried a few times.
    pub fn start_cartlink(&mut self, env: &[(&str, &str)]) {
        assert!(self.cartlink.is_none(), "cartlink-local is still running");
        let mut all: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        all.extend_from_slice(env);
        for _ in 0..10 {
            if let Some(child) = spawn_cartlink(self.port, self.data_dir.path(), &all) {
                self.cartlink = Some(child);
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("cartlink-local did not start again on port {}", self.port);
    }

    /// cartlink's data dir.
    pub fn data(&self) -> PathBuf {
        self.data_dir.path().join("data")
    }

    /// What cartlink logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.path().join("cartlink.log")).unwrap_or_default()
    }

    /// The cart's counters: token requests and issued tokens.
    pub async fn cart_stats(&self) -> Value {
        self.cart.stats().await
    }

    /// How many token requests reached the cart.
    pub async fn token_requests(&self) -> u64 {
        self.cart.token_requests().await
    }

    /// The messages in the outbox, oldest first (by the time each file was written: a message
    /// sent once per invite and kind has a file name of its own, not a time-ordered one).
    pub fn outbox(&self) -> Vec<Email> {
        let dir = self.data().join("outbox");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|(_, p)| Email::parse(&std::fs::read(p).unwrap()))
            .collect()
    }

    /// Waits (up to 10 s) until the outbox holds `n` messages.
    pub async fn wait_for_emails(&self, n: usize) -> Vec<Email> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mails = self.outbox();
            if mails.len() >= n || Instant::now() > deadline {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Creates an invite through the API; answers (status, body).
    pub async fn create_invite(&self, body: &Value) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/invites", self.base))
            .bearer_auth(API_KEY)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// A merchant at `email` connected through a new invite of the e2e warehouse: the invite
    /// emailed, its link opened, the grant run at the cart and its callback loaded in one
    /// browser. Answers (invite id, connection id).
    pub async fn connect_merchant(&self, email: &str) -> (String, String) {
        let c = self.connect_merchant_seen(email).await;
        (c.invite, c.connection)
    }

    /// The same, answering also the grant's secrets that passed by (to search logs for).
    pub async fn connect_merchant_seen(&self, email: &str) -> ConnectedMerchant {
        let (status, created) = self
            .create_invite(&serde_json::json!({"cart": CART, "merchant_email": email}))
            .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let link = created["setup_url"].as_str().unwrap().to_owned();
        let b = browser();
        b.get(&link).send().await.unwrap();
        let resp = b.post(format!("{link}/grant")).send().await.unwrap();
        assert_eq!(resp.status(), 303);
        let binding = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.split(';')
                    .next()?
                    .split_once('=')
                    .map(|(_, v)| v.to_owned())
            })
            .expect("the binding cookie");
        let authorize = location(&resp, &link);
        let callback = at_cart(
            &b,
            &authorize,
            &format!("{}/oauth/callback/{CART}", self.base),
            false,
        )
        .await;
        assert_eq!(b.get(&callback).send().await.unwrap().status(), 200);
        let query = |name: &str| {
            Url::parse(&callback)
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let (state, code) = (query("state"), query("code"));
        let verifier = shared::domain::PkceVerifier::derive(
            &shared::domain::BrowserBinding::parse(&binding).expect("a binding"),
            &shared::domain::GrantState::parse(&state).expect("a state"),
        )
        .expose()
        .to_owned();
        let invite: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/v1/invites/{id}", self.base))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ConnectedMerchant {
            invite: id,
            connection: invite["connection"]["id"].as_str().unwrap().to_owned(),
            state,
            code,
            verifier,
        }
    }

    /// Every file under the data dir, concatenated (to search for plaintext).
    pub fn data_dir_bytes(&self) -> Vec<u8> {
        fn walk(dir: &Path, out: &mut Vec<u8>) {
            for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
                let p = entry.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if let Ok(bytes) = std::fs::read(&p) {
                    out.extend(bytes);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data(), &mut out);
        out
    }

    /// Runs SQL against cartlink's SQLite store (to read raw rows, or to make time pass).
    pub fn sql(&self) -> rusqlite::Connection {
        let db = rusqlite::Connection::open(self.data().join("cartlink.db")).unwrap();
        db.busy_timeout(Duration::from_secs(5)).unwrap();
        db
    }
}

/// A merchant connected through the grant page and the cart, with the grant's secrets.
pub struct ConnectedMerchant {
    /// The invite id.
    pub invite: String,
    /// The connection id.
    pub connection: String,
    /// The OAuth `state` of the grant.
    pub state: String,
    /// The authorization code the cart sent back.
    pub code: String,
    /// The PKCE verifier the browser's binding cookie derives.
    pub verifier: String,
}

/// Starts cartlink-local serving `base` on the embedded adapters in `<dir>/data`, configured
/// by `<dir>/cartlink.toml`, logging to `<dir>/cartlink.log` (appended, so a restart keeps what
/// was logged before); `None` if it did not come up.
/// A browser: its own cookie jar, redirects not followed (the test follows them).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The absolute URL a redirect response points to.
pub fn location(resp: &reqwest::Response, base: &str) -> String {
    let loc = resp.headers()["location"].to_str().unwrap();
    Url::parse(base).unwrap().join(loc).unwrap().to_string()
}

/// Walks the cart's login and consent (or cancels at the first page), following redirects,
/// until the cart sends the browser to our callback. Answers the callback URL (not yet opened).
pub async fn at_cart(
    b: &reqwest::Client,
    authorize_url: &str,
    callback_prefix: &str,
    decline: bool,
) -> String {
    let mut url = authorize_url.to_owned();
    for _ in 0..20 {
        if url.starts_with(callback_prefix) {
            return url;
        }
        let resp = b.get(&url).send().await.unwrap();
        if resp.status().is_redirection() {
            url = location(&resp, &url);
            continue;
        }
        assert_eq!(resp.status(), 200, "cart page {url}");
        let html = resp.text().await.unwrap();
        let action = html
            .split("action=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let prompt = html
            .split("name=\"prompt\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let resp = if decline {
            b.get(format!("{action}/abort")).send().await.unwrap()
        } else if prompt == "login" {
            b.post(&action)
                .form(&[
                    ("prompt", "login"),
                    ("login", "merchant-alice"),
                    ("password", "x"),
                ])
                .send()
                .await
                .unwrap()
        } else {
            b.post(&action)
                .form(&[("prompt", prompt.as_str())])
                .send()
                .await
                .unwrap()
        };
        assert!(
            resp.status().is_redirection(),
            "cart form answered {}",
            resp.status()
        );
        url = location(&resp, &action);
    }
    panic!("the cart never sent the browser back");
}

/// One outbox message.
#[derive(Clone, Debug)]
pub struct Email {
    /// `To`.
    pub to: String,
    /// `Subject` (decoded).
    pub subject: String,
    /// The text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// The invite it is about (`X-Cartlink-invite-id`).
    pub invite_id: String,
    /// Which email it is (`X-Cartlink-kind`, `merchant_confirmation`, …).
    pub kind: String,
    /// `Reply-To`, if set.
    pub reply_to: Option<String>,
}

impl Email {
    /// Reads one outbox message (`.eml`) with a MIME parser, as a mail client would.
    pub fn parse(raw: &[u8]) -> Email {
        let m = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("an outbox message that parses as MIME");
        let header = |name: &str| {
            m.header(name)
                .and_then(|h| h.as_text())
                .unwrap_or_default()
                .to_owned()
        };
        Email {
            to: m
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_owned(),
            subject: m.subject().unwrap_or_default().to_owned(),
            text: m.body_text(0).expect("a text part").into_owned(),
            html: m.body_html(0).expect("an HTML part").into_owned(),
            invite_id: header("X-Cartlink-invite-id"),
            kind: header("X-Cartlink-kind"),
            reply_to: m
                .reply_to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .map(str::to_owned),
        }
    }

    /// The first URL in the text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with(prefix))
            .map(str::to_owned)
    }

    /// The access code in the text part.
    pub fn access_code(&self) -> Option<String> {
        self.text
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 11 && l.as_bytes()[5] == b'-')
            .map(str::to_owned)
    }
}

/// What the code under test logs on this thread while the capture lives, in the functions' own
/// line format (to find alarm lines, and to check that no secret is in them). `#[tokio::test]`
/// runs every task of a test on its thread.
pub struct LogCapture {
    lines: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    _installed: tracing::subscriber::DefaultGuard,
}

struct CapturedLines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Starts capturing (info and above, as deployed).
    pub fn start() -> LogCapture {
        use tracing_subscriber::util::SubscriberInitExt;
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        let installed = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_target(false)
            .with_writer(move || CapturedLines(sink.clone()))
            .set_default();
        LogCapture {
            lines,
            _installed: installed,
        }
    }

    /// The lines logged so far that contain `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.lines.lock().unwrap())
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().unwrap()).into_owned()
    }
}
