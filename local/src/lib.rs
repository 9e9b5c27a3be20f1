//! The local server: every Lambda handler in one process on the embedded adapters, plus the
//! sandbox cart, behind one HTTP listener. It serves the same handler code Lambda runs.

pub mod sandbox;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use http::StatusCode;
use maud::html;
use shared::carts::Catalog;
use shared::config::Config;
use shared::domain::secrets::random_token;
use shared::domain::{InviteId, TokenHash, Warehouse, WarehouseId};
use shared::events::{AuthorizedEvents, InProcess};
use shared::service::Services;
use shared::web::{self, Request, Response};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub use sandbox::Sandbox;

/// The local server's own settings (beyond [`Config`]).
pub struct LocalSettings {
    /// Where to listen (`CARTLINK_LISTEN`, default `127.0.0.1:3000`).
    pub listen: SocketAddr,
    /// The dev warehouse's API key (`CARTLINK_DEV_API_KEY`), or `None` to mint one at start.
    pub dev_api_key: Option<String>,
    /// The crash-test hook (`CARTLINK_HALT_AFTER_COMMIT=1`): see [`HaltAfterCommit`].
    pub halt_after_commit: bool,
    /// The admin API's key (`CARTLINK_ADMIN_KEY`); without one the admin API lets nobody in.
    pub admin_key: Option<String>,
}

/// The line [`HaltAfterCommit`] logs once per callback commit.
pub const HALTED_AFTER_COMMIT: &str =
    "test hook CARTLINK_HALT_AFTER_COMMIT: halted right after the callback commit";

/// A test hook that stands for a process dying right after the callback commits: "invite
/// authorized" is logged ([`HALTED_AFTER_COMMIT`]) and never delivered, and no confirmation
/// worker runs, so nothing after the commit happens until the test kills the process and
/// starts it again without the hook. Only the local server honours it.
#[derive(Clone, Copy, Debug, Default)]
pub struct HaltAfterCommit;

#[async_trait::async_trait]
impl AuthorizedEvents for HaltAfterCommit {
    async fn invite_authorized(&self, invite: &InviteId) {
        tracing::warn!(invite_id = %invite, "{HALTED_AFTER_COMMIT}");
    }
}

/// The running application: the services and the sandbox cart.
pub struct App {
    /// The services every handler borrows.
    pub services: Services,
    /// The sandbox cart.
    pub sandbox: Sandbox,
    /// The admin API's key, if set.
    pub admin_key: Option<String>,
}

/// Routes a request to the handler that serves its path in Lambda too.
pub async fn dispatch(app: &App, req: Request) -> Response {
    let segments = req.segments();
    let (first, second) = (
        segments.first().copied().unwrap_or(""),
        segments.get(1).copied().unwrap_or(""),
    );
    match first {
        // As the template routes them: a connection's tokens are connection-tokens', every other
        // warehouse API route (disconnect and reconnect too) warehouse-api's.
        "v1" if second == "connections" && segments.get(3) == Some(&"tokens") => {
            connection_tokens::handle(&app.services, req).await
        }
        "v1" => warehouse_api::handle(&app.services, req).await,
        "setup" | "assets" | "manage" => grant_page::handle(&app.services, req).await,
        "oauth" => oauth_callback::handle(&app.services, req).await,
        "cart-events" => cart_events::handle(&app.services, req).await,
        // On AWS the admin routes are IAM-authorized at API Gateway; here the admin key is.
        "admin" => match &app.admin_key {
            Some(key) if admin_api::admin_key_matches(&req, key) => {
                admin_api::handle(&app.services, req).await
            }
            _ => admin_api::unauthorized(),
        },
        "brand" => match admin_api::serve_logo(&app.services, &req).await {
            Some(resp) => resp,
            None => shared::web::api::Problem::not_found("No such page.").into_response(),
        },
        "sandbox-cart" => app.sandbox.handle(&req).await,
        "healthz" => web::json(StatusCode::OK, &serde_json::json!({ "ok": true })),
        "" => home(&app.services),
        _ => web::html(
            StatusCode::NOT_FOUND,
            web::page::layout(
                &app.services.config.public_base_url,
                "Page not found",
                html! { h1 { "Page not found" } },
                &[],
            ),
            &[],
        ),
    }
}

fn home(svc: &Services) -> Response {
    let base = &svc.config.public_base_url;
    web::html(
        StatusCode::OK,
        web::page::layout(
            base,
            "cartlink (local)",
            html! {
                h1 { "cartlink is running" }
                p { "Create an invite with the curl command printed at start, then open the setup link from the email in " code { ".cartlink/outbox/" } "." }
                p { a href={ (base) "/setup" } { "Enter an access code" } }
            },
            &[],
        ),
        &[],
    )
}

/// The dev warehouse of local runs.
pub fn dev_warehouse(api_key: &str) -> Warehouse {
    Warehouse {
        id: WarehouseId::parse("wh-dev").expect("constant id"),
        display_name: "Dev Warehouse".into(),
        notify_email: "warehouse@example.com".into(),
        api_key_hashes: vec![TokenHash::of(api_key)],
        brand: Default::default(),
        locale: None,
    }
}

/// Builds the app: the configuration's warehouses and carts plus the dev warehouse and the
/// sandbox cart, on the embedded adapters. Returns the app, the dev API key, and the receiver
/// of "invite authorized" events.
pub fn build(
    mut config: Config,
    settings: &LocalSettings,
) -> Result<(Arc<App>, String, mpsc::UnboundedReceiver<InviteId>), shared::wiring::StartError> {
    let api_key = settings.dev_api_key.clone().unwrap_or_else(random_token);
    config.warehouses.push(dev_warehouse(&api_key));
    let sandbox = Sandbox::new(&config.public_base_url);
    let mut token_origin = settings.listen;
    if token_origin.ip().is_unspecified() {
        token_origin.set_ip([127, 0, 0, 1].into());
    }
    let mut catalog = Catalog::from_config(&config);
    catalog.add(sandbox.cart_spec(&format!("http://{token_origin}")));
    let (tx, rx) = mpsc::unbounded_channel();
    let events: Arc<dyn AuthorizedEvents> = if settings.halt_after_commit {
        Arc::new(HaltAfterCommit)
    } else {
        Arc::new(InProcess(tx))
    };
    let services = Services::embedded(config, catalog, events)?;
    Ok((
        Arc::new(App {
            services,
            sandbox,
            admin_key: settings.admin_key.clone(),
        }),
        api_key,
        rx,
    ))
}

/// How often the confirmation worker reads the owed confirmations from the store.
pub const OWED_SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Sends the confirmations: at start and every [`OWED_SWEEP_EVERY`] for every invite the store
/// says is owed them ([`Services::confirm_owed`]), so that none is lost with a process that
/// died after a callback committed, as the DynamoDB stream redelivers on AWS; and at once for
/// each "invite authorized" event, the fast path. A failed delivery is left to the next sweep;
/// the send records make every repeat harmless.
pub async fn confirmation_worker(app: Arc<App>, mut events: mpsc::UnboundedReceiver<InviteId>) {
    let mut sweep = tokio::time::interval(OWED_SWEEP_EVERY);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            Some(id) = events.recv() => {
                let event = confirmation::InviteAuthorized {
                    invite_id: id.to_string(),
                };
                match confirmation::handle(&app.services, event).await {
                    Ok(outcome) => {
                        tracing::info!(invite_id = %id, sent = ?outcome.sent, "confirmation delivered");
                    }
                    Err(e) => {
                        tracing::warn!(invite_id = %id, error = %e, "confirmation failed; the next sweep retries");
                    }
                }
            }
            _ = sweep.tick() => match app.services.confirm_owed().await {
                Ok(outcomes) => {
                    for (id, outcome) in outcomes {
                        match outcome {
                            Ok(done) => {
                                tracing::info!(invite_id = %id, sent = ?done.sent, "owed confirmation delivered");
                            }
                            Err(e) => {
                                tracing::warn!(invite_id = %id, error = %e, "owed confirmation failed; the next sweep retries");
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "owed confirmations could not be read"),
            },
        }
    }
}

/// How often the webhook worker looks for steps and due deliveries.
pub const WEBHOOK_POLL_EVERY: Duration = Duration::from_millis(250);

/// The webhook worker: every [`WEBHOOK_POLL_EVERY`], turns the recorded history steps into
/// messages and hands each due delivery to its endpoint (the `webhooks` function's work on
/// AWS). Feed and queue live in the store, so a restart picks up where the process died.
pub async fn webhook_worker(app: Arc<App>) {
    let mut tick = tokio::time::interval(WEBHOOK_POLL_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        webhooks::poll_once(&app.services).await;
    }
}

/// How often the care timer runs (the schedule's rate on AWS).
pub const CARE_EVERY: Duration = Duration::from_secs(3600);

/// The care timer: at start and every [`CARE_EVERY`], one run of the `care` function's handler
/// code ([`care::run_once`]): the connections due are refreshed or their merchants invited to
/// reconnect. A failed run is logged there and the next tick tries again.
pub async fn care_worker(app: Arc<App>) {
    let mut tick = tokio::time::interval(CARE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let _ = care::run_once(&app.services).await;
    }
}

async fn entry(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    // Read at most the limit, so a longer body is refused without being held.
    let Ok(body) = axum::body::to_bytes(body, web::body_limit(parts.uri.path())).await else {
        return web::body_too_large().map(axum::body::Body::from);
    };
    let req = Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
        client_ip: Some(peer.ip()),
    };
    dispatch(&app, req).await.map(axum::body::Body::from)
}

/// Serves the app on `listener` until the process is stopped.
pub async fn serve(listener: TcpListener, app: Arc<App>) -> std::io::Result<()> {
    let router = axum::Router::new().fallback(entry).with_state(app);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Reads the settings and configuration from `env`, starts everything and prints how to use it.
pub async fn run(env: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
    let config = Config::load(env).map_err(|e| e.to_string())?;
    let listen: SocketAddr = env("CARTLINK_LISTEN")
        .unwrap_or_else(|| "127.0.0.1:3000".into())
        .parse()
        .map_err(|e| format!("CARTLINK_LISTEN: {e}"))?;
    let settings = LocalSettings {
        listen,
        dev_api_key: env("CARTLINK_DEV_API_KEY"),
        halt_after_commit: env("CARTLINK_HALT_AFTER_COMMIT").as_deref() == Some("1"),
        admin_key: env("CARTLINK_ADMIN_KEY").filter(|k| !k.trim().is_empty()),
    };
    let base = config.public_base_url.clone();
    let data_dir = config.data_dir.clone();
    let (app, api_key, events) = build(config, &settings).map_err(|e| e.to_string())?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    if !settings.halt_after_commit {
        tokio::spawn(confirmation_worker(app.clone(), events));
        tokio::spawn(webhook_worker(app.clone()));
        tokio::spawn(care_worker(app.clone()));
    }
    println!(
        "cartlink (local) listening on {base}  (data in {})",
        data_dir.display()
    );
    if settings.dev_api_key.is_none() {
        println!("dev warehouse API key: {api_key}   (set CARTLINK_DEV_API_KEY to choose one)");
    }
    println!("create an invite for the sandbox cart:");
    println!(
        "  curl -sS -X POST {base}/v1/invites -H \"Authorization: Bearer {}\" -H 'Content-Type: application/json' \\\n       -d '{{\"cart\":\"sandbox\",\"merchant_email\":\"merchant@example.com\",\"merchant_name\":\"Demo Merchant\"}}'",
        if settings.dev_api_key.is_some() { "$CARTLINK_DEV_API_KEY" } else { api_key.as_str() }
    );
    println!(
        "then open the setup_url it answers (the email is in {}/outbox/)",
        data_dir.display()
    );
    serve(listener, app).await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
