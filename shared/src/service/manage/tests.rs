use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::carts::{RevocationEndpoint, RevocationStyle};
use crate::domain::{
    Connection, DisconnectedBy, InviteEventKind, InviteId, Revocation, WarehouseId,
};
use crate::mailer::OutgoingEmail;
use crate::service::connections::ConnectionError;
use crate::service::manage::{ManageError, Standing};
use crate::store::{ConnectionStore, Disconnections, InviteEvents};
use crate::testing::{acme_cart, SwitchedVault, TestKit};
use crate::vault::Vault;

/// A kit whose cart documents a revocation endpoint, one confirmed connection, and the manage
/// token of its merchant confirmation.
async fn confirmed() -> (TestKit, Connection, String) {
    let mut kit = TestKit::new();
    let mut cart = acme_cart();
    cart.revocation = Some(RevocationEndpoint {
        url: "https://auth.acme.test/revoke".into(),
        source: "test".into(),
        style: RevocationStyle::Rfc7009,
    });
    kit.services.catalog.add(cart);
    let invite = kit.authorized().await;
    kit.services.confirm(&invite).await.unwrap();
    let conn = kit
        .store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap();
    let token = manage_token(&emails_of_kind(&kit, "merchant_confirmation")[0]);
    (kit, conn, token)
}

fn emails_of_kind(kit: &TestKit, kind: &str) -> Vec<OutgoingEmail> {
    kit.mailer
        .messages()
        .into_iter()
        .filter(|m| m.tags.iter().any(|(k, v)| k == "kind" && v == kind))
        .collect()
}

fn manage_token(email: &OutgoingEmail) -> String {
    let start = email.text.find("/manage/").expect("a manage link") + "/manage/".len();
    email.text[start..start + 43].to_owned()
}

async fn events(kit: &TestKit, invite: &InviteId) -> Vec<InviteEventKind> {
    kit.store
        .events_of(invite)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[tokio::test]
async fn the_merchant_confirmation_carries_a_manage_link_that_shows_the_connection() {
    // GIVEN a confirmed connection
    let (kit, conn, token) = confirmed().await;
    // WHEN its manage link is opened
    let view = kit.services.manage_view(&token).await.unwrap();
    // THEN it shows the warehouse, cart, functions and since when
    assert_eq!(view.invite.warehouse.display_name, "Test Warehouse");
    assert_eq!(view.cart_name, "Acme Cart");
    assert!(!view.functions().is_empty());
    assert_eq!(
        view.standing,
        Standing::Connected {
            since: conn.created_at,
            last_token_fetch: None,
            needs_reauth: false
        }
    );
}

#[tokio::test]
async fn opening_a_manage_link_changes_nothing() {
    // GIVEN a confirmed connection and the emails sent so far
    let (kit, conn, token) = confirmed().await;
    let sent = kit.mailer.messages().len();
    let before = events(&kit, &conn.invite_id).await;
    // WHEN the link is opened three times (a mail scanner, then the merchant)
    for _ in 0..3 {
        kit.services.manage_view(&token).await.unwrap();
    }
    // THEN the connection, the inbox and the history are as they were
    assert_eq!(
        kit.store.connection(&conn.id).await.unwrap(),
        Some(conn.clone())
    );
    assert_eq!(kit.mailer.messages().len(), sent);
    assert_eq!(events(&kit, &conn.invite_id).await, before);
}

#[tokio::test]
async fn withdrawing_disconnects_as_the_warehouse_api_does_and_tells_the_warehouse_once() {
    // GIVEN a confirmed connection
    let (kit, conn, token) = confirmed().await;
    // WHEN the merchant withdraws access
    let view = kit.services.withdraw_access(&token).await.unwrap();
    // THEN the page says it is withdrawn by the merchant
    assert!(matches!(
        view.standing,
        Standing::Disconnected {
            by: DisconnectedBy::Merchant,
            ..
        }
    ));
    // AND the tokens are gone, revoked at the cart, and the history says disconnected
    assert!(matches!(
        kit.services.open_connection(&conn.id).await,
        Err(ConnectionError::NotFound)
    ));
    let record = kit.store.disconnection(&conn.id).await.unwrap().unwrap();
    assert_eq!(record.revocation, Revocation::Revoked);
    assert_eq!(kit.oauth.revoked.lock().unwrap().len(), 1);
    assert!(events(&kit, &conn.invite_id)
        .await
        .contains(&InviteEventKind::Disconnected));
    // AND the warehouse got one notice, the merchant one receipt
    let notices = emails_of_kind(&kit, "access_withdrawn");
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].to, "ops@warehouse.test");
    assert_eq!(emails_of_kind(&kit, "disconnected").len(), 1);
}

#[tokio::test]
async fn twenty_concurrent_withdrawals_disconnect_once_and_email_once() {
    // GIVEN a confirmed connection
    let (kit, conn, token) = confirmed().await;
    // WHEN twenty withdrawals arrive at once (a double click, many times over)
    let outcomes =
        futures::future::join_all((0..20).map(|_| kit.services.withdraw_access(&token))).await;
    // THEN every answer says withdrawn, the cart was asked once, each side was emailed once
    assert!(outcomes.iter().all(|o| matches!(
        o,
        Ok(v) if matches!(v.standing, Standing::Disconnected { .. })
    )));
    assert_eq!(kit.oauth.revoked.lock().unwrap().len(), 1);
    assert_eq!(emails_of_kind(&kit, "access_withdrawn").len(), 1);
    assert_eq!(emails_of_kind(&kit, "disconnected").len(), 1);
    assert!(kit.store.connection(&conn.id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_withdrawal_after_the_warehouse_disconnected_tells_nobody_again() {
    // GIVEN a connection the warehouse disconnected (the merchant was told)
    let (kit, conn, token) = confirmed().await;
    let wh = WarehouseId::parse("wh-test").unwrap();
    kit.services
        .disconnect_connection(&wh, conn.id.as_str())
        .await
        .unwrap();
    let sent = kit.mailer.messages().len();
    // WHEN the merchant withdraws from the manage page
    let view = kit.services.withdraw_access(&token).await.unwrap();
    // THEN the page says the warehouse disconnected it, and no email went out
    assert!(matches!(
        view.standing,
        Standing::Disconnected {
            by: DisconnectedBy::Warehouse,
            ..
        }
    ));
    assert_eq!(kit.mailer.messages().len(), sent);
}

#[tokio::test]
async fn a_cut_altered_or_foreign_link_opens_nothing_and_withdraws_nothing() {
    // GIVEN a confirmed connection, and the setup link of another invite
    let (kit, conn, token) = confirmed().await;
    let (_, setup_token) = kit.invite().await;
    let mut altered = token.clone().into_bytes();
    altered[10] = if altered[10] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let last = if token.ends_with('A') { 'B' } else { 'A' };
    let altered_end = format!("{}{last}", &token[..42]);
    for bad in [
        &token[..42],
        altered.as_str(),
        altered_end.as_str(),
        setup_token.as_str(),
        "",
        "x/../y",
    ] {
        // WHEN such a link is opened or used to withdraw
        let view = kit.services.manage_view(bad).await;
        let withdraw = kit.services.withdraw_access(bad).await;
        // THEN both are an invalid link
        assert!(matches!(view, Err(ManageError::InvalidLink)), "{bad}");
        assert!(matches!(withdraw, Err(ManageError::InvalidLink)), "{bad}");
    }
    // AND the connection is untouched
    assert_eq!(kit.store.connection(&conn.id).await.unwrap(), Some(conn));
}

#[tokio::test]
async fn the_page_shows_when_the_warehouse_last_fetched_a_token() {
    // GIVEN a confirmed connection whose token the warehouse fetched
    let (kit, conn, token) = confirmed().await;
    kit.clock.advance(300);
    let at = kit.services.clock.now();
    let wh = WarehouseId::parse("wh-test").unwrap();
    kit.services
        .warehouse_connection(&wh, conn.id.as_str())
        .await
        .unwrap();
    // WHEN the manage link is opened
    let view = kit.services.manage_view(&token).await.unwrap();
    // THEN it shows that fetch
    assert!(matches!(
        view.standing,
        Standing::Connected { last_token_fetch: Some(t), .. } if t == at
    ));
}

#[tokio::test]
async fn a_key_service_outage_withdraws_nothing() {
    // GIVEN a confirmed connection and a key service that cannot open
    let (mut kit, conn, token) = confirmed().await;
    let switched = SwitchedVault::over(kit.services.vault.clone());
    switched.open_off.store(true, Ordering::SeqCst);
    kit.services.vault = switched as Arc<dyn Vault>;
    let sent = kit.mailer.messages().len();
    // WHEN the merchant withdraws
    let outcome = kit.services.withdraw_access(&token).await;
    // THEN that is the key service's failure, and nothing changed
    assert!(
        matches!(outcome, Err(ManageError::KeyService(_))),
        "{outcome:?}"
    );
    assert_eq!(kit.store.connection(&conn.id).await.unwrap(), Some(conn));
    assert_eq!(kit.mailer.messages().len(), sent);
}

#[tokio::test]
async fn a_withdrawal_that_died_before_its_emails_sends_them_on_the_next_press_once() {
    // GIVEN a withdrawal whose process died right after deleting the tokens
    let (kit, conn, token) = confirmed().await;
    let crashed = crate::domain::Disconnection {
        connection_id: conn.id.clone(),
        invite_id: conn.invite_id.clone(),
        warehouse_id: conn.warehouse_id.clone(),
        cart: conn.cart.clone(),
        disconnected_at: kit.services.clock.now(),
        revocation: Revocation::Pending,
        by: DisconnectedBy::Merchant,
        account: None,
    };
    kit.store.disconnect(&crashed, conn.version).await.unwrap();
    // WHEN the merchant opens the page (nothing owed is sent by a GET), then presses twice
    kit.services.manage_view(&token).await.unwrap();
    assert!(emails_of_kind(&kit, "access_withdrawn").is_empty());
    for _ in 0..2 {
        kit.services.withdraw_access(&token).await.unwrap();
    }
    // THEN the warehouse's notice and the merchant's receipt went out once each
    assert_eq!(emails_of_kind(&kit, "access_withdrawn").len(), 1);
    assert_eq!(emails_of_kind(&kit, "disconnected").len(), 1);
}
