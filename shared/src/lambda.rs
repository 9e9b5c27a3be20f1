//! Lambda glue: API Gateway HTTP API (payload 2.0) events in, our [`Request`]; our
//! [`Response`] out.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use lambda_http::{Body, RequestExt};

use crate::web::{Request, Response, MAX_BODY};

/// Converts a Lambda HTTP event into a [`Request`] (body capped at [`MAX_BODY`]).
pub fn from_lambda(event: lambda_http::Request) -> Request {
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
    Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body: if body.len() > MAX_BODY {
            body.slice(..MAX_BODY)
        } else {
            body
        },
        client_ip,
    }
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

/// Runs an HTTP handler on the Lambda runtime.
pub async fn run_http<H, Fut>(handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(Request) -> Fut,
    Fut: Future<Output = Response> + Send,
{
    let handler = &handler;
    lambda_http::run(lambda_http::service_fn(
        move |event: lambda_http::Request| {
            let fut = handler(from_lambda(event));
            async move { Ok::<_, Infallible>(to_lambda(fut.await)) }
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let ours = from_lambda(req);
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
}
