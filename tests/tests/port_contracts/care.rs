//! The care schedule (`CareSchedule`, and the care time every token and status write keeps),
//! on both adapters: what is due is read in care-time order, bounded, and every write that
//! changes a connection's tokens or status moves its care time in the same write.

use shared::domain::{
    ConnectionStatus, DisconnectedBy, Disconnection, Invite, InviteStatus, Revocation, Timestamp,
};
use shared::store::{Store, StoreError};

use super::{claimed, commit, connection, dynamodb_store, invite, link_of, sqlite_store};

on_both_stores!(
    what_is_due_is_read_by_care_time_earliest_first_and_bounded,
    a_token_write_moves_the_care_time_or_keeps_it,
    a_connection_that_is_not_active_leaves_the_schedule,
    care_moves_only_the_care_time_under_the_version_it_read,
    a_dropped_connection_leaves_the_schedule,
    a_reconnect_commit_writes_the_grant_and_its_care_time,
    a_subscription_is_recorded_only_under_the_version_read,
);

/// A connection committed for a new invite of `warehouse`, with care time `care_at`.
async fn with_care(
    store: &dyn Store,
    warehouse: &str,
    care_at: Option<i64>,
) -> shared::domain::Connection {
    let inv = invite(warehouse, InviteStatus::Pending, 100);
    store.insert_invite(&inv, &link_of(&inv)).await.unwrap();
    let state = claimed(store, &inv, &format!("care-{}", inv.id)).await;
    let mut conn = connection(&inv);
    conn.care_at = care_at.map(Timestamp);
    conn.granted_at = Some(Timestamp(150));
    conn.care_noticed = Some(Timestamp(160));
    commit(store, &conn, &state, Timestamp(229)).await.unwrap();
    conn
}

async fn due_ids(store: &dyn Store, now: i64, limit: usize) -> Vec<String> {
    store
        .due_for_care(Timestamp(now), limit)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id.to_string())
        .collect()
}

async fn what_is_due_is_read_by_care_time_earliest_first_and_bounded(store: &dyn Store) {
    // GIVEN connections cared for at 700, 500 and never
    let late = with_care(store, "wh-one", Some(700)).await;
    let early = with_care(store, "wh-two", Some(500)).await;
    with_care(store, "wh-three", None).await;
    // WHEN what is due is read at 499, 500, 700 and at 700 with a page of one
    // THEN nothing, the early one, both earliest first, and only the early one are read
    assert!(due_ids(store, 499, 10).await.is_empty());
    assert_eq!(due_ids(store, 500, 10).await, [early.id.to_string()]);
    assert_eq!(
        due_ids(store, 700, 10).await,
        [early.id.to_string(), late.id.to_string()]
    );
    assert_eq!(due_ids(store, 700, 1).await, [early.id.to_string()]);
    // AND each reads back whole, its grant and noticed deadline included
    let read = store.due_for_care(Timestamp(500), 10).await.unwrap();
    assert_eq!(read, [early]);
}

async fn a_token_write_moves_the_care_time_or_keeps_it(store: &dyn Store) {
    // GIVEN a connection cared for at 500
    let conn = with_care(store, "wh-one", Some(500)).await;
    // WHEN a refresh writes its tokens with care time 900
    let v2 = store
        .update_tokens(
            &conn.id,
            &conn.tokens,
            None,
            Some(Timestamp(400)),
            Some(Timestamp(900)),
            1,
        )
        .await
        .unwrap();
    // THEN it is no longer due at 500 but is at 900
    assert!(due_ids(store, 899, 10).await.is_empty());
    assert_eq!(due_ids(store, 900, 10).await, [conn.id.to_string()]);
    // AND a token write without a care time keeps 900
    store
        .update_tokens(&conn.id, &conn.tokens, None, None, None, v2)
        .await
        .unwrap();
    let stored = store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(stored.care_at, Some(Timestamp(900)));
    // AND a stale token write moves nothing
    let r = store
        .update_tokens(&conn.id, &conn.tokens, None, None, Some(Timestamp(1)), v2)
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(due_ids(store, 899, 10).await.is_empty());
}

async fn a_connection_that_is_not_active_leaves_the_schedule(store: &dyn Store) {
    // GIVEN a connection cared for at 500
    let conn = with_care(store, "wh-one", Some(500)).await;
    // WHEN it is marked as needing re-authorization
    store
        .set_connection_status(&conn.id, ConnectionStatus::NeedsReauth, conn.version)
        .await
        .unwrap();
    // THEN it has no care time and is never due
    let stored = store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(stored.care_at, None);
    assert!(due_ids(store, i64::from(u32::MAX), 10).await.is_empty());
}

async fn care_moves_only_the_care_time_under_the_version_it_read(store: &dyn Store) {
    // GIVEN a connection cared for at 500
    let conn = with_care(store, "wh-one", Some(500)).await;
    // WHEN care moves it to 800, noting the deadline 1000
    store
        .reschedule_care(&conn.id, Some(Timestamp(800)), Some(Timestamp(1000)), 1)
        .await
        .unwrap();
    // THEN only the care time and the noticed deadline changed (the version too stayed)
    let stored = store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(stored.care_at, Some(Timestamp(800)));
    assert_eq!(stored.care_noticed, Some(Timestamp(1000)));
    assert_eq!(stored.version, conn.version);
    assert_eq!(stored.tokens, conn.tokens);
    assert_eq!(due_ids(store, 800, 10).await, [conn.id.to_string()]);
    // AND care without a care time takes it off the schedule, keeping the noticed deadline
    store
        .reschedule_care(&conn.id, None, None, 1)
        .await
        .unwrap();
    let stored = store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.care_at, stored.care_noticed),
        (None, Some(Timestamp(1000)))
    );
    assert!(due_ids(store, 10_000, 10).await.is_empty());
    // AND a move under a version since replaced is a conflict and changes nothing
    let r = store
        .reschedule_care(&conn.id, Some(Timestamp(5)), None, 7)
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(due_ids(store, 10_000, 10).await.is_empty());
    // AND a missing connection is missing
    let r = store
        .reschedule_care(&shared::domain::ConnectionId::generate(), None, None, 1)
        .await;
    assert!(matches!(r, Err(StoreError::Missing(_))), "{r:?}");
}

async fn a_dropped_connection_leaves_the_schedule(store: &dyn Store) {
    // GIVEN a connection cared for at 500, dropped by its warehouse
    let conn = with_care(store, "wh-one", Some(500)).await;
    let record = Disconnection {
        connection_id: conn.id.clone(),
        invite_id: conn.invite_id.clone(),
        warehouse_id: conn.warehouse_id.clone(),
        cart: conn.cart.clone(),
        disconnected_at: Timestamp(300),
        revocation: Revocation::Pending,
        by: DisconnectedBy::default(),
        account: None,
    };
    store.disconnect(&record, conn.version).await.unwrap();
    // WHEN what is due is read THEN it is not
    assert!(due_ids(store, 10_000, 10).await.is_empty());
}

async fn a_reconnect_commit_writes_the_grant_and_its_care_time(store: &dyn Store) {
    // GIVEN a connection noticed and off the schedule, and its claimed reconnect invite
    let conn = with_care(store, "wh-one", None).await;
    let inv = Invite {
        reconnects: Some(conn.id.clone()),
        ..invite(conn.warehouse_id.as_str(), InviteStatus::Emailed, 150)
    };
    store.insert_invite(&inv, &link_of(&inv)).await.unwrap();
    let state = claimed(store, &inv, "reconnect").await;
    // WHEN the grant is committed with a new grant time and care time, no noticed deadline
    let next = shared::domain::Connection {
        version: conn.version + 1,
        refreshed_at: Some(Timestamp(229)),
        granted_at: Some(Timestamp(229)),
        care_at: Some(Timestamp(600)),
        care_noticed: None,
        ..conn.clone()
    };
    store
        .commit_reconnect(&inv.id, &next, conn.version, &state, Timestamp(229))
        .await
        .unwrap();
    // THEN the connection reads back as committed, and is due again from 600
    assert_eq!(store.connection(&conn.id).await.unwrap().unwrap(), next);
    assert_eq!(due_ids(store, 600, 10).await, [conn.id.to_string()]);
}

async fn a_subscription_is_recorded_only_under_the_version_read(store: &dyn Store) {
    // GIVEN a connection cared for at 500, never subscribed
    let conn = with_care(store, "wh-one", Some(500)).await;
    assert_eq!(conn.subscribed_at, None);
    // WHEN care records its site's subscription at 300 under the version it read
    store
        .record_subscribed(&conn.id, Timestamp(300), conn.version)
        .await
        .unwrap();
    // THEN it reads back, and nothing else changed (the version and the care time stayed)
    let stored = store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(stored.subscribed_at, Some(Timestamp(300)));
    assert_eq!(
        (stored.version, stored.care_at),
        (conn.version, conn.care_at)
    );
    assert_eq!(stored.tokens, conn.tokens);
    // AND a record under a version since replaced is a conflict and changes nothing
    let r = store
        .record_subscribed(&conn.id, Timestamp(900), conn.version + 1)
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let stored = store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(stored.subscribed_at, Some(Timestamp(300)));
    // AND a missing connection is missing
    let r = store
        .record_subscribed(&shared::domain::ConnectionId::generate(), Timestamp(1), 1)
        .await;
    assert!(matches!(r, Err(StoreError::Missing(_))), "{r:?}");
}
