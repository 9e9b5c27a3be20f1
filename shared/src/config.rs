//! Configuration, read once at start: from the environment and an optional TOML file
//! (`CARTLINK_CONFIG`). The environment wins over the file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::carts::{CartEntry, CartSpec, ClientCredentials, CredentialsEntry};
use crate::domain::{CartId, RetrySchedule, TokenHash, Warehouse, WarehouseId};
use crate::mailer::check_header;
use crate::memo::Memo;
use crate::net::{endpoint_url, is_loopback};

mod catalog;
mod ebay;
mod square;
pub mod wix;
pub use ebay::EbayAccountDeletion;
pub use square::SquareWebhooks;

/// A configuration error, said so an operator can fix it (never echoing a secret).
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn err(msg: impl Into<String>) -> ConfigError {
    ConfigError(msg.into())
}

/// cartlink's configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The public origin (and optional path prefix) every link is built from, without a
    /// trailing slash. Never taken from a request's Host header.
    pub public_base_url: String,
    /// Where the embedded adapters keep their files.
    pub data_dir: PathBuf,
    /// The From address of every email.
    pub mail_from: String,
    /// The warehouses and their API key hashes.
    pub warehouses: Vec<Warehouse>,
    /// The operator's own carts, configured wholly here (`[[carts]]`, the schema of the
    /// built-in entries).
    pub carts: Vec<CartSpec>,
    /// The app's credentials at each built-in cart (`[cart_credentials.<id>]`).
    pub cart_credentials: BTreeMap<CartId, BuiltinCredentials>,
    /// Timeout of every outbound call.
    pub http_timeout: Duration,
    /// Where the AWS adapters keep things (used by the Lambda functions).
    pub aws: AwsSettings,
    /// How much the warehouse API may do per window.
    pub limits: Limits,
    /// The waits between a webhook delivery's tries (`CARTLINK_WEBHOOK_SCHEDULE`, seconds,
    /// comma-separated; default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
    pub webhook_schedule: RetrySchedule,
    /// eBay's account deletion endpoint as registered at eBay (`[ebay_account_deletion]`);
    /// without it the endpoint answers 404.
    pub ebay_account_deletion: Option<EbayAccountDeletion>,
    /// Square's webhook subscription (`[square_webhooks]`); without it `POST
    /// /cart-events/square` answers 404.
    pub square_webhooks: Option<SquareWebhooks>,
    /// Wix's webhooks to the app (`[wix_webhooks]`); without it `/cart-events/wix` answers 404.
    pub wix_webhooks: Option<wix::WixWebhooks>,
    /// [`Config::public_origin`], kept with the base URL it was worked out from.
    pub(crate) origin_memo: Memo<String, String>,
}

/// The warehouse API's rate limits, counted in the store in fixed windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Invites one warehouse may create per clock hour
    /// (`CARTLINK_INVITES_PER_WAREHOUSE_PER_HOUR`).
    pub invites_per_warehouse_per_hour: u32,
    /// Emails one merchant address may be sent per UTC day, across warehouses
    /// (`CARTLINK_EMAILS_PER_ADDRESS_PER_DAY`).
    pub emails_per_address_per_day: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            invites_per_warehouse_per_hour: 1000,
            emails_per_address_per_day: 20,
        }
    }
}

impl AwsSettings {
    /// The deployment's resources from the environment (an empty value is none).
    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        AwsSettings {
            table: env("CARTLINK_TABLE").filter(|v| !v.is_empty()),
            kms_key_id: env("CARTLINK_KMS_KEY_ID").filter(|v| !v.is_empty()),
            ses_configuration_set: env("CARTLINK_SES_CONFIGURATION_SET").filter(|v| !v.is_empty()),
            webhook_queue_url: env("CARTLINK_WEBHOOK_QUEUE_URL").filter(|v| !v.is_empty()),
            webhook_dead_letter_url: env("CARTLINK_WEBHOOK_DLQ_URL").filter(|v| !v.is_empty()),
        }
    }
}

impl Limits {
    /// The limits from the environment, else the file's values, else the defaults.
    fn load(
        env: &dyn Fn(&str) -> Option<String>,
        file: &FileConfig,
    ) -> Result<Limits, ConfigError> {
        let defaults = Limits::default();
        Ok(Limits {
            invites_per_warehouse_per_hour: limit(
                env,
                "CARTLINK_INVITES_PER_WAREHOUSE_PER_HOUR",
                file.invites_per_warehouse_per_hour,
                defaults.invites_per_warehouse_per_hour,
            )?,
            emails_per_address_per_day: limit(
                env,
                "CARTLINK_EMAILS_PER_ADDRESS_PER_DAY",
                file.emails_per_address_per_day,
                defaults.emails_per_address_per_day,
            )?,
        })
    }
}

/// The webhook retry schedule from the environment, else the default.
fn webhook_schedule(env: &dyn Fn(&str) -> Option<String>) -> Result<RetrySchedule, ConfigError> {
    match env("CARTLINK_WEBHOOK_SCHEDULE") {
        Some(raw) => {
            RetrySchedule::parse(&raw).map_err(|e| err(format!("CARTLINK_WEBHOOK_SCHEDULE {e}")))
        }
        None => Ok(RetrySchedule::default()),
    }
}

/// A limit from the environment, else the file, else its default; a value that is not a whole
/// number stops the start.
fn limit(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    file: Option<u32>,
    default: u32,
) -> Result<u32, ConfigError> {
    match env(name) {
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| err(format!("{name} must be a whole number, 0 or more"))),
        None => Ok(file.unwrap_or(default)),
    }
}

/// Configuration text in TOML, and where it came from (for error messages).
#[derive(Clone)]
pub struct ConfigText {
    /// Where the text came from: a path or a parameter name.
    pub source: String,
    /// The TOML text (may hold secrets: never logged).
    pub text: String,
}

/// The AWS resources of a deployment, from the environment the SAM template sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// The DynamoDB table (`CARTLINK_TABLE`).
    pub table: Option<String>,
    /// The KMS key id, ARN or alias (`CARTLINK_KMS_KEY_ID`).
    pub kms_key_id: Option<String>,
    /// The SES configuration set (`CARTLINK_SES_CONFIGURATION_SET`).
    pub ses_configuration_set: Option<String>,
    /// The webhook delivery queue (`CARTLINK_WEBHOOK_QUEUE_URL`).
    pub webhook_queue_url: Option<String>,
    /// The webhook dead-letter queue (`CARTLINK_WEBHOOK_DLQ_URL`).
    pub webhook_dead_letter_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    public_base_url: Option<String>,
    data_dir: Option<PathBuf>,
    mail_from: Option<String>,
    http_timeout_secs: Option<u64>,
    invites_per_warehouse_per_hour: Option<u32>,
    emails_per_address_per_day: Option<u32>,
    #[serde(default)]
    warehouses: Vec<WarehouseConfig>,
    #[serde(default)]
    carts: Vec<CartEntry>,
    #[serde(default)]
    cart_credentials: BTreeMap<String, CredentialsEntry>,
    ebay_account_deletion: Option<ebay::EbayAccountDeletionEntry>,
    square_webhooks: Option<square::SquareWebhooksEntry>,
    wix_webhooks: Option<wix::WixWebhooksEntry>,
}

/// The credentials configured for one built-in cart.
#[derive(Clone, Debug)]
pub struct BuiltinCredentials {
    /// The credentials.
    pub credentials: ClientCredentials,
    /// Loopback test configurations only: where the cart's stand-in listens.
    pub base_url_override: Option<Url>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WarehouseConfig {
    id: String,
    name: String,
    notify_email: String,
    api_key_sha256: Vec<String>,
    #[serde(default)]
    locale: Option<String>,
}

/// Validates an email address from configuration or a request: one address, no display name,
/// at most 254 characters. Answers it with the domain lower-cased.
pub fn normalize_email(raw: &str) -> Option<String> {
    if raw.len() > 254 || check_header("address", raw).is_err() || raw.trim() != raw {
        return None;
    }
    let parsed: email_address::EmailAddress = raw.parse().ok()?;
    if parsed.display_part() != "" || parsed.as_str() != raw {
        return None;
    }
    let domain = parsed.domain();
    if !domain.contains('.') || domain.starts_with('[') {
        return None;
    }
    Some(format!(
        "{}@{}",
        parsed.local_part(),
        domain.to_ascii_lowercase()
    ))
}

impl Config {
    /// Whether the service runs on plain http on loopback (a local run), where the browser
    /// cookie may drop the `__Host-` prefix and `Secure`.
    pub fn is_local_http(&self) -> bool {
        Url::parse(&self.public_base_url)
            .map(|u| u.scheme() == "http" && is_loopback(&u))
            .unwrap_or(false)
    }

    /// The origin of the public base URL (`https://cartlink.example.com`).
    pub fn public_origin(&self) -> String {
        // Pages ask for it on every request: parsed once per base URL.
        let base = &self.public_base_url;
        self.origin_memo.get_or(
            |kept| kept == base,
            || {
                let origin = Url::parse(base)
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or_default();
                (base.clone(), origin)
            },
        )
    }

    /// An absolute public URL for `path` (which starts with `/`).
    pub fn public_url(&self, path: &str) -> String {
        format!("{}{}", self.public_base_url, path)
    }

    /// The redirect URI registered at a cart: `<base>/oauth/callback/<cart>`.
    pub fn redirect_uri(&self, cart: &CartId) -> String {
        self.public_url(&format!("/oauth/callback/{cart}"))
    }

    /// Reads the configuration from `env` (a lookup such as `std::env::var`) and the TOML file
    /// it names in `CARTLINK_CONFIG`, if any.
    pub fn load(env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file = match env("CARTLINK_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| err(format!("cannot read {path}: {e}")))?;
                Some(ConfigText { source: path, text })
            }
            None => None,
        };
        Config::load_with(env, file)
    }

    /// Reads the configuration from `env` and `file`, TOML text read elsewhere (the file of
    /// `CARTLINK_CONFIG`, or the SSM SecureString parameter of the Lambda functions).
    pub fn load_with(
        env: &dyn Fn(&str) -> Option<String>,
        file: Option<ConfigText>,
    ) -> Result<Config, ConfigError> {
        let file = parse_file(file)?;
        let limits = Limits::load(env, &file)?;
        let webhook_schedule = webhook_schedule(env)?;
        let base_raw = env("CARTLINK_PUBLIC_BASE_URL")
            .or(file.public_base_url)
            .unwrap_or_else(|| "http://127.0.0.1:3000".into());
        let base = endpoint_url("public base URL", &base_raw, true).map_err(err)?;
        let local = base.scheme() == "http";
        if base.query().is_some() {
            return Err(err("public base URL must not hold a query"));
        }
        let public_base_url = base.as_str().trim_end_matches('/').to_owned();
        let data_dir = env("CARTLINK_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(".cartlink"));
        let mail_from = env("CARTLINK_MAIL_FROM")
            .or(file.mail_from)
            .unwrap_or_else(|| "cartlink <no-reply@cartlink.invalid>".into());
        check_header("mail_from", &mail_from).map_err(|e| err(e.to_string()))?;
        let http_timeout = Duration::from_secs(
            env("CARTLINK_HTTP_TIMEOUT_SECS")
                .and_then(|v| v.parse().ok())
                .or(file.http_timeout_secs)
                .unwrap_or(10)
                .clamp(1, 25),
        );
        let warehouses = file
            .warehouses
            .into_iter()
            .map(warehouse)
            .collect::<Result<Vec<_>, _>>()?;
        let carts = file
            .carts
            .into_iter()
            .map(|c| configured_cart(c, env, local))
            .collect::<Result<Vec<_>, _>>()?;
        let aws = AwsSettings::from_env(env);
        let cart_credentials = file
            .cart_credentials
            .into_iter()
            .map(|(id, c)| builtin_credentials(&id, c, env, local))
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let ebay_account_deletion = file
            .ebay_account_deletion
            .map(|e| e.read(env, local))
            .transpose()?;
        let square_webhooks = file
            .square_webhooks
            .map(|e| e.read(env, local))
            .transpose()?;
        Ok(Config {
            public_base_url,
            data_dir,
            mail_from,
            warehouses,
            carts,
            cart_credentials,
            http_timeout,
            aws,
            limits,
            webhook_schedule,
            ebay_account_deletion,
            square_webhooks,
            wix_webhooks: file.wix_webhooks.map(|e| e.read(env)).transpose()?,
            origin_memo: Memo::default(),
        })
    }
}

/// The TOML text as the file's settings.
fn parse_file(file: Option<ConfigText>) -> Result<FileConfig, ConfigError> {
    Ok(match file {
        Some(ConfigText { source, text }) => {
            // toml's messages quote the offending line, which may hold a secret: say only
            // where the error is.
            toml::from_str(&text).map_err(|e| {
                let at = e
                    .span()
                    .map(|span| {
                        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                        format!(" at line {line}")
                    })
                    .unwrap_or_default();
                err(format!(
                    "{source}: not valid TOML or an unknown key{at}: {}",
                    e.message()
                ))
            })?
        }
        None => FileConfig::default(),
    })
}

fn warehouse(w: WarehouseConfig) -> Result<Warehouse, ConfigError> {
    let id = WarehouseId::parse(&w.id).ok_or_else(|| {
        err(format!(
            "warehouse id {:?} must match ^[a-z0-9-]{{1,64}}$",
            w.id
        ))
    })?;
    if w.name.trim().is_empty() || w.name.len() > 100 || w.name.contains(char::is_control) {
        return Err(err(format!(
            "warehouse {id}: name must be 1 to 100 printable characters"
        )));
    }
    let notify_email = normalize_email(&w.notify_email)
        .ok_or_else(|| err(format!("warehouse {id}: notify_email is not an address")))?;
    let api_key_hashes = w
        .api_key_sha256
        .iter()
        .map(|h| TokenHash::from_stored(h))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            err(format!(
                "warehouse {id}: api_key_sha256 must be 64 hex digits"
            ))
        })?;
    let locale = match &w.locale {
        None => None,
        Some(tag) => Some(crate::domain::Locale::parse(tag).ok_or_else(|| {
            err(format!(
                "warehouse {id}: locale must be one of en, de, fr, es, ja"
            ))
        })?),
    };
    Ok(Warehouse {
        id,
        display_name: w.name,
        notify_email,
        api_key_hashes,
        brand: Default::default(),
        locale,
    })
}

fn builtin_credentials(
    raw_id: &str,
    c: CredentialsEntry,
    env: &dyn Fn(&str) -> Option<String>,
    local: bool,
) -> Result<(CartId, BuiltinCredentials), ConfigError> {
    let what = format!("cart_credentials.{raw_id}");
    let cart = CartId::parse(raw_id)
        .and_then(|id| crate::carts::builtin::find(&id))
        .ok_or_else(|| err(format!("{what}: no built-in cart has that id")))?;
    let (given, base_url_override) = c.split();
    let credentials = given.for_cart(&what, &cart.terms(), env).map_err(err)?;
    let base_url_override = match base_url_override {
        None => None,
        Some(raw) => {
            let url =
                endpoint_url(&format!("{what}: base_url_override"), &raw, local).map_err(err)?;
            if !local || !is_loopback(&url) {
                return Err(err(format!(
                    "{what}: base_url_override is only for loopback test configurations"
                )));
            }
            Some(url)
        }
    };
    Ok((
        CartId::new(cart.id()),
        BuiltinCredentials {
            credentials,
            base_url_override,
        },
    ))
}

/// An operator's own cart: the entry, under an id no built-in cart has, with its credentials
/// inline.
fn configured_cart(
    entry: CartEntry,
    env: &dyn Fn(&str) -> Option<String>,
    local: bool,
) -> Result<CartSpec, ConfigError> {
    let (mut cart, given) = entry.into_spec(local).map_err(err)?;
    let id = &cart.id;
    if crate::carts::builtin::find(id).is_some() {
        return Err(err(format!(
            "cart {id}: that id is a built-in cart; configure it under [cart_credentials.{id}]"
        )));
    }
    // A cart whose merchants type their own credentials needs no app of ours.
    if cart.flavour == crate::carts::Flavour::Credentials && given.is_empty() {
        return Ok(cart);
    }
    cart.credentials = Some(
        given
            .for_cart(&format!("cart {id}"), &cart.credential_terms(), env)
            .map_err(err)?,
    );
    Ok(cart)
}

#[cfg(test)]
mod tests;
