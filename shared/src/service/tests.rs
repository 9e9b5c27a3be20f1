//! The services' rules, over the embedded store and vault with fake mail and token endpoint.

use std::collections::HashMap;

use super::callback::CallbackError;
use super::invites::{InviteError, NewInvite};
use super::setup::{GrantProgress, SetupError, CODE_GUESSES_PER_CLIENT};
use crate::domain::{
    AccessCode, BrowserBinding, Connection, GrantState, InviteStatus, PkceVerifier, Refusal,
    TokenSet,
};
use crate::store::{AttemptStore, ConnectionStore, InviteStore};
use crate::testing::{new_invite, StartedGrant, TestKit, ACME_ISS, TEST_API_KEY};

async fn invite(kit: &TestKit) -> (String, String) {
    let (id, token) = kit.invite().await;
    (id.to_string(), token)
}

async fn start(kit: &TestKit, token: &str) -> StartedGrant {
    kit.start(token).await
}

async fn callback(
    kit: &TestKit,
    cart: &str,
    params: &[(&str, &str)],
    cookie: Option<&str>,
) -> Result<super::callback::Authorized, CallbackError> {
    kit.callback(cart, params, cookie).await
}

const ISS: (&str, &str) = ACME_ISS;

#[tokio::test]
async fn an_invite_is_stored_without_its_secrets_and_emailed() {
    // GIVEN a warehouse
    let kit = TestKit::new();
    // WHEN it creates an invite
    let (id, token) = invite(&kit).await;
    // THEN the invite is emailed to the merchant (domain lower-cased) with link and code
    let stored = kit
        .store
        .invite(&crate::domain::InviteId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, InviteStatus::Emailed);
    assert_eq!(stored.merchant_email, "Merchant@shop.test");
    assert_eq!(stored.warehouse.id.as_str(), "wh-test");
    let mail = &kit.mailer.messages()[0];
    assert_eq!(mail.to, "Merchant@shop.test");
    assert!(mail
        .text
        .contains(&format!("https://cartlink.test/setup/{token}")));
    // AND the database file holds neither the token nor the access code
    let db = std::fs::read(kit.dir.path().join("cartlink.db")).unwrap();
    let db = String::from_utf8_lossy(&db);
    assert!(!db.contains(&token));
    assert!(!db.contains(&kit.access_code().replace('-', "")));
    // AND the invite expires in 14 days by default
    assert_eq!(stored.expires_at.0 - stored.created_at.0, 14 * 24 * 3600);
}

#[tokio::test]
async fn bad_invite_requests_are_refused_and_nothing_is_stored_or_sent() {
    let kit = TestKit::new();
    let wh = kit
        .services
        .warehouses
        .authenticate(TEST_API_KEY)
        .unwrap()
        .clone();
    let cases: Vec<(NewInvite, &str)> = vec![
        (
            NewInvite {
                merchant_email: "a@b.com, c@d.com".into(),
                ..new_invite("acme")
            },
            "merchant_email",
        ),
        (
            NewInvite {
                merchant_name: Some("A\r\nBcc: x@evil.test".into()),
                ..new_invite("acme")
            },
            "merchant_name",
        ),
        (
            NewInvite {
                merchant_name: Some("x".repeat(101)),
                ..new_invite("acme")
            },
            "merchant_name",
        ),
        (
            NewInvite {
                functions: Some(vec![]),
                ..new_invite("acme")
            },
            "functions",
        ),
        (
            NewInvite {
                functions: Some(vec![crate::domain::Function::Shipments]),
                ..new_invite("acme")
            },
            "functions",
        ),
        (
            NewInvite {
                expires_in_hours: Some(0),
                ..new_invite("acme")
            },
            "expires_in_hours",
        ),
        (
            NewInvite {
                expires_in_hours: Some(721),
                ..new_invite("acme")
            },
            "expires_in_hours",
        ),
        (
            NewInvite {
                locale: Some("pt-BR".into()),
                ..new_invite("acme")
            },
            "locale",
        ),
    ];
    for (req, field) in cases {
        match kit.services.create_invite(&wh, req).await {
            Err(InviteError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(matches!(
        kit.services.create_invite(&wh, new_invite("nope")).await,
        Err(InviteError::UnknownCart)
    ));
    assert!(matches!(
        kit.services.create_invite(&wh, new_invite("Bad Id")).await,
        Err(InviteError::UnknownCart)
    ));
    assert!(kit.mailer.messages().is_empty());
    let db = rusqlite::Connection::open(kit.dir.path().join("cartlink.db")).unwrap();
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM invites", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_failed_invite_email_keeps_the_invite_marked_not_emailed() {
    // GIVEN a mail service that rejects
    let kit = TestKit::new();
    *kit.mailer.reject.lock().unwrap() = Some("sender not verified".into());
    // WHEN an invite is created
    let wh = kit
        .services
        .warehouses
        .authenticate(TEST_API_KEY)
        .unwrap()
        .clone();
    let created = kit
        .services
        .create_invite(&wh, new_invite("acme"))
        .await
        .unwrap();
    // THEN it is stored as email_failed with a stable reason code (never the mail service's
    // own words, which may say anything), and the answer says so
    assert_eq!(created.invite.status, InviteStatus::EmailFailed);
    let stored = kit.store.invite(&created.invite.id).await.unwrap().unwrap();
    assert_eq!(stored.status, InviteStatus::EmailFailed);
    assert_eq!(stored.status_reason.as_deref(), Some("mail_rejected"));
    // AND the link still works (the warehouse may hand it over itself)
    let token = created.setup_url.rsplit('/').next().unwrap();
    assert!(kit.services.open_link(token).await.is_ok());
}

#[tokio::test]
async fn unknown_and_malformed_links_are_invalid_and_a_known_expired_one_says_when() {
    let kit = TestKit::new();
    let (_, token) = invite(&kit).await;
    assert!(kit.services.open_link(&token).await.is_ok());
    // GIVEN links nobody issued
    let unknown = BrowserBinding::generate();
    for bad in ["", "short", unknown.expose()] {
        // THEN each is just invalid, and its status too
        assert!(matches!(
            kit.services.open_link(bad).await,
            Err(SetupError::InvalidLink)
        ));
        assert_eq!(
            kit.services.grant_progress(bad).await.unwrap(),
            GrantProgress::Invalid
        );
    }
    // GIVEN the real link once its 14 days are over
    kit.clock.advance(14 * 24 * 3600);
    // THEN it is expired, with the date and the warehouse to ask
    match kit.services.open_link(&token).await {
        Err(SetupError::Expired {
            warehouse,
            expired_at,
            ..
        }) => {
            assert_eq!(warehouse, "Test Warehouse");
            assert_eq!(expired_at, crate::testing::T0.plus_secs(14 * 24 * 3600));
        }
        other => panic!("{:?}", other.err()),
    }
    assert!(matches!(
        kit.services.start_grant(&token).await,
        Err(SetupError::Expired { .. })
    ));
    assert_eq!(
        kit.services.grant_progress(&token).await.unwrap(),
        GrantProgress::Expired
    );
}

#[tokio::test]
async fn a_withdrawn_invite_says_so_and_starts_nothing() {
    // GIVEN an invite the warehouse withdrew
    let kit = TestKit::new();
    let (id, token) = kit.invite().await;
    kit.store
        .set_invite_status(&id, InviteStatus::Revoked, None, crate::testing::T0)
        .await
        .unwrap();
    // THEN its link, its grant and its status all say withdrawn, even once it also expired
    kit.clock.advance(15 * 24 * 3600);
    assert!(matches!(
        kit.services.open_link(&token).await,
        Err(SetupError::Revoked { warehouse, .. }) if warehouse == "Test Warehouse"
    ));
    assert!(matches!(
        kit.services.start_grant(&token).await,
        Err(SetupError::Revoked { .. })
    ));
    assert_eq!(
        kit.services.grant_progress(&token).await.unwrap(),
        GrantProgress::Revoked
    );
    assert!(kit.store.latest_attempt(&id).await.unwrap().is_none());
    // AND its access code is just a code that does not work (codes are short: no oracle)
    assert!(matches!(
        kit.services
            .redeem_access_code(&kit.access_code(), None)
            .await,
        Err(SetupError::InvalidLink)
    ));
}

#[tokio::test]
async fn a_grant_started_from_a_page_opened_before_the_invite_was_withdrawn_says_withdrawn() {
    // GIVEN a grant page read while the invite was open, and the invite withdrawn afterwards
    let kit = TestKit::new();
    let (id, token) = kit.invite().await;
    let view = kit.services.open_link(&token).await.unwrap();
    kit.store
        .set_invite_status(&id, InviteStatus::Revoked, None, crate::testing::T0)
        .await
        .unwrap();
    drop(view);
    // WHEN the grant is started, THEN the conditional write refuses and the page says why
    assert!(matches!(
        kit.services.start_grant(&token).await,
        Err(SetupError::Revoked { .. })
    ));
}

#[tokio::test]
async fn starting_a_grant_sends_a_fresh_state_and_s256_challenge() {
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    // WHEN two grants are started
    let a = start(&kit, &token).await;
    let b = start(&kit, &token).await;
    // THEN each has its own state, never the link token or its hash
    assert_ne!(a.state, b.state);
    assert_ne!(a.state, token);
    assert_ne!(a.state, crate::domain::TokenHash::of(&token).as_str());
    // AND the challenge is S256 of the verifier the callback will derive
    let q: HashMap<_, _> = a.authorize_url.query_pairs().into_owned().collect();
    let verifier = PkceVerifier::derive(
        &BrowserBinding::parse(&a.binding).unwrap(),
        &GrantState::parse(&a.state).unwrap(),
    );
    assert_eq!(q["code_challenge"], verifier.challenge());
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["redirect_uri"],
        "https://cartlink.test/oauth/callback/acme"
    );
    assert_eq!(q["scope"], "orders:read inventory:write");
    // AND the invite is granting
    let stored = kit
        .store
        .invite(&crate::domain::InviteId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, InviteStatus::Granting);
    assert_eq!(
        kit.services.grant_progress(&token).await.unwrap(),
        GrantProgress::Waiting
    );
}

#[tokio::test]
async fn a_good_callback_seals_the_tokens_and_authorizes_once() {
    // GIVEN a started grant
    let kit = TestKit::new();
    let (_, token) = invite(&kit).await;
    let s = start(&kit, &token).await;
    // WHEN the cart calls back in the same browser
    let done = callback(
        &kit,
        "acme",
        &[("code", "C1"), ("state", &s.state), ISS],
        Some(&s.binding),
    )
    .await
    .unwrap();
    // THEN the code was exchanged once with the derived verifier and the same redirect URI
    assert_eq!(kit.oauth.calls(), 1);
    let seen = kit.oauth.seen.lock().unwrap()[0].clone();
    assert_eq!(
        seen.redirect_uri,
        "https://cartlink.test/oauth/callback/acme"
    );
    let q: HashMap<_, _> = s.authorize_url.query_pairs().into_owned().collect();
    assert_eq!(
        PkceVerifier::derive(
            &BrowserBinding::parse(&s.binding).unwrap(),
            &GrantState::parse(&s.state).unwrap()
        )
        .challenge(),
        q["code_challenge"]
    );
    assert!(seen.verifier.is_some());
    // AND the connection is stored sealed, opening to the issued tokens under its own context only
    let conn = kit
        .store
        .connection_for_invite(&done.invite.id)
        .await
        .unwrap()
        .unwrap();
    let plain = kit
        .services
        .vault
        .open(&conn.context(), &conn.tokens)
        .await
        .unwrap();
    assert_eq!(
        TokenSet::from_plaintext(&plain)
            .unwrap()
            .access_token
            .expose(),
        "CANARY_AT_C1"
    );
    let other = Connection::seal_context(
        &conn.warehouse_id,
        &crate::domain::ConnectionId::generate(),
        &conn.cart,
    );
    assert!(kit.services.vault.open(&other, &conn.tokens).await.is_err());
    let db = String::from_utf8_lossy(&std::fs::read(kit.dir.path().join("cartlink.db")).unwrap())
        .into_owned();
    assert!(!db.contains("CANARY_AT") && !db.contains("CANARY_RT"));
    // AND the invite is authorized and the event published once
    assert_eq!(
        kit.store
            .invite(&done.invite.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        InviteStatus::Authorized
    );
    assert_eq!(kit.events.0.lock().unwrap().len(), 1);
    assert_eq!(
        kit.services.grant_progress(&token).await.unwrap(),
        GrantProgress::Authorized
    );
    // AND a replay of the same callback (a reload) changes nothing and answers this attempt's
    // outcome: the same connection
    let replay = callback(
        &kit,
        "acme",
        &[("code", "C1"), ("state", &s.state), ISS],
        Some(&s.binding),
    )
    .await
    .unwrap();
    assert_eq!(replay.connection.id, conn.id);
    assert!(replay.finish_url.is_none());
    assert_eq!(kit.oauth.calls(), 1);
    assert_eq!(kit.events.0.lock().unwrap().len(), 1);
    // AND the link no longer opens a grant page: it says the store is connected, and when
    match kit.services.open_link(&token).await {
        Err(SetupError::AlreadyConnected {
            warehouse,
            cart,
            connected_at,
            ..
        }) => {
            assert_eq!(warehouse, "Test Warehouse");
            assert_eq!(cart, "Acme Cart");
            assert_eq!(connected_at, conn.created_at);
        }
        other => panic!("{:?}", other.err()),
    }
    assert!(matches!(
        kit.services.start_grant(&token).await,
        Err(SetupError::AlreadyConnected { .. })
    ));
}

async fn assert_nothing_happened(kit: &TestKit, invite_id: &str) {
    assert_eq!(
        kit.oauth.calls(),
        0,
        "the token endpoint must not be called"
    );
    let id = crate::domain::InviteId::parse(invite_id).unwrap();
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_none());
    assert!(kit.events.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn callbacks_that_do_not_belong_to_this_browser_and_grant_are_refused_before_any_exchange() {
    let kit = TestKit::new();
    let (id_a, token_a) = invite(&kit).await;
    let (_, token_b) = invite(&kit).await;
    let a = start(&kit, &token_a).await;
    let b = start(&kit, &token_b).await;
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "acme",
            vec![("code", "C"), ("state", &b.state), ISS],
            Some(&a.binding),
            "browser_mismatch",
        ),
        (
            "acme",
            vec![("code", "C"), ("state", &a.state), ISS],
            None,
            "browser_mismatch",
        ),
        (
            "acme",
            vec![("code", "C"), ("state", &a.state), ISS],
            Some(&b.binding),
            "browser_mismatch",
        ),
        (
            "acme",
            vec![("code", "C"), ISS],
            Some(&a.binding),
            "state_missing",
        ),
        (
            "acme",
            vec![("code", "C"), ("state", &token_a), ISS],
            Some(&a.binding),
            "state_unknown",
        ),
        (
            "other",
            vec![("code", "C"), ("state", &a.state), ISS],
            Some(&a.binding),
            "unknown_cart",
        ),
        (
            "acme",
            vec![("code", "C"), ("state", &a.state)],
            Some(&a.binding),
            "issuer_mismatch",
        ),
        (
            "acme",
            vec![
                ("code", "C"),
                ("state", &a.state),
                ("iss", "https://auth.acme.test/"),
            ],
            Some(&a.binding),
            "issuer_mismatch",
        ),
        (
            "acme",
            vec![("state", &a.state), ISS],
            Some(&a.binding),
            "code_missing",
        ),
    ];
    for (cart, params, cookie, reason) in cases {
        match callback(&kit, cart, &params, cookie).await {
            Err(CallbackError::Refused { reason: r }) => assert_eq!(r.as_str(), reason),
            other => panic!("{reason}: {other:?}"),
        }
    }
    assert_nothing_happened(&kit, &id_a).await;
    // AND the real attempt still completes afterwards
    assert!(callback(
        &kit,
        "acme",
        &[("code", "C"), ("state", &a.state), ISS],
        Some(&a.binding)
    )
    .await
    .is_ok());
}

#[tokio::test]
async fn an_invite_that_expires_during_the_grant_is_not_connected() {
    let kit = TestKit::new();
    let (invite_id, token) = kit
        .invite_with(NewInvite {
            expires_in_hours: Some(1),
            ..new_invite("acme")
        })
        .await;
    kit.clock.advance(3600 - 60);
    let s = start(&kit, &token).await;
    kit.clock.advance(60);
    let r = callback(
        &kit,
        "acme",
        &[("code", "C"), ("state", &s.state), ISS],
        Some(&s.binding),
    )
    .await;
    assert!(matches!(r, Err(CallbackError::Expired)), "{r:?}");
    assert_nothing_happened(&kit, invite_id.as_str()).await;
}

#[tokio::test]
async fn an_attempt_older_than_fifteen_minutes_is_refused() {
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    let s = start(&kit, &token).await;
    kit.clock.advance(15 * 60);
    let r = callback(
        &kit,
        "acme",
        &[("code", "C"), ("state", &s.state), ISS],
        Some(&s.binding),
    )
    .await;
    assert!(
        matches!(
            r,
            Err(CallbackError::Refused {
                reason: Refusal::AttemptExpired
            })
        ),
        "{r:?}"
    );
    assert_nothing_happened(&kit, &id).await;
}

#[tokio::test]
async fn a_decline_at_the_cart_closes_the_attempt_and_offers_a_retry() {
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    let s = start(&kit, &token).await;
    let r = callback(
        &kit,
        "acme",
        &[("error", "access_denied"), ("state", &s.state), ISS],
        Some(&s.binding),
    )
    .await;
    let Err(CallbackError::Declined {
        retry_url: Some(retry),
    }) = r
    else {
        panic!("{r:?}")
    };
    assert_nothing_happened(&kit, &id).await;
    // AND a decline is the merchant's choice: no failure email
    assert_eq!(kit.mailer.messages().len(), 1, "only the invite");
    assert_eq!(
        kit.services.grant_progress(&token).await.unwrap(),
        GrantProgress::Declined
    );
    // AND the same state cannot be used again (it answers the decline, exchanging nothing),
    // but the retry link starts a new grant
    let again = callback(
        &kit,
        "acme",
        &[("code", "C"), ("state", &s.state), ISS],
        Some(&s.binding),
    )
    .await;
    assert!(
        matches!(again, Err(CallbackError::Declined { retry_url: None })),
        "{again:?}"
    );
    assert_eq!(kit.oauth.calls(), 0);
    let retry_token = retry.rsplit('/').next().unwrap();
    let s2 = start(&kit, retry_token).await;
    assert!(callback(
        &kit,
        "acme",
        &[("code", "C"), ("state", &s2.state), ISS],
        Some(&s2.binding)
    )
    .await
    .is_ok());
}

#[tokio::test]
async fn a_refused_exchange_fails_the_attempt_without_storing_anything() {
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    *kit.oauth.refuse.lock().unwrap() = Some("invalid_grant".into());
    let s = start(&kit, &token).await;
    let r = callback(
        &kit,
        "acme",
        &[("code", "C"), ("state", &s.state), ISS],
        Some(&s.binding),
    )
    .await;
    let Err(CallbackError::CartFailed {
        retry_url: Some(retry),
        emailed: true,
        ..
    }) = r
    else {
        panic!("{r:?}")
    };
    // AND the merchant is emailed that link to try again
    let mails = kit.mailer.messages();
    assert_eq!(mails.len(), 2, "the invite and the failure email");
    assert_eq!(mails[1].to, "Merchant@shop.test");
    assert_eq!(
        mails[1].subject,
        "Connecting your Acme Cart store to Test Warehouse did not complete"
    );
    assert!(mails[1].text.contains(&retry) && mails[1].html.contains(&retry));
    assert!(retry.starts_with("https://cartlink.test/setup/"));
    // AND a replay of the failed callback answers the failure, neither exchanging nor emailing
    // again
    let again = callback(
        &kit,
        "acme",
        &[("code", "C"), ("state", &s.state), ISS],
        Some(&s.binding),
    )
    .await;
    assert!(
        matches!(
            again,
            Err(CallbackError::CartFailed {
                emailed: false,
                retry_url: None,
                ..
            })
        ),
        "{again:?}"
    );
    assert_eq!(kit.oauth.calls(), 1);
    assert_eq!(kit.mailer.messages().len(), 2);
    let iid = crate::domain::InviteId::parse(&id).unwrap();
    assert!(kit
        .store
        .connection_for_invite(&iid)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        kit.services.grant_progress(&token).await.unwrap(),
        GrantProgress::Failed
    );
}

#[tokio::test]
async fn an_error_from_the_cart_other_than_a_decline_emails_the_merchant_a_retry_link() {
    // GIVEN a started grant
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    let s = start(&kit, &token).await;
    // WHEN the cart calls back with a server error
    let r = callback(
        &kit,
        "acme",
        &[("error", "server_error"), ("state", &s.state), ISS],
        Some(&s.binding),
    )
    .await;
    // THEN nothing is exchanged or stored, the status says failed, and the merchant is emailed
    let Err(CallbackError::CartFailed {
        retry_url: Some(retry),
        emailed: true,
        reason,
    }) = r
    else {
        panic!("{r:?}")
    };
    assert_eq!(reason, "the cart answered server_error");
    assert_nothing_happened(&kit, &id).await;
    assert_eq!(
        kit.services.grant_progress(&token).await.unwrap(),
        GrantProgress::Failed
    );
    let mails = kit.mailer.messages();
    assert_eq!(mails.len(), 2);
    assert!(mails[1].text.contains(&retry));
    // AND the retry link opens the grant page
    let retry_token = retry.rsplit('/').next().unwrap();
    assert!(kit.services.open_link(retry_token).await.is_ok());
}

#[tokio::test]
async fn a_failure_email_that_cannot_be_sent_does_not_change_the_answer() {
    let kit = TestKit::new();
    let (_, token) = invite(&kit).await;
    let s = start(&kit, &token).await;
    *kit.mailer.reject.lock().unwrap() = Some("throttled".into());
    let r = callback(
        &kit,
        "acme",
        &[
            ("error", "temporarily_unavailable"),
            ("state", &s.state),
            ISS,
        ],
        Some(&s.binding),
    )
    .await;
    assert!(
        matches!(
            r,
            Err(CallbackError::CartFailed {
                retry_url: Some(_),
                emailed: false,
                ..
            })
        ),
        "{r:?}"
    );
}

#[tokio::test]
async fn concurrent_callbacks_leave_exactly_one_connection() {
    // GIVEN two grant attempts of one invite in two browsers
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    let a = start(&kit, &token).await;
    let b = start(&kit, &token).await;
    // WHEN both callbacks arrive at once
    let pa = [("code", "CA"), ("state", a.state.as_str()), ISS];
    let pb = [("code", "CB"), ("state", b.state.as_str()), ISS];
    let (ra, rb) = tokio::join!(
        callback(&kit, "acme", &pa, Some(&a.binding)),
        callback(&kit, "acme", &pb, Some(&b.binding)),
    );
    // THEN one wins and the other is told the store is already connected
    assert_eq!(
        [ra.is_ok(), rb.is_ok()].iter().filter(|x| **x).count(),
        1,
        "{ra:?} {rb:?}"
    );
    let loser = if ra.is_ok() { rb } else { ra };
    assert!(
        matches!(loser, Err(CallbackError::AlreadyConnected { .. })),
        "{loser:?}"
    );
    let db = rusqlite::Connection::open(kit.dir.path().join("cartlink.db")).unwrap();
    let n: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM connections WHERE invite_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn an_access_code_opens_the_grant_page_and_wrong_codes_are_limited_per_client() {
    let kit = TestKit::new();
    let (_, _) = invite(&kit).await;
    let code = kit.access_code();
    let ip = Some("203.0.113.7".parse().unwrap());
    // WHEN the right code is typed (in lower case, without the hyphen)
    let view = kit
        .services
        .redeem_access_code(&code.to_lowercase().replace('-', ""), ip)
        .await
        .unwrap();
    // THEN a new link token works for the grant
    assert!(kit.services.start_grant(view.token.expose()).await.is_ok());
    // AND wrong codes are refused, until the client must wait even with the right one (the
    // right code counted too)
    for _ in 1..CODE_GUESSES_PER_CLIENT {
        let wrong = AccessCode::generate().display();
        assert!(matches!(
            kit.services.redeem_access_code(&wrong, ip).await,
            Err(SetupError::InvalidLink)
        ));
    }
    assert!(matches!(
        kit.services.redeem_access_code(&code, ip).await,
        Err(SetupError::TooManyAttempts)
    ));
    // AND another client is not affected, and the window passes
    assert!(kit
        .services
        .redeem_access_code(&code, Some("198.51.100.1".parse().unwrap()))
        .await
        .is_ok());
    kit.clock.advance(15 * 60);
    assert!(kit.services.redeem_access_code(&code, ip).await.is_ok());
}

#[tokio::test]
async fn confirmations_go_out_exactly_once_each_even_when_retried() {
    // GIVEN an authorized invite
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    let s = start(&kit, &token).await;
    callback(
        &kit,
        "acme",
        &[("code", "C"), ("state", &s.state), ISS],
        Some(&s.binding),
    )
    .await
    .unwrap();
    let invite_id = crate::domain::InviteId::parse(&id).unwrap();
    // WHEN the mail service fails the first time
    *kit.mailer.reject.lock().unwrap() = Some("throttled".into());
    assert!(kit.services.confirm(&invite_id).await.is_err());
    assert_eq!(
        kit.store.invite(&invite_id).await.unwrap().unwrap().status,
        InviteStatus::Authorized
    );
    // AND then works, and the event is delivered twice more
    *kit.mailer.reject.lock().unwrap() = None;
    let first = kit.services.confirm(&invite_id).await.unwrap();
    let second = kit.services.confirm(&invite_id).await.unwrap();
    // THEN each confirmation went out once, and the invite is confirmed
    assert_eq!(first.sent.len(), 2);
    assert!(second.sent.is_empty());
    let confirmations: Vec<_> = kit.mailer.messages().into_iter().skip(1).collect();
    assert_eq!(confirmations.len(), 2);
    assert_eq!(confirmations[0].to, "Merchant@shop.test");
    assert_eq!(confirmations[1].to, "ops@warehouse.test");
    assert_eq!(
        kit.store.invite(&invite_id).await.unwrap().unwrap().status,
        InviteStatus::Confirmed
    );
}

#[tokio::test]
async fn a_confirmation_for_an_invite_that_is_not_authorized_is_refused() {
    let kit = TestKit::new();
    let (id, _) = invite(&kit).await;
    let r = kit
        .services
        .confirm(&crate::domain::InviteId::parse(&id).unwrap())
        .await;
    assert!(matches!(
        r,
        Err(super::confirm::ConfirmError::NotAuthorized(_))
    ));
    assert_eq!(kit.mailer.messages().len(), 1);
}

#[tokio::test]
async fn an_invite_keeps_its_locale_else_the_warehouses_else_english() {
    // GIVEN the test warehouse, first without a language, then with German
    let mut kit = TestKit::new();
    let mut wh = kit
        .services
        .warehouses
        .authenticate(crate::testing::TEST_API_KEY)
        .unwrap()
        .clone();
    // WHEN invites are made with `ja`, with `FR-ca`, and without a locale
    let ja = NewInvite {
        locale: Some("ja".into()),
        ..new_invite("acme")
    };
    let fr = NewInvite {
        locale: Some("FR-ca".into()),
        ..new_invite("acme")
    };
    let ja = kit.services.create_invite(&wh, ja).await.unwrap().invite;
    let fr = kit.services.create_invite(&wh, fr).await.unwrap().invite;
    let plain = kit.services.create_invite(&wh, new_invite("acme")).await;
    wh.locale = Some(crate::domain::Locale::De);
    kit.services.warehouses = crate::domain::WarehouseDirectory::new(vec![wh.clone()]);
    let german = kit.services.create_invite(&wh, new_invite("acme")).await;
    // THEN each is stored with its language, and its email is written in it
    use crate::domain::Locale;
    use crate::store::InviteStore;
    for (invite, locale) in [
        (ja, Locale::Ja),
        (fr, Locale::Fr),
        (plain.unwrap().invite, Locale::En),
        (german.unwrap().invite, Locale::De),
    ] {
        let stored = kit.store.invite(&invite.id).await.unwrap().unwrap();
        assert_eq!(stored.locale, locale);
    }
    let subjects: Vec<String> = kit
        .mailer
        .messages()
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert!(
        subjects[0].contains("へのアクセスを求めています"),
        "{subjects:?}"
    );
    assert!(subjects[1].contains("demande l'accès"), "{subjects:?}");
    assert!(subjects[3].contains("bittet um Zugriff"), "{subjects:?}");
}
