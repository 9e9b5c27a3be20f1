//! Every refused callback writes one event line with its stable reason code, the line the
//! template's metric filter counts (`"callback refused"`, `infra/template.yaml`
//! `CallbackRefusals`), and no secret of the request.

use cartlink_e2e::LogCapture;
use http::{HeaderValue, Method};
use shared::testing::TestKit;
use shared::web::Request;

fn callback(query: &str, cookie: Option<&str>) -> Request {
    let mut req = Request::new(Method::GET, &format!("/oauth/callback/acme?{query}"));
    if let Some(c) = cookie {
        req.headers
            .insert("cookie", HeaderValue::from_str(c).unwrap());
    }
    req
}

#[tokio::test]
async fn each_refused_callback_logs_one_event_with_its_reason_and_no_secret() {
    // GIVEN a grant started in a browser
    let kit = TestKit::new();
    let (_, token) = kit.invite().await;
    let grant = kit.start(&token).await;
    let cookie = format!("__Host-cartlink-grant={}", grant.binding);
    let iss = "iss=https%3A%2F%2Fauth.acme.test";
    // A state of the right form that nobody issued: the grant's own, one symbol changed.
    let first = if grant.state.starts_with('A') {
        "B"
    } else {
        "A"
    };
    let unissued = format!("{first}{}", &grant.state[1..]);
    let cases = [
        (
            format!("code=CODE1&state={}&{iss}", grant.state),
            None,
            "browser_mismatch",
        ),
        (
            format!("code=CODE2&state={unissued}&{iss}"),
            Some(cookie.as_str()),
            "state_unknown",
        ),
        (
            format!("code=CODE3&state={}&code=CODE4&{iss}", grant.state),
            Some(cookie.as_str()),
            "parameter_repeated",
        ),
    ];
    for (query, cookie, reason) in cases {
        // WHEN the callback is refused
        let logs = LogCapture::start();
        oauth_callback::handle(&kit.services, callback(&query, cookie)).await;
        // THEN one event line says so with the reason, and holds neither code nor state
        let events = logs.lines_with("callback refused");
        assert_eq!(events.len(), 1, "{reason}: {}", logs.text());
        assert!(
            events[0].contains(&format!("reason=\"{reason}\"")),
            "{}",
            events[0]
        );
        for secret in ["CODE1", "CODE2", "CODE3", "CODE4", grant.state.as_str()] {
            assert!(!logs.text().contains(secret), "{reason}: {}", logs.text());
        }
    }
}

#[tokio::test]
async fn a_refusal_by_a_rate_limit_logs_the_line_the_metric_counts_and_no_address() {
    // GIVEN a client that opened as many unknown links as it may
    let kit = TestKit::new();
    let client = Some("203.0.113.77".parse().unwrap());
    let unknown = |i: u32| format!("{i:0>43}");
    for i in 0..shared::service::link_guard::UNKNOWN_LINKS_PER_CLIENT {
        let _ = kit.services.open_link_for(&unknown(i), client).await;
    }
    // WHEN it opens one more
    let logs = LogCapture::start();
    let refused = kit.services.open_link_for(&unknown(999), client).await;
    // THEN it is refused, and one line says a limit was reached and names which
    assert!(refused.is_err());
    let events = logs.lines_with("rate limit reached");
    assert_eq!(events.len(), 1, "{}", logs.text());
    assert!(
        events[0].contains("limit=\"unknown-link\""),
        "{}",
        events[0]
    );
    // AND the line holds neither the address nor its counter's hash
    assert!(!logs.text().contains("203.0.113.77"), "{}", logs.text());
    let hash = shared::domain::TokenHash::of("203.0.113.77");
    assert!(!logs.text().contains(hash.as_str()), "{}", logs.text());
}

#[tokio::test]
async fn an_admitted_request_logs_no_rate_limit_line() {
    // GIVEN a client within its limit
    let kit = TestKit::new();
    let logs = LogCapture::start();
    // WHEN it opens one unknown link
    let _ = kit
        .services
        .open_link_for(&"0".repeat(43), Some("203.0.113.78".parse().unwrap()))
        .await;
    // THEN no limit is reported
    assert!(
        logs.lines_with("rate limit reached").is_empty(),
        "{}",
        logs.text()
    );
}
