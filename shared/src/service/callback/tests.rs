//! One redemption per attempt: concurrent loads of one callback, a claim whose holder died, and
//! key deliveries posted twice at once, over the embedded store with a slow fake cart.

use std::time::Duration;

use futures::future::join_all;

use super::CallbackError;
use crate::carts::{builtin, ClientCredentials};
use crate::domain::{claim_deadline, AttemptStatus, GrantState};
use crate::service::setup::{GrantNext, GrantProgress};
use crate::store::{AttemptStore, ConnectionStore};
use crate::testing::{new_invite, StartedGrant, TestKit, ACME_ISS};

/// A kit whose cart takes `delay` to answer.
fn slow_kit(delay: Duration) -> TestKit {
    let kit = TestKit::new();
    *kit.oauth.exchange_delay.lock().unwrap() = Some(delay);
    kit
}

async fn load(kit: &TestKit, g: &StartedGrant) -> Result<super::Authorized, CallbackError> {
    kit.callback(
        "acme",
        &[("code", "C1"), ("state", &g.state), ACME_ISS],
        Some(&g.binding),
    )
    .await
}

async fn connections(kit: &TestKit) -> usize {
    kit.store.connection_count().await.unwrap()
}

#[tokio::test]
async fn simultaneous_loads_of_one_callback_exchange_the_code_once_and_all_show_success() {
    // GIVEN a started grant and a cart that takes 300 ms to answer
    let kit = slow_kit(Duration::from_millis(300));
    let (_, token) = kit.invite().await;
    let g = kit.start(&token).await;
    // WHEN the callback URL is loaded six times at once
    let answers = join_all((0..6).map(|_| load(&kit, &g))).await;
    // THEN the code went to the cart once, and every load shows the one connection
    assert_eq!(kit.oauth.calls(), 1);
    let first = answers[0]
        .as_ref()
        .expect("connected")
        .connection
        .id
        .clone();
    for a in &answers {
        assert_eq!(a.as_ref().expect("connected").connection.id, first);
    }
    assert_eq!(connections(&kit).await, 1);
    // AND the invite was announced authorized once (one confirmation of each kind follows)
    assert_eq!(kit.events.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn loads_that_find_the_exchange_failed_show_the_failure_without_another_email() {
    // GIVEN a started grant and a slow cart that refuses the code
    let kit = slow_kit(Duration::from_millis(300));
    *kit.oauth.refuse.lock().unwrap() = Some("invalid_grant".into());
    let (_, token) = kit.invite().await;
    let g = kit.start(&token).await;
    // WHEN the callback URL is loaded three times at once
    let answers = join_all((0..3).map(|_| load(&kit, &g))).await;
    // THEN the code went to the cart once, every load shows the failure, and only the one that
    // exchanged emailed the merchant
    assert_eq!(kit.oauth.calls(), 1);
    let emailed: Vec<bool> = answers
        .iter()
        .map(|a| match a {
            Err(CallbackError::CartFailed { emailed, .. }) => *emailed,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(emailed.iter().filter(|e| **e).count(), 1, "{emailed:?}");
    assert_eq!(
        kit.mailer.messages().len(),
        2,
        "the invite and one failure email"
    );
    assert_eq!(connections(&kit).await, 0);
}

#[tokio::test]
async fn a_load_still_undecided_after_the_wait_says_almost_done_and_calls_nothing() {
    // GIVEN a grant whose attempt another instance has claimed and is still exchanging
    let kit = TestKit::new();
    let (_, token) = kit.invite().await;
    let g = kit.start(&token).await;
    let now = kit.services.clock.now();
    let until = claim_deadline(now, kit.services.config.http_timeout, 1);
    let state = GrantState::parse(&g.state).unwrap().hash();
    kit.store.claim_attempt(&state, now, until).await.unwrap();
    // WHEN this browser loads the callback and the other instance has not finished after the
    // wait
    let r = load(&kit, &g).await;
    // THEN it answers that the grant is being finished, and called no cart
    assert!(matches!(r, Err(CallbackError::InProgress)), "{r:?}");
    assert_eq!(kit.oauth.calls(), 0);
    // AND the grant page keeps waiting
    assert_eq!(
        kit.services.grant_progress(&token).await.unwrap(),
        GrantProgress::Waiting
    );
}

#[tokio::test]
async fn a_claim_whose_holder_died_reads_as_failed_and_a_fresh_attempt_completes() {
    // GIVEN a callback whose request dies while the cart is answering (the task is dropped)
    let kit = slow_kit(Duration::from_secs(60));
    let (id, token) = kit.invite().await;
    let g = kit.start(&token).await;
    let died = tokio::time::timeout(Duration::from_millis(100), load(&kit, &g)).await;
    assert!(died.is_err(), "the request was cut short");
    assert_eq!(kit.oauth.calls(), 1);
    let state = GrantState::parse(&g.state).unwrap().hash();
    let claimed = kit.store.attempt(&state).await.unwrap().unwrap();
    assert_eq!(claimed.status, AttemptStatus::Exchanging);
    // THEN until its claim lapses the grant page waits
    assert_eq!(
        kit.services.grant_progress(&token).await.unwrap(),
        GrantProgress::Waiting
    );
    // WHEN the claim deadline passes
    let until = claimed.claim_until.expect("a claim deadline");
    kit.clock.advance(until.0 - kit.services.clock.now().0);
    // THEN the grant page offers a retry, and a reload of the callback shows the failure
    // without calling the cart
    assert_eq!(
        kit.services.grant_progress(&token).await.unwrap(),
        GrantProgress::Failed
    );
    *kit.oauth.exchange_delay.lock().unwrap() = None;
    let reload = load(&kit, &g).await;
    assert!(
        matches!(
            reload,
            Err(CallbackError::CartFailed { emailed: false, .. })
        ),
        "{reload:?}"
    );
    assert_eq!(kit.oauth.calls(), 1);
    // AND a fresh attempt from the same link completes, with one connection
    let again = kit.start(&token).await;
    let done = load(&kit, &again).await.expect("the retry completes");
    assert_eq!(done.invite.id, id);
    assert_eq!(kit.oauth.calls(), 2);
    assert_eq!(connections(&kit).await, 1);
}

#[tokio::test]
async fn a_late_holder_cannot_commit_once_its_claim_has_lapsed() {
    // GIVEN a callback whose cart answers only after the claim deadline has passed
    let kit = slow_kit(Duration::from_millis(300));
    let (_, token) = kit.invite().await;
    let g = kit.start(&token).await;
    let lapse = claim_deadline(
        kit.services.clock.now(),
        kit.services.config.http_timeout,
        1,
    )
    .0 - kit.services.clock.now().0;
    let (r, ()) = tokio::join!(load(&kit, &g), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        kit.clock.advance(lapse);
    });
    // THEN nothing is stored: the attempt that read as failed stays failed
    assert!(r.is_err(), "{r:?}");
    assert_eq!(connections(&kit).await, 0);
    assert_eq!(
        kit.services.grant_progress(&token).await.unwrap(),
        GrantProgress::Failed
    );
}

/// A kit with WooCommerce enabled, its cart answering in 300 ms.
fn woo_kit() -> TestKit {
    let mut kit = slow_kit(Duration::from_millis(300));
    let mut woo = builtin::get("woocommerce").expect("woocommerce is built in");
    woo.credentials = Some(ClientCredentials::new("cartlink", None));
    kit.services.catalog.add(woo);
    kit
}

#[tokio::test]
async fn keys_posted_twice_at_once_are_checked_once_and_the_repeat_is_not_stored() {
    // GIVEN a WooCommerce grant started for a store
    let kit = woo_kit();
    let mut request = new_invite("woocommerce");
    request.store = Some("https://shop.example.com".into());
    let (id, token) = kit.invite_with(request).await;
    let started = kit.services.start_grant(&token).await.unwrap();
    let GrantNext::Redirect(url) = &started.next else {
        panic!("a key handshake starts with a redirect");
    };
    let nonce = url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "user_id")
        .unwrap()
        .1
        .into_owned();
    let body = serde_json::json!({
        "user_id": nonce, "consumer_key": "ck_canarykey", "consumer_secret": "cs_canarysecret",
        "key_permissions": "read_write"
    })
    .to_string();
    // WHEN the store posts the keys twice at once
    let (a, b) = tokio::join!(
        kit.services.receive_keys("woocommerce", body.as_bytes()),
        kit.services.receive_keys("woocommerce", body.as_bytes()),
    );
    // THEN the keys were checked against the store once, one post stored them, and the other
    // is told the store is connected already
    assert_eq!(kit.oauth.calls(), 1);
    let (stored, repeat) = if a.is_ok() { (a, b) } else { (b, a) };
    assert_eq!(stored.expect("stored").invite.id, id);
    assert!(
        matches!(repeat, Err(CallbackError::AlreadyConnected { .. })),
        "{repeat:?}"
    );
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_second_browsers_callback_after_the_first_connected_is_told_so_without_a_cart_call() {
    // GIVEN an invite with two grant attempts, the first of which has completed
    let kit = TestKit::new();
    let (_, token) = kit.invite().await;
    let first = kit.start(&token).await;
    let second = kit.start(&token).await;
    load(&kit, &first).await.expect("the first grant completes");
    // WHEN the second browser's callback arrives
    let r = load(&kit, &second).await;
    // THEN its claim, which checks the invite, is refused: it is told the store is connected,
    // the cart is not called again, and its attempt stays unclaimed
    assert!(
        matches!(r, Err(CallbackError::AlreadyConnected { .. })),
        "{r:?}"
    );
    assert_eq!(kit.oauth.calls(), 1);
    let state = GrantState::parse(&second.state).unwrap().hash();
    let attempt = kit.store.attempt(&state).await.unwrap().unwrap();
    assert_eq!(attempt.status, AttemptStatus::Open);
}
