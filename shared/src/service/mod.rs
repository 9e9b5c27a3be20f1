//! The services: every flow of cartlink over the ports. Entry points (the Lambda handlers and
//! the local server) call these; these call the ports; nothing calls back up.

pub mod admin;
pub mod call_details;
pub mod callback;
pub mod care;
pub mod cart_apps;
pub mod confirm;
pub mod connections;
pub mod disconnect;
pub mod history;
pub mod idempotency;
pub mod integration;
pub mod invites;
pub mod keys;
pub mod lifecycle;
pub mod limits;
pub mod link_guard;
pub mod listing;
pub mod mail_feedback;
pub mod manage;
pub mod reconnect;
pub mod refresh;
pub mod resend;
pub mod setup;
pub mod tenants;
pub mod typed_credentials;
pub mod webhooks;

use std::sync::Arc;

use crate::carts::Catalog;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::WarehouseDirectory;
use crate::events::AuthorizedEvents;
use crate::mailer::Mailer;
use crate::oauth::TokenEndpoint;
use crate::store::Store;
use crate::vault::Vault;
use crate::webhooks::{StepFeed, WebhookQueue, WebhookSender};

/// Everything a handler needs, built once at start and borrowed by every request. The
/// `wiring` module builds it on one adapter family.
pub struct Services {
    /// The configuration.
    pub config: Config,
    /// The carts.
    pub catalog: Catalog,
    /// The warehouses and their keys.
    pub warehouses: WarehouseDirectory,
    /// The store port.
    pub store: Arc<dyn Store>,
    /// The vault port.
    pub vault: Arc<dyn Vault>,
    /// The mailer port.
    pub mailer: Arc<dyn Mailer>,
    /// The clock port.
    pub clock: Arc<dyn Clock>,
    /// The token endpoint port.
    pub oauth: Arc<dyn TokenEndpoint>,
    /// Where "invite authorized" goes.
    pub events: Arc<dyn AuthorizedEvents>,
    /// This process's per-connection refresh locks.
    pub refreshing: refresh::RefreshFlights,
    /// The webhook ports besides the store.
    pub webhooks: WebhookPorts,
    /// eBay's notification keys fetched so far (kept an hour each).
    pub notification_keys: lifecycle::ebay::NotificationKeys,
    /// The grant pages kept while the store shows no commit (the embedded store only).
    pub grant_pages: setup::pages::GrantPages,
}

/// The webhook ports besides the store: where deliveries wait, where the local server finds
/// the steps to turn into messages, and what posts them.
#[derive(Clone)]
pub struct WebhookPorts {
    /// The delivery queue.
    pub queue: Arc<dyn WebhookQueue>,
    /// The step feed.
    pub feed: Arc<dyn StepFeed>,
    /// The sender.
    pub sender: Arc<dyn WebhookSender>,
}

#[cfg(test)]
mod state_machines;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_metrics;
