use super::{CartAppError, NewCartApp};
use crate::domain::{CartId, WarehouseId};
use crate::service::setup::SetupError;
use crate::store::CartApps;
use crate::testing::{TestKit, ACME_ISS};

fn warehouse() -> WarehouseId {
    WarehouseId::parse("wh-test").unwrap()
}

fn their_app(secret: Option<&str>) -> NewCartApp {
    NewCartApp {
        client_id: "their-acme-app".into(),
        client_secret: secret.map(str::to_owned),
        app_id: None,
        ru_name: None,
        draft: false,
    }
}

/// A kit whose warehouse registered its own app at `acme`.
async fn kit_with_app() -> TestKit {
    let kit = TestKit::new();
    kit.services
        .put_cart_app(&warehouse(), "acme", their_app(Some("THEIR_SECRET")))
        .await
        .unwrap();
    kit
}

#[tokio::test]
async fn an_apps_secret_is_stored_sealed_never_in_plain_text() {
    // GIVEN a warehouse that registers its app at acme
    let kit = kit_with_app().await;
    // WHEN the stored record is read raw
    let stored = kit
        .store
        .cart_app(&warehouse(), &CartId::new("acme"))
        .await
        .unwrap()
        .unwrap();
    // THEN the secret is sealed: its plain text is nowhere in the record
    assert!(stored.secret.is_some());
    let raw = serde_json::to_string(&stored).unwrap();
    assert!(!raw.contains("THEIR_SECRET"), "{raw}");
}

#[tokio::test]
async fn a_cart_that_needs_a_secret_refuses_an_app_without_one() {
    // GIVEN acme, whose clients authenticate with a secret
    let kit = TestKit::new();
    // WHEN an app without a secret is registered
    let refused = kit
        .services
        .put_cart_app(&warehouse(), "acme", their_app(None))
        .await;
    // THEN it is refused, saying what is missing, and nothing is stored
    let Err(CartAppError::Invalid(reason)) = refused else {
        panic!("not refused as invalid");
    };
    assert!(reason.contains("client secret"), "{reason}");
    assert!(kit
        .services
        .cart_apps_of(&warehouse())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_refused_app_is_not_echoed_in_the_refusal() {
    // GIVEN a client id with a line break, and a secret
    let kit = TestKit::new();
    let mut app = their_app(Some("SECRET_CANARY"));
    app.client_id = "bad\nid".into();
    // WHEN it is registered
    let refused = kit.services.put_cart_app(&warehouse(), "acme", app).await;
    // THEN the refusal names the field but holds neither value
    let text = refused.expect_err("refused").to_string();
    assert!(text.contains("client_id"), "{text}");
    assert!(
        !text.contains("SECRET_CANARY") && !text.contains("bad\nid"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unknown_cart_takes_no_app() {
    // GIVEN the test kit
    let kit = TestKit::new();
    // WHEN an app is registered at a cart the catalog does not hold
    let refused = kit
        .services
        .put_cart_app(&warehouse(), "nowhere", their_app(Some("s")))
        .await;
    // THEN it is an unknown cart
    assert!(matches!(refused, Err(CartAppError::UnknownCart)));
}

#[tokio::test]
async fn an_invite_made_with_an_own_app_is_granted_through_it() {
    // GIVEN a warehouse with its own app at acme, and an invite made then
    let kit = kit_with_app().await;
    let (_, token) = kit.invite().await;
    // WHEN the merchant grants
    let g = kit.start(&token).await;
    kit.callback(
        "acme",
        &[("code", "C"), ("state", &g.state), ACME_ISS],
        Some(&g.binding),
    )
    .await
    .unwrap();
    // THEN the cart was sent the warehouse's client id, in the authorization and the exchange,
    // with the warehouse's secret
    assert!(g
        .authorize_url
        .query_pairs()
        .any(|(k, v)| k == "client_id" && v == "their-acme-app"));
    let seen = kit.oauth.seen.lock().unwrap();
    assert_eq!(seen[0].client_id, "their-acme-app");
    assert_eq!(seen[0].client_secret.as_deref(), Some("THEIR_SECRET"));
}

#[tokio::test]
async fn an_invite_made_before_the_app_goes_through_cartlinks() {
    // GIVEN an invite made while the warehouse had no app, then an app registered
    let kit = TestKit::new();
    let (_, token) = kit.invite().await;
    kit.services
        .put_cart_app(&warehouse(), "acme", their_app(Some("THEIR_SECRET")))
        .await
        .unwrap();
    // WHEN the merchant starts the grant
    let g = kit.start(&token).await;
    // THEN the authorization names cartlink's app, the one the invite was made with
    assert!(g
        .authorize_url
        .query_pairs()
        .any(|(k, v)| k == "client_id" && v == "acme-app"));
}

#[tokio::test]
async fn a_removed_app_leaves_its_invites_without_credentials() {
    // GIVEN an invite made through the warehouse's app, then the app removed
    let kit = kit_with_app().await;
    let (_, token) = kit.invite().await;
    kit.services
        .remove_cart_app(&warehouse(), "acme")
        .await
        .unwrap();
    // WHEN the merchant opens the link
    let opened = kit.services.open_link(&token).await;
    // THEN the cart is unavailable for it: it never falls back to cartlink's app
    assert!(matches!(opened, Err(SetupError::CartUnavailable)));
}

#[tokio::test]
async fn removing_an_app_twice_finds_none_the_second_time() {
    // GIVEN a registered app, removed once
    let kit = kit_with_app().await;
    kit.services
        .remove_cart_app(&warehouse(), "acme")
        .await
        .unwrap();
    // WHEN it is removed again
    let again = kit.services.remove_cart_app(&warehouse(), "acme").await;
    // THEN there is none
    assert!(matches!(again, Err(CartAppError::NotFound)));
}

#[tokio::test]
async fn twenty_registrations_at_once_leave_one_app_whose_secret_opens() {
    // GIVEN twenty registrations of the same warehouse's app at once
    let kit = TestKit::new();
    let wh = warehouse();
    let puts = (0..20).map(|_| {
        kit.services
            .put_cart_app(&wh, "acme", their_app(Some("THEIR_SECRET")))
    });
    let results = futures::future::join_all(puts).await;
    // THEN each succeeds, one app is stored, and a grant through it sends its secret
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        kit.services.cart_apps_of(&warehouse()).await.unwrap().len(),
        1
    );
    kit.authorized().await;
    let seen = kit.oauth.seen.lock().unwrap();
    assert_eq!(seen[0].client_secret.as_deref(), Some("THEIR_SECRET"));
}

#[tokio::test]
async fn an_overlong_secret_is_refused_by_name() {
    // GIVEN a secret one character over the limit
    let kit = TestKit::new();
    let long = "s".repeat(super::MAX_APP_SECRET_LEN + 1);
    // WHEN it is registered
    let refused = kit
        .services
        .put_cart_app(&warehouse(), "acme", their_app(Some(&long)))
        .await;
    // THEN the refusal names the field and its limit, and nothing is stored
    let Err(CartAppError::Invalid(reason)) = refused else {
        panic!("not refused as invalid");
    };
    assert!(
        reason.starts_with("client_secret must be at most"),
        "{reason}"
    );
    assert!(kit
        .services
        .cart_apps_of(&warehouse())
        .await
        .unwrap()
        .is_empty());
}
