//! The cart catalog: how each cart authorizes an app, as data.
//!
//! A cart entry says where its authorize and token endpoints are, how the client authenticates
//! at the token endpoint, whether PKCE is used, which scopes each warehouse function needs and
//! what its callback parameters are called. The flow reads these fields; it never branches on a
//! cart's name.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::domain::{Function, Secret};

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
    /// The cart rejects unknown parameters: none is sent, and `state` alone guards the flow.
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
    /// `client_id` and `client_secret` in the form body.
    Body,
    /// HTTP Basic with the client id and secret.
    Basic,
    /// A public client: `client_id` in the body, no secret (PKCE carries the proof).
    None,
}

/// What the cart's callback parameters are called.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackParams {
    /// The authorization code (`code`).
    pub code: String,
    /// The state (`state`).
    pub state: String,
    /// The error (`error`).
    pub error: String,
}

impl Default for CallbackParams {
    fn default() -> Self {
        CallbackParams {
            code: "code".into(),
            state: "state".into(),
            error: "error".into(),
        }
    }
}

/// The app's credentials at one cart, from configuration.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// The client id (not secret).
    pub client_id: String,
    /// The client secret; absent for public clients.
    pub client_secret: Option<Secret>,
}

/// One cart of the catalog.
#[derive(Clone, Debug)]
pub struct CartSpec {
    /// Its id.
    pub id: CartId,
    /// The name merchants know it by.
    pub name: String,
    /// The functions it supports and the scopes each needs.
    pub scopes: BTreeMap<Function, Vec<String>>,
    /// The authorization endpoint.
    pub authorize_url: Url,
    /// The token endpoint.
    pub token_url: Url,
    /// How to authenticate at the token endpoint.
    pub token_auth: TokenAuth,
    /// Whether PKCE is used.
    pub pkce: Pkce,
    /// The callback's parameter names.
    pub callback: CallbackParams,
    /// The `iss` the cart puts in its authorization responses (RFC 9207), if it does: when set,
    /// a callback without it, or with another value, is refused.
    pub issuer: Option<String>,
    /// The app's credentials; a cart without them is listed but not enabled.
    pub credentials: Option<ClientCredentials>,
}

impl CartSpec {
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
        let mut out: Vec<String> = Vec::new();
        for f in functions {
            for s in self.scopes.get(f).into_iter().flatten() {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        out
    }

    /// The origin of the authorize endpoint (for the page's `form-action`).
    pub fn authorize_origin(&self) -> String {
        self.authorize_url.origin().ascii_serialization()
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

    /// The catalog of a configuration: its generic carts.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Catalog::new(config.carts.clone())
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
        CartSpec {
            id: CartId::new("acme"),
            name: "Acme".into(),
            scopes: BTreeMap::from([
                (Function::Orders, vec!["orders:read".into()]),
                (
                    Function::Shipments,
                    vec!["orders:read".into(), "fulfillments:write".into()],
                ),
            ]),
            authorize_url: Url::parse("https://auth.acme.test/oauth/authorize").unwrap(),
            token_url: Url::parse("https://auth.acme.test/oauth/token").unwrap(),
            token_auth: TokenAuth::Body,
            pkce: Pkce::Required,
            callback: CallbackParams::default(),
            issuer: None,
            credentials: None,
        }
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
        c.credentials = Some(ClientCredentials {
            client_id: "id".into(),
            client_secret: None,
        });
        assert!(c.enabled());
        assert_eq!(c.authorize_origin(), "https://auth.acme.test");
    }

    #[test]
    fn cart_ids_are_path_safe() {
        assert!(CartId::parse("amazon-na").is_some());
        for bad in ["", "Shopify", "a/b", "a.b", &"a".repeat(33)] {
            assert!(CartId::parse(bad).is_none(), "{bad}");
        }
    }
}
