use std::collections::HashMap;
use std::sync::atomic::Ordering;

use futures::future::join_all;

use super::*;
use crate::domain::InviteStatus;
use crate::store::{AttemptStore, ConnectionStore, InviteStore};
use crate::testing::{new_invite, typed_cart, TestKit};

const KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// A kit whose catalog holds the `keyshop` credentials cart, and an invite for it.
async fn invited() -> (TestKit, crate::domain::InviteId, String) {
    let mut kit = TestKit::new();
    kit.services.catalog.add(typed_cart());
    let (id, token) = kit.invite_with(new_invite("keyshop")).await;
    (kit, id, token)
}

fn typed(key: &str) -> HashMap<String, String> {
    HashMap::from([("key".to_owned(), key.to_owned())])
}

#[tokio::test]
async fn working_credentials_are_checked_once_then_sealed_and_connected() {
    // GIVEN an invite for a credentials cart
    let (kit, id, token) = invited().await;
    // WHEN the merchant types a key the store accepts
    let done = kit
        .services
        .connect_with_credentials(&token, &typed(&format!(" {KEY} ")))
        .await
        .unwrap();
    // THEN the store was asked once, and the invite is connected
    assert_eq!(kit.oauth.calls.load(Ordering::SeqCst), 1);
    assert_eq!(done.invite.status, InviteStatus::Authorized);
    // AND the stored connection opens to the key as typed (trimmed), sealed
    let stored = kit.store.connection_for_invite(&id).await.unwrap().unwrap();
    let open = kit.services.open_connection(&stored.id).await.unwrap();
    assert_eq!(open.tokens.access_token.expose(), KEY);
}

#[tokio::test]
async fn a_key_of_the_wrong_shape_is_refused_before_anything_is_written_or_called() {
    // GIVEN an invite for a credentials cart
    let (kit, id, token) = invited().await;
    for bad in ["", "short", &format!("{KEY}X"), &KEY.to_lowercase()] {
        // WHEN a key of the wrong shape is typed
        let refused = kit
            .services
            .connect_with_credentials(&token, &typed(bad))
            .await;
        // THEN it is refused naming the field, and neither the store nor the cart was touched
        assert!(
            matches!(&refused, Err(CredentialsError::Malformed { field }) if field == "Webservice key"),
            "{bad:?}: {refused:?}"
        );
    }
    assert_eq!(kit.oauth.calls.load(Ordering::SeqCst), 0);
    assert!(kit.store.latest_attempt(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn credentials_the_store_refuses_store_nothing_and_the_merchant_can_try_again() {
    // GIVEN an invite, and a store that refuses the key
    let (kit, id, token) = invited().await;
    *kit.oauth.refuse.lock().unwrap() = Some("keys_refused_http_401".into());
    // WHEN it is typed
    let refused = kit
        .services
        .connect_with_credentials(&token, &typed(KEY))
        .await;
    // THEN it is refused, nothing is connected, and the link still opens the grant page
    assert!(
        matches!(refused, Err(CredentialsError::Refused)),
        "{refused:?}"
    );
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_none());
    let invite = kit.store.invite(&id).await.unwrap().unwrap();
    assert!(!invite.status.is_connected(), "{:?}", invite.status);
    kit.services.open_link(&token).await.unwrap();
    // AND the right key typed next connects
    *kit.oauth.refuse.lock().unwrap() = None;
    kit.services
        .connect_with_credentials(&token, &typed(KEY))
        .await
        .unwrap();
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn twenty_submits_at_once_make_one_connection() {
    // GIVEN an invite for a credentials cart
    let (kit, id, token) = invited().await;
    // WHEN the form is submitted 20 times at once
    let fields = typed(KEY);
    let answers =
        join_all((0..20).map(|_| kit.services.connect_with_credentials(&token, &fields))).await;
    // THEN one connects, the others are told it is connected (or was being connected)
    assert_eq!(
        answers.iter().filter(|a| a.is_ok()).count(),
        1,
        "{answers:?}"
    );
    for a in answers.iter().filter_map(|a| a.as_ref().err()) {
        assert!(
            matches!(
                a,
                CredentialsError::Commit(CallbackError::AlreadyConnected { .. })
                    | CredentialsError::Setup(SetupError::AlreadyConnected { .. })
                    | CredentialsError::Commit(CallbackError::InProgress)
            ),
            "{a:?}"
        );
    }
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_popup_carts_link_takes_no_typed_credentials() {
    // GIVEN an invite for an OAuth cart
    let kit = TestKit::new();
    let (_, token) = kit.invite_with(new_invite("acme")).await;
    // WHEN credentials are posted for it
    let refused = kit
        .services
        .connect_with_credentials(&token, &typed(KEY))
        .await;
    // THEN they are refused, and no call is made
    assert!(
        matches!(
            refused,
            Err(CredentialsError::Setup(SetupError::CartUnavailable))
        ),
        "{refused:?}"
    );
    assert_eq!(kit.oauth.calls.load(Ordering::SeqCst), 0);
}
