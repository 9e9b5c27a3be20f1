//! Configuration, read once at start: from the environment and an optional TOML file
//! (`CARTLINK_CONFIG`). The environment wins over the file.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use url::{Host, Url};

use crate::carts::{CartEntry, CartId, CartSpec, ClientCredentials, EntryCredentials, Need};
use crate::domain::{Secret, TokenHash, Warehouse, WarehouseId};
use crate::mailer::check_header;

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
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    public_base_url: Option<String>,
    data_dir: Option<PathBuf>,
    mail_from: Option<String>,
    http_timeout_secs: Option<u64>,
    #[serde(default)]
    warehouses: Vec<WarehouseConfig>,
    #[serde(default)]
    carts: Vec<CartEntry>,
    #[serde(default)]
    cart_credentials: BTreeMap<String, CartCredentialsConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CartCredentialsConfig {
    client_id: String,
    client_secret: Option<String>,
    client_secret_env: Option<String>,
    app_id: Option<String>,
    ru_name: Option<String>,
    #[serde(default)]
    draft: bool,
    base_url_override: Option<String>,
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
}

/// Whether a URL's host is a loopback address (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d == "localhost",
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Parses an endpoint URL: https, or plain http to a loopback host when `local` (the
/// configuration itself is a loopback one: local runs and tests). Production configurations
/// refuse plain http.
pub fn endpoint_url(what: &str, raw: &str, local: bool) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|e| err(format!("{what} is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if local && is_loopback(&url) => {}
        _ => {
            return Err(err(format!(
                "{what} must be https (plain http only to loopback, in a loopback configuration)"
            )))
        }
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(err(format!(
            "{what} must not hold a fragment or credentials"
        )));
    }
    Ok(url)
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
        Url::parse(&self.public_base_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
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
        let file: FileConfig = match file {
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
        };
        let base_raw = env("CARTLINK_PUBLIC_BASE_URL")
            .or(file.public_base_url)
            .unwrap_or_else(|| "http://127.0.0.1:3000".into());
        let base = endpoint_url("public base URL", &base_raw, true)?;
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
        let builtin = crate::carts::builtin::catalog().map_err(err)?;
        let carts = file
            .carts
            .into_iter()
            .map(|c| configured_cart(c, builtin, env, local))
            .collect::<Result<Vec<_>, _>>()?;
        let aws = AwsSettings {
            table: env("CARTLINK_TABLE").filter(|v| !v.is_empty()),
            kms_key_id: env("CARTLINK_KMS_KEY_ID").filter(|v| !v.is_empty()),
            ses_configuration_set: env("CARTLINK_SES_CONFIGURATION_SET").filter(|v| !v.is_empty()),
        };
        let cart_credentials = file
            .cart_credentials
            .into_iter()
            .map(|(id, c)| builtin_credentials(&id, c, builtin, env, local))
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        Ok(Config {
            public_base_url,
            data_dir,
            mail_from,
            warehouses,
            carts,
            cart_credentials,
            http_timeout,
            aws,
        })
    }
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
    Ok(Warehouse {
        id,
        display_name: w.name,
        notify_email,
        api_key_hashes,
    })
}

fn secret_from(
    what: &str,
    secret: Option<String>,
    secret_env: Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, ConfigError> {
    match (secret, secret_env) {
        (Some(s), None) => Ok(Some(Secret::new(s))),
        (None, Some(var)) => {
            Ok(Some(Secret::new(env(&var).ok_or_else(|| {
                err(format!("{what}: {var} is not set"))
            })?)))
        }
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(err(format!(
            "{what}: give client_secret or client_secret_env, not both"
        ))),
    }
}

/// The app's credentials at `cart`, checked against what the cart needs: a printable client
/// id, a secret unless the cart takes none, and the fields it names in `needs`. One rule for
/// built-in carts (`[cart_credentials.<id>]`) and the operator's own (inline in `[[carts]]`).
fn credentials(
    what: &str,
    cart: &CartSpec,
    given: EntryCredentials,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ClientCredentials, ConfigError> {
    let client_id = given
        .client_id
        .ok_or_else(|| err(format!("{what}: client_id is missing")))?;
    if client_id.trim().is_empty() || client_id.contains(char::is_control) {
        return Err(err(format!("{what}: client_id must be printable")));
    }
    let secret = secret_from(what, given.client_secret, given.client_secret_env, env)?;
    if secret.is_none() && cart.uses_client_secret() {
        return Err(err(format!("{what}: this cart needs a client secret")));
    }
    for need in &cart.needs {
        let value = match need {
            Need::RuName => given.ru_name.as_deref(),
            Need::AppId => given.app_id.as_deref(),
        };
        if value.is_none_or(|v| v.trim().is_empty()) {
            return Err(err(format!("{what}: this cart needs {}", need.as_str())));
        }
    }
    Ok(ClientCredentials {
        client_id,
        client_secret: secret,
        app_id: given.app_id,
        ru_name: given.ru_name,
        draft: given.draft,
    })
}

fn builtin_credentials(
    raw_id: &str,
    c: CartCredentialsConfig,
    builtin: &[CartSpec],
    env: &dyn Fn(&str) -> Option<String>,
    local: bool,
) -> Result<(CartId, BuiltinCredentials), ConfigError> {
    let what = format!("cart_credentials.{raw_id}");
    let spec = CartId::parse(raw_id)
        .and_then(|id| builtin.iter().find(|s| s.id == id))
        .ok_or_else(|| err(format!("{what}: no built-in cart has that id")))?;
    let given = EntryCredentials {
        client_id: Some(c.client_id),
        client_secret: c.client_secret,
        client_secret_env: c.client_secret_env,
        app_id: c.app_id,
        ru_name: c.ru_name,
        draft: c.draft,
    };
    let credentials = credentials(&what, spec, given, env)?;
    let base_url_override = match c.base_url_override {
        None => None,
        Some(raw) => {
            let url = endpoint_url(&format!("{what}: base_url_override"), &raw, local)?;
            if !local || !is_loopback(&url) {
                return Err(err(format!(
                    "{what}: base_url_override is only for loopback test configurations"
                )));
            }
            Some(url)
        }
    };
    Ok((
        spec.id.clone(),
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
    builtin: &[CartSpec],
    env: &dyn Fn(&str) -> Option<String>,
    local: bool,
) -> Result<CartSpec, ConfigError> {
    let (mut cart, given) = entry.into_spec(local).map_err(err)?;
    let id = &cart.id;
    if builtin.iter().any(|b| &b.id == id) {
        return Err(err(format!(
            "cart {id}: that id is a built-in cart; configure it under [cart_credentials.{id}]"
        )));
    }
    cart.credentials = Some(credentials(&format!("cart {id}"), &cart, given, env)?);
    Ok(cart)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carts::Pkce;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)], file: Option<&str>) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(text) = file {
            let path = dir.path().join("cartlink.toml");
            std::fs::write(&path, text).unwrap();
            map.insert("CARTLINK_CONFIG".into(), path.display().to_string());
        }
        Config::load(&|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_serve_loopback_http() {
        let c = load(&[], None).unwrap();
        assert_eq!(c.public_base_url, "http://127.0.0.1:3000");
        assert!(c.is_local_http());
        assert_eq!(
            c.redirect_uri(&CartId::new("sandbox")),
            "http://127.0.0.1:3000/oauth/callback/sandbox"
        );
    }

    #[test]
    fn production_base_urls_must_be_https() {
        assert!(load(
            &[("CARTLINK_PUBLIC_BASE_URL", "http://cartlink.example.com")],
            None
        )
        .is_err());
        let c = load(
            &[("CARTLINK_PUBLIC_BASE_URL", "https://cartlink.example.com/")],
            None,
        )
        .unwrap();
        assert_eq!(c.public_base_url, "https://cartlink.example.com");
        assert!(!c.is_local_http());
    }

    #[test]
    fn a_generic_cart_and_warehouse_come_from_the_file() {
        // GIVEN a file with one warehouse and one generic cart whose secret is in the environment
        let file = format!(
            r#"
            [[warehouses]]
            id = "wh-acme"
            name = "Acme Fulfilment"
            notify_email = "ops@Acme.TEST"
            api_key_sha256 = ["{}"]

            [[carts]]
            id = "shopcart"
            name = "ShopCart"
            authorize_url = "https://auth.shopcart.test/authorize"
            token_url = "https://auth.shopcart.test/token"
            client_id = "app"
            client_secret_env = "SHOPCART_SECRET"
            pkce = "required"
            [carts.scopes]
            orders = ["orders.read"]
            "#,
            TokenHash::of("k").as_str()
        );
        // WHEN it is loaded
        let c = load(&[("SHOPCART_SECRET", "s3cret")], Some(&file)).unwrap();
        // THEN both are there, the email domain lower-cased and the secret read from the env
        assert_eq!(c.warehouses[0].notify_email, "ops@acme.test");
        let cart = &c.carts[0];
        assert_eq!(cart.pkce, Pkce::Required);
        assert_eq!(
            cart.credentials
                .as_ref()
                .unwrap()
                .client_secret
                .as_ref()
                .unwrap()
                .expose(),
            "s3cret"
        );
        // AND the secret is not in the Debug form
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused_with_a_reason() {
        assert!(load(&[], Some("surprise = 1"))
            .unwrap_err()
            .0
            .contains("surprise"));
        let insecure = r#"
            [[carts]]
            id = "x"
            name = "X"
            authorize_url = "http://auth.x.test/a"
            token_url = "https://auth.x.test/t"
            client_id = "app"
            client_secret = "s"
            [carts.scopes]
            orders = ["o"]
        "#;
        assert!(load(&[], Some(insecure)).unwrap_err().0.contains("https"));
    }

    #[test]
    fn builtin_cart_credentials_come_from_the_file_with_their_extra_fields() {
        // GIVEN credentials for eBay (RuName) and Amazon (app id, draft)
        let file = r#"
            [cart_credentials.ebay]
            client_id = "ebay-app"
            client_secret_env = "EBAY_SECRET"
            ru_name = "Cartlink-RuName"

            [cart_credentials.amazon-sp-api]
            client_id = "amzn1.application-oa2-client.x"
            client_secret = "lwa"
            app_id = "amzn1.sellerapps.app.x"
            draft = true

            [cart_credentials.etsy]
            client_id = "keystring"
        "#;
        // WHEN it is loaded
        let c = load(&[("EBAY_SECRET", "cert")], Some(file)).unwrap();
        // THEN the catalog enables exactly those carts, with their fields
        let catalog = crate::carts::Catalog::from_config(&c);
        let ebay = catalog.get(&CartId::new("ebay")).unwrap();
        let creds = ebay.credentials.as_ref().unwrap();
        assert_eq!(creds.ru_name.as_deref(), Some("Cartlink-RuName"));
        assert_eq!(creds.client_secret.as_ref().unwrap().expose(), "cert");
        let amazon = catalog.get(&CartId::new("amazon-sp-api")).unwrap();
        assert!(amazon.credentials.as_ref().unwrap().draft);
        assert!(catalog.get(&CartId::new("etsy")).unwrap().enabled());
        assert!(!catalog.get(&CartId::new("shopify")).unwrap().enabled());
        assert_eq!(catalog.iter().count(), 15);
    }

    #[test]
    fn builtin_credentials_missing_what_the_cart_needs_are_refused() {
        let no_runame = "[cart_credentials.ebay]\nclient_id = \"a\"\nclient_secret = \"s\"\n";
        assert!(load(&[], Some(no_runame))
            .unwrap_err()
            .0
            .contains("ru_name"));
        let no_secret = "[cart_credentials.shopify]\nclient_id = \"a\"\n";
        assert!(load(&[], Some(no_secret)).unwrap_err().0.contains("secret"));
        let unknown = "[cart_credentials.nosuchcart]\nclient_id = \"a\"\n";
        assert!(load(&[], Some(unknown)).unwrap_err().0.contains("built-in"));
        // Magento has no secret of its own (each store hands one over on activation)
        let magento = "[cart_credentials.magento]\nclient_id = \"cartlink\"\n";
        assert!(
            load(&[], Some(magento)).unwrap().cart_credentials[&CartId::new("magento")]
                .credentials
                .client_secret
                .is_none()
        );
    }

    /// An operator's cart written in the built-in entries' schema: a per-store host from a
    /// merchant input, a described JSON token request, a callback value, a named hook.
    const PER_STORE_CART: &str = r#"
        [[carts]]
        id = "acme-shops"
        name = "Acme Shops"
        authorize_url = "https://{shop}/oauth/authorize"
        token_url = "https://{shop}/oauth/token"
        client_id = "app"
        client_secret = "s"
        pkce = "not_supported"
        hosts = ['^[a-z0-9-]+\.acme-shops\.test$']
        refresh = { kind = "fixed", access_secs = 600 }
        sources = ["the operator's own notes"]
        [carts.scopes]
        orders = ["orders:read"]
        [carts.input]
        key = "shop"
        label = "Shop host"
        pattern = '^[a-z0-9-]+\.acme-shops\.test$'
        normalize = "lowercase"
        [carts.callback]
        account = { param = "shop", var = "account", pattern = '^[a-z0-9-]+\.acme-shops\.test$' }
        [carts.token_request]
        kind = "described"
        json = true
        fields = [["code", "code"], ["client_id", "client_id"], ["shop", { var = "shop" }]]
        expiry = { in_secs = "expires_in" }
    "#;

    #[test]
    fn an_operator_cart_may_use_everything_a_built_in_entry_does() {
        // GIVEN an operator's cart with a per-store host, a described token request and a
        // documented token life
        let c = load(&[], Some(PER_STORE_CART)).unwrap();
        let cart = &c.carts[0];
        // WHEN its token endpoint is built for a shop the merchant named
        let vars = cart.input_vars(Some(" North.Acme-Shops.test "));
        let token = cart.endpoint(&cart.token_url, &vars).unwrap();
        // THEN it is that shop's, and the entry's other abilities are there
        assert_eq!(token.as_str(), "https://north.acme-shops.test/oauth/token");
        assert!(matches!(
            cart.token_request,
            crate::carts::TokenRequest::Described(_)
        ));
        assert_eq!(
            cart.refresh.documented_expiry(crate::domain::Timestamp(0)),
            Some(crate::domain::Timestamp(600))
        );
        assert_eq!(cart.sources, vec!["the operator's own notes"]);
        // AND a shop outside its pattern builds no endpoint
        let forged = cart.input_vars(Some("evil.test"));
        assert!(cart.endpoint(&cart.token_url, &forged).is_err());
    }

    #[test]
    fn an_operator_cart_with_a_template_endpoint_must_name_its_hosts() {
        // GIVEN the per-store cart without its host rule
        let no_hosts = PER_STORE_CART.replace("hosts = ['^[a-z0-9-]+\\.acme-shops\\.test$']\n", "");
        assert_ne!(no_hosts, PER_STORE_CART);
        // THEN it is refused: a template's host cannot be derived
        assert!(load(&[], Some(&no_hosts)).unwrap_err().0.contains("hosts"));
    }

    #[test]
    fn an_operator_cart_names_only_hooks_that_exist_and_gets_them() {
        // GIVEN the per-store cart naming Shopify's HMAC hook, then a hook nobody wrote
        let hooked =
            PER_STORE_CART.replace("pkce = ", "checks = [\"shopify_hmac\"]\n        pkce = ");
        let c = load(&[], Some(&hooked)).unwrap();
        assert_eq!(
            c.carts[0].checks.iter().map(|h| h.name).collect::<Vec<_>>(),
            ["shopify_hmac"]
        );
        let unknown = hooked.replace("shopify_hmac", "acme_magic");
        assert!(load(&[], Some(&unknown))
            .unwrap_err()
            .0
            .contains("acme_magic"));
    }

    #[test]
    fn an_operator_cart_needs_the_credentials_its_entry_names() {
        // GIVEN a cart that sends a RuName as its redirect URI but gives none
        let ru = PER_STORE_CART.replace(
            "pkce = ",
            "redirect = \"ru_name\"\n        needs = [\"ru_name\"]\n        pkce = ",
        );
        assert!(load(&[], Some(&ru)).unwrap_err().0.contains("ru_name"));
        // WHEN it gives one THEN it loads with it
        let given = ru.replace(
            "client_secret = \"s\"",
            "client_secret = \"s\"\n        ru_name = \"Acme-RuName\"",
        );
        let c = load(&[], Some(&given)).unwrap();
        let creds = c.carts[0].credentials.as_ref().unwrap();
        assert_eq!(creds.ru_name.as_deref(), Some("Acme-RuName"));
    }

    #[test]
    fn production_configurations_refuse_plain_http_and_stand_in_overrides() {
        let https = [("CARTLINK_PUBLIC_BASE_URL", "https://cartlink.example.com")];
        // GIVEN a stand-in override: fine in a loopback configuration
        let over = "[cart_credentials.square]\nclient_id = \"a\"\nclient_secret = \"s\"\nbase_url_override = \"http://127.0.0.1:9\"\n";
        let local = load(&[], Some(over)).unwrap();
        assert!(local.cart_credentials[&CartId::new("square")]
            .base_url_override
            .is_some());
        // WHEN the configuration is a production one THEN it is refused
        assert!(load(&https, Some(over)).is_err());
        // AND even an https override is refused there
        let https_over = over.replace("http://127.0.0.1:9", "https://stand-in.example.com");
        assert!(load(&https, Some(&https_over))
            .unwrap_err()
            .0
            .contains("loopback"));
        // AND a generic cart on plain http loopback is refused in production
        let generic = r#"
            [[carts]]
            id = "x"
            name = "X"
            authorize_url = "http://127.0.0.1:9/a"
            token_url = "http://127.0.0.1:9/t"
            client_id = "app"
            client_secret = "s"
            [carts.scopes]
            orders = ["o"]
        "#;
        assert!(load(&[], Some(generic)).is_ok());
        assert!(load(&https, Some(generic)).unwrap_err().0.contains("https"));
        // AND a generic cart may not take a built-in id
        let clash = generic.replace("id = \"x\"", "id = \"shopify\"");
        assert!(load(&[], Some(&clash)).unwrap_err().0.contains("built-in"));
    }

    #[test]
    fn email_addresses_are_single_plain_and_normalized() {
        assert_eq!(
            normalize_email("A.Person@Example.COM").as_deref(),
            Some("A.Person@example.com")
        );
        for bad in [
            "a@b.com, c@d.com",
            "a@b.com\n",
            "<a@b.com>",
            "Name <a@b.com>",
            "a@b.com>",
            "nobody",
            "a@localhost",
            &format!("{}@b.com", "a".repeat(300)),
        ] {
            assert!(normalize_email(bad).is_none(), "{bad:?}");
        }
    }
}
