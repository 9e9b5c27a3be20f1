//! What a warehouse needs to make its first call to a cart's API with a connection's tokens:
//! the base URL (a template over the connection's store and account) and the headers the cart
//! requires beside the usual `Authorization`, each a template over the same values and the
//! tokens and app credentials (Etsy's `x-api-key` carries the app's keystring and secret).

use std::collections::BTreeMap;

use serde::Deserialize;
use url::Url;

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
    /// The shops the connection's grant reaches, each with the cipher its calls name (TikTok
    /// Shop's `shop_cipher`); empty where the cart names none.
    pub shops: Vec<crate::domain::Shop>,
}

impl std::fmt::Debug for CallDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&String> = self.headers.keys().collect();
        f.debug_struct("CallDetails")
            .field("base_url", &self.base_url.as_str())
            .field("headers", &names)
            .field("shops", &self.shops)
            .finish()
    }
}

#[cfg(test)]
mod tests;
