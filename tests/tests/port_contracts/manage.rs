//! Manage links and last token fetches (`ManageLinks`), on both adapters: a link hash opens the
//! one connection it was stored for, and a fetch time is written at most once a minute, never
//! backwards.

use shared::domain::{
    ConnectionId, DisconnectedBy, Disconnection, InviteId, Revocation, Timestamp, TokenHash,
};
use shared::store::{ManageLink, Store, StoreError};

use super::{committed, dynamodb_store, sqlite_store};

on_both_stores!(
    a_manage_link_opens_the_connection_it_was_stored_for,
    a_manage_link_hash_is_stored_once,
    of_twenty_concurrent_puts_of_one_manage_link_exactly_one_wins,
    a_token_fetch_is_recorded_at_most_once_a_minute_and_never_backwards,
    a_merchants_disconnection_reads_back_as_the_merchants,
    the_links_of_an_address_are_its_connections_latest,
);

fn link(connection: &str, invite: &str, at: i64) -> ManageLink {
    ManageLink {
        connection_id: ConnectionId::parse(connection).unwrap(),
        invite_id: InviteId::parse(invite).unwrap(),
        created_at: Timestamp(at),
        merchant: TokenHash::of("merchant@shop.test"),
    }
}

async fn a_manage_link_opens_the_connection_it_was_stored_for(store: &dyn Store) {
    // GIVEN two links for two connections
    let (a, b) = (TokenHash::of("link-a"), TokenHash::of("link-b"));
    store
        .add_manage_link(&a, &link("con-a", "inv-a", 10))
        .await
        .unwrap();
    store
        .add_manage_link(&b, &link("con-b", "inv-b", 11))
        .await
        .unwrap();
    // WHEN each is read, and a hash never stored
    // THEN each opens its own connection only, and the unknown hash nothing
    assert_eq!(
        store.manage_link(&a).await.unwrap(),
        Some(link("con-a", "inv-a", 10))
    );
    assert_eq!(
        store.manage_link(&b).await.unwrap(),
        Some(link("con-b", "inv-b", 11))
    );
    assert_eq!(
        store.manage_link(&TokenHash::of("link-c")).await.unwrap(),
        None
    );
}

async fn a_manage_link_hash_is_stored_once(store: &dyn Store) {
    // GIVEN a stored link
    let hash = TokenHash::of("link");
    store
        .add_manage_link(&hash, &link("con-a", "inv-a", 10))
        .await
        .unwrap();
    // WHEN the same hash is stored for another connection
    let again = store
        .add_manage_link(&hash, &link("con-b", "inv-b", 11))
        .await;
    // THEN that is a conflict, and the link still opens the first connection
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(
        store.manage_link(&hash).await.unwrap(),
        Some(link("con-a", "inv-a", 10))
    );
}

async fn of_twenty_concurrent_puts_of_one_manage_link_exactly_one_wins(store: &dyn Store) {
    // GIVEN one hash
    let hash = TokenHash::of("link");
    let records: Vec<ManageLink> = (0..20)
        .map(|i| link(&format!("con-{i}"), "inv-a", i))
        .collect();
    // WHEN twenty store it at once for twenty connections
    let outcomes =
        futures::future::join_all(records.iter().map(|r| store.add_manage_link(&hash, r))).await;
    // THEN exactly one wins, and the stored link is the winner's
    let winners: Vec<&ManageLink> = outcomes
        .iter()
        .zip(&records)
        .filter(|(o, _)| o.is_ok())
        .map(|(_, r)| r)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert_eq!(
        store.manage_link(&hash).await.unwrap().as_ref(),
        Some(winners[0])
    );
}

async fn a_token_fetch_is_recorded_at_most_once_a_minute_and_never_backwards(store: &dyn Store) {
    // GIVEN a connection never fetched
    let id = ConnectionId::parse("con-a").unwrap();
    assert_eq!(store.last_token_fetch(&id).await.unwrap(), None);
    // WHEN fetches are recorded at 1000, 1030 (within the minute) and 990 (late, older)
    store
        .record_token_fetch(&id, Timestamp(1000))
        .await
        .unwrap();
    store
        .record_token_fetch(&id, Timestamp(1030))
        .await
        .unwrap();
    store.record_token_fetch(&id, Timestamp(990)).await.unwrap();
    // THEN the first stands
    assert_eq!(
        store.last_token_fetch(&id).await.unwrap(),
        Some(Timestamp(1000))
    );
    // WHEN one is recorded a minute later
    store
        .record_token_fetch(&id, Timestamp(1060))
        .await
        .unwrap();
    // THEN it is the last fetch
    assert_eq!(
        store.last_token_fetch(&id).await.unwrap(),
        Some(Timestamp(1060))
    );
}

async fn a_merchants_disconnection_reads_back_as_the_merchants(store: &dyn Store) {
    // GIVEN a connection the merchant withdrew
    let conn = committed(store).await;
    let record = Disconnection {
        connection_id: conn.id.clone(),
        invite_id: conn.invite_id.clone(),
        warehouse_id: conn.warehouse_id.clone(),
        cart: conn.cart.clone(),
        disconnected_at: Timestamp(300),
        revocation: Revocation::Pending,
        by: DisconnectedBy::Merchant,
        account: None,
    };
    store.disconnect(&record, conn.version).await.unwrap();
    // WHEN its record is read
    let read = store.disconnection(&conn.id).await.unwrap().unwrap();
    // THEN it says the merchant withdrew it
    assert_eq!(read.by, DisconnectedBy::Merchant);
}

async fn the_links_of_an_address_are_its_connections_latest(store: &dyn Store) {
    // GIVEN two links for one connection and one for another, all of one address, and one of
    // another address
    let mine = TokenHash::of("m@shop.test");
    let theirs = TokenHash::of("t@shop.test");
    let of = |c: &str, at: i64, who: &TokenHash| ManageLink {
        merchant: who.clone(),
        ..link(c, "inv-a", at)
    };
    for (hash, record) in [
        ("l1", of("con-a", 10, &mine)),
        ("l2", of("con-a", 20, &mine)),
        ("l3", of("con-b", 15, &mine)),
        ("l4", of("con-c", 15, &theirs)),
    ] {
        store
            .add_manage_link(&TokenHash::of(hash), &record)
            .await
            .unwrap();
    }
    // WHEN the address's links are read
    let mut found = store.manage_links_for(&mine).await.unwrap();
    found.sort_by(|a, b| a.connection_id.cmp(&b.connection_id));
    // THEN each of its connections is there once, with its latest link, and nothing else
    assert_eq!(found, vec![of("con-a", 20, &mine), of("con-b", 15, &mine)]);
    assert_eq!(
        store
            .manage_links_for(&TokenHash::of("nobody"))
            .await
            .unwrap(),
        vec![]
    );
}
