//! The AWS family: DynamoDB store, KMS vault, SES mailer, SQS webhook queue, every client built from one
//! `SdkConfig` (the DynamoDB client at start, the others on first use), and the configuration
//! read from SSM Parameter Store.

use std::sync::Arc;

use super::lazy::Lazy;
use super::sdk_http::sdk_http_client;
use super::{assemble, Adapters, StartError};
use crate::carts::Catalog;
use crate::config::Config;
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
        let sdk = lambda_sdk_config(&|k| std::env::var(k).ok())?;
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

/// The `SdkConfig` of a Lambda function, from its environment alone: the region
/// (`AWS_REGION`, else `AWS_DEFAULT_REGION`), the credentials Lambda puts in the environment,
/// `AWS_ENDPOINT_URL` when set, and [`sdk_http_client`]. Not `aws_config`'s loader: that one
/// also reads the shared config files, and links the profile, SSO, web-identity (STS) and
/// instance-metadata providers into every binary, none of which a Lambda function uses.
pub fn lambda_sdk_config(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<aws_config::SdkConfig, StartError> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    let region = set("AWS_REGION")
        .or_else(|| set("AWS_DEFAULT_REGION"))
        .ok_or_else(|| StartError("AWS_REGION is not set".into()))?;
    let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
    let mut sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
        )
        .http_client(sdk_http_client());
    if let Some(url) = set("AWS_ENDPOINT_URL") {
        sdk = sdk.endpoint_url(url);
    }
    Ok(sdk.build())
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
        Some(name) => super::ssm::read_config_parameter(sdk, &name).await?,
    };
    Config::load_with(env, Some(text)).map_err(|e| StartError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_region_falls_back_to_aws_default_region() {
        // GIVEN only the older of the two region variables
        let sdk = lambda_sdk_config(&env(&[("AWS_DEFAULT_REGION", "eu-west-1")])).unwrap();
        // THEN the clients use it
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
    }

    #[test]
    fn aws_region_wins_and_the_endpoint_url_is_honoured() {
        // GIVEN both region variables and an endpoint (moto, a stand-in)
        let sdk = lambda_sdk_config(&env(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]))
        .unwrap();
        // THEN AWS_REGION applies, and every client is sent to the endpoint
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:5000"));
    }

    #[test]
    fn without_a_region_the_start_is_refused() {
        // GIVEN no region at all
        let refused = lambda_sdk_config(&env(&[])).unwrap_err();
        // THEN the start fails, naming the variable
        assert!(refused.0.contains("AWS_REGION"), "{}", refused.0);
    }
}
