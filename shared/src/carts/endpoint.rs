//! Endpoints built from templates: filled from validated values only, https (plain http only to
//! loopback), to a host the cart allows, and the host rules that say which.

use url::Url;

use super::credentials::ClientCredentials;
use super::input::Vars;
use super::pattern::{pattern_matches, Pattern};
use crate::net::{holds_credentials_or_fragment, host_port, is_secure_scheme};

/// A host outbound calls for a cart may reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostRule {
    /// The host matches this anchored pattern.
    Pattern(Pattern),
    /// The host (and port) equals the validated merchant store URL's (`store_host`).
    MerchantStore,
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

/// The host rules of a cart whose calls go only to these endpoints: each one's `host[:port]`,
/// exactly.
pub(super) fn exact_hosts(endpoints: &[&Url]) -> Vec<HostRule> {
    endpoints
        .iter()
        .filter_map(|u| host_port(u))
        .filter_map(|h| Pattern::exactly(&h).ok())
        .map(HostRule::Pattern)
        .collect()
}

/// Builds an endpoint from `template` and validated `vars`: https (plain http only to
/// loopback), to a host `hosts` allows, then pointed at the stand-in when a loopback test
/// configuration set a `base_url_override`.
pub(super) fn build(
    template: &str,
    vars: &Vars,
    hosts: &[HostRule],
    base_url_override: Option<&Url>,
) -> Result<Url, EndpointError> {
    // A choice may set a template that itself names a callback value (X-Series' token
    // host): fill twice.
    let mut filled = fill(template, vars)?;
    if filled.contains('{') {
        filled = fill(&filled, vars)?;
    }
    let url = Url::parse(&filled).map_err(|_| EndpointError::NotUrl)?;
    if holds_credentials_or_fragment(&url) {
        return Err(EndpointError::NotUrl);
    }
    if !is_secure_scheme(&url, true) {
        return Err(EndpointError::NotHttps);
    }
    let host = host_port(&url).ok_or(EndpointError::NotUrl)?;
    let allowed = hosts.iter().any(|rule| match rule {
        HostRule::Pattern(p) => pattern_matches(p, &host),
        HostRule::MerchantStore => vars.get("store_host") == Some(&host),
    });
    if !allowed {
        return Err(EndpointError::HostNotAllowed(host));
    }
    let Some(base) = base_url_override else {
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
