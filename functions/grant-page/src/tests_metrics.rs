//! The grant page's beacon for a blocked popup: counted for operators, nothing stored, and only
//! from our own page for a link that exists.

use http::{HeaderValue, Method, StatusCode};
use shared::telemetry::metric::POPUPS_BLOCKED;
use shared::testing::metrics::MetricCapture;
use shared::testing::{new_invite, TestKit};
use shared::web::Request;

use super::handle;

fn beacon(token: &str, site: &'static str) -> Request {
    let mut req = Request::new(Method::POST, &format!("/setup/{token}/popup-blocked"));
    req.headers
        .insert("sec-fetch-site", HeaderValue::from_static(site));
    req
}

#[tokio::test]
async fn a_blocked_popup_reported_by_our_page_is_counted_once() {
    // GIVEN a grant page whose popup the browser blocked
    let kit = TestKit::new();
    let (_, token) = kit.invite_with(new_invite("acme")).await;
    let metrics = MetricCapture::start();
    // WHEN its script reports it
    let resp = handle(&kit.services, beacon(&token, "same-origin")).await;
    // THEN it is answered, and counted once
    assert_eq!(resp.status(), StatusCode::OK);
    let counted = metrics.measures(POPUPS_BLOCKED);
    assert_eq!(counted.len(), 1, "{counted:?}");
    assert_eq!(counted[0][POPUPS_BLOCKED], 1.0);
}

#[tokio::test]
async fn a_beacon_from_another_site_or_for_an_unknown_link_counts_nothing() {
    // GIVEN a link, and reports from another site and for a link nobody issued
    let kit = TestKit::new();
    let (_, token) = kit.invite_with(new_invite("acme")).await;
    let metrics = MetricCapture::start();
    // WHEN they arrive
    let foreign = handle(&kit.services, beacon(&token, "cross-site")).await;
    let unknown = handle(&kit.services, beacon(&"A".repeat(43), "same-origin")).await;
    // THEN they are refused and nothing is counted
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(metrics.measures(POPUPS_BLOCKED).is_empty());
}
