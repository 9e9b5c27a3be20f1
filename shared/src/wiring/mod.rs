//! The wiring: which adapters a process runs on. This is the only module that names the
//! adapters and the AWS SDK; the flows (`service`) see the ports only.
//!
//! Each adapter family is a cargo feature of this crate: `aws` (DynamoDB store, KMS vault, SES
//! mailer, configuration from SSM; the Lambda functions) and `embedded` (SQLite store, local key
//! vault, outbox mailer; the local server). A binary compiles only the family it runs on.

#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "embedded")]
mod embedded;
mod lazy;
#[cfg(feature = "aws")]
mod sdk_http;
#[cfg(feature = "aws")]
mod ssm;

use std::sync::Arc;

use crate::carts::Catalog;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::domain::WarehouseDirectory;
use crate::events::AuthorizedEvents;
use crate::mailer::Mailer;
use crate::net::outbound_client;
use crate::oauth::OAuthHttp;
use crate::service::{Services, WebhookPorts};
use crate::store::Store;
use crate::vault::Vault;
use crate::webhooks::{HttpSender, StepFeed, WebhookQueue};
use lazy::Lazy;

#[cfg(feature = "aws")]
pub use aws::load_lambda_config;
#[cfg(feature = "aws")]
pub use sdk_http::sdk_http_client;

/// A failure to start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start: {0}")]
pub struct StartError(pub String);

/// The adapters a family chooses: where state lives, what seals the tokens, how mail leaves,
/// where "invite authorized" goes, and where webhook deliveries wait and steps are found.
struct Adapters {
    store: Arc<dyn Store>,
    vault: Arc<dyn Vault>,
    mailer: Arc<dyn Mailer>,
    events: Arc<dyn AuthorizedEvents>,
    webhook_queue: Arc<dyn WebhookQueue>,
    step_feed: Arc<dyn StepFeed>,
}

/// The services on `adapters`, with what every family shares: the configuration's warehouses,
/// the system clock and the real token endpoint client on the one outbound HTTP client, built
/// on the first call to a cart or a webhook endpoint (most functions never make one).
fn assemble(config: Config, catalog: Catalog, adapters: Adapters) -> Services {
    let (timeout, https_only) = (config.http_timeout, !config.is_local_http());
    let http = Arc::new(Lazy::new("outbound", move || {
        outbound_client(timeout, https_only)
    }));
    let oauth = {
        let http = http.clone();
        Lazy::new("oauth", move || OAuthHttp::new(http.get().clone()))
    };
    let sender = Lazy::new("webhook-sender", move || HttpSender(http.get().clone()));
    Services {
        warehouses: WarehouseDirectory::new(config.warehouses.clone()),
        config,
        catalog,
        store: adapters.store,
        vault: adapters.vault,
        mailer: adapters.mailer,
        clock: Arc::new(SystemClock),
        oauth: Arc::new(oauth),
        events: adapters.events,
        refreshing: Default::default(),
        webhooks: WebhookPorts {
            queue: adapters.webhook_queue,
            feed: adapters.step_feed,
            sender: Arc::new(sender),
        },
        notification_keys: Default::default(),
        grant_pages: Default::default(),
    }
}
