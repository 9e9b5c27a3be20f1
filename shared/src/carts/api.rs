//! What a warehouse needs to make its first call to a cart's API with a connection's tokens:
//! the base URL (a template over the connection's store and account) and the headers the cart
//! requires beside the usual `Authorization`, each a template over the same values and the
//! tokens and app credentials (Etsy's `x-api-key` carries the app's keystring and secret).

use std::collections::BTreeMap;

use serde::Deserialize;
use url::Url;

use super::{fill, CartSpec, Vars};
use crate::domain::TokenSet;

/// An entry's `api`: the cart's API for a connection, with where it is documented.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSpec {
    /// The base URL: a URL or a template (`https://{shop}/admin/api/2025-07`).
    pub base_url: String,
    /// Headers every call needs, `[name, template]`: templates may name the connection's
    /// values, `{access_token}`, `{client_id}` and `{client_secret}`.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Where the cart documents them.
    pub source: String,
}

/// The call details of one connection, filled in.
#[derive(Clone, PartialEq, Eq)]
pub struct CallDetails {
    /// Where the cart's API is for this connection.
    pub base_url: Url,
    /// The headers every call needs (values may be secrets: never logged).
    pub headers: BTreeMap<String, String>,
}

impl std::fmt::Debug for CallDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&String> = self.headers.keys().collect();
        f.debug_struct("CallDetails")
            .field("base_url", &self.base_url.as_str())
            .field("headers", &names)
            .finish()
    }
}

impl CartSpec {
    /// The call details of a connection whose values (store and account) are `vars`, with
    /// `tokens`: `None` when the cart's entry names none, or a value they need is missing or
    /// the base URL reaches a host the cart does not allow.
    pub fn call_details(&self, vars: &Vars, tokens: &TokenSet) -> Option<CallDetails> {
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
            .map(|(name, template)| Some((name.clone(), fill(template, &values).ok()?)))
            .collect::<Option<BTreeMap<_, _>>>()?;
        Some(CallDetails { base_url, headers })
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
mod tests;
