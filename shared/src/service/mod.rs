//! The services: every flow of cartlink over the ports. Entry points (the Lambda handlers and
//! the local server) call these; these call the ports; nothing calls back up.

pub mod callback;
pub mod confirm;
pub mod connections;
pub mod integration;
pub mod invites;
pub mod keys;
pub mod mail_feedback;
pub mod refresh;
pub mod setup;

use std::sync::Arc;

use crate::carts::Catalog;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigText};
use crate::domain::WarehouseDirectory;
use crate::events::AuthorizedEvents;
use crate::mailer::{Mailer, Outbox, SesMailer};
use crate::oauth::{outbound_client, OAuthHttp, TokenEndpoint};
use crate::store::{DynamoStore, FileStore, Store};
use crate::vault::{KmsVault, LocalVault, Vault};

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
    /// This process's per-connection refresh locks.
    pub refreshing: refresh::RefreshFlights,
}

/// A failure to start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start: {0}")]
pub struct StartError(pub String);

impl Services {
    /// What every Lambda function runs on: the configuration read once from the process
    /// environment (and the SSM SecureString parameter named by `CARTLINK_CONFIG_PARAMETER`,
    /// see [`load_lambda_config`]), and the AWS adapters (DynamoDB, KMS, SES) with every client
    /// built from one `SdkConfig` (which honours `AWS_ENDPOINT_URL`). "Invite authorized"
    /// travels on the table's stream.
    pub async fn for_lambda() -> Result<Services, StartError> {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let config = load_lambda_config(&|k| std::env::var(k).ok(), &sdk).await?;
        let catalog = Catalog::from_config(&config);
        Services::aws(config, catalog, &sdk)
    }

    /// The AWS adapters on `sdk`: DynamoDB store on `CARTLINK_TABLE`, KMS vault on
    /// `CARTLINK_KMS_KEY_ID`, SES mailer, the system clock and the real token endpoint client.
    pub fn aws(
        config: Config,
        catalog: Catalog,
        sdk: &aws_config::SdkConfig,
    ) -> Result<Services, StartError> {
        let table = config
            .aws
            .table
            .clone()
            .ok_or_else(|| StartError("CARTLINK_TABLE is not set".into()))?;
        let key = config
            .aws
            .kms_key_id
            .clone()
            .ok_or_else(|| StartError("CARTLINK_KMS_KEY_ID is not set".into()))?;
        let mailer = SesMailer::new(
            aws_sdk_sesv2::Client::new(sdk),
            &config.mail_from,
            config.aws.ses_configuration_set.clone(),
        )
        .map_err(|e| StartError(e.to_string()))?;
        let http = outbound_client(config.http_timeout, !config.is_local_http());
        Ok(Services {
            warehouses: WarehouseDirectory::new(config.warehouses.clone()),
            config,
            catalog,
            store: Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table)),
            vault: Arc::new(KmsVault::new(aws_sdk_kms::Client::new(sdk), key)),
            mailer: Arc::new(mailer),
            clock: Arc::new(SystemClock),
            oauth: Arc::new(OAuthHttp::new(http)),
            events: Arc::new(crate::events::StreamDelivered),
            refreshing: Default::default(),
        })
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
            refreshing: Default::default(),
        })
    }
}

/// Reads a Lambda function's configuration: the environment, plus TOML text from either the
/// SSM Parameter Store parameter named by `CARTLINK_CONFIG_PARAMETER` (a SecureString, read
/// once with `GetParameter` and `WithDecryption`; how the deployed functions get warehouse key
/// hashes and cart client secrets, never from plain environment variables) or the file named by
/// `CARTLINK_CONFIG`, not both.
pub async fn load_lambda_config(
    env: &dyn Fn(&str) -> Option<String>,
    sdk: &aws_config::SdkConfig,
) -> Result<Config, StartError> {
    let parameter = env("CARTLINK_CONFIG_PARAMETER").filter(|v| !v.is_empty());
    let text = match parameter {
        None => return Config::load(env).map_err(|e| StartError(e.to_string())),
        Some(_) if env("CARTLINK_CONFIG").is_some() => {
            return Err(StartError(
                "set CARTLINK_CONFIG_PARAMETER or CARTLINK_CONFIG, not both".into(),
            ))
        }
        Some(name) => read_config_parameter(&aws_sdk_ssm::Client::new(sdk), &name).await?,
    };
    Config::load_with(env, Some(text)).map_err(|e| StartError(e.to_string()))
}

/// The decrypted text of one SSM parameter.
async fn read_config_parameter(
    ssm: &aws_sdk_ssm::Client,
    name: &str,
) -> Result<ConfigText, StartError> {
    let out = ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            StartError(format!(
                "configuration parameter {name}: {}",
                aws_sdk_ssm::error::DisplayErrorContext(e)
            ))
        })?;
    let parameter = out
        .parameter
        .ok_or_else(|| StartError(format!("configuration parameter {name}: no value")))?;
    if parameter.r#type != Some(aws_sdk_ssm::types::ParameterType::SecureString) {
        return Err(StartError(format!(
            "configuration parameter {name} must be a SecureString (it holds secrets)"
        )));
    }
    Ok(ConfigText {
        source: format!("parameter {name}"),
        text: parameter.value.unwrap_or_default(),
    })
}

#[cfg(test)]
mod state_machines;
#[cfg(test)]
mod tests;
