//! One cart of the catalog, as the flow reads it: every field an entry says, the scopes for a
//! set of functions, the template variables of an invite or a connection, and its endpoints.

use std::collections::BTreeMap;

use url::Url;

use super::authorize::{AuthorizeSpec, Flavour, Pkce, Redirect};
use super::callback::CallbackParams;
use super::credentials::{ClientCredentials, CredentialTerms, Need};
use super::endpoint::{self, exact_hosts, with_client_id, EndpointError, HostRule};
use super::granted::GrantedScopes;
use super::input::{MerchantInput, Vars};
use super::pattern::pattern_matches;
use super::quirks::CallbackCheck;
use super::token::{Refresh, RevocationEndpoint, TokenAuth, TokenRequest};
use crate::domain::{CareLimits, CartId, Function};
use crate::memo::Memo;

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
    /// The token revocation endpoint the cart documents (RFC 7009), if it documents one: a
    /// disconnect calls it; without it a disconnect only deletes the tokens here.
    pub revocation: Option<RevocationEndpoint>,
    /// How the cart's token answer reports the scopes it granted, where it does: a grant that
    /// covers less than the invite's functions need is then refused, nothing stored.
    pub granted_scopes: Option<GrantedScopes>,
    /// The `iss` the cart puts in its authorization responses (RFC 9207), if it does: when set,
    /// a callback without it, or with another value, is refused.
    pub issuer: Option<String>,
    /// What the merchant does in their admin ([`Flavour::AdminIntegration`]). In an admin integration's steps, `{callback_url}` and
    /// `{identity_url}` stand for the attempt's own URLs, which the grant page shows copyable.
    pub admin_steps: Vec<String>,
    /// What the merchant types on the grant page (the `credentials` flavour).
    pub credential_fields: Vec<super::CredentialField>,
    /// How typed credentials or delivered keys are checked with `token_url`.
    pub credential_check: super::CredentialCheck,
    /// The cart's API for a connection ([`CartSpec::call_details`]).
    pub api: Option<super::ApiSpec>,
    /// Where the account is read after the exchange ([`super::AccountLookup`]).
    pub account_lookup: Option<super::AccountLookup>,
    /// Where the callback sends the popup after storing the connection, when the cart's own
    /// install dialog must be told (BigCommerce's `install/succeeded`, Wix's `close-window`): a
    /// template over `{client_id}` and `{access_token}` whose host must be one this cart allows.
    pub finish_url: Option<String>,
    /// Credentials fields this cart needs beyond the client id (`ru_name`, `app_id`).
    pub needs: Vec<Need>,
    /// Where the entry's facts come from.
    pub sources: Vec<String>,
    /// How long after a grant the merchant must authorize again, where the cart documents a
    /// fixed period (the grant dies then whatever is refreshed); `None` where none is known.
    pub reauthorize: Option<Reauthorize>,
    /// How often tokens must be refreshed at least (an inactivity limit), where the cart
    /// documents one; `None` where none is known.
    pub refresh_within: Option<RefreshWithin>,
    /// Where the cart keeps one active token per app and store (a new grant ends the one
    /// before): a store connected through an app by one warehouse is not connected through
    /// the same app by another.
    pub one_token_per_store: Option<OneTokenPerStore>,
    /// Where the cart signals an uninstall only to a subscription made with the merchant's
    /// token, per site: care makes it ([`super::UninstallSubscription`]).
    pub uninstall_subscription: Option<super::UninstallSubscription>,
    /// The entry's facts that are still leads, not confirmed by a source.
    pub unverified: Vec<String>,
    /// Why the entry is as it is, where its sources do not say.
    pub notes: Vec<String>,
    /// The app's credentials; a cart without them is listed but not enabled.
    pub credentials: Option<ClientCredentials>,
    /// Loopback test configurations only: every endpoint goes to
    /// `<override>/<original host><original path>` (a stand-in of the cart).
    pub base_url_override: Option<Url>,
    /// [`CartSpec::authorize_origin`] of a template without places, kept with what it was
    /// worked out from.
    pub(crate) authorize_origin_memo: Memo<OriginInputs, Option<String>>,
}

/// What a fixed authorize origin is worked out from: the template, the hosts, the override.
pub(crate) type OriginInputs = (String, Vec<HostRule>, Option<Url>);

/// A cart's documented rule that one app holds one active token per store, with its source.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneTokenPerStore {
    /// Where the cart documents it.
    pub source: String,
}

/// A cart's documented, fixed re-authorization period, with where it is documented.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reauthorize {
    /// Seconds from the grant until the merchant must grant again.
    pub after_secs: i64,
    /// Where the cart documents it.
    pub source: String,
}

/// A cart's documented inactivity limit: its tokens must be refreshed at least this often, or
/// the grant lapses (or the cart asks apps to), with where it is documented.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshWithin {
    /// Seconds from the last refresh (or grant) by which the next refresh must happen.
    pub secs: i64,
    /// Where the cart documents it.
    pub source: String,
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

impl CartSpec {
    /// The limits proactive care keeps this cart's connections within (`domain::care`): the
    /// inactivity limit written as `refresh_within`, else a rotating refresh token's documented
    /// life (an unused one dies then); the fixed re-authorization period `reauthorize`.
    pub fn care_limits(&self) -> CareLimits {
        let rotating_life = match self.refresh {
            Refresh::Rotating {
                refresh_secs: Some(secs),
                ..
            } => Some(i64::from(secs)),
            _ => None,
        };
        CareLimits {
            refresh_within_secs: self
                .refresh_within
                .as_ref()
                .map(|r| r.secs)
                .or(rotating_life),
            reauthorize_after_secs: self.reauthorize.as_ref().map(|r| r.after_secs),
            subscribe: self.uninstall_subscription.is_some(),
        }
    }

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
            granted_scopes: None,
            admin_steps: Vec::new(),
            credential_fields: Vec::new(),
            credential_check: super::CredentialCheck::BasicGet,
            api: None,
            account_lookup: None,
            finish_url: None,
            needs: Vec::new(),
            revocation: None,
            sources: Vec::new(),
            reauthorize: None,
            refresh_within: None,
            one_token_per_store: None,
            uninstall_subscription: None,
            unverified: Vec::new(),
            notes: Vec::new(),
            credentials: None,
            base_url_override: None,
            authorize_origin_memo: Memo::default(),
        }
    }

    /// What the app's credentials must hold at this cart.
    pub fn credential_terms(&self) -> CredentialTerms {
        CredentialTerms::new(self.token_auth, &self.token_request, self.needs.clone())
    }

    /// Whether invites for this cart can be made: the app's credentials are configured, or
    /// the merchant brings their own (the `credentials` flavour needs no app).
    pub fn enabled(&self) -> bool {
        self.credentials.is_some() || self.flavour == Flavour::Credentials
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
        endpoint::build(template, vars, &self.hosts, self.base_url_override.as_ref())
    }

    /// The origin of the authorize endpoint for these values (for the grant page's
    /// `form-action`), if it can be built.
    pub fn authorize_origin(&self, vars: &Vars) -> Option<String> {
        // A template without places gives every grant page the same origin: worked out once
        // (it is a URL parsed and checked against the hosts) for the template, hosts and
        // override it was worked out from.
        if !self.authorize.url.contains('{') {
            return self.authorize_origin_memo.get_or(
                |(url, hosts, over)| {
                    *url == self.authorize.url
                        && *hosts == self.hosts
                        && *over == self.base_url_override
                },
                || {
                    let origin = self
                        .endpoint(&self.authorize.url, &Vars::new())
                        .ok()
                        .map(|u| u.origin().ascii_serialization());
                    let inputs = (
                        self.authorize.url.clone(),
                        self.hosts.clone(),
                        self.base_url_override.clone(),
                    );
                    (inputs, origin)
                },
            );
        }
        let vars = match &self.credentials {
            Some(c) => with_client_id(vars, c),
            None => vars.clone(),
        };
        self.endpoint(&self.authorize.url, &vars)
            .ok()
            .map(|u| u.origin().ascii_serialization())
    }
}

/// The call details of a connection ([`super::ApiSpec`]).
impl CartSpec {
    /// The call details of a connection whose values (store and account) are `vars`, with
    /// `tokens`: `None` when the cart's entry names none, or a value they need is missing or
    /// the base URL reaches a host the cart does not allow.
    pub fn call_details(
        &self,
        vars: &Vars,
        tokens: &crate::domain::TokenSet,
    ) -> Option<super::CallDetails> {
        let api = self.api.as_ref()?;
        let base_url = self.endpoint(&api.base_url, vars).ok()?;
        let mut values = vars.clone();
        values.insert(
            "access_token".into(),
            tokens.access_token.expose().to_owned(),
        );
        if let Some(c) = &self.credentials {
            values.insert("client_id".into(), c.client_id.clone());
            if let Some(secret) = &c.client_secret {
                values.insert("client_secret".into(), secret.expose().to_owned());
            }
        }
        let headers = api
            .headers
            .iter()
            .map(|(name, template)| Some((name.clone(), endpoint::fill(template, &values).ok()?)))
            .collect::<Option<std::collections::BTreeMap<_, _>>>()?;
        Some(super::CallDetails {
            base_url,
            headers,
            shops: Vec::new(),
        })
    }

    /// Whether the call details need a value of the merchant's input (the invite's `store`).
    pub fn call_details_need_store(&self) -> bool {
        let (Some(api), Some(input)) = (&self.api, &self.input) else {
            return false;
        };
        let named = |t: &str| {
            t.contains(&format!("{{{}}}", input.key))
                || input
                    .choices
                    .iter()
                    .flat_map(|c| c.vars.keys())
                    .any(|v| t.contains(&format!("{{{v}}}")))
        };
        named(&api.base_url) || api.headers.iter().any(|(_, t)| named(t))
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
    fn a_fixed_authorize_origin_follows_an_override_set_after_it_was_asked() {
        // GIVEN a cart whose fixed authorize origin was asked for once
        let mut c = cart();
        assert_eq!(
            c.authorize_origin(&Vars::new()).as_deref(),
            Some("https://auth.acme.test")
        );
        // WHEN a loopback stand-in is set as its override afterwards
        c.base_url_override = Some(Url::parse("http://127.0.0.1:4010").unwrap());
        // THEN the origin is the stand-in's, not the one worked out before
        assert_eq!(
            c.authorize_origin(&Vars::new()).as_deref(),
            Some("http://127.0.0.1:4010")
        );
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
}
