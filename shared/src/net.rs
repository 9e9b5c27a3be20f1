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

/// Whether an address is one cartlink may call on a merchant's behalf: not loopback, private,
/// link-local, shared (CGNAT), unspecified, broadcast, documentation, multicast or unique-local.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_ip(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
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
/// names and single-label hosts are refused; addresses are checked again when connecting),
/// no credentials, query or fragment; answered as `https://host[:port][/path]` without a
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
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = url.path().trim_end_matches('/');
    Ok(format!("https://{bare}{port}{path}"))
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
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_callable_only_to_loopback_and_only_where_allowed() {
        let url = |raw: &str| Url::parse(raw).unwrap();
        // GIVEN https anywhere THEN it is callable in every configuration
        assert!(is_secure_scheme(&url("https://auth.acme.test/t"), false));
        // GIVEN plain http to loopback THEN only a loopback configuration may call it
        for local in [
            "http://127.0.0.1:9/t",
            "http://localhost/t",
            "http://[::1]/t",
        ] {
            assert!(is_secure_scheme(&url(local), true), "{local}");
            assert!(!is_secure_scheme(&url(local), false), "{local}");
        }
        // GIVEN plain http to anything else, or another scheme THEN never
        assert!(!is_secure_scheme(&url("http://auth.acme.test/t"), true));
        assert!(!is_secure_scheme(&url("ftp://127.0.0.1/t"), true));
    }

    #[test]
    fn a_configured_endpoint_with_credentials_or_a_fragment_is_refused() {
        // GIVEN endpoints that carry a user, a password or a fragment
        for bad in [
            "https://user@auth.acme.test/t",
            "https://user:pw@auth.acme.test/t",
            "https://auth.acme.test/t#frag",
        ] {
            // THEN each is refused, saying why
            let refused = endpoint_url("token_url", bad, true).unwrap_err();
            assert!(
                refused.contains("fragment or credentials"),
                "{bad}: {refused}"
            );
        }
        // AND a clean one is taken as written
        let ok = endpoint_url("token_url", "https://auth.acme.test/t?x=1", false).unwrap();
        assert_eq!(ok.as_str(), "https://auth.acme.test/t?x=1");
    }

    #[test]
    fn a_webhook_url_on_a_private_or_loopback_address_is_refused_in_production() {
        // GIVEN URLs to private, loopback, link-local and local-name hosts
        for bad in [
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://192.168.0.9/hook",
            "https://169.254.169.254/latest",
            "https://[::1]/hook",
            "https://[fd00::1]/hook",
            "https://localhost/hook",
            "https://hooks.internal/hook",
            "https://intranet/hook",
            "http://hooks.example.com/hook",
        ] {
            // WHEN checked in a production configuration THEN refused
            assert!(webhook_url(bad, false).is_err(), "{bad}");
        }
        // AND a public https URL is taken
        assert_eq!(
            webhook_url("https://hooks.example.com/in?x=1", false).unwrap(),
            "https://hooks.example.com/in?x=1"
        );
        assert!(webhook_url("https://8.8.8.8/in", false).is_ok());
    }

    #[test]
    fn a_loopback_configuration_may_use_a_loopback_receiver() {
        assert_eq!(
            webhook_url("http://127.0.0.1:9000/in", true).unwrap(),
            "http://127.0.0.1:9000/in"
        );
        assert!(webhook_url("http://127.0.0.1:9000/in", false).is_err());
    }

    #[test]
    fn store_urls_must_be_https_to_a_public_named_host() {
        assert_eq!(
            public_https_url("https://Shop.Example.com/store/").unwrap(),
            "https://shop.example.com/store"
        );
        for bad in [
            "http://shop.example.com",
            "https://127.0.0.1",
            "https://[::1]/",
            "https://10.0.0.5",
            "https://169.254.169.254/latest",
            "https://localhost",
            "https://shop.localhost",
            "https://intranet",
            "https://nas.local",
            "https://u:p@shop.example.com",
            "https://shop.example.com/?x=1",
            "ftp://shop.example.com",
        ] {
            assert!(public_https_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public_ip(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "2606:4700::1111"] {
            assert!(is_public_ip(public.parse().unwrap()), "{public}");
        }
    }
}
