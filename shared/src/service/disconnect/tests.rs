use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::carts::{RevocationEndpoint, RevocationStyle};
use crate::domain::{Connection, ConnectionId, Disconnection, Revocation, WarehouseId};
use crate::mailer::OutgoingEmail;
use crate::service::connections::ConnectionError;
use crate::service::disconnect::DisconnectError;
use crate::store::{ConnectionStore, Disconnections};
use crate::testing::{acme_cart, SwitchedVault, TestKit};
use crate::vault::{DataKey, SealContext, SealedBlob, Vault, VaultError};

const REVOKE_URL: &str = "https://auth.acme.test/revoke";

fn warehouse() -> WarehouseId {
    WarehouseId::parse("wh-test").unwrap()
}

/// A kit whose cart documents an RFC 7009 revocation endpoint (or not), and one connection.
async fn connected(revocation: bool) -> (TestKit, Connection) {
    let mut kit = TestKit::new();
    if revocation {
        let mut cart = acme_cart();
        cart.revocation = Some(RevocationEndpoint {
            url: REVOKE_URL.into(),
            source: "test".into(),
            style: RevocationStyle::Rfc7009,
        });
        kit.services.catalog.add(cart);
    }
    let invite = kit.authorized().await;
    let conn = kit
        .store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap();
    (kit, conn)
}

async fn disconnect(kit: &TestKit, id: &ConnectionId) -> Result<Disconnection, DisconnectError> {
    kit.services
        .disconnect_connection(&warehouse(), id.as_str())
        .await
}

fn disconnect_emails(kit: &TestKit) -> Vec<OutgoingEmail> {
    kit.mailer
        .messages()
        .into_iter()
        .filter(|m| {
            m.tags
                .iter()
                .any(|(k, v)| k == "kind" && v == "disconnected")
        })
        .collect()
}

#[tokio::test]
async fn a_disconnect_revokes_the_refresh_token_deletes_the_tokens_and_tells_the_merchant() {
    // GIVEN a connection at a cart with a revocation endpoint
    let (kit, conn) = connected(true).await;
    // WHEN the warehouse disconnects it
    let record = disconnect(&kit, &conn.id).await.unwrap();
    // THEN the cart was asked once to revoke the refresh token, and said yes
    assert_eq!(record.revocation, Revocation::Revoked);
    assert_eq!(
        *kit.oauth.revoked.lock().unwrap(),
        vec![(
            REVOKE_URL.to_owned(),
            "CANARY_RT".to_owned(),
            "refresh_token"
        )]
    );
    // AND the sealed tokens are gone: the token API finds no connection
    assert_eq!(kit.store.connection(&conn.id).await.unwrap(), None);
    assert!(matches!(
        kit.services.open_connection(&conn.id).await,
        Err(ConnectionError::NotFound)
    ));
    // AND the merchant got one email saying the cart was told
    let mails = disconnect_emails(&kit);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "Merchant@shop.test");
    assert!(mails[0].text.contains("was told to end the access too"));
}

#[tokio::test]
async fn a_repeated_disconnect_answers_the_same_and_sends_nothing() {
    // GIVEN a disconnected connection
    let (kit, conn) = connected(true).await;
    let first = disconnect(&kit, &conn.id).await.unwrap();
    // WHEN it is disconnected again
    let again = disconnect(&kit, &conn.id).await.unwrap();
    // THEN the answer is the same, and no second revocation or email went out
    assert_eq!(again, first);
    assert_eq!(kit.oauth.revoked.lock().unwrap().len(), 1);
    assert_eq!(disconnect_emails(&kit).len(), 1);
}

/// A key service that answers later, as KMS does: every caller of a disconnect reads the
/// connection before any of them writes.
struct SlowVault(Arc<dyn Vault>);

#[async_trait::async_trait]
impl Vault for SlowVault {
    async fn data_key(&self, context: &SealContext) -> Result<DataKey, VaultError> {
        self.0.data_key(context).await
    }

    async fn open(
        &self,
        context: &SealContext,
        blob: &SealedBlob,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, VaultError> {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        self.0.open(context, blob).await
    }
}

#[tokio::test]
async fn concurrent_disconnects_revoke_once_email_once_and_answer_alike() {
    // GIVEN a connection at a cart with a revocation endpoint, behind a slow key service
    let (mut kit, conn) = connected(true).await;
    kit.services.vault = Arc::new(SlowVault(kit.services.vault.clone()));
    // WHEN five disconnects run at once
    let outcomes = futures::future::join_all((0..5).map(|_| disconnect(&kit, &conn.id))).await;
    // THEN each answers the one record, revoked
    let records: Vec<Disconnection> = outcomes.into_iter().map(Result::unwrap).collect();
    assert!(records.iter().all(|r| r == &records[0]), "{records:?}");
    assert_eq!(records[0].revocation, Revocation::Revoked);
    // AND the cart was called once, the merchant emailed once
    assert_eq!(kit.oauth.revoked.lock().unwrap().len(), 1);
    assert_eq!(disconnect_emails(&kit).len(), 1);
}

#[tokio::test]
async fn a_cart_without_a_revocation_endpoint_is_not_called_and_the_answer_says_so() {
    // GIVEN a connection at a cart that documents no revocation call
    let (kit, conn) = connected(false).await;
    // WHEN it is disconnected
    let record = disconnect(&kit, &conn.id).await.unwrap();
    // THEN nothing is asked of the cart, the answer says none was offered, the tokens are gone
    assert_eq!(record.revocation, Revocation::NotOffered);
    assert!(kit.oauth.revoked.lock().unwrap().is_empty());
    assert_eq!(kit.store.connection(&conn.id).await.unwrap(), None);
    // AND the merchant's email says how to remove the app at the cart
    let mails = disconnect_emails(&kit);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].text.contains("remove the app"));
}

#[tokio::test]
async fn a_revocation_the_cart_refuses_is_recorded_failed_and_the_tokens_are_deleted_anyway() {
    // GIVEN a cart whose revocation endpoint refuses
    let (kit, conn) = connected(true).await;
    *kit.oauth.refuse_revocation.lock().unwrap() = Some("unsupported_token_type".into());
    // WHEN the connection is disconnected
    let record = disconnect(&kit, &conn.id).await.unwrap();
    // THEN the answer says the revocation failed, and the tokens are deleted all the same
    assert_eq!(record.revocation, Revocation::Failed);
    assert_eq!(kit.store.connection(&conn.id).await.unwrap(), None);
    assert_eq!(
        kit.store
            .disconnection(&conn.id)
            .await
            .unwrap()
            .unwrap()
            .revocation,
        Revocation::Failed
    );
}

#[tokio::test]
async fn a_crash_after_the_delete_leaves_the_email_to_the_next_disconnect() {
    // GIVEN a disconnect that deleted the tokens and died before the cart or the merchant was
    // told
    let (kit, conn) = connected(true).await;
    let crashed = Disconnection {
        connection_id: conn.id.clone(),
        invite_id: conn.invite_id.clone(),
        warehouse_id: conn.warehouse_id.clone(),
        cart: conn.cart.clone(),
        disconnected_at: crate::testing::T0,
        revocation: Revocation::Pending,
        by: Default::default(),
        account: None,
    };
    kit.store.disconnect(&crashed, conn.version).await.unwrap();
    // WHEN the warehouse disconnects again
    let record = disconnect(&kit, &conn.id).await.unwrap();
    // THEN the answer says the revocation is pending (the tokens to revoke are gone), the cart
    // is not called, and the merchant's email owed goes out once
    assert_eq!(record, crashed);
    assert!(kit.oauth.revoked.lock().unwrap().is_empty());
    assert_eq!(disconnect_emails(&kit).len(), 1);
}

#[tokio::test]
async fn another_warehouses_unknown_or_malformed_connection_is_not_found() {
    // GIVEN a connection of the test warehouse
    let (kit, conn) = connected(true).await;
    let other = WarehouseId::parse("wh-other").unwrap();
    // THEN another warehouse, an unknown id and a malformed one find nothing
    for (wh, raw) in [
        (other.clone(), conn.id.to_string()),
        (warehouse(), ConnectionId::generate().to_string()),
        (warehouse(), "not an id".to_owned()),
    ] {
        assert!(matches!(
            kit.services.disconnect_connection(&wh, &raw).await,
            Err(DisconnectError::NotFound)
        ));
    }
    // AND once it is disconnected, another warehouse still finds nothing
    disconnect(&kit, &conn.id).await.unwrap();
    assert!(matches!(
        kit.services
            .disconnect_connection(&other, conn.id.as_str())
            .await,
        Err(DisconnectError::NotFound)
    ));
    assert!(kit.store.disconnection(&conn.id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_key_service_outage_changes_nothing() {
    // GIVEN a connection and a key service that cannot open
    let (mut kit, conn) = connected(true).await;
    let switched = SwitchedVault::over(kit.services.vault.clone());
    switched.open_off.store(true, Ordering::SeqCst);
    kit.services.vault = switched as Arc<dyn Vault>;
    // WHEN the warehouse disconnects it
    let outcome = disconnect(&kit, &conn.id).await;
    // THEN that is the key service's failure, and the connection, the cart and the inbox are
    // as they were
    assert!(
        matches!(outcome, Err(DisconnectError::KeyService(_))),
        "{outcome:?}"
    );
    assert!(kit.store.connection(&conn.id).await.unwrap().is_some());
    assert!(kit.oauth.revoked.lock().unwrap().is_empty());
    assert!(disconnect_emails(&kit).is_empty());
}
