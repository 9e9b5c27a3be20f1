use std::net::IpAddr;

use super::*;
use crate::testing::TestKit;

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

/// A link of the right form that nobody issued.
fn unknown(i: u32) -> String {
    format!("{i:0>43}")
}

#[tokio::test]
async fn a_client_walking_unknown_links_is_told_to_wait_past_the_limit() {
    // GIVEN a client that opened as many unknown links as it may
    let kit = TestKit::new();
    for i in 0..UNKNOWN_LINKS_PER_CLIENT {
        let r = kit
            .services
            .open_link_for(&unknown(i), ip("203.0.113.7"))
            .await;
        assert!(matches!(r, Err(SetupError::InvalidLink)), "link {i}");
    }
    // WHEN it opens one more
    let r = kit
        .services
        .open_link_for(&unknown(999), ip("203.0.113.7"))
        .await;
    // THEN it is told to wait
    assert!(matches!(r, Err(SetupError::TooManyAttempts)));
}

#[tokio::test]
async fn a_waiting_client_still_opens_a_real_link_and_others_are_not_held() {
    // GIVEN a client past the unknown-link limit, and a real link
    let kit = TestKit::new();
    let (_, token) = kit.invite().await;
    for i in 0..=UNKNOWN_LINKS_PER_CLIENT {
        let _ = kit
            .services
            .open_link_for(&unknown(i), ip("203.0.113.7"))
            .await;
    }
    // WHEN it opens the real link, and another client an unknown one
    let real = kit.services.open_link_for(&token, ip("203.0.113.7")).await;
    let other = kit
        .services
        .open_link_for(&unknown(1), ip("198.51.100.9"))
        .await;
    // THEN the real link opens (it is never counted), and the other client is not held
    assert!(real.is_ok());
    assert!(matches!(other, Err(SetupError::InvalidLink)));
}
