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

mod account_lookup;
mod api;
mod authorize;
pub mod builtin;
mod callback;
mod catalog;
mod credentials;
mod endpoint;
mod entry;
mod granted;
mod input;
mod pattern;
pub mod quirks;
mod spec;
mod subscription;
#[cfg(test)]
mod tests_care;
#[cfg(test)]
mod tests_table;
mod token;
mod typed_credentials;

pub use account_lookup::{at_path, AccountLookup, LookupSigning, ShopsAt, MAX_SHOPS};
pub use api::{ApiSpec, CallDetails};
pub use authorize::{AuthorizeSpec, Flavour, Param, Pkce, Redirect};
pub use callback::{CallbackParams, CallbackValue, InputEcho, StateReturn};
pub use catalog::Catalog;
pub use credentials::{ClientCredentials, CredentialTerms, Need};
pub use endpoint::{fill, with_client_id, EndpointError, HostRule};
pub use entry::{CartEntry, CredentialsEntry, EntryCredentials};
pub use granted::{GrantedScopes, Implication};
pub use input::{Choice, MerchantInput, Normalize, Vars};
pub use pattern::{pattern_matches, Pattern};
pub use quirks::CallbackCheck;
pub use spec::{CartSpec, OneTokenPerStore, Reauthorize, RefreshWithin};
pub use subscription::UninstallSubscription;
pub use token::{
    DescribedRequest, Expiry, Field, OAuth1Spec, Refresh, RequestMethod, RevocationEndpoint,
    RevocationStyle, TokenAuth, TokenRequest,
};
pub use typed_credentials::{check_fields, CredentialCheck, CredentialField, CredentialRole};

/// The cart id lives in the domain (invites, attempts and connections carry it); named here
/// too because the flows and adapters being changed alongside still import it from `carts`.
pub use crate::domain::CartId;
/// Named here too for the flows being changed alongside; the rule is [`crate::net`]'s.
pub use crate::net::host_port;
