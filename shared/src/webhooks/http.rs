//! The sender on the one outbound HTTP client (`net::outbound_client`): no redirects, the
//! address rules of every outbound call, and a 10-second timeout per post (whatever the
//! client's own timeout for cart calls).

use async_trait::async_trait;

use super::{PostOutcome, WebhookSender};

/// Posts messages with a [`reqwest::Client`] built by `net::outbound_client`.
pub struct HttpSender(pub reqwest::Client);

/// How long a receiver has to answer.
pub const POST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[async_trait]
impl WebhookSender for HttpSender {
    async fn post(&self, url: &str, headers: &[(&'static str, String)], body: &str) -> PostOutcome {
        let mut req = self
            .0
            .post(url)
            .timeout(POST_TIMEOUT)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        match req.send().await {
            Ok(resp) => PostOutcome::Answered(resp.status().as_u16()),
            Err(e) => PostOutcome::NoAnswer(classify(&e)),
        }
    }
}

/// A stable code for a failed post (the error's text may hold the URL; it is never stored).
fn classify(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if crate::net::describe(e).contains("no public address") {
        "refused_address"
    } else if e.is_connect() {
        "connect"
    } else {
        "request"
    }
}
