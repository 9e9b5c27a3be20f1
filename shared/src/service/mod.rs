//! The services: every flow of cartlink over the ports. Entry points (the Lambda handlers and
//! the local server) call these; these call the ports; nothing calls back up.

pub mod callback;
pub mod confirm;
pub mod invites;
pub mod keys;
pub mod setup;

use std::sync::Arc;

use crate::carts::Catalog;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::domain::WarehouseDirectory;
use crate::events::AuthorizedEvents;
use crate::mailer::{Mailer, Outbox};
use crate::oauth::{outbound_client, OAuthHttp, TokenEndpoint};
use crate::store::{FileStore, Store};
use crate::vault::{LocalVault, Vault};

/// Everything a handler needs, built once at start and borrowed by every request.
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
}

/// A failure to start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start: {0}")]
pub struct StartError(pub String);

impl Services {
    /// Reads the configuration from the process environment and builds the services a Lambda
    /// handler runs on. Until the AWS adapters land these are the embedded ones on
    /// `CARTLINK_DATA_DIR`; the authorized event is left to the store's change stream.
    pub fn from_env() -> Result<Services, StartError> {
        let config =
            Config::load(&|k| std::env::var(k).ok()).map_err(|e| StartError(e.to_string()))?;
        let catalog = Catalog::from_config(&config);
        Services::embedded(config, catalog, Arc::new(crate::events::StreamDelivered))
    }

    /// The embedded adapters on `config.data_dir`: SQLite store, local key vault, outbox mailer,
    /// the system clock and the real token endpoint client.
    pub fn embedded(
        config: Config,
        catalog: Catalog,
        events: Arc<dyn AuthorizedEvents>,
    ) -> Result<Services, StartError> {
        let dir = config.data_dir.clone();
        let store = FileStore::open(&dir).map_err(|e| StartError(e.to_string()))?;
        let vault = LocalVault::open(&dir).map_err(|e| StartError(format!("vault key: {e}")))?;
        let mailer = Outbox::new(&dir, &config.mail_from).map_err(|e| StartError(e.to_string()))?;
        let http = outbound_client(config.http_timeout, !config.is_local_http());
        Ok(Services {
            warehouses: WarehouseDirectory::new(config.warehouses.clone()),
            config,
            catalog,
            store: Arc::new(store),
            vault: Arc::new(vault),
            mailer: Arc::new(mailer),
            clock: Arc::new(SystemClock),
            oauth: Arc::new(OAuthHttp::new(http)),
            events,
        })
    }
}

#[cfg(test)]
mod tests;
