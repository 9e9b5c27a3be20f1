//! Connections by the store account they reach (`AccountConnections`), on both adapters: a
//! cart's uninstall names a store, and every connection to that cart at that store is found,
//! and so is what is left of one already dropped.

use shared::domain::{CartId, Connection, DisconnectedBy, Disconnection, Revocation, Timestamp};
use shared::domain::{ConnectionId, InviteStatus};
use shared::store::Store;

use super::{claimed, commit, connection, dynamodb_store, invite, link_of, sqlite_store};

on_both_stores!(
    the_connections_of_a_cart_at_an_account_are_found_by_it,
    a_connection_at_another_account_or_cart_is_not_found,
    a_dropped_connection_is_still_found_by_its_account_once,
);

/// A connection of `warehouse` to `cart` at `account`, committed through a grant.
async fn at_account(store: &dyn Store, warehouse: &str, cart: &str, account: &str) -> Connection {
    let mut inv = invite(warehouse, InviteStatus::Pending, 100);
    inv.cart = CartId::new(cart);
    store.insert_invite(&inv, &link_of(&inv)).await.unwrap();
    let state = claimed(store, &inv, &format!("{warehouse}-{cart}-{account}")).await;
    let mut conn = connection(&inv);
    conn.account = Some(account.to_owned());
    commit(store, &conn, &state, Timestamp(229)).await.unwrap();
    conn
}

fn sorted(mut ids: Vec<ConnectionId>) -> Vec<String> {
    let mut out: Vec<String> = ids.drain(..).map(|i| i.to_string()).collect();
    out.sort();
    out
}

async fn the_connections_of_a_cart_at_an_account_are_found_by_it(store: &dyn Store) {
    // GIVEN two warehouses connected to one shop through one cart
    let a = at_account(store, "wh-one", "shopify", "acme.myshopify.com").await;
    let b = at_account(store, "wh-two", "shopify", "acme.myshopify.com").await;
    // WHEN the connections at that account are asked for
    let found = store
        .ids_at_account(&CartId::new("shopify"), "acme.myshopify.com")
        .await
        .unwrap();
    // THEN both are found, each once
    assert_eq!(sorted(found), sorted(vec![a.id, b.id]));
}

async fn a_connection_at_another_account_or_cart_is_not_found(store: &dyn Store) {
    // GIVEN connections at another shop of the cart, and at this shop's name on another cart
    at_account(store, "wh-one", "shopify", "other.myshopify.com").await;
    at_account(store, "wh-one", "acme", "acme.myshopify.com").await;
    // WHEN the connections of the cart at this shop are asked for
    let found = store
        .ids_at_account(&CartId::new("shopify"), "acme.myshopify.com")
        .await
        .unwrap();
    // THEN none is found
    assert!(found.is_empty(), "{found:?}");
}

async fn a_dropped_connection_is_still_found_by_its_account_once(store: &dyn Store) {
    // GIVEN a connection at a shop, dropped by the cart (its record keeps the account)
    let conn = at_account(store, "wh-one", "shopify", "acme.myshopify.com").await;
    let record = Disconnection {
        connection_id: conn.id.clone(),
        invite_id: conn.invite_id.clone(),
        warehouse_id: conn.warehouse_id.clone(),
        cart: conn.cart.clone(),
        disconnected_at: Timestamp(300),
        revocation: Revocation::Revoked,
        by: DisconnectedBy::Cart,
        account: conn.account.clone(),
    };
    store.disconnect(&record, conn.version).await.unwrap();
    // WHEN the connections at that account are asked for
    let found = store
        .ids_at_account(&CartId::new("shopify"), "acme.myshopify.com")
        .await
        .unwrap();
    // THEN its id is found once, and its record reads back as the cart's
    assert_eq!(sorted(found), vec![conn.id.to_string()]);
    let read = store.disconnection(&conn.id).await.unwrap().unwrap();
    assert_eq!(read.by, DisconnectedBy::Cart);
}
