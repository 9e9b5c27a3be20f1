//! The one schema of a cart entry, as written: the `[[carts]]` tables of the configuration and
//! of the built-in data file `shared/carts.toml`, and a built-in cart's credentials
//! (`[cart_credentials.<id>]`), with the rule of what credentials a cart needs. The
//! configuration reads these; the catalog keeps what they describe. Every key but `id`, `name`, the two endpoints and
//! `scopes` may be left out; what is left out is an RFC 6749 cart's (the standard authorize
//! request, the `oauth2` crate's code exchange, PKCE, the client secret in the body, calls only
//! to the endpoints' own hosts), so a generic cart is a few lines and a cart with quirks says
//! only what differs.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::authorize::{AuthorizeSpec, Flavour, Param, Pkce, Redirect};
use super::callback::CallbackParams;
use super::credentials::{ClientCredentials, CredentialTerms, Need};
use super::endpoint::{exact_hosts, HostRule};
use super::granted::GrantedScopes;
use super::input::MerchantInput;
use super::pattern::Pattern;
use super::quirks::{self, CallbackCheck};
use super::spec::{CartSpec, OneTokenPerStore, Reauthorize, RefreshWithin};
use super::token::{DescribedRequest, Refresh, RevocationEndpoint, TokenAuth, TokenRequest};
use super::typed_credentials::{check_fields, CredentialCheck, CredentialField};
use crate::domain::{CartId, Function, Secret};
use crate::memo::Memo;
use crate::net::endpoint_url;

/// One cart as written in TOML (see `docs/configuration.md` for every key).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartEntry {
    /// The cart's id, `^[a-z0-9-]{1,32}$`: its callback path and storage key.
    pub id: String,
    /// The name merchants know it by.
    pub name: String,
    /// How the merchant authorizes (`popup_oauth` when left out).
    pub flavour: Option<Flavour>,
    /// The authorize endpoint: a URL, or a template over validated values (`{shop}`).
    pub authorize_url: String,
    /// The authorize request's parameters in order, each `[name, value]` (RFC 6749's five when
    /// left out).
    pub authorize_params: Option<Vec<(String, Param)>>,
    /// How scopes are joined (a space when left out).
    pub scope_separator: Option<String>,
    /// What is sent as the redirect URI (`callback` when left out).
    pub redirect: Option<Redirect>,
    /// The token endpoint: a URL or a template.
    pub token_url: String,
    /// How the client authenticates at the token endpoint (`body` when left out).
    pub token_auth: Option<TokenAuth>,
    /// How the code is exchanged (`standard` when left out).
    pub token_request: Option<TokenRequest>,
    /// Whether PKCE is used (`supported` when left out).
    pub pkce: Option<Pkce>,
    /// The `iss` the cart's authorization responses must carry (RFC 9207), if it sends one.
    pub issuer: Option<String>,
    /// The functions the cart supports and the scopes each needs.
    pub scopes: BTreeMap<Function, Vec<String>>,
    /// What the invite must carry in `store` before a grant.
    pub input: Option<MerchantInput>,
    /// The callback's parameter names and the values it must carry.
    pub callback: Option<CallbackParams>,
    /// The callback hooks to run before the exchange, by name ([`quirks::CALLBACK_CHECKS`]).
    #[serde(default)]
    pub checks: Vec<String>,
    /// The hosts calls may reach, as anchored patterns (the endpoints' own hosts when left
    /// out; needed when an endpoint is a template).
    pub hosts: Option<Vec<Pattern>>,
    /// Whether calls may also reach the host of the merchant's validated store URL.
    #[serde(default)]
    pub merchant_store_host: bool,
    /// How tokens refresh (`as_answered` when left out).
    pub refresh: Option<Refresh>,
    /// How a refresh token is redeemed (`standard` when left out).
    pub refresh_request: Option<TokenRequest>,
    /// The token revocation endpoint the cart documents (RFC 7009), with its source; left out
    /// when the cart documents none.
    pub revocation: Option<RevocationEndpoint>,
    /// How the token answer reports the scopes granted, with its source; left out when the
    /// cart does not report them (no check is then possible).
    pub granted_scopes: Option<GrantedScopes>,
    /// The fields the merchant types (the `credentials` flavour).
    #[serde(default)]
    pub credential_fields: Vec<CredentialField>,
    /// How typed credentials (or a key handshake's keys) are checked (`basic_get` when left
    /// out).
    pub credential_check: Option<CredentialCheck>,
    /// The cart's API for a connection: base URL and required headers, with their source.
    pub api: Option<super::ApiSpec>,
    /// Where the account is read after the exchange, when neither the callback nor the token
    /// answer names it (eBay's `getUser`).
    pub account_lookup: Option<super::AccountLookup>,
    /// What the merchant does in their admin (admin integrations).
    #[serde(default)]
    pub admin_steps: Vec<String>,
    /// Where the popup goes after the connection is stored, when the cart's dialog must be told.
    pub finish_url: Option<String>,
    /// Credentials fields the cart needs beyond the client id.
    #[serde(default)]
    pub needs: Vec<Need>,
    /// Where the entry's facts come from.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The cart's documented fixed re-authorization period, with its source.
    pub reauthorize: Option<Reauthorize>,
    /// The cart's documented inactivity limit (refresh at least this often), with its source.
    pub refresh_within: Option<RefreshWithin>,
    /// Whether the cart keeps one active token per app and store, with its source.
    pub one_token_per_store: Option<OneTokenPerStore>,
    /// The uninstall subscription the app holds per merchant site, with its source.
    pub uninstall_subscription: Option<super::UninstallSubscription>,
    /// The entry's facts that are still leads.
    #[serde(default)]
    pub unverified: Vec<String>,
    /// Why the entry is as it is, where its sources do not say.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The app's client id (configured carts; a built-in cart's is under
    /// `[cart_credentials.<id>]`).
    pub client_id: Option<String>,
    /// The app's client secret, inline.
    pub client_secret: Option<String>,
    /// The environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// The app id, where the cart needs one.
    pub app_id: Option<String>,
    /// The RuName, where the cart needs one.
    pub ru_name: Option<String>,
    /// Whether the app is an unpublished draft.
    #[serde(default)]
    pub draft: bool,
}

/// An endpoint as the entry keeps it: a template as written, a URL checked (https, or plain
/// http to loopback in a loopback configuration) and in its normal form.
fn endpoint(what: &str, raw: &str, local: bool) -> Result<(String, Option<url::Url>), String> {
    if raw.contains('{') {
        return Ok((raw.to_owned(), None));
    }
    let url = endpoint_url(what, raw, local)?;
    Ok((url.to_string(), Some(url)))
}

/// A choice that names scopes must name the cart's functions.
fn check_choices(
    id: &CartId,
    input: Option<&MerchantInput>,
    scopes: &BTreeMap<Function, Vec<String>>,
) -> Result<(), String> {
    for choice in input.iter().flat_map(|i| &i.choices) {
        if !choice.scopes.is_empty() && !choice.scopes.keys().eq(scopes.keys()) {
            return Err(format!(
                "cart {id}: choice {} must name the cart's functions",
                choice.value
            ));
        }
    }
    Ok(())
}

/// A revocation endpoint must be a valid endpoint (or template) and name its source.
fn check_revocation(
    id: &CartId,
    revocation: Option<&RevocationEndpoint>,
    local: bool,
) -> Result<(), String> {
    let Some(r) = revocation else {
        return Ok(());
    };
    endpoint(&format!("cart {id}: revocation.url"), &r.url, local)?;
    if r.source.trim().is_empty() {
        return Err(format!(
            "cart {id}: revocation.source must name where it is documented"
        ));
    }
    Ok(())
}

/// The exchange and refresh as written: each described one whole, and its own endpoint (where
/// it names one) a valid endpoint or template.
fn check_requests(
    id: &CartId,
    requests: [&Option<TokenRequest>; 2],
    local: bool,
) -> Result<(), String> {
    for request in requests.into_iter().flatten() {
        request.check().map_err(|e| format!("cart {id}: {e}"))?;
        if let TokenRequest::Described(DescribedRequest { url: Some(url), .. }) = request {
            endpoint(&format!("cart {id}: a described request's url"), url, local)?;
        }
    }
    Ok(())
}

/// The hosts a cart's calls may reach: the patterns given, else the two endpoints' own hosts
/// (which a template does not have), and the merchant's store host when the entry allows it.
fn host_rules(
    id: &CartId,
    given: Option<Vec<Pattern>>,
    endpoints: Option<(&url::Url, &url::Url)>,
    merchant_store_host: bool,
) -> Result<Vec<HostRule>, String> {
    let mut hosts = match (given, endpoints) {
        (Some(patterns), _) => patterns.into_iter().map(HostRule::Pattern).collect(),
        (None, Some((authorize, token))) => exact_hosts(&[authorize, token]),
        (None, None) if merchant_store_host => Vec::new(),
        (None, None) => {
            return Err(format!(
                "cart {id}: an endpoint is a template, so hosts must be given"
            ))
        }
    };
    if merchant_store_host {
        hosts.push(HostRule::MerchantStore);
    }
    Ok(hosts)
}

/// How the client authenticates and whether it uses PKCE (defaults filled in): a public client
/// (no secret at the token endpoint) must use PKCE.
fn client_auth(
    id: &CartId,
    token_auth: Option<TokenAuth>,
    pkce: Option<Pkce>,
) -> Result<(TokenAuth, Pkce), String> {
    let token_auth = token_auth.unwrap_or_default();
    let pkce = pkce.unwrap_or(Pkce::Supported);
    if token_auth == TokenAuth::None && pkce == Pkce::NotSupported {
        return Err(format!("cart {id}: a public client needs PKCE"));
    }
    Ok((token_auth, pkce))
}

/// The callback's parameters (defaults filled in): a callback without a code must name the
/// account, the one thing its exchange is for.
fn callback_params(id: &CartId, given: Option<CallbackParams>) -> Result<CallbackParams, String> {
    let callback = given.unwrap_or_default();
    if callback.without_code && callback.account.is_none() {
        return Err(format!(
            "cart {id}: a callback without a code must name the account"
        ));
    }
    Ok(callback)
}

fn named_checks(id: &CartId, names: &[String]) -> Result<Vec<CallbackCheck>, String> {
    names
        .iter()
        .map(|name| {
            quirks::callback_check(name)
                .ok_or_else(|| format!("cart {id}: no callback check is named {name:?}"))
        })
        .collect()
}

impl CartEntry {
    /// The parts of the entry checked on their own: revocation, granted scopes, choices, the
    /// described requests and the credentials fields.
    fn check_parts(&self, id: &CartId, flavour: Flavour, local: bool) -> Result<(), String> {
        check_revocation(id, self.revocation.as_ref(), local)?;
        if let Some(g) = &self.granted_scopes {
            g.check().map_err(|e| format!("cart {id}: {e}"))?;
        }
        check_choices(id, self.input.as_ref(), &self.scopes)?;
        if let Some(lookup) = &self.account_lookup {
            lookup.check().map_err(|e| format!("cart {id}: {e}"))?;
        }
        check_requests(id, [&self.token_request, &self.refresh_request], local)?;
        check_fields(flavour, &self.credential_fields).map_err(|e| format!("cart {id}: {e}"))
    }

    /// The catalog entry this describes, without credentials, and the credentials written
    /// inline. `local`: the configuration is a loopback one, where a URL may be plain http to
    /// loopback.
    pub fn into_spec(self, local: bool) -> Result<(CartSpec, EntryCredentials), String> {
        let id = CartId::parse(&self.id)
            .ok_or_else(|| format!("cart id {:?} must match ^[a-z0-9-]{{1,32}}$", self.id))?;
        if self.scopes.is_empty() {
            return Err(format!("cart {id}: scopes must name at least one function"));
        }
        let flavour = self.flavour.unwrap_or(Flavour::PopupOauth);
        self.check_parts(&id, flavour, local)?;
        let (token_auth, pkce) = client_auth(&id, self.token_auth, self.pkce)?;
        let (authorize_url, authorize) = endpoint(
            &format!("cart {id}: authorize_url"),
            &self.authorize_url,
            local,
        )?;
        let (token_url, token) =
            endpoint(&format!("cart {id}: token_url"), &self.token_url, local)?;
        let hosts = host_rules(
            &id,
            self.hosts,
            authorize.as_ref().zip(token.as_ref()),
            self.merchant_store_host,
        )?;
        let checks = named_checks(&id, &self.checks)?;
        let callback = callback_params(&id, self.callback)?;
        let standard = AuthorizeSpec::standard(&authorize_url);
        let spec = CartSpec {
            id,
            name: self.name,
            flavour,
            scopes: self.scopes,
            input: self.input,
            authorize: AuthorizeSpec {
                url: authorize_url,
                params: self.authorize_params.unwrap_or(standard.params),
                scope_separator: self.scope_separator.unwrap_or(standard.scope_separator),
            },
            redirect: self.redirect.unwrap_or_default(),
            token_url,
            token_auth,
            token_request: self.token_request.unwrap_or_default(),
            pkce,
            callback,
            checks,
            hosts,
            refresh: self.refresh.unwrap_or(Refresh::AsAnswered),
            refresh_request: self.refresh_request.unwrap_or_default(),
            revocation: self.revocation,
            issuer: self.issuer,
            granted_scopes: self.granted_scopes,
            admin_steps: self.admin_steps,
            credential_fields: self.credential_fields,
            credential_check: self.credential_check.unwrap_or_default(),
            api: self.api,
            account_lookup: self.account_lookup,
            finish_url: self.finish_url,
            needs: self.needs,
            sources: self.sources,
            reauthorize: self.reauthorize,
            refresh_within: self.refresh_within,
            one_token_per_store: self.one_token_per_store,
            uninstall_subscription: self.uninstall_subscription,
            unverified: self.unverified,
            notes: self.notes,
            credentials: None,
            base_url_override: None,
            authorize_origin_memo: Memo::default(),
        };
        let credentials = EntryCredentials {
            client_id: self.client_id,
            client_secret: self.client_secret,
            client_secret_env: self.client_secret_env,
            app_id: self.app_id,
            ru_name: self.ru_name,
            draft: self.draft,
        };
        Ok((spec, credentials))
    }
}

/// The credentials an entry carries inline, as written (not yet checked against what the cart
/// needs).
#[derive(Default)]
pub struct EntryCredentials {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `client_secret`.
    pub client_secret: Option<String>,
    /// `client_secret_env`.
    pub client_secret_env: Option<String>,
    /// `app_id`.
    pub app_id: Option<String>,
    /// `ru_name`.
    pub ru_name: Option<String>,
    /// `draft`.
    pub draft: bool,
}

impl EntryCredentials {
    /// Whether any credential is written.
    pub fn is_empty(&self) -> bool {
        self.client_id.is_none()
            && self.client_secret.is_none()
            && self.client_secret_env.is_none()
            && self.app_id.is_none()
            && self.ru_name.is_none()
            && !self.draft
    }
}

/// A built-in cart's credentials as written: a `[cart_credentials.<id>]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsEntry {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret, inline.
    pub client_secret: Option<String>,
    /// The environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// The app id, where the cart needs one.
    pub app_id: Option<String>,
    /// The RuName, where the cart needs one.
    pub ru_name: Option<String>,
    /// Whether the app is an unpublished draft.
    #[serde(default)]
    pub draft: bool,
    /// Loopback test configurations only: where the cart's stand-in listens (the configuration
    /// checks that it is loopback).
    pub base_url_override: Option<String>,
}

impl CredentialsEntry {
    /// The credentials written, and the stand-in override as written.
    pub fn split(self) -> (EntryCredentials, Option<String>) {
        let given = EntryCredentials {
            client_id: Some(self.client_id),
            client_secret: self.client_secret,
            client_secret_env: self.client_secret_env,
            app_id: self.app_id,
            ru_name: self.ru_name,
            draft: self.draft,
        };
        (given, self.base_url_override)
    }
}

/// The client secret written inline or named by an environment variable (read through `env`),
/// never both.
fn secret_from(
    what: &str,
    secret: Option<String>,
    secret_env: Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, String> {
    match (secret, secret_env) {
        (Some(s), None) => Ok(Some(Secret::new(s))),
        (None, Some(var)) => Ok(Some(Secret::new(
            env(&var).ok_or_else(|| format!("{what}: {var} is not set"))?,
        ))),
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(format!(
            "{what}: give client_secret or client_secret_env, not both"
        )),
    }
}

impl EntryCredentials {
    /// The app's credentials at a cart, checked against what the cart needs (its `terms`): a
    /// printable client id, a secret unless the cart takes none, and the fields it names in
    /// `needs`. One rule for built-in carts (`[cart_credentials.<id>]`) and the operator's own
    /// (inline in `[[carts]]`); `what` names the table in a refusal, `env` looks up a secret's
    /// variable.
    pub fn for_cart(
        self,
        what: &str,
        terms: &CredentialTerms,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ClientCredentials, String> {
        let client_id = self
            .client_id
            .ok_or_else(|| format!("{what}: client_id is missing"))?;
        if client_id.trim().is_empty() || client_id.contains(char::is_control) {
            return Err(format!("{what}: client_id must be printable"));
        }
        let secret = secret_from(what, self.client_secret, self.client_secret_env, env)?;
        if secret.is_none() && terms.client_secret {
            return Err(format!("{what}: this cart needs a client secret"));
        }
        for need in &terms.needs {
            let value = match need {
                Need::RuName => self.ru_name.as_deref(),
                Need::AppId => self.app_id.as_deref(),
            };
            if value.is_none_or(|v| v.trim().is_empty()) {
                return Err(format!("{what}: this cart needs {}", need.as_str()));
            }
        }
        Ok(ClientCredentials {
            client_id,
            client_secret: secret,
            app_id: self.app_id,
            ru_name: self.ru_name,
            draft: self.draft,
        })
    }
}
