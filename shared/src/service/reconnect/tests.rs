//! Reconnect requests against the file store, the local vault and a recording mailer.

use futures::future::join_all;

use super::*;
use crate::domain::{ConnectionStatus, TokenHash};
use crate::store::{ConnectionStore, InviteStore, SendClaim, SendLedger};
use crate::testing::{TestKit, ACME_ISS, T0};

fn warehouse() -> WarehouseId {
    WarehouseId::parse("wh-test").unwrap()
}

/// A connection of the test warehouse (its invite's email is the kit's first message).
async fn connected(kit: &TestKit) -> Connection {
    let invite = kit.authorized().await;
    kit.store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap()
}

async fn request(kit: &TestKit, c: &Connection) -> Result<ReconnectInvite, ReconnectError> {
    kit.services
        .request_reconnect(&warehouse(), c.id.as_str())
        .await
}

fn reconnect_mails(kit: &TestKit) -> usize {
    kit.mailer
        .messages()
        .iter()
        .filter(|m| {
            m.tags
                .iter()
                .any(|(k, v)| k == "kind" && v == EmailKind::ReconnectInvite.as_str())
        })
        .count()
}

fn token_of(setup_url: &str) -> String {
    setup_url.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_reconnect_invite_copies_the_original_and_names_the_connection() {
    // GIVEN a connection
    let kit = TestKit::new();
    let c = connected(&kit).await;
    let original = kit.store.invite(&c.invite_id).await.unwrap().unwrap();
    // WHEN the warehouse asks for a reconnect
    let made = request(&kit, &c).await.unwrap();
    // THEN the invite is for the same merchant, cart, store and functions, names the
    // connection, is emailed once through its own send record, and its link opens
    let inv = &made.invite;
    assert!(made.made);
    assert_eq!(inv.reconnects, Some(c.id.clone()));
    assert_eq!(
        (&inv.merchant_email, &inv.cart, &inv.store, &inv.functions),
        (
            &original.merchant_email,
            &original.cart,
            &original.store,
            &original.functions
        )
    );
    assert_eq!(inv.status, InviteStatus::Emailed);
    assert_eq!(reconnect_mails(&kit), 1);
    assert!(matches!(
        kit.store
            .claim_send(&inv.id, EmailKind::ReconnectInvite, T0, 120)
            .await
            .unwrap(),
        SendClaim::AlreadySent(_)
    ));
    assert!(kit
        .services
        .open_link(&token_of(&made.setup_url))
        .await
        .is_ok());
}

#[tokio::test]
async fn five_requests_at_once_make_one_invite_and_one_email() {
    // GIVEN a connection
    let kit = TestKit::new();
    let c = connected(&kit).await;
    // WHEN five reconnect requests run at once
    let answers = join_all((0..5).map(|_| request(&kit, &c))).await;
    // THEN all five answer the same invite, one made it, and one email went out
    let answers: Vec<ReconnectInvite> = answers.into_iter().map(Result::unwrap).collect();
    assert!(answers.iter().all(|a| a.invite.id == answers[0].invite.id));
    assert_eq!(answers.iter().filter(|a| a.made).count(), 1);
    assert_eq!(reconnect_mails(&kit), 1);
}

#[tokio::test]
async fn a_crash_after_the_invite_was_stored_is_answered_by_the_next_request() {
    // GIVEN a reconnect invite stored by a request that died before its email
    let kit = TestKit::new();
    let c = connected(&kit).await;
    let original = kit.store.invite(&c.invite_id).await.unwrap().unwrap();
    let id = reconnect_invite_id(&c.id, c.version, 0);
    let stored = Invite {
        id: id.clone(),
        status: InviteStatus::Pending,
        reconnects: Some(c.id.clone()),
        access_code_hash: TokenHash::of("lost-code"),
        expires_at: T0.plus_secs(3600),
        ..original
    };
    kit.store
        .insert_invite(&stored, &TokenHash::of("lost-link"))
        .await
        .unwrap();
    // WHEN the warehouse asks again
    let answer = request(&kit, &c).await.unwrap();
    // THEN that invite is answered, with a link that opens it, and nothing is sent
    assert_eq!(answer.invite.id, id);
    assert!(!answer.made);
    assert_eq!(answer.invite.status, InviteStatus::Pending);
    assert_eq!(reconnect_mails(&kit), 0);
    assert!(kit
        .services
        .open_link(&token_of(&answer.setup_url))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_mail_outage_leaves_the_invite_pending_and_the_retry_answers_it() {
    // GIVEN a connection and a mail service that cannot be reached
    let kit = TestKit::new();
    let c = connected(&kit).await;
    *kit.mailer.unavailable.lock().unwrap() = Some("down".into());
    // WHEN the warehouse asks for a reconnect
    let r = request(&kit, &c).await;
    // THEN it is unavailable and the stored invite stays pending
    assert!(matches!(r, Err(ReconnectError::MailUnavailable)), "{r:?}");
    let id = reconnect_invite_id(&c.id, c.version, 0);
    let stored = kit.store.invite(&id).await.unwrap().unwrap();
    assert_eq!(stored.status, InviteStatus::Pending);
    // AND once the mail service is back, a retry answers that invite and sends nothing
    *kit.mailer.unavailable.lock().unwrap() = None;
    let again = request(&kit, &c).await.unwrap();
    assert_eq!(again.invite.id, id);
    assert!(!again.made);
    assert_eq!(reconnect_mails(&kit), 0);
}

#[tokio::test]
async fn a_refused_email_is_answered_as_email_failed() {
    // GIVEN a connection and a mail service that rejects the message
    let kit = TestKit::new();
    let c = connected(&kit).await;
    *kit.mailer.reject.lock().unwrap() = Some("mailbox unknown".into());
    // WHEN the warehouse asks for a reconnect
    let made = request(&kit, &c).await.unwrap();
    // THEN the invite is email_failed, with the reason
    assert_eq!(made.invite.status, InviteStatus::EmailFailed);
    assert!(made
        .invite
        .status_reason
        .unwrap()
        .contains("mailbox unknown"));
}

#[tokio::test]
async fn the_address_limit_refuses_a_new_reconnect_invite() {
    // GIVEN a connection whose merchant address used its one email of the day (the invite)
    let mut kit = TestKit::new();
    let c = connected(&kit).await;
    kit.services.config.limits.emails_per_address_per_day = 1;
    // WHEN the warehouse asks for a reconnect
    let r = request(&kit, &c).await;
    // THEN it is rate limited and nothing was stored or sent
    assert!(matches!(r, Err(ReconnectError::RateLimited(_))), "{r:?}");
    let id = reconnect_invite_id(&c.id, c.version, 0);
    assert_eq!(kit.store.invite(&id).await.unwrap(), None);
    assert_eq!(reconnect_mails(&kit), 0);
}

async fn withdraw(kit: &TestKit, id: &InviteId) {
    kit.store
        .set_invite_status(id, InviteStatus::Revoked, None, T0)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_withdrawn_reconnect_invite_is_passed_over_and_sixteen_are_too_many() {
    // GIVEN a connection whose reconnect invite was withdrawn
    let kit = TestKit::new();
    let c = connected(&kit).await;
    let first = request(&kit, &c).await.unwrap().invite.id;
    withdraw(&kit, &first).await;
    // WHEN the warehouse asks again
    let second = request(&kit, &c).await.unwrap();
    // THEN a new invite is made and emailed
    assert!(second.made);
    assert_ne!(second.invite.id, first);
    assert_eq!(reconnect_mails(&kit), 2);
    // AND once every round was withdrawn, the next request is refused
    withdraw(&kit, &second.invite.id).await;
    for _ in 2..MAX_ROUNDS {
        let made = request(&kit, &c).await.unwrap();
        withdraw(&kit, &made.invite.id).await;
    }
    let r = request(&kit, &c).await;
    assert!(matches!(r, Err(ReconnectError::TooMany)), "{r:?}");
}

#[tokio::test]
async fn another_warehouses_connection_reads_as_missing() {
    // GIVEN a connection of the test warehouse
    let kit = TestKit::new();
    let c = connected(&kit).await;
    // WHEN another warehouse asks to reconnect it, or anyone a malformed id
    let other = WarehouseId::parse("wh-other").unwrap();
    let theirs = kit.services.request_reconnect(&other, c.id.as_str()).await;
    let malformed = kit.services.request_reconnect(&warehouse(), "nope").await;
    // THEN both are not found
    assert!(
        matches!(theirs, Err(ReconnectError::NotFound)),
        "{theirs:?}"
    );
    assert!(
        matches!(malformed, Err(ReconnectError::NotFound)),
        "{malformed:?}"
    );
}

#[tokio::test]
async fn repeated_and_concurrent_refresh_failures_make_one_reconnect_invite() {
    // GIVEN a connection whose grant the cart refused
    let kit = TestKit::new();
    let c = connected(&kit).await;
    // WHEN the reconnect starts by itself five times at once, then once more
    join_all((0..5).map(|_| kit.services.reconnect_by_itself(&c))).await;
    kit.services.reconnect_by_itself(&c).await;
    // THEN one reconnect invite exists and one email went out
    assert_eq!(reconnect_mails(&kit), 1);
    let id = reconnect_invite_id(&c.id, c.version, 0);
    assert!(kit.store.invite(&id).await.unwrap().is_some());
    assert_eq!(
        kit.store
            .invite(&reconnect_invite_id(&c.id, c.version, 1))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn granting_the_reconnect_invite_renews_the_same_connection() {
    // GIVEN a connection marked as needing re-authorization, and its reconnect invite
    let kit = TestKit::new();
    let c = connected(&kit).await;
    kit.store
        .set_connection_status(&c.id, ConnectionStatus::NeedsReauth, c.version)
        .await
        .unwrap();
    let made = request(&kit, &c).await.unwrap();
    // WHEN the merchant grants it
    let g = kit.start(&token_of(&made.setup_url)).await;
    let done = kit
        .callback(
            "acme",
            &[("code", "C2"), ("state", &g.state), ACME_ISS],
            Some(&g.binding),
        )
        .await
        .unwrap();
    // THEN the same connection is active at the next version, and the invite leads to it
    assert_eq!(done.connection.id, c.id);
    let now = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(now.status, ConnectionStatus::Active);
    assert_eq!(now.version, c.version + 1);
    assert_ne!(now.tokens, c.tokens);
    assert_eq!(
        kit.store
            .connection_for_invite(&made.invite.id)
            .await
            .unwrap()
            .map(|x| x.id),
        Some(c.id.clone())
    );
    // AND the opened tokens are served under the connection's own context
    assert!(kit.services.open_connection(&c.id).await.is_ok());
}

/// The merchant grants the reconnect invite behind `setup_url` with the code `code`.
async fn grant(
    kit: &TestKit,
    setup_url: &str,
    code: &str,
) -> Result<crate::service::callback::Authorized, crate::service::callback::CallbackError> {
    let g = kit.start(&token_of(setup_url)).await;
    kit.callback(
        "acme",
        &[("code", code), ("state", &g.state), ACME_ISS],
        Some(&g.binding),
    )
    .await
}

#[tokio::test]
async fn a_grant_for_another_account_is_refused_and_stores_nothing() {
    // GIVEN a connection to the account acct-a, and its reconnect invite
    let kit = TestKit::new();
    *kit.oauth.exchange_account.lock().unwrap() = Some("acct-a".into());
    let c = connected(&kit).await;
    assert_eq!(c.account.as_deref(), Some("acct-a"));
    let made = request(&kit, &c).await.unwrap();
    // WHEN the merchant grants it for the account acct-b
    *kit.oauth.exchange_account.lock().unwrap() = Some("acct-b".into());
    let r = grant(&kit, &made.setup_url, "C2").await;
    // THEN it is refused as another account, and the connection is as it was
    assert!(
        matches!(
            r,
            Err(crate::service::callback::CallbackError::Refused {
                reason: crate::domain::Refusal::AccountMismatch
            })
        ),
        "{r:?}"
    );
    assert_eq!(kit.store.connection(&c.id).await.unwrap(), Some(c));
}

#[tokio::test]
async fn a_grant_after_a_disconnect_is_refused_and_stores_nothing() {
    // GIVEN a reconnect invite, then its connection disconnected
    let kit = TestKit::new();
    let c = connected(&kit).await;
    let made = request(&kit, &c).await.unwrap();
    kit.services
        .disconnect_connection(&warehouse(), c.id.as_str())
        .await
        .unwrap();
    // WHEN the merchant grants it
    let r = grant(&kit, &made.setup_url, "C2").await;
    // THEN it is refused as gone, and no connection is stored
    assert!(
        matches!(
            r,
            Err(crate::service::callback::CallbackError::Refused {
                reason: crate::domain::Refusal::ConnectionGone
            })
        ),
        "{r:?}"
    );
    assert_eq!(kit.store.connection(&c.id).await.unwrap(), None);
    assert_eq!(
        kit.store
            .connection_for_invite(&made.invite.id)
            .await
            .unwrap(),
        None
    );
}
