//! The embedded family: SQLite store, local key vault and outbox mailer, all in one data
//! directory on this machine.

use std::sync::Arc;

use super::{assemble, Adapters, StartError};
use crate::carts::Catalog;
use crate::config::Config;
use crate::events::AuthorizedEvents;
use crate::mailer::Outbox;
use crate::service::Services;
use crate::store::SqliteStore;
use crate::vault::LocalVault;

impl Services {
    /// The embedded adapters on `config.data_dir`: SQLite store (also the webhook queue and step
    /// feed the local server's worker polls), local key vault, outbox mailer,
    /// the system clock and the real token endpoint client; "invite authorized" goes to
    /// `events`.
    pub fn embedded(
        config: Config,
        catalog: Catalog,
        events: Arc<dyn AuthorizedEvents>,
    ) -> Result<Services, StartError> {
        let dir = config.data_dir.clone();
        let store = SqliteStore::open(&dir).map_err(|e| StartError(e.to_string()))?;
        let vault = LocalVault::open(&dir).map_err(|e| StartError(format!("vault key: {e}")))?;
        let mailer = Outbox::new(&dir, &config.mail_from).map_err(|e| StartError(e.to_string()))?;
        let store = Arc::new(store);
        let adapters = Adapters {
            webhook_queue: store.clone(),
            step_feed: store.clone(),
            store,
            vault: Arc::new(vault),
            mailer: Arc::new(mailer),
            events,
        };
        Ok(assemble(config, catalog, adapters))
    }
}
