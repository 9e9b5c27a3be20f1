//! The reconnect commit of the store's contract (`ConnectionStore::commit_reconnect`), on both
//! adapters: a granted re-authorization invite renews the connection it names.

use shared::domain::{
    AttemptStatus, Connection, ConnectionStatus, Disconnection, Invite, InviteStatus, Revocation,
    Timestamp, TokenHash,
};
use shared::store::{Store, StoreError};
use shared::vault::SealedBlob;

use super::{claimed, committed, dynamodb_store, invite, link_of, sqlite_store};

on_both_stores!(
    a_reconnect_commit_renews_the_same_connection,
    a_reconnect_invite_leads_to_its_connection_only_once_authorized,
    a_reconnect_commit_for_a_disconnected_connection_stores_nothing,
    a_reconnect_commit_is_conditional_on_the_version,
    of_twenty_concurrent_reconnect_commits_exactly_one_wins,
);

/// A re-authorization invite for `conn`, stored with its first link; an attempt of it claimed
/// under `state` until 230.
async fn reconnect_claimed(
    store: &dyn Store,
    conn: &Connection,
    state: &str,
) -> (Invite, TokenHash) {
    let inv = Invite {
        reconnects: Some(conn.id.clone()),
        ..invite(conn.warehouse_id.as_str(), InviteStatus::Emailed, 150)
    };
    store.insert_invite(&inv, &link_of(&inv)).await.unwrap();
    let hash = claimed(store, &inv, state).await;
    (inv, hash)
}

/// `conn` with new sealed tokens (`ct`), a new expiry and refresh time: what the callback
/// commits.
fn renewed(conn: &Connection, ct: &str) -> Connection {
    Connection {
        tokens: SealedBlob {
            ct: ct.into(),
            ..conn.tokens.clone()
        },
        token_expires_at: Some(Timestamp(9000)),
        refreshed_at: Some(Timestamp(229)),
        status: ConnectionStatus::Active,
        version: conn.version + 1,
        ..conn.clone()
    }
}

async fn a_reconnect_commit_renews_the_same_connection(store: &dyn Store) {
    // GIVEN a connection whose grant the cart refused, and its claimed reconnect invite
    let conn = committed(store).await;
    store
        .set_connection_status(&conn.id, ConnectionStatus::NeedsReauth, conn.version)
        .await
        .unwrap();
    let (inv, state) = reconnect_claimed(store, &conn, "r").await;
    // WHEN the grant is committed at 229
    let next = renewed(&conn, "new-tokens");
    store
        .commit_reconnect(&inv.id, &next, conn.version, &state, Timestamp(229))
        .await
        .unwrap();
    // THEN the same connection has the new tokens, is active at the next version, and kept
    // its original invite and creation
    let now = store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(now, next);
    assert_eq!(now.invite_id, conn.invite_id);
    assert_eq!(now.version, conn.version + 1);
    // AND the invite is authorized and its attempt completed
    let inv_now = store.invite(&inv.id).await.unwrap().unwrap();
    assert_eq!(inv_now.status, InviteStatus::Authorized);
    assert_eq!(inv_now.reconnects, Some(conn.id.clone()));
    assert_eq!(
        store.attempt(&state).await.unwrap().unwrap().status,
        AttemptStatus::Completed
    );
}

async fn a_reconnect_invite_leads_to_its_connection_only_once_authorized(store: &dyn Store) {
    // GIVEN a connection and its claimed reconnect invite
    let conn = committed(store).await;
    let (inv, state) = reconnect_claimed(store, &conn, "r").await;
    // THEN before the grant the invite leads to no connection
    assert_eq!(store.connection_for_invite(&inv.id).await.unwrap(), None);
    // WHEN the grant is committed
    let next = renewed(&conn, "new-tokens");
    store
        .commit_reconnect(&inv.id, &next, conn.version, &state, Timestamp(229))
        .await
        .unwrap();
    // THEN both the reconnect invite and the original one lead to the renewed connection
    assert_eq!(
        store.connection_for_invite(&inv.id).await.unwrap(),
        Some(next.clone())
    );
    assert_eq!(
        store.connection_for_invite(&conn.invite_id).await.unwrap(),
        Some(next)
    );
}

async fn a_reconnect_commit_for_a_disconnected_connection_stores_nothing(store: &dyn Store) {
    // GIVEN a reconnect invite claimed, then its connection disconnected
    let conn = committed(store).await;
    let (inv, state) = reconnect_claimed(store, &conn, "r").await;
    let record = Disconnection {
        connection_id: conn.id.clone(),
        invite_id: conn.invite_id.clone(),
        warehouse_id: conn.warehouse_id.clone(),
        cart: conn.cart.clone(),
        disconnected_at: Timestamp(210),
        revocation: Revocation::Pending,
        by: Default::default(),
        account: None,
    };
    store.disconnect(&record, conn.version).await.unwrap();
    // WHEN the grant is committed
    let r = store
        .commit_reconnect(
            &inv.id,
            &renewed(&conn, "new"),
            conn.version,
            &state,
            Timestamp(229),
        )
        .await;
    // THEN it is a conflict: no connection comes back, the invite is still granting and the
    // attempt still claimed
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(store.connection(&conn.id).await.unwrap(), None);
    assert_eq!(
        store.invite(&inv.id).await.unwrap().unwrap().status,
        InviteStatus::Granting
    );
    assert_eq!(
        store.attempt(&state).await.unwrap().unwrap().status,
        AttemptStatus::Exchanging
    );
}

async fn a_reconnect_commit_is_conditional_on_the_version(store: &dyn Store) {
    // GIVEN a claimed reconnect invite, then a refresh that rewrote the connection's tokens
    let conn = committed(store).await;
    let (inv, state) = reconnect_claimed(store, &conn, "r").await;
    store
        .update_tokens(&conn.id, &conn.tokens, None, None, None, conn.version)
        .await
        .unwrap();
    // WHEN the grant read before that refresh is committed
    let r = store
        .commit_reconnect(
            &inv.id,
            &renewed(&conn, "new"),
            conn.version,
            &state,
            Timestamp(229),
        )
        .await;
    // THEN it is a conflict and the refreshed tokens stay
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let now = store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(now.tokens, conn.tokens);
    assert_eq!(now.version, conn.version + 1);
    assert_eq!(
        store.invite(&inv.id).await.unwrap().unwrap().status,
        InviteStatus::Granting
    );
}

async fn of_twenty_concurrent_reconnect_commits_exactly_one_wins(store: &dyn Store) {
    // GIVEN a claimed reconnect invite
    let conn = committed(store).await;
    let (inv, state) = reconnect_claimed(store, &conn, "r").await;
    // WHEN twenty commits of it, each with its own tokens, run at once
    let versions: Vec<Connection> = (0..20).map(|i| renewed(&conn, &format!("t{i}"))).collect();
    let outcomes =
        futures::future::join_all(versions.iter().map(|next| {
            store.commit_reconnect(&inv.id, next, conn.version, &state, Timestamp(229))
        }))
        .await;
    // THEN exactly one was written, the others are conflicts, and the stored tokens are the
    // winner's at exactly one version more
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict(_)))));
    let winner = outcomes.iter().position(|r| r.is_ok()).unwrap();
    assert_eq!(
        store.connection(&conn.id).await.unwrap(),
        Some(versions[winner].clone())
    );
}
