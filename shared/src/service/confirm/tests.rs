//! Confirmations owed by the store, and the window between a message written and its send
//! recorded.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{ConfirmError, SEND_LEASE_SECS};
use crate::clock::Clock;
use crate::domain::InviteStatus;
use crate::mailer::{MailError, Mailer, Outbox, OutgoingEmail};
use crate::store::{EmailKind, InviteStore, SendClaim, SendLedger};
use crate::testing::TestKit;

const FROM: &str = "cartlink <no-reply@cartlink.test>";

/// An outbox whose process dies right after it wrote a message: it says so, then never
/// answers (the test drops the sending task there, as a crash would end it).
struct DiesAfterWriting {
    outbox: Outbox,
    written: Arc<Notify>,
}

#[async_trait]
impl Mailer for DiesAfterWriting {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        self.outbox.send(email).await?;
        self.written.notify_one();
        std::future::pending().await
    }
}

fn messages_in(outbox: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(outbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn an_authorized_invite_whose_event_was_lost_is_confirmed_from_the_store_once() {
    // GIVEN an authorized invite whose "invite authorized" event never reached a confirmation
    let kit = TestKit::new();
    let id = kit.authorized().await;
    assert_eq!(
        kit.mailer.messages().len(),
        1,
        "only the invite email so far"
    );
    // WHEN the owed confirmations are read from the store and sent, twice
    let first = kit.services.confirm_owed().await.unwrap();
    let second = kit.services.confirm_owed().await.unwrap();
    // THEN the first sends both confirmations and the second finds nothing owed
    assert_eq!(first.len(), 1);
    let (owed, outcome) = &first[0];
    assert_eq!(owed, &id);
    assert_eq!(
        outcome.as_ref().unwrap().sent,
        vec![
            EmailKind::MerchantConfirmation,
            EmailKind::WarehouseConfirmation
        ]
    );
    assert!(second.is_empty());
    assert_eq!(kit.mailer.messages().len(), 3);
    assert_eq!(
        kit.store.invite(&id).await.unwrap().unwrap().status,
        InviteStatus::Confirmed
    );
}

#[tokio::test]
async fn a_sender_that_died_after_writing_a_message_leaves_one_email_per_kind() {
    // GIVEN an authorized invite, and a confirmation sender that dies right after the outbox
    // wrote a confirmation (both go out side by side), before any send record says sent
    let mut kit = TestKit::new();
    let id = kit.authorized().await;
    let written = Arc::new(Notify::new());
    kit.services.mailer = Arc::new(DiesAfterWriting {
        outbox: Outbox::new(kit.dir.path(), FROM).unwrap(),
        written: written.clone(),
    });
    tokio::select! {
        _ = kit.services.confirm_owed() => panic!("the sender was to die while sending"),
        () = written.notified() => {}
    }
    let outbox = kit.dir.path().join("outbox");
    assert!(!messages_in(&outbox).is_empty());
    // WHEN the process starts again: at once (the dead sender's lease still holds), then once
    // the lease has run out
    kit.services.mailer = Arc::new(Outbox::new(kit.dir.path(), FROM).unwrap());
    let at_once = kit.services.confirm_owed().await.unwrap();
    assert!(matches!(at_once[0].1, Err(ConfirmError::Busy)));
    kit.clock.advance(SEND_LEASE_SECS);
    let later = kit.services.confirm_owed().await.unwrap();
    // THEN each confirmation is in the outbox once, and both are recorded sent
    assert!(later[0].1.is_ok());
    assert_eq!(
        messages_in(&outbox),
        vec![
            format!("{id}-merchant_confirmation.eml"),
            format!("{id}-warehouse_confirmation.eml"),
        ]
    );
    for kind in [
        EmailKind::MerchantConfirmation,
        EmailKind::WarehouseConfirmation,
    ] {
        let claim = kit
            .store
            .claim_send(&id, kind, kit.clock.now(), SEND_LEASE_SECS)
            .await
            .unwrap();
        assert_eq!(
            claim,
            SendClaim::AlreadySent(format!("{id}-{}", kind.as_str()))
        );
    }
    assert_eq!(
        kit.store.invite(&id).await.unwrap().unwrap().status,
        InviteStatus::Confirmed
    );
}
