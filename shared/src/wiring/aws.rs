//! The AWS family: DynamoDB store, KMS vault, SES mailer, SQS webhook queue, every client built from one
//! `SdkConfig` (the DynamoDB client at start, the others on first use), and the configuration
//! read from SSM Parameter Store.

use std::sync::Arc;

use super::lazy::Lazy;
use super::sdk_http::sdk_http_client;
use super::{assemble, Adapters, StartError};
use crate::carts::Catalog;
use crate::config::{Config, ConfigText};
use crate::events::StreamDelivered;
use crate::mailer::{check_header, SesMailer};
use crate::service::Services;
use crate::store::DynamoStore;
use crate::vault::KmsVault;
use crate::webhooks::sqs::SqsQueue;
use crate::webhooks::StreamFed;

impl Services {
    /// What every Lambda function runs on: the configuration read once from the process
    /// environment (and the SSM SecureString parameter named by `CARTLINK_CONFIG_PARAMETER`,
    /// see [`load_lambda_config`]), and the AWS adapters (DynamoDB, KMS, SES) with every client
    /// built from one `SdkConfig` (which honours `AWS_ENDPOINT_URL`, and takes its credentials
    /// from the environment, where Lambda puts them) that sends through [`sdk_http_client`].
    /// "Invite authorized" travels on the table's stream.
    pub async fn for_lambda() -> Result<Services, StartError> {
        // Lambda hands every function its role's credentials in the environment; the default
        // chain would also build the web-identity (STS) and instance-metadata providers at
        // every cold start, for nothing.
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(sdk_http_client())
            .credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            )
            .load()
            .await;
        let config = load_lambda_config(&|k| std::env::var(k).ok(), &sdk).await?;
        let catalog = Catalog::from_config(&config);
        Services::aws(config, catalog, &sdk)
    }

    /// The AWS adapters on `sdk`: DynamoDB store on `CARTLINK_TABLE`, KMS vault on
    /// `CARTLINK_KMS_KEY_ID`, SES mailer, SQS webhook queue, the system clock and the real
    /// token endpoint client. The DynamoDB client is built now (every function reads the
    /// store); the others on their first use, so a function pays only for what it calls.
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
        // The sender is refused at start, not at the first email.
        check_header("sender", &config.mail_from).map_err(|e| StartError(e.to_string()))?;
        let mailer = {
            let (sdk, from) = (sdk.clone(), config.mail_from.clone());
            let set = config.aws.ses_configuration_set.clone();
            Lazy::new("ses", move || {
                SesMailer::new(aws_sdk_sesv2::Client::new(&sdk), &from, set.clone())
                    .expect("the sender was checked at start")
            })
        };
        let vault = {
            let sdk = sdk.clone();
            Lazy::new("kms", move || {
                KmsVault::new(aws_sdk_kms::Client::new(&sdk), key.clone())
            })
        };
        let queue = {
            let sdk = sdk.clone();
            let (url, dead) = (
                config.aws.webhook_queue_url.clone(),
                config.aws.webhook_dead_letter_url.clone(),
            );
            Lazy::new("sqs", move || {
                SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), url.clone(), dead.clone())
            })
        };
        tracing::debug!(client = "dynamodb", "client built");
        let adapters = Adapters {
            store: Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table)),
            vault: Arc::new(vault),
            mailer: Arc::new(mailer),
            events: Arc::new(StreamDelivered),
            webhook_queue: Arc::new(queue),
            step_feed: Arc::new(StreamFed),
        };
        Ok(assemble(config, catalog, adapters))
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
