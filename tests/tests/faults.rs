//! The fault table (exactly once under faults): the merchant flow and the refresh run with one
//! fault injected at one call of one port (the store, the vault, the mailer, the cart's token
//! endpoint): an error, a timeout, or a crash right before or right after the call. Then the
//! system recovers as it does in production (the process restarts, the confirmation event is
//! delivered again, leases and claims run out), the merchant retries from the link if the page
//! told them to, and the warehouse asks for the token again. After that, what must hold:
//! - the row's outcome ([`Holds`]): connected once with both confirmations sent once each, or,
//!   where the fault destroyed rotated tokens the cart had already issued, the connection
//!   marked for re-authorization and the warehouse told once;
//! - no authorization code redeemed twice;
//! - every "connected" page was true when shown;
//! - no token, code, state, browser binding or link token in any log line.
//!
//! Every row runs on the embedded adapters (SQLite, local key, outbox) and on moto (DynamoDB,
//! KMS, SES through the real SDK clients). The token endpoint is the test fake that counts the
//! codes it is asked to redeem and rotates refresh tokens strictly.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use cartlink_e2e::aws::{World, VERIFIED_DOMAIN};
use cartlink_e2e::Email;
use shared::carts::Catalog;
use shared::clock::{Clock, ManualClock};
use shared::domain::{ConnectionStatus, InviteId, Warehouse, WarehouseId};
use shared::mailer::{Mailer, Outbox};
use shared::service::setup::GrantNext;
use shared::service::Services;
use shared::store::Store;
use shared::testing::faults::{
    until_crash, Fault, FaultPlan, FaultPoint, FaultyMailer, FaultyStore, FaultyTokenEndpoint,
    FaultyVault, Port,
};
use shared::testing::{acme_cart, new_invite, FakeTokenEndpoint, ACME_ISS, T0, TEST_API_KEY};

/// What must hold after a faulted run and its recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Holds {
    /// The invite is connected with exactly one connection, each confirmation went out exactly
    /// once, and the warehouse is served a refreshed token.
    Connected,
    /// The cart rotated the refresh token but the new pair never reached the store: the old
    /// one is dead (a strict cart refuses it), so the connection needs re-authorization and the
    /// warehouse is told once. Nothing can recover tokens the cart handed out and we lost.
    NeedsReauth,
    /// Connected as [`Holds::Connected`], but the fault fell between the mail service accepting
    /// a message and its send record being written: the outbox writes one file per message
    /// key, so it still holds one email; SES has no idempotency key, so it may send it twice.
    ConnectedMailMayRepeat,
}

/// Where the rows' emails land, to count them at the peer (outbox files, or moto's SES).
enum Mailbox {
    Outbox(std::path::PathBuf),
    /// moto's SES: the rows' checks wait here until the sweep reads the capture once.
    Ses(Arc<Mutex<Vec<MailCheck>>>),
}

/// One row's services: faulty ports over real adapters.
struct Rig {
    svc: Arc<Services>,
    plan: Arc<FaultPlan>,
    cart: Arc<FakeTokenEndpoint>,
    clock: Arc<ManualClock>,
    raw: Arc<dyn Store>,
    mailbox: Mailbox,
    merchant: String,
    warehouse: String,
    _dir: Option<tempfile::TempDir>,
}

fn test_warehouse(notify: &str) -> Warehouse {
    Warehouse {
        id: WarehouseId::parse("wh-test").expect("id"),
        display_name: "Test Warehouse".into(),
        notify_email: notify.into(),
        api_key_hashes: vec![shared::domain::TokenHash::of(TEST_API_KEY)],
        brand: Default::default(),
        locale: None,
    }
}

fn unique() -> String {
    hex_suffix(8)
}

fn hex_suffix(n: usize) -> String {
    shared::domain::secrets::random_token()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(n)
        .collect::<String>()
        .to_lowercase()
}

/// Wraps the real adapters of `svc` in the plan's faulty ports, with the fake cart and a manual
/// clock.
fn rig(
    mut svc: Services,
    mailbox: Mailbox,
    merchant: String,
    warehouse: String,
    dir: Option<tempfile::TempDir>,
) -> Rig {
    let plan = FaultPlan::new();
    let cart = Arc::new(FakeTokenEndpoint::default());
    let clock = Arc::new(ManualClock::at(T0));
    let raw = svc.store.clone();
    svc.store = Arc::new(FaultyStore::new(raw.clone(), plan.clone()));
    svc.vault = Arc::new(FaultyVault::new(svc.vault.clone(), plan.clone()));
    svc.mailer = Arc::new(FaultyMailer::new(svc.mailer.clone(), plan.clone()));
    svc.oauth = Arc::new(FaultyTokenEndpoint::new(cart.clone(), plan.clone()));
    svc.clock = clock.clone();
    Rig {
        svc: Arc::new(svc),
        plan,
        cart,
        clock,
        raw,
        mailbox,
        merchant,
        warehouse,
        _dir: dir,
    }
}

/// The embedded family: SQLite, the local key and the outbox in a fresh folder.
fn embedded() -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let warehouse = format!("ops-{}@warehouse.test", unique());
    let mut config = shared::config::Config::load(&|k| match k {
        "CARTLINK_DATA_DIR" => Some(dir.path().display().to_string()),
        "CARTLINK_PUBLIC_BASE_URL" => Some("https://cartlink.test".into()),
        _ => None,
    })
    .expect("config");
    config.warehouses = vec![test_warehouse(&warehouse)];
    config.carts = vec![acme_cart()];
    let catalog = Catalog::from_config(&config);
    let mut svc = Services::embedded(config, catalog, Arc::new(shared::events::StreamDelivered))
        .expect("embedded services");
    let outbox = Outbox::new(dir.path(), "cartlink <no-reply@cartlink.test>").expect("outbox");
    let outbox_dir = outbox.dir().to_path_buf();
    svc.mailer = Arc::new(outbox) as Arc<dyn Mailer>;
    rig(
        svc,
        Mailbox::Outbox(outbox_dir),
        "merchant@shop.test".into(),
        warehouse,
        Some(dir),
    )
}

/// The moto family: DynamoDB, KMS and SES of `world`, a merchant and a warehouse address of
/// this row's own (moto's mail capture is shared by every row).
/// A row's services on moto, on a table of the row's own: moto copies every table a
/// `TransactWriteItems` names, whole (its rollback), so one table shared by the hundreds of rows
/// made each commit copy every earlier row's items and stream records (gigabytes by the end).
async fn on_moto(world: &World, deferred: &Arc<Mutex<Vec<MailCheck>>>) -> Rig {
    let suffix = unique();
    let table = format!("{}-{suffix}", world.table);
    cartlink_e2e::aws::create_table(&world.sdk, &table).await;
    let warehouse = format!("ops-{suffix}@warehouse.test");
    let mut config = world.config(&format!("cartlink <no-reply@{VERIFIED_DOMAIN}>"));
    config.aws.table = Some(table);
    config.warehouses = vec![test_warehouse(&warehouse)];
    config.carts = vec![acme_cart()];
    let catalog = Catalog::from_config(&config);
    let svc = Services::aws(config, catalog, &world.sdk).expect("aws services");
    rig(
        svc,
        Mailbox::Ses(deferred.clone()),
        format!("merchant-{suffix}@shop.test"),
        warehouse,
        None,
    )
}

impl Rig {
    /// Subjects of the emails sent to `to`, at the peer.
    async fn subjects_to(&self, to: &str) -> Vec<String> {
        match &self.mailbox {
            Mailbox::Outbox(dir) => {
                let mut out = Vec::new();
                let files = std::fs::read_dir(dir).expect("outbox").flatten();
                for path in files
                    .map(|e| e.path())
                    .filter(|p| p.extension() == Some("eml".as_ref()))
                {
                    let email = Email::parse(&std::fs::read(path).expect("an outbox message"));
                    if email.to == to {
                        out.push(email.subject);
                    }
                }
                out
            }
            Mailbox::Ses(_) => unreachable!("SES is read once per sweep"),
        }
    }
}

/// The emails a row must have left at the peer.
struct MailCheck {
    label: String,
    holds: Holds,
    merchant: String,
    warehouse: String,
}

impl MailCheck {
    /// Checks the subjects sent to the row's merchant and warehouse; `ses` says whether the
    /// mail service was SES (no idempotency key).
    fn check(&self, ses: bool, merchant: &[String], warehouse: &[String]) -> Result<(), String> {
        let count = |subjects: &[String], needle: &str| {
            subjects.iter().filter(|s| s.contains(needle)).count()
        };
        let once = |n: usize| match (self.holds, ses) {
            (Holds::ConnectedMailMayRepeat, true) => (1..=2).contains(&n),
            _ => n == 1,
        };
        let label = &self.label;
        if !once(count(merchant, "You gave")) {
            return Err(format!("{label}: merchant emails {merchant:?}"));
        }
        if !once(count(warehouse, "connected their")) {
            return Err(format!("{label}: warehouse emails {warehouse:?}"));
        }
        let told = count(warehouse, "needs to be granted again");
        let expected = usize::from(self.holds == Holds::NeedsReauth);
        if told != expected {
            return Err(format!(
                "{label}: {told} re-authorization emails, not {expected}"
            ));
        }
        // A dead grant also sends the merchant one reconnect invite, by itself.
        let renewals = count(merchant, "Renew ");
        if renewals != expected {
            return Err(format!(
                "{label}: {renewals} reconnect invites to the merchant, not {expected}"
            ));
        }
        Ok(())
    }
}

/// What a run left for the checks: the values that must never be logged, and what the pages
/// promised.
#[derive(Default)]
struct Trail {
    secrets: Vec<String>,
    codes: Vec<String>,
}

/// How a step ended.
enum Step<T> {
    Done(T),
    /// It answered an error (the page or API said so).
    Failed,
    /// The process died in it.
    Crashed,
}

async fn step<T: Send + 'static, E: Send + 'static>(
    plan: &FaultPlan,
    fut: impl std::future::Future<Output = Result<T, E>> + Send + 'static,
) -> Step<T> {
    match until_crash(plan, fut).await {
        None => Step::Crashed,
        Some(Ok(v)) => Step::Done(v),
        Some(Err(_)) => Step::Failed,
    }
}

/// One grant from the link: start, the cart's consent (the fake cart issues `code`), the
/// callback. Answers whether the callback page said "connected"; `None` when a step failed or
/// the process died.
async fn grant(
    rig: &Rig,
    trail: &mut Trail,
    invite: &InviteId,
    token: &str,
    code: &str,
) -> Option<()> {
    let svc = rig.svc.clone();
    let t = token.to_owned();
    let opened = step(
        &rig.plan,
        async move { svc.open_link(&t).await.map(|_| ()) },
    )
    .await;
    if !matches!(opened, Step::Done(())) {
        return None;
    }
    let svc = rig.svc.clone();
    let t = token.to_owned();
    let started = step(&rig.plan, async move {
        svc.start_grant(&t).await.map(|g| {
            let GrantNext::Redirect(url) = &g.next else {
                panic!("the test cart redirects");
            };
            let url = url::Url::parse(url).expect("authorize URL");
            let state = url
                .query_pairs()
                .find(|(k, _)| k == "state")
                .expect("state")
                .1
                .into_owned();
            (state, g.binding.expose().to_owned())
        })
    })
    .await;
    let Step::Done((state, binding)) = started else {
        return None;
    };
    trail.secrets.push(state.clone());
    trail.secrets.push(binding.clone());
    trail.codes.push(code.to_owned());
    let svc = rig.svc.clone();
    let params: HashMap<String, String> = [("code", code), ("state", &state), ACME_ISS]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let called = step(&rig.plan, async move {
        svc.complete_callback(shared::service::callback::CallbackRequest {
            cart: "acme",
            params: &params,
            repeated: None,
            binding_cookie: Some(&binding),
            state_cookie: None,
        })
        .await
        .map(|_| ())
    })
    .await;
    match called {
        Step::Done(()) => {
            // THEN the "Successful Authorization" page is true when shown.
            let stored = rig.raw.connection_for_invite(invite).await.expect("read");
            assert!(
                stored.is_some(),
                "the page said connected, the store has no connection"
            );
            Some(())
        }
        Step::Failed | Step::Crashed => None,
    }
}

/// The warehouse asks for a fresh token once the stored one is due.
async fn ask_token(rig: &Rig, invite: &InviteId) -> Step<String> {
    let Some(conn) = rig.raw.connection_for_invite(invite).await.expect("read") else {
        return Step::Failed;
    };
    let svc = rig.svc.clone();
    step(&rig.plan, async move {
        svc.fresh_connection(&conn.id)
            .await
            .map(|open| open.tokens.access_token.expose().to_owned())
    })
    .await
}

/// The flow with whatever fault is armed; it stops at the first step that fails or dies.
async fn faulted_flow(rig: &Rig, trail: &mut Trail, invite: &InviteId, token: &str) {
    if grant(rig, trail, invite, token, "code-1").await.is_none() {
        return;
    }
    let svc = rig.svc.clone();
    let id = invite.clone();
    if !matches!(
        step(&rig.plan, async move { svc.confirm(&id).await }).await,
        Step::Done(_)
    ) {
        return;
    }
    // The exchanged tokens expire at 2_000_000_000; the refresh is due after this.
    rig.clock.advance(2_000_000_000 - T0.0);
    let _ = ask_token(rig, invite).await;
}

/// Recovery, as production does it: the process restarts (faults gone), claims and leases run
/// out, the merchant retries from the link when not connected, the confirmation event is
/// delivered again, and the warehouse asks for its token again.
async fn recover(rig: &Rig, trail: &mut Trail, invite: &InviteId, token: &str) -> Option<String> {
    rig.plan.arm(None);
    // Leases (send records, refresh) and claims end well within ten minutes.
    rig.clock.advance(600);
    let connected = rig
        .raw
        .invite(invite)
        .await
        .expect("read")
        .is_some_and(|i| i.status.is_connected());
    if !connected {
        grant(rig, trail, invite, token, "code-2")
            .await
            .expect("the merchant's retry connects");
    }
    rig.svc
        .confirm(invite)
        .await
        .expect("the redelivered confirmation event completes");
    let due = rig.clock.now().0.max(2_000_000_000) - rig.clock.now().0;
    rig.clock.advance(due);
    match ask_token(rig, invite).await {
        Step::Done(token) => Some(token),
        _ => None,
    }
}

/// Runs one row (or, with `point` `None`, the clean flow) and checks what must hold.
async fn run_row(
    rig: Rig,
    point: Option<FaultPoint>,
    holds: Holds,
    logs: &LogBuffer,
) -> Vec<(Port, &'static str, usize)> {
    let label = format!("{point:?}");
    // GIVEN an emailed invite (created before the fault is armed)
    let wh = rig
        .svc
        .warehouses
        .authenticate(TEST_API_KEY)
        .expect("key")
        .clone();
    let mut request = new_invite("acme");
    request.merchant_email = rig.merchant.clone();
    let created = rig.svc.create_invite(&wh, request).await.expect("invite");
    let token = created
        .setup_url
        .rsplit('/')
        .next()
        .expect("token")
        .to_owned();
    let invite = created.invite.id.clone();
    let mut trail = Trail {
        secrets: vec![token.clone()],
        ..Trail::default()
    };
    // WHEN the flow runs with the fault, then recovers
    rig.plan.arm(point);
    faulted_flow(&rig, &mut trail, &invite, &token).await;
    if let Some(p) = point {
        assert!(
            rig.plan.fired(),
            "{label}: the fault point was never reached"
        );
        let _ = p;
    }
    let flow_calls = rig.plan.calls();
    let served = recover(&rig, &mut trail, &invite, &token).await;

    // THEN no code was redeemed twice
    let seen: Vec<String> = rig
        .cart
        .seen
        .lock()
        .expect("lock")
        .iter()
        .map(|s| s.code.clone())
        .collect();
    let mut unique_codes = seen.clone();
    unique_codes.sort();
    unique_codes.dedup();
    assert_eq!(
        seen.len(),
        unique_codes.len(),
        "{label}: a code was redeemed twice: {seen:?}"
    );
    // AND the invite has exactly one connection
    let stored = rig
        .raw
        .invite(&invite)
        .await
        .expect("read")
        .expect("invite");
    assert!(
        stored.status.is_connected(),
        "{label}: invite is {:?}",
        stored.status
    );
    let connection = rig
        .raw
        .connection_for_invite(&invite)
        .await
        .expect("read")
        .expect("a connection");
    // AND each confirmation went out exactly once (at the peer; moto's capture is read once for
    // the whole sweep, since reading it costs as much as everything moto holds)
    let mail = MailCheck {
        label: label.clone(),
        holds,
        merchant: rig.merchant.clone(),
        warehouse: rig.warehouse.clone(),
    };
    match &rig.mailbox {
        Mailbox::Outbox(_) => {
            let merchant = rig.subjects_to(&rig.merchant).await;
            let warehouse = rig.subjects_to(&rig.warehouse).await;
            if let Err(why) = mail.check(false, &merchant, &warehouse) {
                panic!("{why}");
            }
        }
        Mailbox::Ses(deferred) => deferred.lock().expect("lock").push(mail),
    }
    // AND the outcome of the row holds
    match holds {
        Holds::Connected | Holds::ConnectedMailMayRepeat => {
            assert_eq!(connection.status, ConnectionStatus::Active, "{label}");
            let token = served.unwrap_or_else(|| panic!("{label}: no token served after recovery"));
            assert!(token.starts_with("CANARY_AT_R"), "{label}: served {token}");
        }
        Holds::NeedsReauth => {
            assert_eq!(connection.status, ConnectionStatus::NeedsReauth, "{label}");
            assert!(served.is_none(), "{label}: a dead grant served a token");
        }
    }
    // AND no secret reached a log line
    let logged = logs.take();
    for secret in trail
        .secrets
        .iter()
        .chain(&trail.codes)
        .chain(&["CANARY_".to_owned()])
    {
        assert!(
            !logged.contains(secret.as_str()),
            "{label}: a secret reached the log"
        );
    }
    flow_calls
}

/// Every log line of the test thread, kept for the canary search.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    fn take(&self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut *self.0.lock().expect("lock"))).into_owned()
    }
}

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn capture_logs() -> (LogBuffer, tracing::subscriber::DefaultGuard) {
    let buffer = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("shared=trace,info"))
        .with_writer(buffer.clone())
        .with_ansi(false)
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}

/// The calls of a clean run, in order of first use, with how often each was made.
async fn clean_calls(rig: Rig) -> Vec<(Port, &'static str, usize)> {
    let (logs, _guard) = capture_logs();
    run_row(rig, None, Holds::Connected, &logs).await
}

#[tokio::test]
async fn the_clean_flow_holds_on_the_embedded_adapters() {
    let calls = clean_calls(embedded()).await;
    assert!(calls
        .iter()
        .any(|(p, c, _)| *p == Port::TokenEndpoint && *c == "exchange_code"));
    eprintln!("{calls:#?}");
}

/// One row of the fault table, `docs/fault-table.md`.
struct Row {
    point: FaultPoint,
    holds: Holds,
}

const TABLE: &str = include_str!("../../docs/fault-table.md");

fn port_name(port: Port) -> &'static str {
    match port {
        Port::Store => "store",
        Port::Vault => "vault",
        Port::Mailer => "mailer",
        Port::TokenEndpoint => "token endpoint",
    }
}

fn fault_name(fault: Fault) -> &'static str {
    match fault {
        Fault::Error => "error",
        Fault::Timeout => "timeout",
        Fault::CrashBefore => "crash before",
        Fault::CrashAfter => "crash after",
    }
}

fn holds_name(holds: Holds) -> &'static str {
    match holds {
        Holds::Connected => "connected",
        Holds::NeedsReauth => "needs re-authorization",
        Holds::ConnectedMailMayRepeat => "connected; SES may repeat the email",
    }
}

/// The table's rows, each matched to a call point of `calls` (a clean run's calls); panics
/// naming a row that is not of the table's form or names no call of a clean run.
fn table_rows(calls: &[(Port, &'static str, usize)]) -> Vec<Row> {
    let ports = [Port::Store, Port::Vault, Port::Mailer, Port::TokenEndpoint];
    let holds = [
        Holds::Connected,
        Holds::NeedsReauth,
        Holds::ConnectedMailMayRepeat,
    ];
    TABLE
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| port ") && !l.starts_with("| ---"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let [port, call, occurrence, fault, outcome] = cells[..] else {
                panic!("a fault table row has five cells: {line}");
            };
            let port = *ports
                .iter()
                .find(|p| port_name(**p) == port)
                .unwrap_or_else(|| panic!("unknown port in {line}"));
            let call = call.trim_matches('`');
            let occurrence: usize = occurrence.parse().expect("an occurrence number");
            let (_, call, _) = *calls
                .iter()
                .find(|(p, c, n)| *p == port && *c == call && occurrence <= *n)
                .unwrap_or_else(|| panic!("no call of a clean run is this row: {line}"));
            let fault = *Fault::ALL
                .iter()
                .find(|f| fault_name(**f) == fault)
                .unwrap_or_else(|| panic!("unknown fault in {line}"));
            let holds = *holds
                .iter()
                .find(|h| holds_name(**h) == outcome)
                .unwrap_or_else(|| panic!("unknown outcome in {line}"));
            Row {
                point: FaultPoint {
                    port,
                    call,
                    occurrence,
                    fault,
                },
                holds,
            }
        })
        .collect()
}

/// Every row of the fault table on one family; answers the rows that failed, with why. The
/// table must name every fault at every call point of a clean run, and nothing else.
async fn sweep<F: std::future::Future<Output = Rig>>(make: impl Fn() -> F) -> Vec<String> {
    let calls = clean_calls(make().await).await;
    let rows = table_rows(&calls);
    let mut missing = Vec::new();
    for (port, call, count) in &calls {
        for occurrence in 1..=*count {
            for fault in Fault::ALL {
                let listed = rows.iter().any(|r| {
                    r.point.port == *port
                        && r.point.call == *call
                        && r.point.occurrence == occurrence
                        && r.point.fault == fault
                });
                if !listed {
                    missing.push(format!(
                        "| {} | `{call}` | {occurrence} | {} | ? |",
                        port_name(*port),
                        fault_name(fault)
                    ));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the fault table misses these call points of a clean run:\n{}",
        missing.join("\n")
    );
    assert_eq!(
        rows.len(),
        calls
            .iter()
            .map(|(_, _, n)| n * Fault::ALL.len())
            .sum::<usize>(),
        "the fault table lists a point twice"
    );
    let (logs, _guard) = capture_logs();
    let mut failures = Vec::new();
    for row in rows {
        let rig = make().await;
        let run = tokio::spawn(run_row_owned(rig, row.point, row.holds, logs.clone()));
        if let Err(e) = run.await {
            let why = e
                .into_panic()
                .downcast::<String>()
                .map(|s| *s)
                .unwrap_or_else(|_| "panic".into());
            failures.push(why);
        }
    }
    failures
}

async fn run_row_owned(rig: Rig, point: FaultPoint, holds: Holds, logs: LogBuffer) {
    run_row(rig, Some(point), holds, &logs).await;
}

#[tokio::test]
async fn every_fault_point_holds_on_moto() {
    let world = World::new().await;
    let deferred = Arc::new(Mutex::new(Vec::new()));
    let mut failures = sweep(|| on_moto(&world, &deferred)).await;
    // THEN every row's emails are as its outcome says, at moto's SES
    let sent = cartlink_e2e::aws::sent_emails().await;
    let subjects = |to: &str| -> Vec<String> {
        sent.iter()
            .filter(|(t, _)| t == to)
            .map(|(_, s)| s.clone())
            .collect()
    };
    let checks = std::mem::take(&mut *deferred.lock().expect("lock"));
    assert!(checks.len() > 100, "only {} rows ran", checks.len());
    for check in checks {
        if let Err(why) = check.check(
            true,
            &subjects(&check.merchant),
            &subjects(&check.warehouse),
        ) {
            failures.push(why);
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_fault_point_holds_on_the_embedded_adapters() {
    let failures = sweep(|| async { embedded() }).await;
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
