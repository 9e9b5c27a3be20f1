//! The cart catalog: how each cart authorizes an app, as data.
//!
//! An entry says how the merchant authorizes (popup OAuth, a key handshake, or an install they
//! start in their own admin), what the merchant must tell us first (shop domain, store URL,
//! region) with an anchored pattern, where the authorize and token endpoints are (templates
//! filled from validated values only), which hosts outbound calls may reach, how the client
//! authenticates, whether PKCE is used, what the callback parameters are called, and how tokens
//! refresh. The flow reads these fields; a cart's quirks that data cannot say are small hooks
//! ([`quirks`]) named by the entry. Nothing branches on a cart's name.
//!
//! Every entry, built-in or configured, is written in one schema ([`CartEntry`], the
//! `[[carts]]` tables of the configuration): the built-in entries are the data file
//! `shared/carts.toml` ([`builtin`]), read once; operators add their own in the configuration.

pub mod builtin;
mod entry;
mod pattern;
pub mod quirks;
#[cfg(test)]
mod tests_table;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::domain::{Function, Secret, Timestamp};

pub use entry::{CartEntry, EntryCredentials};
pub use pattern::{pattern_matches, Pattern};

/// A cart's id (`sandbox`, `shopify`, or the id of a generic cart from configuration):
/// `^[a-z0-9-]{1,32}$`, used in callback paths and storage.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CartId(String);

impl CartId {
    /// Wraps an id known to be well formed (catalog constants).
    pub fn new(id: &str) -> Self {
        debug_assert!(CartId::parse(id).is_some(), "bad cart id {id}");
        CartId(id.to_owned())
    }

    /// Accepts an id from outside if it is well formed.
    pub fn parse(id: &str) -> Option<Self> {
        let ok = !id.is_empty()
            && id.len() <= 32
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| CartId(id.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CartId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a cart takes PKCE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pkce {
    /// The cart refuses a code exchange without it.
    Required,
    /// The cart accepts it; cartlink always sends it (S256).
    Supported,
    /// The cart does not take it in the flow cartlink uses: none is sent, and `state` alone
    /// guards the flow.
    NotSupported,
}

impl Pkce {
    /// Whether cartlink sends a PKCE challenge to this cart.
    pub fn is_used(self) -> bool {
        !matches!(self, Pkce::NotSupported)
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// `client_id` and `client_secret` in the body.
    Body,
    /// HTTP Basic with the client id and secret.
    Basic,
    /// A public client: `client_id` in the body, no secret (PKCE carries the proof).
    None,
}

/// How the merchant authorizes cartlink at this cart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavour {
    /// Authorization code in a popup from the grant page, back to `/oauth/callback/{cart}`.
    PopupOauth,
    /// The grant page sends the merchant to their own store, which posts API keys to
    /// `/oauth/keys/{cart}` (WooCommerce's `/wc-auth/v1/authorize`).
    KeyHandshake,
    /// The merchant creates an integration in their own admin (Magento / Adobe Commerce) with
    /// the Callback URL and Identity link URL cartlink gives them on the grant page; on
    /// activation the store posts the integration's credentials to the Callback URL, server to
    /// server (`/oauth/integration/{cart}/{nonce}`), and cartlink fetches the access token with
    /// them ([`TokenRequest::OAuth1`]).
    AdminIntegration,
}

impl Flavour {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::PopupOauth => "popup_oauth",
            Flavour::KeyHandshake => "key_handshake",
            Flavour::AdminIntegration => "admin_integration",
        }
    }

    /// How long a grant attempt of this flavour waits for the cart. A sign-in in a popup or at
    /// the store takes a minute or two; creating an integration by hand (a form, an admin
    /// password, the API resource tree, then Activate) takes several minutes, so an admin
    /// integration's attempt lives an hour.
    pub fn attempt_ttl_secs(self) -> i64 {
        match self {
            Flavour::AdminIntegration => crate::domain::ADMIN_INTEGRATION_ATTEMPT_TTL_SECS,
            Flavour::PopupOauth | Flavour::KeyHandshake => crate::domain::ATTEMPT_TTL_SECS,
        }
    }
}

/// How a merchant input is cleaned before its pattern is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalize {
    /// Trimmed, lower-cased.
    Lowercase,
    /// An `https://` URL to a public host (never loopback, private or link-local: cartlink
    /// calls it itself), trimmed, host lower-cased, no trailing slash.
    PublicHttpsUrl,
}

/// One allowed value of a choice input (a region), and the template values it sets.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// The value the warehouse sends (`eu`).
    pub value: String,
    /// What it means (`Europe`).
    pub label: String,
    /// Template variables it sets (`seller_central` = `sellercentral-europe.amazon.com`).
    #[serde(skip_serializing, default)]
    pub vars: BTreeMap<String, String>,
    /// The scopes per function when this choice needs others than the cart's (Lightspeed
    /// X-Series); empty: the cart's.
    #[serde(skip_serializing, default)]
    pub scopes: BTreeMap<Function, Vec<String>>,
}

/// What the merchant (through the warehouse) must tell cartlink before a grant, carried in the
/// invite's `store` field.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantInput {
    /// Its name and template variable (`shop`, `store_url`, `region`, `series`).
    pub key: String,
    /// What to ask for.
    pub label: String,
    /// The anchored pattern the cleaned value must match.
    pub pattern: Pattern,
    /// How it is cleaned first.
    pub normalize: Normalize,
    /// The allowed values, when it is a choice.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub choices: Vec<Choice>,
}

impl MerchantInput {
    /// Cleans and checks a value: the stored form, or why it is refused.
    pub fn validate(&self, raw: &str) -> Result<String, String> {
        let trimmed = raw.trim();
        let value = match self.normalize {
            Normalize::Lowercase => trimmed.to_ascii_lowercase(),
            Normalize::PublicHttpsUrl => quirks::public_https_url(trimmed)?,
        };
        if !pattern_matches(&self.pattern, &value) {
            return Err(format!("must match {}", self.pattern.as_str()));
        }
        if !self.choices.is_empty() && !self.choices.iter().any(|c| c.value == value) {
            let all: Vec<&str> = self.choices.iter().map(|c| c.value.as_str()).collect();
            return Err(format!("must be one of {}", all.join(", ")));
        }
        Ok(value)
    }

    /// The template variables a validated value sets: itself under its key, the chosen
    /// option's variables, and for a URL its host as `store_host`.
    pub fn vars(&self, value: &str, vars: &mut Vars) {
        vars.insert(self.key.clone(), value.to_owned());
        if let Some(choice) = self.choices.iter().find(|c| c.value == value) {
            for (k, v) in &choice.vars {
                vars.insert(k.clone(), v.clone());
            }
        }
        if self.normalize == Normalize::PublicHttpsUrl {
            if let Some(host) = Url::parse(value).ok().and_then(|u| {
                u.host_str().map(|h| {
                    format!(
                        "{h}{}",
                        u.port().map(|p| format!(":{p}")).unwrap_or_default()
                    )
                })
            }) {
                vars.insert("store_host".into(), host);
            }
        }
    }
}

/// Template variables: validated merchant inputs, their choices, and validated callback values.
pub type Vars = BTreeMap<String, String>;

/// The value of one authorize-request parameter. In the catalog's TOML a value from the flow is
/// its name (`"state"`), a fixed one `{ lit = "code" }`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Param {
    /// A fixed value.
    Lit(String),
    /// The client id.
    ClientId,
    /// The app id from configuration (Amazon's `application_id`).
    AppId,
    /// The redirect value of [`CartSpec::redirect`] (our callback URL, or eBay's RuName).
    RedirectUri,
    /// The scopes, joined by [`AuthorizeSpec::scope_separator`]; left out when there are none.
    Scope,
    /// The grant attempt's `state` (for WooCommerce: the one-time `user_id` nonce).
    State,
    /// A fresh random value used once (Walmart's `nonce`).
    Nonce,
    /// This value only when the app is a draft (Amazon's `version=beta`).
    IfDraft(String),
    /// A public URL of cartlink at this path.
    PublicUrl(String),
}

/// The authorization request.
#[derive(Clone, Debug)]
pub struct AuthorizeSpec {
    /// The URL template (`https://{shop}/admin/oauth/authorize`).
    pub url: String,
    /// The query parameters, in order; PKCE's are appended when used.
    pub params: Vec<(String, Param)>,
    /// How scopes are joined (space for most; comma for Squarespace).
    pub scope_separator: String,
}

impl AuthorizeSpec {
    /// The RFC 6749 request at `url`: `response_type=code`, `client_id`, `redirect_uri`,
    /// `scope`, `state`.
    pub fn standard(url: &str) -> AuthorizeSpec {
        AuthorizeSpec {
            url: url.into(),
            params: vec![
                ("response_type".into(), Param::Lit("code".into())),
                ("client_id".into(), Param::ClientId),
                ("redirect_uri".into(), Param::RedirectUri),
                ("scope".into(), Param::Scope),
                ("state".into(), Param::State),
            ],
            scope_separator: " ".into(),
        }
    }
}

/// What is sent as the redirect URI in both steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Redirect {
    /// `<public base>/oauth/callback/<cart>`.
    #[default]
    Callback,
    /// The RuName from configuration (eBay): a name whose accepted URL, registered at the cart,
    /// is our callback.
    RuName,
}

/// A value of a token request (body field or header). In the catalog's TOML a value from the
/// flow is its name (`"code"`), a fixed one `{ lit = "1" }`, a template variable
/// `{ var = "context" }`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// A fixed value.
    Lit(String),
    /// The client id.
    ClientId,
    /// The client secret.
    ClientSecret,
    /// The authorization code.
    Code,
    /// The redirect value sent in the authorization request, byte for byte.
    RedirectUri,
    /// The PKCE verifier (left out when PKCE is not used).
    CodeVerifier,
    /// The refresh token being redeemed (refresh requests).
    RefreshToken,
    /// The connection's scopes, space-separated (eBay's refresh asks for them again).
    Scopes,
    /// A template variable (a validated callback value such as Walmart's `sellerId`).
    Var(String),
    /// A fresh random correlation id.
    Correlation,
}

/// Where the access token's expiry is in a token response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    /// Seconds from now, in this field (`expires_in`).
    InSecs(String),
    /// An RFC 3339 date, in this field (Square's `expires_at`).
    AtRfc3339(String),
    /// Seconds since the epoch (a number), in this field.
    AtEpochSecs(String),
    /// Not given.
    #[default]
    None,
}

/// A token request the `oauth2` crate cannot make (JSON bodies, extra headers, responses
/// without `token_type` or with other fields), described as data and sent over the same HTTP
/// client.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribedRequest {
    /// JSON (true) or form-encoded (false) body.
    pub json: bool,
    /// The body fields, in order.
    pub fields: Vec<(String, Field)>,
    /// Extra headers.
    #[serde(default)]
    pub headers: Vec<(String, Field)>,
    /// The response field holding the refresh token, if any.
    pub refresh_token: Option<String>,
    /// Where the expiry is.
    #[serde(default)]
    pub expiry: Expiry,
    /// The response field naming the account (Square's `merchant_id`), if any.
    pub account: Option<String>,
    /// The client authentication, where it differs from [`CartSpec::token_auth`] (Keap's
    /// refresh takes HTTP Basic, its code exchange the body).
    pub auth: Option<TokenAuth>,
}

/// How the code is exchanged. In the catalog's TOML, a table whose `kind` names the variant.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenRequest {
    /// RFC 6749 §4.1.3 with a form body and a standard JSON answer: the `oauth2` crate.
    #[default]
    Standard,
    /// A catalog-described request.
    Described(DescribedRequest),
    /// No code exchange (key handshakes).
    NoExchange,
    /// OAuth 1.0a (Magento integrations): the store posts the consumer credentials and a
    /// verifier; cartlink asks for a request token, then trades it and the verifier for the
    /// access token at [`CartSpec::token_url`], every call signed with HMAC-SHA256.
    #[serde(rename = "oauth1")]
    OAuth1(OAuth1Spec),
}

/// An OAuth 1.0a integration's token endpoints and credential shape.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth1Spec {
    /// The request-token endpoint template (`{store_url}/oauth/token/request`).
    pub request_token_url: String,
    /// The anchored pattern the posted consumer key, consumer secret and verifier must match.
    pub credential_pattern: Pattern,
}

/// A callback value taken into the flow after its anchored pattern is checked.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackValue {
    /// The callback parameter (`domain_prefix`, `selling_partner_id`).
    pub param: String,
    /// The template variable it sets.
    pub var: String,
    /// The anchored pattern.
    pub pattern: Pattern,
}

/// Where the callback finds the grant attempt's `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateReturn {
    /// In the callback's query, under [`CallbackParams::state`] (RFC 6749).
    Query,
    /// In the short-lived state cookie set when the grant started, because the cart's
    /// install link takes no `state` and its callback carries none (BigCommerce). The attempt
    /// is then bound to this browser by both cookies, and to the merchant's store by
    /// [`CallbackParams::input_echo`].
    Cookie,
}

/// A callback parameter that must equal a value built from the merchant input the attempt was
/// started with: Shopify's `shop` (`{shop}`), BigCommerce's `context` (`stores/{store_hash}`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputEcho {
    /// The callback parameter.
    pub param: String,
    /// The template its value must equal, filled from the attempt's validated input.
    pub expected: String,
}

/// What the cart's callback parameters are called and what the callback must carry; in the
/// catalog's TOML every field may be left out for its RFC 6749 default.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbackParams {
    /// The authorization code (`code`; Amazon: `spapi_oauth_code`).
    pub code: String,
    /// The state (`state`).
    pub state: String,
    /// Where the state comes back.
    pub state_return: StateReturn,
    /// The error (`error`).
    pub error: String,
    /// A parameter that must equal the merchant input the attempt was started with.
    pub input_echo: Option<InputEcho>,
    /// The parameter naming the merchant's account, checked by pattern.
    pub account: Option<CallbackValue>,
    /// Values the token URL or request is built from, each checked by pattern first.
    pub vars: Vec<CallbackValue>,
}

impl Default for CallbackParams {
    fn default() -> Self {
        CallbackParams {
            code: "code".into(),
            state: "state".into(),
            state_return: StateReturn::Query,
            error: "error".into(),
            input_echo: None,
            account: None,
            vars: Vec::new(),
        }
    }
}

/// A host outbound calls for a cart may reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostRule {
    /// The host matches this anchored pattern.
    Pattern(Pattern),
    /// The host (and port) equals the validated merchant store URL's (`store_host`).
    MerchantStore,
}

/// How the cart refreshes tokens (data for the refresher; lifetimes in seconds, `None` when
/// the cart does not say).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Refresh {
    /// Tokens do not expire; there is no refresh.
    None,
    /// Each refresh returns a new refresh token; the old one stops working.
    Rotating {
        /// Access token life.
        access_secs: Option<u32>,
        /// Refresh token life.
        refresh_secs: Option<u32>,
    },
    /// The refresh token stays the same until it expires.
    Fixed {
        /// Access token life.
        access_secs: Option<u32>,
        /// Refresh token life (`None`: it does not expire).
        refresh_secs: Option<u32>,
    },
    /// No refresh token: a new access token is minted with the app's own credentials.
    Remint {
        /// Access token life.
        access_secs: Option<u32>,
    },
    /// Whatever the token responses say (generic carts from configuration).
    AsAnswered,
}

impl Refresh {
    /// When an access token issued at `now` expires, for a token answer that does not say:
    /// the access-token life the cart documents (Wix's five minutes), if it documents one.
    pub fn documented_expiry(self, now: Timestamp) -> Option<Timestamp> {
        let secs = match self {
            Refresh::Rotating { access_secs, .. }
            | Refresh::Fixed { access_secs, .. }
            | Refresh::Remint { access_secs } => access_secs,
            Refresh::None | Refresh::AsAnswered => None,
        };
        secs.map(|s| now.plus_secs(i64::from(s)))
    }
}

/// The app's credentials at one cart, from configuration.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// The client id (not secret).
    pub client_id: String,
    /// The client secret; absent for public clients.
    pub client_secret: Option<Secret>,
    /// The app id, where it differs from the client id (Amazon's `application_id`).
    pub app_id: Option<String>,
    /// The RuName (eBay).
    pub ru_name: Option<String>,
    /// Whether the app is an unpublished draft (Amazon: `version=beta`).
    pub draft: bool,
}

impl ClientCredentials {
    /// Credentials with only a client id and secret.
    pub fn new(client_id: &str, client_secret: Option<Secret>) -> Self {
        ClientCredentials {
            client_id: client_id.into(),
            client_secret,
            app_id: None,
            ru_name: None,
            draft: false,
        }
    }
}

/// A credentials field a cart needs beyond the client id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// The RuName (eBay), sent as the redirect URI.
    RuName,
    /// The app id (Amazon's `application_id`).
    AppId,
}

impl Need {
    /// Its key in the credentials.
    pub fn as_str(self) -> &'static str {
        match self {
            Need::RuName => "ru_name",
            Need::AppId => "app_id",
        }
    }
}

/// A hook for what a cart's callback must prove beyond the shared checks (Shopify's HMAC).
#[derive(Clone, Copy)]
pub struct CallbackCheck {
    /// Its name (for logs and the catalog).
    pub name: &'static str,
    /// The check: `Err` carries a stable reason code.
    pub run: fn(&quirks::CheckInput<'_>) -> Result<(), &'static str>,
}

impl fmt::Debug for CallbackCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Why an endpoint could not be built.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The template needs a value that was not given (or not validated).
    #[error("missing value {0}")]
    MissingVar(String),
    /// The result is not a URL.
    #[error("not a URL")]
    NotUrl,
    /// The result is not https (plain http only on loopback).
    #[error("not https")]
    NotHttps,
    /// The host is not one this cart's calls may reach.
    #[error("host {0} is not allowed for this cart")]
    HostNotAllowed(String),
}

/// One cart of the catalog.
#[derive(Clone, Debug)]
pub struct CartSpec {
    /// Its id.
    pub id: CartId,
    /// The name merchants know it by.
    pub name: String,
    /// How the merchant authorizes.
    pub flavour: Flavour,
    /// The functions it supports and the scopes each needs.
    pub scopes: BTreeMap<Function, Vec<String>>,
    /// What must be known before a grant (carried in the invite's `store`).
    pub input: Option<MerchantInput>,
    /// The authorization request.
    pub authorize: AuthorizeSpec,
    /// What is sent as the redirect URI.
    pub redirect: Redirect,
    /// The token endpoint template (for key handshakes: the key-verification URL).
    pub token_url: String,
    /// How to authenticate at the token endpoint.
    pub token_auth: TokenAuth,
    /// How the code is exchanged.
    pub token_request: TokenRequest,
    /// Whether PKCE is used.
    pub pkce: Pkce,
    /// The callback's parameter names and values.
    pub callback: CallbackParams,
    /// Quirk hooks the callback runs before the exchange.
    pub checks: Vec<CallbackCheck>,
    /// The hosts the authorize redirect and outbound calls may reach.
    pub hosts: Vec<HostRule>,
    /// How tokens refresh.
    pub refresh: Refresh,
    /// How a refresh token is redeemed at [`CartSpec::token_url`] (RFC 6749 §6):
    /// [`TokenRequest::Standard`] through the `oauth2` crate, a described request, or
    /// [`TokenRequest::NoExchange`] for carts whose tokens do not expire.
    pub refresh_request: TokenRequest,
    /// The `iss` the cart puts in its authorization responses (RFC 9207), if it does: when set,
    /// a callback without it, or with another value, is refused.
    pub issuer: Option<String>,
    /// What the merchant does in their admin ([`Flavour::AdminIntegration`]). In an admin integration's steps, `{callback_url}` and
    /// `{identity_url}` stand for the attempt's own URLs, which the grant page shows copyable.
    pub admin_steps: Vec<String>,
    /// Where the callback sends the popup after storing the connection, when the cart's own
    /// install dialog must be told (BigCommerce's `install/succeeded`, Wix's `close-window`): a
    /// template over `{client_id}` and `{access_token}` whose host must be one this cart allows.
    pub finish_url: Option<String>,
    /// Credentials fields this cart needs beyond the client id (`ru_name`, `app_id`).
    pub needs: Vec<Need>,
    /// Where the entry's facts come from.
    pub sources: Vec<String>,
    /// The entry's facts that are still leads, not confirmed by a source.
    pub unverified: Vec<String>,
    /// Why the entry is as it is, where its sources do not say.
    pub notes: Vec<String>,
    /// The app's credentials; a cart without them is listed but not enabled.
    pub credentials: Option<ClientCredentials>,
    /// Loopback test configurations only: every endpoint goes to
    /// `<override>/<original host><original path>` (a stand-in of the cart).
    pub base_url_override: Option<Url>,
}

/// The scopes of `functions` in `table`: each once, in catalog order.
fn union_of(table: &BTreeMap<Function, Vec<String>>, functions: &[Function]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in functions {
        for s in table.get(f).into_iter().flatten() {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
    }
    out
}

/// Fills `{name}` placeholders from `vars`.
pub fn fill(template: &str, vars: &Vars) -> Result<String, EndpointError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(EndpointError::NotUrl)?;
        let name = &after[..close];
        let value = vars
            .get(name)
            .ok_or_else(|| EndpointError::MissingVar(name.to_owned()))?;
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `vars` and the app's client id as `client_id`, encoded so that a template using it in a path
/// (BigCommerce's install link) keeps its shape.
pub fn with_client_id(vars: &Vars, credentials: &ClientCredentials) -> Vars {
    let mut vars = vars.clone();
    vars.insert(
        "client_id".into(),
        url::form_urlencoded::byte_serialize(credentials.client_id.as_bytes()).collect(),
    );
    vars
}

/// `host` or `host:port` of a URL.
pub fn host_port(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    })
}

/// The host rules of a cart whose calls go only to these endpoints: each one's `host[:port]`,
/// exactly.
fn exact_hosts(endpoints: &[&Url]) -> Vec<HostRule> {
    endpoints
        .iter()
        .filter_map(|u| host_port(u))
        .filter_map(|h| Pattern::exactly(&h).ok())
        .map(HostRule::Pattern)
        .collect()
}

impl CartSpec {
    /// A generic OAuth 2.0 cart: standard authorize request and `oauth2`-crate exchange, calls
    /// only to the hosts of its two endpoints.
    pub fn generic(
        id: CartId,
        name: &str,
        authorize_url: &Url,
        token_url: &Url,
        token_auth: TokenAuth,
        pkce: Pkce,
        scopes: BTreeMap<Function, Vec<String>>,
    ) -> CartSpec {
        let hosts = exact_hosts(&[authorize_url, token_url]);
        CartSpec {
            id,
            name: name.into(),
            flavour: Flavour::PopupOauth,
            scopes,
            input: None,
            authorize: AuthorizeSpec::standard(authorize_url.as_str()),
            redirect: Redirect::Callback,
            token_url: token_url.to_string(),
            token_auth,
            token_request: TokenRequest::Standard,
            pkce,
            callback: CallbackParams::default(),
            checks: Vec::new(),
            hosts,
            refresh: Refresh::AsAnswered,
            refresh_request: TokenRequest::Standard,
            issuer: None,
            admin_steps: Vec::new(),
            finish_url: None,
            needs: Vec::new(),
            sources: Vec::new(),
            unverified: Vec::new(),
            notes: Vec::new(),
            credentials: None,
            base_url_override: None,
        }
    }

    /// Whether the app has a client secret of its own at this cart: not a public client
    /// (PKCE carries the proof) and not an admin integration (each store hands over its own
    /// consumer key and secret when it activates).
    pub fn uses_client_secret(&self) -> bool {
        self.token_auth != TokenAuth::None && !matches!(self.token_request, TokenRequest::OAuth1(_))
    }

    /// Whether invites for this cart can be made (credentials are configured).
    pub fn enabled(&self) -> bool {
        self.credentials.is_some()
    }

    /// Whether the cart can do `function`.
    pub fn supports(&self, function: Function) -> bool {
        self.scopes.contains_key(&function)
    }

    /// The functions it supports.
    pub fn functions(&self) -> Vec<Function> {
        self.scopes.keys().copied().collect()
    }

    /// The scopes to ask for, for these functions: each once, in catalog order.
    pub fn scopes_for(&self, functions: &[Function]) -> Vec<String> {
        union_of(&self.scopes, functions)
    }

    /// The scopes to ask for, for these functions and the invite's `store` value: the chosen
    /// option's own scopes when it has some (Lightspeed X-Series), else the cart's.
    pub fn scopes_for_store(&self, functions: &[Function], store: Option<&str>) -> Vec<String> {
        let chosen = self
            .input
            .as_ref()
            .zip(store)
            .and_then(|(input, value)| input.choices.iter().find(|c| c.value == value))
            .filter(|c| !c.scopes.is_empty());
        union_of(chosen.map_or(&self.scopes, |c| &c.scopes), functions)
    }

    /// The template variables of an invite's validated `store` value (none if the cart takes
    /// no input, or the value no longer validates).
    pub fn input_vars(&self, store: Option<&str>) -> Vars {
        let mut vars = Vars::new();
        if let (Some(input), Some(value)) = (&self.input, store) {
            if let Ok(clean) = input.validate(value) {
                input.vars(&clean, &mut vars);
            }
        }
        vars
    }

    /// The template variables of a stored connection, for its refresh request: the invite's
    /// validated `store` values, and the callback values the connection keeps as its
    /// `account` (Lightspeed X-Series' `domain_prefix`, Walmart's `sellerId`), checked by
    /// their patterns again.
    pub fn connection_vars(&self, store: Option<&str>, account: Option<&str>) -> Vars {
        let mut vars = self.input_vars(store);
        if let (Some(acc), Some(account)) = (&self.callback.account, account) {
            if pattern_matches(&acc.pattern, account) {
                vars.insert(acc.var.clone(), account.to_owned());
                for v in self.callback.vars.iter().filter(|v| v.param == acc.param) {
                    vars.insert(v.var.clone(), account.to_owned());
                }
            }
        }
        vars
    }

    /// Builds an endpoint from `template` and validated `vars`: https (plain http only to
    /// loopback), to a host this cart allows, then pointed at the stand-in when a loopback
    /// test configuration set [`CartSpec::base_url_override`].
    pub fn endpoint(&self, template: &str, vars: &Vars) -> Result<Url, EndpointError> {
        // A choice may set a template that itself names a callback value (X-Series' token
        // host): fill twice.
        let mut filled = fill(template, vars)?;
        if filled.contains('{') {
            filled = fill(&filled, vars)?;
        }
        let url = Url::parse(&filled).map_err(|_| EndpointError::NotUrl)?;
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(EndpointError::NotUrl);
        }
        match url.scheme() {
            "https" => {}
            "http" if crate::config::is_loopback(&url) => {}
            _ => return Err(EndpointError::NotHttps),
        }
        let host = host_port(&url).ok_or(EndpointError::NotUrl)?;
        let allowed = self.hosts.iter().any(|rule| match rule {
            HostRule::Pattern(p) => pattern_matches(p, &host),
            HostRule::MerchantStore => vars.get("store_host") == Some(&host),
        });
        if !allowed {
            return Err(EndpointError::HostNotAllowed(host));
        }
        let Some(base) = &self.base_url_override else {
            return Ok(url);
        };
        let mut moved = format!(
            "{}/{}{}",
            base.as_str().trim_end_matches('/'),
            host,
            url.path()
        );
        if let Some(q) = url.query() {
            moved.push('?');
            moved.push_str(q);
        }
        Url::parse(&moved).map_err(|_| EndpointError::NotUrl)
    }

    /// The origin of the authorize endpoint for these values (for the grant page's
    /// `form-action`), if it can be built.
    pub fn authorize_origin(&self, vars: &Vars) -> Option<String> {
        let vars = match &self.credentials {
            Some(c) => with_client_id(vars, c),
            None => vars.clone(),
        };
        self.endpoint(&self.authorize.url, &vars)
            .ok()
            .map(|u| u.origin().ascii_serialization())
    }
}

/// Every cart cartlink knows.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    carts: Vec<CartSpec>,
}

impl Catalog {
    /// Builds a catalog; a later entry with the same id replaces an earlier one.
    pub fn new(carts: Vec<CartSpec>) -> Self {
        let mut catalog = Catalog::default();
        for cart in carts {
            catalog.add(cart);
        }
        catalog
    }

    /// The catalog of a configuration: the built-in carts with the credentials configured for
    /// them, then the operator's own.
    pub fn from_config(config: &crate::config::Config) -> Self {
        let mut carts = builtin::all().to_vec();
        for cart in &mut carts {
            if let Some(c) = config.cart_credentials.get(&cart.id) {
                cart.credentials = Some(c.credentials.clone());
                cart.base_url_override = c.base_url_override.clone();
            }
        }
        carts.extend(config.carts.iter().cloned());
        Catalog::new(carts)
    }

    /// Adds or replaces one entry.
    pub fn add(&mut self, cart: CartSpec) {
        self.carts.retain(|c| c.id != cart.id);
        self.carts.push(cart);
    }

    /// The entry for `id`.
    pub fn get(&self, id: &CartId) -> Option<&CartSpec> {
        self.carts.iter().find(|c| &c.id == id)
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = &CartSpec> {
        self.carts.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cart() -> CartSpec {
        CartSpec::generic(
            CartId::new("acme"),
            "Acme",
            &Url::parse("https://auth.acme.test/oauth/authorize").unwrap(),
            &Url::parse("https://auth.acme.test/oauth/token").unwrap(),
            TokenAuth::Body,
            Pkce::Required,
            BTreeMap::from([
                (Function::Orders, vec!["orders:read".into()]),
                (
                    Function::Shipments,
                    vec!["orders:read".into(), "fulfillments:write".into()],
                ),
            ]),
        )
    }

    #[test]
    fn scopes_are_the_union_of_the_functions_asked_for() {
        let c = cart();
        assert_eq!(c.scopes_for(&[Function::Orders]), vec!["orders:read"]);
        assert_eq!(
            c.scopes_for(&[Function::Orders, Function::Shipments]),
            vec!["orders:read", "fulfillments:write"]
        );
        assert!(!c.supports(Function::Inventory));
    }

    #[test]
    fn a_cart_without_credentials_is_not_enabled() {
        let mut c = cart();
        assert!(!c.enabled());
        c.credentials = Some(ClientCredentials::new("id", None));
        assert!(c.enabled());
        assert_eq!(
            c.authorize_origin(&Vars::new()).as_deref(),
            Some("https://auth.acme.test")
        );
    }

    #[test]
    fn cart_ids_are_path_safe() {
        assert!(CartId::parse("amazon-na").is_some());
        for bad in ["", "Shopify", "a/b", "a.b", &"a".repeat(33)] {
            assert!(CartId::parse(bad).is_none(), "{bad}");
        }
    }
}
