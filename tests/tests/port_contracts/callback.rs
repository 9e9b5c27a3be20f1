//! The callback's part of the store's contract, on both adapters: the claim that checks its
//! invite in the same write (`AttemptStore::claim_granting_attempt`), and the history step its
//! commit records (`ConnectionStore::commit_authorization`).

use shared::domain::{AttemptStatus, Invite, InviteEventKind, InviteStatus, Timestamp};
use shared::store::{Store, StoreError};

use super::{begun, commit, connection, dynamodb_store, invite, link_of, sqlite_store, stored};

on_both_stores!(
    a_granting_claim_claims_an_open_attempt_once,
    a_granting_claim_is_refused_when_the_invite_is_not_granting,
    a_granting_claim_is_refused_when_the_invite_has_expired,
    an_authorization_commit_records_its_history_step,
    an_authorization_commit_is_refused_when_its_history_step_is_there,
);

async fn a_granting_claim_claims_an_open_attempt_once(store: &dyn Store) {
    // GIVEN an open attempt of a granting invite
    let inv = stored(store, "wh-one", InviteStatus::Emailed, 100).await;
    let state = begun(store, &inv, "s").await;
    // WHEN it is claimed twice
    let first = store
        .claim_granting_attempt(&state, &inv.id, Timestamp(200), Timestamp(230))
        .await;
    let second = store
        .claim_granting_attempt(&state, &inv.id, Timestamp(201), Timestamp(231))
        .await;
    // THEN the first holds it until 230 and the second is a conflict
    assert!(first.is_ok(), "{first:?}");
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    let a = store.attempt(&state).await.unwrap().unwrap();
    assert_eq!(a.status, AttemptStatus::Exchanging);
    assert_eq!(a.claim_until, Some(Timestamp(230)));
}

async fn a_granting_claim_is_refused_when_the_invite_is_not_granting(store: &dyn Store) {
    // GIVEN an open attempt whose invite was revoked after the attempt began
    let inv = stored(store, "wh-one", InviteStatus::Emailed, 100).await;
    let state = begun(store, &inv, "s").await;
    store
        .set_invite_status(&inv.id, InviteStatus::Revoked, None, Timestamp(160))
        .await
        .unwrap();
    // WHEN it is claimed
    let r = store
        .claim_granting_attempt(&state, &inv.id, Timestamp(200), Timestamp(230))
        .await;
    // THEN it is a conflict and the attempt stays open
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let a = store.attempt(&state).await.unwrap().unwrap();
    assert_eq!(a.status, AttemptStatus::Open);
}

async fn a_granting_claim_is_refused_when_the_invite_has_expired(store: &dyn Store) {
    // GIVEN an open attempt (it expires at 1050) of a granting invite that expires at 500
    let inv = Invite {
        expires_at: Timestamp(500),
        ..invite("wh-one", InviteStatus::Emailed, 100)
    };
    store.insert_invite(&inv, &link_of(&inv)).await.unwrap();
    let state = begun(store, &inv, "s").await;
    // WHEN it is claimed at 600
    let r = store
        .claim_granting_attempt(&state, &inv.id, Timestamp(600), Timestamp(630))
        .await;
    // THEN it is a conflict and the attempt stays open
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let a = store.attempt(&state).await.unwrap().unwrap();
    assert_eq!(a.status, AttemptStatus::Open);
}

async fn an_authorization_commit_records_its_history_step(store: &dyn Store) {
    // GIVEN an attempt of a granting invite, claimed
    let inv = stored(store, "wh-one", InviteStatus::Emailed, 100).await;
    let state = begun(store, &inv, "s").await;
    store
        .claim_granting_attempt(&state, &inv.id, Timestamp(200), Timestamp(230))
        .await
        .unwrap();
    // WHEN the grant is committed
    commit(store, &connection(&inv), &state, Timestamp(210))
        .await
        .unwrap();
    // THEN the invite's history holds `authorized` at the commit's time
    let events = store.events_of(&inv.id).await.unwrap();
    let authorized: Vec<_> = events
        .iter()
        .filter(|e| e.kind == InviteEventKind::Authorized)
        .collect();
    assert_eq!(authorized.len(), 1, "{events:?}");
    assert_eq!(authorized[0].at, Timestamp(210));
}

async fn an_authorization_commit_is_refused_when_its_history_step_is_there(store: &dyn Store) {
    // GIVEN a claimed attempt of a granting invite whose history holds `authorized` already
    let inv = stored(store, "wh-one", InviteStatus::Emailed, 100).await;
    let state = begun(store, &inv, "s").await;
    store
        .claim_granting_attempt(&state, &inv.id, Timestamp(200), Timestamp(230))
        .await
        .unwrap();
    let event = shared::domain::InviteEvent {
        kind: InviteEventKind::Authorized,
        at: Timestamp(205),
        reason: None,
    };
    store
        .record_event(&inv.id, "authorized", &event)
        .await
        .unwrap();
    // WHEN the grant is committed
    let r = commit(store, &connection(&inv), &state, Timestamp(210)).await;
    // THEN it is a conflict and nothing was written: no connection, the attempt still claimed
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(store
        .connection_for_invite(&inv.id)
        .await
        .unwrap()
        .is_none());
    let a = store.attempt(&state).await.unwrap().unwrap();
    assert_eq!(a.status, AttemptStatus::Exchanging);
}
