//! Admin integrations (Magento) over the embedded store and vault, with the fake token endpoint.

use super::IdentityOutcome;
use crate::carts::{builtin, ClientCredentials};
use crate::domain::{AttemptStatus, GrantState, InviteId, InviteStatus, Secret, TokenSet};
use crate::service::callback::CallbackError;
use crate::service::setup::{GrantNext, GrantProgress, IntegrationSettings};
use crate::store::{AttemptStore, ConnectionStore, InviteStore};
use crate::testing::{
    new_invite, TestKit, FAKE_OAUTH1_ACCESS_TOKEN, FAKE_OAUTH1_TOKEN_SECRET, FAKE_REQUEST_TOKEN,
};

const STORE: &str = "https://shop.example.com";
const CK: &str = "k1234567890abcdefghijklmnopqrstu";
const CS: &str = "s1234567890abcdefghijklmnopqrstu";
const VERIFIER: &str = "v1234567890abcdefghijklmnopqrstu";

fn kit() -> TestKit {
    let mut kit = TestKit::new();
    let mut magento = builtin::get("magento").unwrap();
    magento.credentials = Some(ClientCredentials::new("cartlink", None));
    kit.services.catalog.add(magento);
    kit
}

struct Started {
    invite: InviteId,
    token: String,
    nonce: String,
    settings: IntegrationSettings,
}

async fn started(kit: &TestKit) -> Started {
    let mut request = new_invite("magento");
    request.store = Some(format!("{STORE}/"));
    let (invite, token) = kit.invite_with(request).await;
    let start = kit.services.start_grant(&token).await.expect("started");
    let GrantNext::AdminIntegration(settings) = start.next else {
        panic!("an admin integration shows settings");
    };
    let nonce = settings.callback_url.rsplit('/').next().unwrap().to_owned();
    Started {
        invite,
        token,
        nonce,
        settings,
    }
}

fn body(fields: &[(&str, &str)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
        .into_bytes()
}

fn good() -> Vec<(&'static str, &'static str)> {
    vec![
        ("oauth_consumer_key", CK),
        ("oauth_consumer_secret", CS),
        ("store_base_url", "https://shop.example.com/"),
        ("oauth_verifier", VERIFIER),
    ]
}

fn with(field: &str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    good()
        .into_iter()
        .map(|(k, v)| (k, if k == field { value } else { v }))
        .collect()
}

async fn deliver(
    kit: &TestKit,
    nonce: &str,
    fields: &[(&str, &str)],
) -> Result<super::Authorized, CallbackError> {
    kit.services
        .receive_integration("magento", nonce, &body(fields))
        .await
}

fn reason(r: Result<super::Authorized, CallbackError>) -> &'static str {
    match r {
        Err(CallbackError::Refused { reason }) => reason.as_str(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn assert_untouched(kit: &TestKit, s: &Started) {
    assert_eq!(kit.oauth.calls(), 0, "nothing was called");
    assert!(kit
        .store
        .connection_for_invite(&s.invite)
        .await
        .unwrap()
        .is_none());
    let attempt = kit
        .store
        .attempt(&GrantState::parse(&s.nonce).unwrap().hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        attempt.status,
        AttemptStatus::Open,
        "the attempt stays open"
    );
}

#[tokio::test]
async fn starting_shows_the_attempts_own_urls_and_gives_it_an_hour() {
    // GIVEN a Magento invite
    let kit = kit();
    // WHEN the merchant asks for the integration settings
    let s = started(&kit).await;
    // THEN the URLs carry the attempt's nonce under our public base
    assert_eq!(
        s.settings.callback_url,
        format!(
            "https://cartlink.test/oauth/integration/magento/{}",
            s.nonce
        )
    );
    assert_eq!(
        s.settings.identity_url,
        format!("https://cartlink.test/oauth/identity/magento/{}", s.nonce)
    );
    // AND the attempt lives an hour and stores no nonce in plain text
    let attempt = kit
        .store
        .attempt(&GrantState::parse(&s.nonce).unwrap().hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attempt.expires_at.0 - attempt.created_at.0, 3600);
    assert_eq!(s.settings.expires_at, attempt.expires_at);
    assert!(!attempt.redirect_uri.contains(&s.nonce));
    assert_eq!(attempt.store.as_deref(), Some(STORE));
    // AND the page now waits
    assert_eq!(
        kit.services.grant_progress(&s.token).await.unwrap(),
        GrantProgress::Waiting
    );
}

#[tokio::test]
async fn a_good_delivery_fetches_the_tokens_from_the_store_and_seals_all_four_values() {
    // GIVEN a started integration
    let kit = kit();
    let s = started(&kit).await;
    // WHEN the store posts the credentials
    let done = deliver(&kit, &s.nonce, &good()).await.expect("connected");
    // THEN the request token, then the access token were asked of the invite's store
    let seen = kit.oauth.oauth1_seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].url, format!("{STORE}/oauth/token/request"));
    assert_eq!(
        (
            seen[0].consumer_key.as_str(),
            &seen[0].token,
            &seen[0].verifier
        ),
        (CK, &None, &None)
    );
    assert_eq!(seen[1].url, format!("{STORE}/oauth/token/access"));
    assert_eq!(seen[1].token.as_deref(), Some(FAKE_REQUEST_TOKEN));
    assert_eq!(seen[1].verifier.as_deref(), Some(VERIFIER));
    // AND the sealed connection opens to the access token, its secret and the consumer pair
    let conn = kit
        .store
        .connection_for_invite(&s.invite)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conn.id, done.connection.id);
    assert_eq!(conn.account.as_deref(), Some(STORE));
    assert_eq!(conn.token_expires_at, None);
    let plain = kit
        .services
        .vault
        .open(&conn.context(), &conn.tokens)
        .await
        .unwrap();
    let tokens = TokenSet::from_plaintext(&plain).unwrap();
    assert_eq!(tokens.access_token.expose(), FAKE_OAUTH1_ACCESS_TOKEN);
    assert_eq!(
        tokens.key_secret.as_ref().map(Secret::expose),
        Some(FAKE_OAUTH1_TOKEN_SECRET)
    );
    assert_eq!(tokens.consumer_key.as_ref().map(Secret::expose), Some(CK));
    assert_eq!(
        tokens.consumer_secret.as_ref().map(Secret::expose),
        Some(CS)
    );
    // AND the invite is authorized, the page says so, and the event went out
    assert_eq!(done.invite.status, InviteStatus::Authorized);
    assert_eq!(
        kit.services.grant_progress(&s.token).await.unwrap(),
        GrantProgress::Authorized
    );
    assert_eq!(kit.events.0.lock().unwrap().len(), 1);
    // AND no secret is in the database file in plain text
    let db = std::fs::read(kit.dir.path().join("cartlink.db")).unwrap();
    let db = String::from_utf8_lossy(&db);
    for secret in [CK, CS, VERIFIER, FAKE_OAUTH1_ACCESS_TOKEN, &s.nonce] {
        assert!(!db.contains(secret), "{secret} stored in plain text");
    }
}

#[tokio::test]
async fn unknown_and_malformed_nonces_are_refused_without_a_call() {
    // GIVEN a started integration
    let kit = kit();
    let s = started(&kit).await;
    // WHEN credentials arrive for a nonce nobody issued, or one of the wrong shape
    let other = GrantState::generate();
    // THEN each is refused and nothing is called
    assert_eq!(
        reason(deliver(&kit, other.expose(), &good()).await),
        "nonce_unknown"
    );
    assert_eq!(
        reason(deliver(&kit, "not-a-nonce", &good()).await),
        "nonce_unknown"
    );
    assert_untouched(&kit, &s).await;
}

#[tokio::test]
async fn a_nonce_on_another_carts_path_is_refused() {
    // GIVEN a started Magento integration
    let kit = kit();
    let s = started(&kit).await;
    // WHEN its credentials are posted to a cart that takes no integrations, or none at all
    for cart in ["acme", "woocommerce", "no-such-cart", "Bad/Cart"] {
        let r = kit
            .services
            .receive_integration(cart, &s.nonce, &body(&good()))
            .await;
        // THEN they are refused
        assert_eq!(reason(r), "unknown_cart", "{cart}");
    }
    assert_untouched(&kit, &s).await;
}

#[tokio::test]
async fn a_reused_nonce_is_refused_without_another_call() {
    // GIVEN an integration already delivered
    let kit = kit();
    let s = started(&kit).await;
    deliver(&kit, &s.nonce, &good()).await.expect("connected");
    assert_eq!(kit.oauth.calls(), 2);
    // WHEN the same nonce is posted again
    let again = deliver(&kit, &s.nonce, &good()).await;
    // THEN it is "already connected" and nothing is called
    assert!(
        matches!(again, Err(CallbackError::AlreadyConnected { .. })),
        "{again:?}"
    );
    assert_eq!(kit.oauth.calls(), 2);
}

#[tokio::test]
async fn an_activation_posted_twice_at_once_calls_the_store_once() {
    // GIVEN a started integration and a store that takes 300 ms to answer each token call
    let kit = kit();
    *kit.oauth.exchange_delay.lock().unwrap() = Some(std::time::Duration::from_millis(300));
    let s = started(&kit).await;
    // WHEN the activation is posted twice at once
    let fields = good();
    let (a, b) = tokio::join!(
        deliver(&kit, &s.nonce, &fields),
        deliver(&kit, &s.nonce, &fields)
    );
    // THEN the store's token endpoints were called once each (request token, access token),
    // one post stored the connection and the other is told it is connected already
    assert_eq!(kit.oauth.calls(), 2);
    let (stored, repeat) = if a.is_ok() { (a, b) } else { (b, a) };
    assert_eq!(stored.expect("stored").invite.id, s.invite);
    assert!(
        matches!(repeat, Err(CallbackError::AlreadyConnected { .. })),
        "{repeat:?}"
    );
}

#[tokio::test]
async fn missing_or_misshaped_fields_are_refused_and_the_attempt_stays_open() {
    // GIVEN a started integration
    let kit = kit();
    let s = started(&kit).await;
    // WHEN a field is missing or empty
    for missing in [
        "oauth_consumer_key",
        "oauth_consumer_secret",
        "oauth_verifier",
        "store_base_url",
    ] {
        let without: Vec<_> = good().into_iter().filter(|(k, _)| *k != missing).collect();
        // THEN the delivery is refused
        assert_eq!(
            reason(deliver(&kit, &s.nonce, &without).await),
            "integration_incomplete",
            "{missing}"
        );
        assert_eq!(
            reason(deliver(&kit, &s.nonce, &with(missing, "")).await),
            "integration_incomplete",
            "{missing} empty"
        );
    }
    // WHEN a credential is not shaped like Magento's
    for (field, bad) in [
        ("oauth_consumer_key", "K1234567890ABCDEFGHIJKLMNOPQRSTU"),
        ("oauth_consumer_secret", "s1234567890abcdefghijklmnopqrst"),
        ("oauth_verifier", "v1234567890abcdefghijklmnopqrstuv"),
        ("oauth_verifier", "v1234567890abcdefghijklmnopqrs&x"),
    ] {
        // THEN it is refused
        assert_eq!(
            reason(deliver(&kit, &s.nonce, &with(field, bad)).await),
            "integration_malformed",
            "{field}={bad}"
        );
    }
    // WHEN a field comes twice
    let mut doubled = good();
    doubled.push(("oauth_consumer_key", "k0000000000000000000000000000000"));
    assert_eq!(
        reason(deliver(&kit, &s.nonce, &doubled).await),
        "integration_malformed"
    );
    // THEN nothing was called and the merchant may still activate with good values
    assert_untouched(&kit, &s).await;
    deliver(&kit, &s.nonce, &good()).await.expect("connected");
}

#[tokio::test]
async fn a_store_base_url_other_than_the_invites_is_refused() {
    // GIVEN a started integration for https://shop.example.com
    let kit = kit();
    let s = started(&kit).await;
    // WHEN the posted base URL is another store, a private or loopback host, or not https
    for other in [
        "https://evil.example.net/",
        "https://shop.example.com.evil.net/",
        "https://shop.example.com/other/",
        "https://shop.example.com:8443/",
        "http://shop.example.com/",
        "https://127.0.0.1/",
        "https://localhost/",
        "https://10.0.0.8/",
        "https://[::1]/",
        "https://user:pw@shop.example.com/",
        "https://shop.example.com/?x=1",
        "shop.example.com",
    ] {
        // THEN it is refused before any call
        assert_eq!(
            reason(deliver(&kit, &s.nonce, &with("store_base_url", other)).await),
            "store_mismatch",
            "{other}"
        );
    }
    assert_untouched(&kit, &s).await;
    // AND the same store written differently is accepted
    deliver(
        &kit,
        &s.nonce,
        &with("store_base_url", "https://SHOP.Example.com"),
    )
    .await
    .expect("connected");
}

#[tokio::test]
async fn the_attempt_lasts_an_hour_and_the_invite_its_own_life() {
    // GIVEN a started integration
    let kit = kit();
    let s = started(&kit).await;
    // WHEN the store posts after more than an hour
    kit.clock.advance(3600);
    // THEN the nonce is refused
    assert_eq!(
        reason(deliver(&kit, &s.nonce, &good()).await),
        "nonce_expired"
    );
    assert_untouched(&kit, &s).await;
    // AND once the invite itself expired, delivery says so
    kit.clock.advance(15 * 86_400);
    assert!(matches!(
        deliver(&kit, &s.nonce, &good()).await,
        Err(CallbackError::Expired)
    ));
    assert_eq!(kit.oauth.calls(), 0);
}

#[tokio::test]
async fn an_attempt_still_within_its_hour_is_taken() {
    let kit = kit();
    let s = started(&kit).await;
    kit.clock.advance(3599);
    deliver(&kit, &s.nonce, &good()).await.expect("connected");
}

#[tokio::test]
async fn a_store_that_refuses_the_token_calls_fails_the_attempt_and_the_merchant_is_emailed() {
    // GIVEN a started integration and a store that refuses our signature
    let kit = kit();
    let s = started(&kit).await;
    *kit.oauth.refuse.lock().unwrap() = Some("oauth1_refused_http_401".into());
    // WHEN the store posts the credentials
    let r = deliver(&kit, &s.nonce, &good()).await;
    // THEN no connection, the attempt is failed, and the merchant has a link to try again
    let Err(CallbackError::CartFailed {
        retry_url, emailed, ..
    }) = r
    else {
        panic!("expected a failure, got {r:?}");
    };
    assert!(emailed);
    let retry = retry_url.expect("a retry link");
    assert!(retry.starts_with("https://cartlink.test/setup/"));
    assert!(kit
        .store
        .connection_for_invite(&s.invite)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        kit.services.grant_progress(&s.token).await.unwrap(),
        GrantProgress::Failed
    );
    let mails = kit.mailer.messages();
    assert!(mails.last().unwrap().text.contains(&retry));
    // AND the nonce is spent: a second post is refused without a call
    let calls = kit.oauth.calls();
    assert_eq!(reason(deliver(&kit, &s.nonce, &good()).await), "nonce_used");
    assert_eq!(kit.oauth.calls(), calls);
    // AND the identity link says it failed
    assert!(matches!(
        kit.services
            .integration_identity("magento", &s.nonce, None)
            .await
            .unwrap(),
        IdentityOutcome::Failed
    ));
}

#[tokio::test]
async fn the_identity_link_reports_and_redirects_only_to_the_invites_store() {
    // GIVEN a started integration
    let kit = kit();
    let s = started(&kit).await;
    let identity = |cb: Option<&'static str>| {
        let svc = &kit.services;
        let nonce = s.nonce.clone();
        async move { svc.integration_identity("magento", &nonce, cb).await }
    };
    // WHEN the identity link opens before the credentials arrive THEN it is pending
    assert!(matches!(
        identity(Some("https://shop.example.com/admin/cb"))
            .await
            .unwrap(),
        IdentityOutcome::Pending
    ));
    // WHEN it opens after the connection is stored
    deliver(&kit, &s.nonce, &good()).await.expect("connected");
    // THEN it is connected, and success_call_back is kept only on the store's host over https
    for (cb, kept) in [
        (
            Some("https://shop.example.com/admin/admin/integration/tokensExchange/"),
            true,
        ),
        (Some("https://evil.example.net/admin"), false),
        (Some("https://shop.example.com.evil.net/"), false),
        (Some("http://shop.example.com/admin"), false),
        (Some("https://user@shop.example.com/admin"), false),
        (Some("javascript:alert(1)"), false),
        (Some("//evil.example.net/x"), false),
        (None, false),
    ] {
        let IdentityOutcome::Connected {
            success_call_back, ..
        } = identity(cb).await.unwrap()
        else {
            panic!("connected");
        };
        assert_eq!(success_call_back.is_some(), kept, "{cb:?}");
        if kept {
            assert_eq!(success_call_back.as_deref(), cb);
        }
    }
    // AND an unknown nonce or another cart is refused
    let other = GrantState::generate();
    assert!(matches!(
        kit.services
            .integration_identity("magento", other.expose(), None)
            .await,
        Err(CallbackError::Refused { .. })
    ));
    assert!(matches!(
        kit.services
            .integration_identity("acme", &s.nonce, None)
            .await,
        Err(CallbackError::Refused { .. })
    ));
    // AND reading it called nothing more
    assert_eq!(kit.oauth.calls(), 2);
}

#[tokio::test]
async fn a_withdrawn_invite_takes_no_delivery() {
    // GIVEN a started integration whose invite the warehouse then withdrew
    let kit = kit();
    let s = started(&kit).await;
    kit.store
        .set_invite_status(&s.invite, InviteStatus::Revoked, None, crate::testing::T0)
        .await
        .unwrap();
    // WHEN the store posts the credentials
    // THEN they are refused before any call
    assert_eq!(
        reason(deliver(&kit, &s.nonce, &good()).await),
        "invite_not_granting"
    );
    assert_untouched(&kit, &s).await;
}
