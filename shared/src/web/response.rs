//! Response builders: every answer but a static asset carries the security headers, a page
//! its content security policy and opener policy too.

use std::sync::LazyLock;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use serde::Serialize;

use super::Response;

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// Sets a header whose name and value are written in the code: both checked when compiling,
/// neither checked nor copied per response. `value <expr>` sets a `HeaderValue` made elsewhere.
macro_rules! fixed {
    ($headers:expr, $name:literal, $value:literal $(,)?) => {{
        $headers.insert(
            const { HeaderName::from_static($name) },
            const { HeaderValue::from_static($value) },
        );
    }};
    ($headers:expr, $name:literal, value $value:expr) => {{
        $headers.insert(const { HeaderName::from_static($name) }, $value);
    }};
}

/// The Content-Security-Policy of every page: our own scripts and styles only, no framing,
/// forms only to us and to `form_targets` (the cart's origin, since a form's redirect to it is
/// checked too).
pub fn content_security_policy(form_targets: &[String]) -> String {
    let mut policy = String::from(SELF_ONLY_POLICY);
    for t in form_targets {
        policy.push(' ');
        policy.push_str(t);
    }
    policy
}

/// [`content_security_policy`] with no form targets: forms post to this site only.
const SELF_ONLY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

/// The opener policy of a page that keeps handles to the popups it opens.
const COOP_KEEPS_POPUPS: HeaderValue = HeaderValue::from_static("same-origin-allow-popups");
/// The opener policy of a page shown inside a popup ([`popup_html`]).
const COOP_IN_POPUP: HeaderValue = HeaderValue::from_static("unsafe-none");

/// An HTML page with the full security header set. It keeps handles to the popups it opens
/// (`Cross-Origin-Opener-Policy: same-origin-allow-popups`) and is isolated from any other
/// window.
pub fn html(status: StatusCode, body: impl Into<Bytes>, form_targets: &[String]) -> Response {
    page(status, body, form_targets, COOP_KEEPS_POPUPS)
}

/// A page that may be shown inside the grant page's popup (the OAuth callback's pages): the
/// full security header set, but `Cross-Origin-Opener-Policy: unsafe-none`, because any other
/// policy on a page that arrives in a popup after the cart's pages puts it in a new browsing
/// context group, where `window.opener` is null and it could no longer tell the grant page
/// that it is done. The grant page's status poll does not depend on it either way.
pub fn popup_html(status: StatusCode, body: String) -> Response {
    page(status, body, &[], COOP_IN_POPUP)
}

/// A page a cart's admin shows in its own frame (BigCommerce's control panel): the full
/// security header set, but framing allowed to `ancestors` only (CSP `frame-ancestors`; no
/// `X-Frame-Options`, which cannot name an origin). `ancestors` must be built from validated
/// values.
pub fn framed_html(status: StatusCode, body: String, ancestors: &str) -> Response {
    let mut resp = page(status, body, &[], COOP_KEEPS_POPUPS);
    let csp = content_security_policy(&[]).replace(
        "frame-ancestors 'none'",
        &format!("frame-ancestors {ancestors}"),
    );
    let h = resp.headers_mut();
    set(h, "content-security-policy", &csp);
    h.remove("x-frame-options");
    resp
}

/// The headers of every answer but a static asset, made once: answers start from a copy
/// ([`PAGE_HEADERS`] says why).
static BASE_HEADERS: LazyLock<HeaderMap> = LazyLock::new(|| {
    let mut h = HeaderMap::with_capacity(8);
    fixed!(h, "x-content-type-options", "nosniff");
    fixed!(h, "referrer-policy", "no-referrer");
    fixed!(h, "cache-control", "no-store");
    fixed!(
        h,
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    );
    h
});

/// The headers of every page, made once: a page's response starts from a copy, which costs
/// a fraction of inserting each (no name is hashed, one allocation), and then sets its own
/// policy and opener policy over the ones here.
static PAGE_HEADERS: LazyLock<HeaderMap> = LazyLock::new(|| {
    let mut h = BASE_HEADERS.clone();
    fixed!(h, "content-type", "text/html; charset=utf-8");
    fixed!(h, "content-security-policy", value HeaderValue::from_static(SELF_ONLY_POLICY));
    fixed!(h, "x-frame-options", "DENY");
    fixed!(h, "cross-origin-opener-policy", value COOP_KEEPS_POPUPS);
    h
});

fn page(
    status: StatusCode,
    body: impl Into<Bytes>,
    form_targets: &[String],
    coop: HeaderValue,
) -> Response {
    let mut resp = http::Response::new(body.into());
    *resp.status_mut() = status;
    *resp.headers_mut() = PAGE_HEADERS.clone();
    let h = resp.headers_mut();
    // The policy is built for this page; its bytes become the header's without a copy. A
    // target no header can carry (none is: they are origins parsed as URLs) leaves the policy
    // that allows forms to this site only, never none at all.
    let csp = HeaderValue::from_maybe_shared(Bytes::from(content_security_policy(form_targets)))
        .unwrap_or_else(|_| HeaderValue::from_static(SELF_ONLY_POLICY));
    fixed!(h, "content-security-policy", value csp);
    fixed!(h, "cross-origin-opener-policy", value coop);
    resp
}

/// A JSON answer.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = http::Response::new(Bytes::from(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = BASE_HEADERS.clone();
    fixed!(resp.headers_mut(), "content-type", "application/json");
    resp
}

/// A 204 No Content.
pub fn no_content() -> Response {
    let mut resp = http::Response::new(Bytes::new());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    *resp.headers_mut() = BASE_HEADERS.clone();
    resp
}

/// A 303 See Other to `location`.
pub fn see_other(location: &str) -> Response {
    let mut resp = http::Response::new(Bytes::new());
    *resp.status_mut() = StatusCode::SEE_OTHER;
    *resp.headers_mut() = BASE_HEADERS.clone();
    set(resp.headers_mut(), "location", location);
    resp
}

/// A static asset (script or style) from our own origin.
pub fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = http::Response::new(Bytes::from_static(body.as_bytes()));
    let h = resp.headers_mut();
    fixed!(h, "x-content-type-options", "nosniff");
    fixed!(h, "content-type", value HeaderValue::from_static(content_type));
    fixed!(h, "cache-control", "public, max-age=300");
    resp
}

/// Strips the body from a response to a HEAD request.
pub fn for_method(method: &Method, mut resp: Response) -> Response {
    if method == Method::HEAD {
        *resp.body_mut() = Bytes::new();
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_carries_the_security_headers() {
        let resp = html(StatusCode::OK, "<p>x</p>", &["https://cart.test".into()]);
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("form-action 'self' https://cart.test"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["x-frame-options"], "DENY");
        assert!(h.contains_key("strict-transport-security"));
        assert_eq!(h["cross-origin-opener-policy"], "same-origin-allow-popups");
        // AND a page shown in the popup has the same set, but keeps its opener
        let popup = popup_html(StatusCode::OK, "<p>x</p>".into());
        for name in [
            "content-security-policy",
            "referrer-policy",
            "x-content-type-options",
            "cache-control",
            "x-frame-options",
            "strict-transport-security",
        ] {
            assert!(popup.headers().contains_key(name), "{name}");
        }
        assert!(popup.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .ends_with("form-action 'self'"));
        assert_eq!(popup.headers()["cross-origin-opener-policy"], "unsafe-none");
    }

    #[test]
    fn a_form_target_no_header_can_carry_leaves_forms_to_this_site_only() {
        // GIVEN a form target with a line break in it
        let targets = ["https://cart.test\r\nx-injected: 1".to_owned()];
        // WHEN a page is made for it
        let resp = html(StatusCode::OK, "<p>x</p>", &targets);
        // THEN its policy allows forms to this site only
        assert_eq!(
            resp.headers()["content-security-policy"],
            content_security_policy(&[])
        );
    }

    #[test]
    fn every_header_of_a_page_is_there_once() {
        // GIVEN a page (its headers start from a copy of the made set, then are set over it)
        let resp = html(StatusCode::OK, "<p>x</p>", &["https://cart.test".into()]);
        // WHEN its headers are counted by name
        let h = resp.headers();
        // THEN none is there twice
        assert_eq!(h.len(), h.keys_len(), "{h:?}");
    }
}
