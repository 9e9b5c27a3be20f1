//! What every function serving the warehouse API shares (`warehouse-api`,
//! `connection-tokens`): its credential, read in one place, and its error answers, RFC 9457
//! problems with a stable `type` (`urn:cartlink:problem:<code>`), built in one place.

use std::borrow::Cow;

use http::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::StatusCode;

use super::{json, Request, Response, MAX_BODY};
use crate::domain::{Warehouse, WarehouseDirectory};

/// The prefix of every problem `type`: one stable URN per error.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:cartlink:problem:";

/// How many seconds a 503 answer asks the client to wait before trying again.
pub const RETRY_AFTER_SECS: &str = "2";

/// The warehouse calling: the owner of the API key sent as `Authorization: Bearer <key>`
/// (trimmed). `None` when there is no such header or nobody owns the key; the warehouse is
/// never a field of the request.
pub fn caller<'a>(req: &Request, warehouses: &'a WarehouseDirectory) -> Option<&'a Warehouse> {
    bearer(req).and_then(|key| warehouses.authenticate(key))
}

/// The key sent as `Authorization: Bearer <key>` (trimmed), if any.
pub fn bearer(req: &Request) -> Option<&str> {
    req.header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
}

/// One error answer of the warehouse API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code: the `type` is [`PROBLEM_TYPE_PREFIX`] followed by it.
    pub code: &'static str,
    /// A short title.
    pub title: &'static str,
    /// What happened, in words safe to show the caller.
    pub detail: Cow<'static, str>,
}

impl Problem {
    /// A problem with its status, code, title and detail.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<Cow<'static, str>>,
    ) -> Self {
        Problem {
            status,
            code,
            title,
            detail: detail.into(),
        }
    }

    /// No API key, or one nobody owns.
    pub fn unauthorized() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "Send a valid API key as `Authorization: Bearer <key>`.",
        )
    }

    /// A `clk_live_` key whose checksum does not match: mistyped or cut short, so no key
    /// (told apart from a key nobody owns, which is [`Problem::unauthorized`]).
    pub fn api_key_checksum() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "api-key-checksum",
            "API key checksum mismatch",
            "The API key's checksum does not match: it was mistyped or cut short. Copy it again.",
        )
    }

    /// No such route, or no such resource of the caller's; `detail` says which.
    pub fn not_found(detail: &'static str) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// The route exists with other methods; `detail` names them.
    pub fn method_not_allowed(detail: &'static str) -> Self {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            detail,
        )
    }

    /// A body larger than [`MAX_BODY`].
    pub fn too_large() -> Self {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Body too large",
            format!("The body must be at most {MAX_BODY} bytes."),
        )
    }

    /// The store, the key service or the mail service failed; nothing the caller can see
    /// changed, and a retry may succeed.
    pub fn unavailable() -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            "Try again shortly.",
        )
    }

    /// The `application/problem+json` answer. A 401 says which credential it wants
    /// (`WWW-Authenticate: Bearer`), a 503 when to try again (`Retry-After`).
    pub fn into_response(self) -> Response {
        let body = serde_json::json!({
            "type": format!("{PROBLEM_TYPE_PREFIX}{}", self.code),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        let mut resp = json(self.status, &body);
        let h = resp.headers_mut();
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            h.insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;
    use crate::domain::{TokenHash, WarehouseId};

    #[test]
    fn problems_are_rfc_9457_with_a_stable_type() {
        let resp =
            Problem::new(StatusCode::BAD_REQUEST, "invalid-json", "Bad", "detail").into_response();
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(body["type"], "urn:cartlink:problem:invalid-json");
        assert_eq!(body["status"], 400);
        assert_eq!(body["detail"], "detail");
    }

    #[test]
    fn json_answers_and_problems_are_declared_json_and_never_sniffed() {
        // GIVEN a JSON answer and a problem
        let answer = super::super::json(StatusCode::OK, &serde_json::json!({"a": "<b>"}));
        let problem = Problem::unauthorized().into_response();
        // THEN each names its JSON type and forbids a browser to guess another
        assert_eq!(answer.headers()["content-type"], "application/json");
        assert_eq!(
            problem.headers()["content-type"],
            "application/problem+json"
        );
        for resp in [&answer, &problem] {
            assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        }
    }

    #[test]
    fn a_401_asks_for_a_bearer_key_and_a_503_says_when_to_retry() {
        // GIVEN the unauthorized and the unavailable problem
        let unauthorized = Problem::unauthorized().into_response();
        let unavailable = Problem::unavailable().into_response();
        // THEN each carries its header, and only its own
        assert_eq!(unauthorized.headers()["www-authenticate"], "Bearer");
        assert!(!unauthorized.headers().contains_key("retry-after"));
        assert_eq!(unavailable.headers()["retry-after"], RETRY_AFTER_SECS);
        assert!(!unavailable.headers().contains_key("www-authenticate"));
    }

    #[test]
    fn the_caller_is_the_owner_of_the_bearer_key() {
        // GIVEN a directory with one warehouse and its key
        let warehouses = WarehouseDirectory::new(vec![Warehouse {
            id: WarehouseId::parse("wh-a").unwrap(),
            display_name: "A".into(),
            notify_email: "ops@a.test".into(),
            api_key_hashes: vec![TokenHash::of("key-a")],
            brand: Default::default(),
            locale: None,
        }]);
        let with = |authorization: &'static str| {
            let mut req = Request::new(Method::GET, "/v1/carts");
            req.headers
                .insert("authorization", HeaderValue::from_static(authorization));
            caller(&req, &warehouses).map(|w| w.id.as_str().to_owned())
        };
        // THEN its key as a bearer token names it, surrounding spaces aside
        assert_eq!(with("Bearer key-a").as_deref(), Some("wh-a"));
        assert_eq!(with("Bearer  key-a ").as_deref(), Some("wh-a"));
        // AND an unknown key, another scheme, or no header names nobody
        assert_eq!(with("Bearer key-b"), None);
        assert_eq!(with("Basic key-a"), None);
        let bare = Request::new(Method::GET, "/v1/carts");
        assert!(caller(&bare, &warehouses).is_none());
    }
}
