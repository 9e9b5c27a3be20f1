//! The measures operators watch, written by the flows as a deployed function writes them: each
//! funnel step once, each refresh with its outcome, each grant's confirmation latency once.

use std::sync::atomic::Ordering;

use crate::clock::Clock;
use crate::domain::InviteId;
use crate::store::ConnectionStore;
use crate::telemetry::metric::{CONFIRMATION_LATENCY, FUNNEL_STEPS, REFRESHES};
use crate::testing::metrics::MetricCapture;
use crate::testing::TestKit;

fn steps(metrics: &MetricCapture) -> Vec<String> {
    metrics
        .measures(FUNNEL_STEPS)
        .iter()
        .map(|m| m["Step"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn each_step_of_an_invites_history_is_counted_once() {
    // GIVEN a merchant who connected (created, emailed, … authorized: steps in the feed)
    let kit = TestKit::new();
    kit.authorized().await;
    let metrics = MetricCapture::start();
    // WHEN the feed is worked through, twice
    kit.services.fan_out_pending_steps(100).await.unwrap();
    kit.services.fan_out_pending_steps(100).await.unwrap();
    // THEN each step is counted once, under its name
    let counted = steps(&metrics);
    for step in ["created", "emailed", "authorized"] {
        assert_eq!(
            counted.iter().filter(|s| *s == step).count(),
            1,
            "{step}: {counted:?}"
        );
    }
}

/// A connection whose access token is a minute from expiry.
async fn due_for_refresh(kit: &TestKit) -> crate::domain::Connection {
    let invite = kit.authorized().await;
    let c = kit
        .store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap();
    let now = kit.clock.now().0;
    kit.clock.advance(2_000_000_000 - 60 - now);
    c
}

fn outcomes(metrics: &MetricCapture) -> Vec<String> {
    metrics
        .measures(REFRESHES)
        .iter()
        .map(|m| m["Outcome"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_refresh_the_cart_answers_is_counted_refreshed() {
    // GIVEN a connection due for a refresh
    let kit = TestKit::new();
    let c = due_for_refresh(&kit).await;
    let metrics = MetricCapture::start();
    // WHEN a fresh token is asked for
    kit.services.fresh_connection(&c.id).await.unwrap();
    // THEN one refresh is counted, refreshed
    assert_eq!(outcomes(&metrics), vec!["refreshed"]);
}

#[tokio::test]
async fn a_refresh_the_cart_cannot_answer_is_counted_failed() {
    // GIVEN a connection due for a refresh, and a cart that cannot be reached
    let kit = TestKit::new();
    let c = due_for_refresh(&kit).await;
    kit.oauth.refresh_unreachable.store(true, Ordering::SeqCst);
    let metrics = MetricCapture::start();
    // WHEN a fresh token is asked for
    let _ = kit.services.fresh_connection(&c.id).await;
    // THEN one refresh is counted, failed
    assert_eq!(outcomes(&metrics), vec!["failed"]);
}

#[tokio::test]
async fn a_refresh_token_the_cart_refuses_is_counted_refused() {
    // GIVEN a connection due for a refresh whose refresh token the cart no longer honours
    let kit = TestKit::new();
    let c = due_for_refresh(&kit).await;
    *kit.oauth.live_refresh_token.lock().unwrap() = Some("ANOTHER".into());
    let metrics = MetricCapture::start();
    // WHEN a fresh token is asked for
    let _ = kit.services.fresh_connection(&c.id).await;
    // THEN one refresh is counted, refused
    assert_eq!(outcomes(&metrics), vec!["refused"]);
}

#[tokio::test]
async fn a_grants_confirmation_latency_is_measured_once() {
    // GIVEN a grant, confirmed 3 s later, and confirmed again
    let kit = TestKit::new();
    let invite: InviteId = kit.authorized().await;
    kit.clock.advance(3);
    let metrics = MetricCapture::start();
    kit.services.confirm(&invite).await.unwrap();
    kit.services.confirm(&invite).await.unwrap();
    // THEN one latency is written, of 3 s
    let measured = metrics.measures(CONFIRMATION_LATENCY);
    assert_eq!(measured.len(), 1, "{measured:?}");
    assert_eq!(measured[0][CONFIRMATION_LATENCY], 3000.0);
}
