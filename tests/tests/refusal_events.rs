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
