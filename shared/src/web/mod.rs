//! HTTP, the same in Lambda and locally: one request type, response builders that add the
//! security headers, the binding cookie, the page layout, and the warehouse API's credential and
//! problem answers (`api`).

pub mod api;
pub mod lang;
pub mod page;
mod response;

pub use response::{
    asset, content_security_policy, for_method, framed_html, html, json, no_content, popup_html,
    see_other,
};

use std::collections::HashMap;
use std::net::IpAddr;

use bytes::Bytes;
use cookie::{Cookie, SameSite};
use http::header::{HeaderMap, HeaderValue};
use http::Method;

/// Largest request body any handler reads: 16 KiB. A longer one is refused at the edge, by the
/// Lambda glue and the local server alike, with [`body_too_large`] before any handler runs.
pub const MAX_BODY: usize = 16 * 1024;

/// Largest body of an admin API request (`/admin/…`): a logo upload of up to 64 KiB, with room
/// to refuse a larger one with the admin API's own problem rather than at the edge.
pub const MAX_ADMIN_BODY: usize = 96 * 1024;

/// The largest body read for a request to `path`: [`MAX_ADMIN_BODY`] under `/admin/`,
/// [`MAX_BODY`] everywhere else.
pub fn body_limit(path: &str) -> usize {
    if path.starts_with("/admin/") {
        MAX_ADMIN_BODY
    } else {
        MAX_BODY
    }
}

/// The answer to a request whose body is over [`MAX_BODY`]: 413 problem `too-large`.
pub fn body_too_large() -> Response {
    api::Problem::too_large().into_response()
}

/// A request as every handler sees it, whether it came from API Gateway or the local server.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    /// The raw query string (without `?`), empty if none.
    pub query: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The client's address, as the edge saw it.
    pub client_ip: Option<IpAddr>,
}

/// A response.
pub type Response = http::Response<Bytes>;

fn parse_pairs(raw: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

impl Request {
    /// A request with no headers, body or client (tests and internal calls).
    pub fn new(method: Method, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Request {
            method,
            path: path.to_owned(),
            query: query.to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            client_ip: None,
        }
    }

    /// The query parameters, first value of each.
    pub fn query_params(&self) -> HashMap<String, String> {
        parse_pairs(self.query.as_bytes())
    }

    /// The first name the query carries more than once, if any.
    pub fn repeated_query_param(&self) -> Option<String> {
        let mut seen = std::collections::HashSet::new();
        url::form_urlencoded::parse(self.query.as_bytes())
            .map(|(k, _)| k.into_owned())
            .find(|k| !seen.insert(k.clone()))
    }

    /// The urlencoded form body, first value of each field.
    pub fn form(&self) -> HashMap<String, String> {
        parse_pairs(&self.body)
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of a cookie.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| Cookie::split_parse(v).flatten())
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
    }

    /// The path split on `/`, without empty segments.
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// Whether the method reads only (GET or HEAD).
    pub fn is_read(&self) -> bool {
        self.method == Method::GET || self.method == Method::HEAD
    }

    /// Whether a form post came from a page of `origin` (our own), as far as the browser says.
    ///
    /// Browsers send `Sec-Fetch-Site` (fetch metadata) on every request and scripts cannot
    /// forge it: `same-origin` (or `none`, a browser-initiated request) passes, anything else is
    /// refused. `Origin` cannot be the primary signal: our pages send
    /// `Referrer-Policy: no-referrer`, under which browsers send `Origin: null` even on a
    /// same-origin form post. Only when `Sec-Fetch-Site` is absent (clients that are not
    /// browsers, and browsers from before 2023) is `Origin` checked: our origin passes, and so
    /// does none at all (a client that is not a browser sends none, and a page elsewhere cannot
    /// make a browser post without one); `null` is refused, since a sandboxed frame or a
    /// cross-origin redirect elsewhere can make a browser send exactly that. Browsers without
    /// fetch metadata (Safari before 16.4, from 2023) are refused our own forms.
    pub fn is_same_origin_post(&self, origin: &str) -> bool {
        match (self.header("sec-fetch-site"), self.header("origin")) {
            (Some(site), _) => site == "same-origin" || site == "none",
            (None, None) => true,
            (None, Some(o)) => o == origin,
        }
    }
}

/// The cookies of grant attempts: the browser binding, and for carts whose callback carries no
/// `state` ([`crate::carts::StateReturn::Cookie`]) the state beside it.
pub struct BindingCookie {
    /// Its name: `__Host-cartlink-grant` (`__Host-cartlink-state`), or without the prefix on
    /// plain-http loopback.
    pub name: &'static str,
    secure: bool,
}

/// How long the binding cookie lives: the attempt's 15 minutes.
pub const BINDING_MAX_AGE: i64 = crate::domain::ATTEMPT_TTL_SECS;

impl BindingCookie {
    /// The cookie for this deployment: `__Host-` and `Secure` unless the public base URL is
    /// plain http on loopback (a local run, where browsers would drop a Secure cookie).
    pub fn for_local_http(local_http: bool) -> Self {
        if local_http {
            BindingCookie {
                name: "cartlink-grant",
                secure: false,
            }
        } else {
            BindingCookie {
                name: "__Host-cartlink-grant",
                secure: true,
            }
        }
    }

    /// The state cookie for this deployment, made like the binding cookie.
    pub fn state_for_local_http(local_http: bool) -> Self {
        BindingCookie {
            name: if local_http {
                "cartlink-state"
            } else {
                "__Host-cartlink-state"
            },
            secure: !local_http,
        }
    }

    /// The cookie with `value`: HttpOnly, SameSite=Lax (Strict would not come back from the
    /// cart's redirect), Path=/, no Domain, Max-Age of the attempt.
    fn cookie(&self, value: String) -> Cookie<'static> {
        Cookie::build((self.name, value))
            .path("/")
            .max_age(time::Duration::seconds(BINDING_MAX_AGE))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .build()
    }

    /// The `Set-Cookie` value that sets the cookie to `value`.
    pub fn set_cookie(&self, value: &str) -> String {
        self.cookie(value.to_owned()).to_string()
    }

    /// Adds a `Set-Cookie` that removes the cookie (after the callback it served).
    pub fn clear(&self, resp: &mut Response) {
        let mut removal = self.cookie(String::new());
        removal.set_max_age(time::Duration::ZERO);
        if let Ok(v) = HeaderValue::from_str(&removal.to_string()) {
            resp.headers_mut().append(http::header::SET_COOKIE, v);
        }
    }

    /// Adds the cookie to a response.
    pub fn attach(&self, resp: &mut Response, value: &str) {
        if let Ok(v) = HeaderValue::from_str(&self.set_cookie(value)) {
            resp.headers_mut().append(http::header::SET_COOKIE, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_cookie_is_host_prefixed_except_on_loopback_http() {
        let prod = BindingCookie::for_local_http(false).set_cookie("v");
        assert_eq!(
            prod,
            "__Host-cartlink-grant=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=900"
        );
        let local = BindingCookie::for_local_http(true).set_cookie("v");
        assert_eq!(
            local,
            "cartlink-grant=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=900"
        );
    }

    #[test]
    fn form_posts_are_ours_by_fetch_metadata_or_else_by_origin() {
        let post = |headers: &[(&'static str, &'static str)]| {
            let mut req = Request::new(Method::POST, "/setup");
            for (k, v) in headers {
                req.headers.insert(*k, HeaderValue::from_static(v));
            }
            req.is_same_origin_post("https://cartlink.test")
        };
        // GIVEN a modern browser: fetch metadata decides, whatever Origin says (no-referrer
        // pages send `Origin: null` on their own same-origin posts)
        assert!(post(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "null")
        ]));
        assert!(post(&[("sec-fetch-site", "none")]));
        for site in ["cross-site", "same-site"] {
            let mut req = Request::new(Method::POST, "/setup");
            req.headers
                .insert("sec-fetch-site", HeaderValue::from_static(site));
            req.headers
                .insert("origin", HeaderValue::from_static("https://cartlink.test"));
            assert!(!req.is_same_origin_post("https://cartlink.test"), "{site}");
        }
        // AND an older browser or another client: Origin decides when it names a site
        assert!(post(&[("origin", "https://cartlink.test")]));
        assert!(post(&[]));
        assert!(!post(&[("origin", "https://evil.example")]));
        // AND `Origin: null` without fetch metadata (a sandboxed frame elsewhere) is refused
        assert!(!post(&[("origin", "null")]));
    }

    #[test]
    fn cookies_and_params_are_read_by_name() {
        // (A repeated name reads first-wins here; the OAuth callback refuses one, see
        // `repeated_query_param`.)
        let mut req = Request::new(Method::GET, "/x?a=1&b=%20two&a=3");
        req.headers.insert(
            "cookie",
            HeaderValue::from_static("x=1; cartlink-grant=abc"),
        );
        assert_eq!(req.cookie("cartlink-grant").as_deref(), Some("abc"));
        assert_eq!(req.cookie("nope"), None);
        let q = req.query_params();
        assert_eq!(q["a"], "1");
        assert_eq!(q["b"], " two");
    }

    #[test]
    fn a_name_given_twice_in_the_query_is_found() {
        // GIVEN a query repeating `code`, and one naming each once
        let twice = Request::new(Method::GET, "/cb?state=s&code=a&x=1&code=b");
        let once = Request::new(Method::GET, "/cb?state=s&code=a&codes=b");
        // THEN the repeated name is found, and in the other none
        assert_eq!(twice.repeated_query_param().as_deref(), Some("code"));
        assert_eq!(once.repeated_query_param(), None);
    }
}
