//! Lambda glue: API Gateway HTTP API (payload 2.0) events in, our [`Request`]; our
//! [`Response`] out.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use lambda_http::{Body, RequestExt};

use crate::web::{body_limit, body_too_large, Request, Response};

/// An event refused at the edge: its body is over [`MAX_BODY`](crate::web::MAX_BODY) (API
/// Gateway passes bodies far larger on). Answered with [`body_too_large`], as the local server
/// answers it.
#[derive(Debug, PartialEq, Eq)]
pub struct BodyTooLarge;

/// Converts a Lambda HTTP event into a [`Request`], unless its body is over the limit.
pub fn from_lambda(event: lambda_http::Request) -> Result<Request, BodyTooLarge> {
    let client_ip = match event.request_context() {
        lambda_http::request::RequestContext::ApiGatewayV2(ctx) => {
            ctx.http.source_ip.and_then(|ip| ip.parse().ok())
        }
        _ => None,
    };
    let (parts, body) = event.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    if body.len() > body_limit(parts.uri.path()) {
        return Err(BodyTooLarge);
    }
    Ok(Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
        client_ip,
    })
}

/// Answers one Lambda HTTP event: `handler` answers the request, unless [`from_lambda`] refused
/// it first, in which case `handler` is not called.
pub async fn answer<H, Fut>(handler: H, event: lambda_http::Request) -> lambda_http::Response<Body>
where
    H: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let resp = match from_lambda(event) {
        Ok(req) => handler(req).await,
        Err(BodyTooLarge) => body_too_large(),
    };
    to_lambda(resp)
}

/// Converts a [`Response`] for Lambda: text types as text, anything else as binary.
pub fn to_lambda(resp: Response) -> lambda_http::Response<Body> {
    let (parts, body) = resp.into_parts();
    let textual = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/") || t.contains("json") || t.contains("javascript"));
    let body = if body.is_empty() {
        Body::Empty
    } else if textual {
        Body::Text(String::from_utf8_lossy(&body).into_owned())
    } else {
        Body::Binary(body.to_vec())
    };
    lambda_http::Response::from_parts(parts, body)
}

/// Runs an HTTP handler on the Lambda runtime, each event through [`answer`].
pub async fn run_http<H, Fut>(handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(Request) -> Fut + Sync,
    Fut: Future<Output = Response> + Send,
{
    let handler = &handler;
    lambda_http::run(lambda_http::service_fn(
        move |event: lambda_http::Request| {
            let answered = answer(handler, event);
            async move { Ok::<_, Infallible>(answered.await) }
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::web::MAX_BODY;

    #[test]
    fn an_http_api_event_becomes_our_request_and_back() {
        // GIVEN an API Gateway HTTP API (payload 2.0) event
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/setup/abc/status",
            "rawQueryString": "x=1",
            "headers": {"cookie": "a=b", "content-type": "application/json"},
            "requestContext": {
                "accountId": "1", "apiId": "api", "domainName": "cartlink.test", "domainPrefix": "cartlink",
                "http": {"method": "POST", "path": "/setup/abc/status", "protocol": "HTTP/1.1",
                         "sourceIp": "203.0.113.9", "userAgent": "t"},
                "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "t", "timeEpoch": 0
            },
            "body": "{\"a\":1}",
            "isBase64Encoded": false
        });
        let req = lambda_http::request::from_str(&event.to_string()).unwrap();
        // WHEN it is converted
        let ours = from_lambda(req).expect("a body within the limit");
        // THEN path, query, headers, body and client address carry over
        assert_eq!(ours.method, http::Method::POST);
        assert_eq!(ours.path, "/setup/abc/status");
        assert_eq!(ours.query, "x=1");
        assert_eq!(ours.cookie("a").as_deref(), Some("b"));
        assert_eq!(&ours.body[..], b"{\"a\":1}");
        assert_eq!(ours.client_ip, Some("203.0.113.9".parse().unwrap()));
        // AND a JSON response goes back as text
        let resp = crate::web::json(http::StatusCode::OK, &serde_json::json!({"ok": true}));
        let back = to_lambda(resp);
        assert!(matches!(back.body(), Body::Text(t) if t == "{\"ok\":true}"));
    }

    /// A POST event whose body is `len` bytes.
    fn post_of(len: usize) -> lambda_http::Request {
        post_to("/v1/invites", len)
    }

    /// A POST event to `path` whose body is `len` bytes.
    fn post_to(path: &str, len: usize) -> lambda_http::Request {
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {
                "accountId": "1", "apiId": "api", "domainName": "cartlink.test", "domainPrefix": "cartlink",
                "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
                         "sourceIp": "203.0.113.9", "userAgent": "t"},
                "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "t", "timeEpoch": 0
            },
            "body": " ".repeat(len),
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    /// Answers `event` with a handler that counts its calls and echoes the body's length.
    async fn answer_counting(event: lambda_http::Request) -> (lambda_http::Response<Body>, usize) {
        let calls = AtomicUsize::new(0);
        let resp = answer(
            |req: Request| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move { crate::web::json(http::StatusCode::OK, &req.body.len()) }
            },
            event,
        )
        .await;
        (resp, calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_with_413_before_the_handler() {
        // GIVEN an event whose body is one byte over the limit
        let event = post_of(MAX_BODY + 1);
        // WHEN the glue answers it
        let (resp, calls) = answer_counting(event).await;
        // THEN it answers 413 problem `too-large` itself, and the handler never runs
        assert_eq!(resp.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let Body::Text(text) = resp.body() else {
            panic!("a problem+json body as text: {:?}", resp.body());
        };
        let problem: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(problem["type"], "urn:cartlink:problem:too-large");
        assert_eq!(calls, 0);
    }

    #[tokio::test]
    async fn a_body_of_exactly_the_limit_reaches_the_handler_whole() {
        // GIVEN an event whose body is exactly the limit
        let event = post_of(MAX_BODY);
        // WHEN the glue answers it
        let (resp, calls) = answer_counting(event).await;
        // THEN the handler answered, having read every byte
        assert_eq!(calls, 1);
        assert_eq!(resp.status(), http::StatusCode::OK);
        assert!(matches!(resp.body(), Body::Text(t) if *t == MAX_BODY.to_string()));
    }

    #[tokio::test]
    async fn an_admin_body_may_be_a_logo_upload_and_no_larger() {
        // GIVEN an admin event of 64 KiB + 1 (a logo the admin API refuses itself), and one
        // over the admin limit
        let logo = post_to("/admin/v1/warehouses/wh-a/logo", 64 * 1024 + 1);
        let over = post_to(
            "/admin/v1/warehouses/wh-a/logo",
            crate::web::MAX_ADMIN_BODY + 1,
        );
        // WHEN the glue answers them
        let (logo_resp, logo_calls) = answer_counting(logo).await;
        let (over_resp, over_calls) = answer_counting(over).await;
        // THEN the first reaches the handler, the second is refused at the edge
        assert_eq!((logo_resp.status(), logo_calls), (http::StatusCode::OK, 1));
        assert_eq!(
            (over_resp.status(), over_calls),
            (http::StatusCode::PAYLOAD_TOO_LARGE, 0)
        );
    }
}
