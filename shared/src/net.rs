//! The outbound-URL rules, in one place: which URLs cartlink may call (https, plain http only
//! to loopback where allowed, no credentials or fragment, public hosts and addresses for what a
//! merchant types), and the one HTTP client every outbound call goes through. Cart endpoints,
//! configured endpoints and merchant-typed store URLs are all checked here.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Whether a URL's host is a loopback address (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d == "localhost",
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Whether a URL's scheme may be called: https, or plain http to a loopback host when
/// `loopback_http` (local runs and their tests).
pub fn is_secure_scheme(url: &Url, loopback_http: bool) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => loopback_http && is_loopback(url),
        _ => false,
    }
}

/// Whether a URL carries what an endpoint never may: a user name, a password or a fragment.
pub fn holds_credentials_or_fragment(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some() || url.fragment().is_some()
}

/// Parses a configured endpoint (`what` names it in the refusal): https, or plain http to a
/// loopback host when `loopback_http` (the configuration itself is a loopback one: local runs
/// and tests; production configurations refuse plain http), without credentials or fragment.
pub fn endpoint_url(what: &str, raw: &str, loopback_http: bool) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("{what} is not a URL: {e}"))?;
    if !is_secure_scheme(&url, loopback_http) {
        return Err(format!(
            "{what} must be https (plain http only to loopback, in a loopback configuration)"
        ));
    }
    if holds_credentials_or_fragment(&url) {
        return Err(format!("{what} must not hold a fragment or credentials"));
    }
    Ok(url)
}

/// `host` or `host:port` of a URL.
pub fn host_port(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    })
}

/// The IPv4 blocks of the IANA IPv4 Special-Purpose Address Registry
/// (<https://www.iana.org/assignments/iana-ipv4-special-registry/>) that are not globally
/// reachable, plus multicast (224.0.0.0/4, RFC 5771) and the reserved 240.0.0.0/4 (which holds
/// the limited broadcast address): (network, prefix length).
const SPECIAL_V4: [([u8; 4], u8); 15] = [
    ([0, 0, 0, 0], 8),       // "this network" (RFC 791)
    ([10, 0, 0, 0], 8),      // private use (RFC 1918)
    ([100, 64, 0, 0], 10),   // shared address space (RFC 6598)
    ([127, 0, 0, 0], 8),     // loopback (RFC 1122)
    ([169, 254, 0, 0], 16),  // link local (RFC 3927)
    ([172, 16, 0, 0], 12),   // private use (RFC 1918)
    ([192, 0, 0, 0], 24),    // IETF protocol assignments (RFC 6890)
    ([192, 0, 2, 0], 24),    // documentation TEST-NET-1 (RFC 5737)
    ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast (RFC 7526)
    ([192, 168, 0, 0], 16),  // private use (RFC 1918)
    ([198, 18, 0, 0], 15),   // benchmarking (RFC 2544)
    ([198, 51, 100, 0], 24), // documentation TEST-NET-2 (RFC 5737)
    ([203, 0, 113, 0], 24),  // documentation TEST-NET-3 (RFC 5737)
    ([224, 0, 0, 0], 4),     // multicast (RFC 5771)
    ([240, 0, 0, 0], 4),     // reserved, and 255.255.255.255 (RFC 1112, RFC 919)
];

/// The blocks inside global unicast (2000::/3, RFC 4291) that the IANA IPv6 Special-Purpose
/// Address Registry (<https://www.iana.org/assignments/iana-ipv6-special-registry/>) sets
/// apart: (network, prefix length). Everything outside 2000::/3 (loopback, unspecified,
/// IPv4-mapped, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, discard 100::/64, unique local
/// fc00::/7, link local fe80::/10, multicast ff00::/8) is refused before these are looked at.
const SPECIAL_V6: [([u16; 8], u8); 4] = [
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF protocol assignments, Teredo (RFC 2928, RFC 4380)
    ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32), // documentation (RFC 3849)
    ([0x2002, 0, 0, 0, 0, 0, 0, 0], 16), // 6to4 (RFC 3056)
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation (RFC 9637)
];

fn in_v4_block(ip: std::net::Ipv4Addr, (net, len): ([u8; 4], u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from_be_bytes(net) & mask
}

fn in_v6_block(ip: std::net::Ipv6Addr, (net, len): ([u16; 8], u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(std::net::Ipv6Addr::from(net)) & mask
}

/// Whether an address is one cartlink may call on a merchant's behalf: IPv4 outside every
/// special-purpose block that is not globally reachable ([`SPECIAL_V4`]); IPv6 only in global
/// unicast 2000::/3 and outside [`SPECIAL_V6`] (an IPv4-mapped address is judged as IPv4).
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !SPECIAL_V4.iter().any(|b| in_v4_block(v4, *b)),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_ip(IpAddr::V4(v4));
            }
            in_v6_block(v6, ([0x2000, 0, 0, 0, 0, 0, 0, 0], 3))
                && !SPECIAL_V6.iter().any(|b| in_v6_block(v6, *b))
        }
    }
}

const PRIVATE_SUFFIXES: [&str; 7] = [
    "localhost",
    ".localhost",
    ".local",
    ".internal",
    ".lan",
    ".home.arpa",
    ".localdomain",
];

/// Cleans a merchant-typed store URL: `https://` to a named public host (IP literals, local
/// names and single-label hosts are refused; addresses are checked again when connecting) on
/// port 443, no credentials, query or fragment; answered as `https://host[/path]` without a
/// trailing slash.
pub fn public_https_url(raw: &str) -> Result<String, String> {
    let url = Url::parse(raw).map_err(|_| "must be a URL such as https://shop.example.com")?;
    if url.scheme() != "https" {
        return Err("must start with https://".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold a user name or password".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not hold a query or fragment".into());
    }
    let host = match url.host() {
        Some(Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(Host::Ipv4(_)) | Some(Host::Ipv6(_)) => {
            return Err("must name the store's public host, not an IP address".into())
        }
        None => return Err("must name a host".into()),
    };
    let bare = host.trim_end_matches('.');
    if !bare.contains('.')
        || PRIVATE_SUFFIXES
            .iter()
            .any(|s| bare == s.trim_start_matches('.') || bare.ends_with(s))
    {
        return Err("must name a public host".into());
    }
    // Only the https port: no cart documents a store on another, and an open port choice lets
    // a merchant-typed URL aim at any service of a public host.
    if url.port().is_some() {
        return Err("must use the standard https port (no :port)".into());
    }
    let path = url.path().trim_end_matches('/');
    Ok(format!("https://{bare}{path}"))
}

/// Checks a warehouse's webhook endpoint URL: as a configured endpoint (https; plain http
/// only to loopback in a loopback configuration; no credentials or fragment), and outside a
/// loopback configuration to a public host: an IP literal must be a public address, a name
/// must not be a local one. (A name that resolves to a private address is refused when
/// connecting, by the outbound client.)
pub fn webhook_url(raw: &str, loopback_config: bool) -> Result<String, String> {
    let url = endpoint_url("url", raw, loopback_config)?;
    if loopback_config {
        return Ok(url.to_string());
    }
    let public = match url.host() {
        Some(Host::Ipv4(ip)) => is_public_ip(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_public_ip(IpAddr::V6(ip)),
        Some(Host::Domain(d)) => {
            let bare = d.trim_end_matches('.').to_ascii_lowercase();
            bare.contains('.')
                && !PRIVATE_SUFFIXES
                    .iter()
                    .any(|s| bare == s.trim_start_matches('.') || bare.ends_with(s))
        }
        None => false,
    };
    if !public {
        return Err("url must name a public host (no private, loopback or local address)".into());
    }
    Ok(url.to_string())
}

/// Builds the one outbound HTTP client: no redirects, a total timeout, no cookies. In
/// production (`https_only`) it speaks only https and connects only to public addresses (a
/// merchant-typed host that resolves to a private or loopback address is refused).
pub fn outbound_client(timeout: Duration, https_only: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .https_only(https_only)
        .user_agent(concat!("cartlink/", env!("CARGO_PKG_VERSION")));
    if https_only {
        builder = builder.dns_resolver(Arc::new(PublicOnlyDns));
    }
    builder
        .build()
        .expect("the HTTP client configuration is valid")
}

/// A resolver that answers only public addresses (see [`is_public_ip`]).
pub struct PublicOnlyDns;

/// The public addresses among `addrs`; an error if there are none.
pub fn public_addrs(
    name: &str,
    addrs: impl Iterator<Item = SocketAddr>,
) -> Result<Vec<SocketAddr>, String> {
    let public: Vec<SocketAddr> = addrs.filter(|a| is_public_ip(a.ip())).collect();
    if public.is_empty() {
        Err(format!("{name} resolves to no public address"))
    } else {
        Ok(public)
    }
}

impl Resolve for PublicOnlyDns {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public = public_addrs(&host, found)?;
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// A body longer than the limit, or one that broke off.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Longer than the limit: reading stopped there.
    #[error("the answer is longer than {0} bytes")]
    TooLong(usize),
    /// The connection failed while reading.
    #[error("the answer broke off: {0}")]
    Broken(String),
}

/// Reads `response`'s body, at most `limit` bytes: reading stops at the first chunk past the
/// limit (a hostile peer's endless answer is never held whole).
pub async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX))
    {
        return Err(BodyError::TooLong(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| BodyError::Broken(describe(&e)))?
    {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLong(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Describes a transport error by its chain of causes (the token URL holds no secret; the
/// request body, which holds the code, is never part of it).
pub fn describe<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests;
