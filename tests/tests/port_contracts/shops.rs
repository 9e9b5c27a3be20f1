//! Connections by the shops their grant reaches (`ids_at_shop`), on both adapters: a seller's
//! grant at TikTok Shop reaches several shops and its deauthorization webhook names one, so the
//! connection is found by each of its shops' ids (not by its account), the shops read back with
//! the connection, and a connection recorded without shops (every one made before they were
//! recorded) reads back with none and is found by no shop.

use shared::domain::{CartId, Connection, DisconnectedBy, Disconnection, Revocation, Shop};
use shared::domain::{ConnectionId, InviteStatus, Timestamp};
use shared::store::Store;

use super::{claimed, commit, connection, dynamodb_store, invite, link_of, sqlite_store};

on_both_stores!(
    a_connection_is_found_by_each_shop_its_grant_reaches,
    a_connection_reads_back_with_its_shops_and_ciphers,
    a_shop_at_another_cart_is_not_found,
    a_connection_is_not_found_as_a_shop_by_its_account,
    a_dropped_connection_is_still_found_by_its_shop_once,
    a_connection_without_shops_reads_back_with_none_and_is_found_by_no_shop,
);

const CART: &str = "tiktok-shop";

fn shop(id: &str, cipher: &str) -> Shop {
    Shop {
        id: id.to_owned(),
        cipher: cipher.to_owned(),
    }
}

/// A connection of `warehouse` to `cart` at the seller `account`, reaching `shops`,
/// committed through a grant.
async fn with_shops(
    store: &dyn Store,
    (warehouse, cart): (&str, &str),
    account: &str,
    shops: Vec<Shop>,
) -> Connection {
    let mut inv = invite(warehouse, InviteStatus::Pending, 100);
    inv.cart = CartId::new(cart);
    store.insert_invite(&inv, &link_of(&inv)).await.unwrap();
    let state = claimed(store, &inv, &format!("{warehouse}-{cart}-{account}")).await;
    let mut conn = connection(&inv);
    conn.account = Some(account.to_owned());
    conn.shops = shops;
    commit(store, &conn, &state, Timestamp(229)).await.unwrap();
    conn
}

async fn found(store: &dyn Store, cart: &str, shop: &str) -> Vec<String> {
    let mut ids: Vec<String> = store
        .ids_at_shop(&CartId::new(cart), shop)
        .await
        .unwrap()
        .iter()
        .map(ConnectionId::to_string)
        .collect();
    ids.sort();
    ids
}

async fn a_connection_is_found_by_each_shop_its_grant_reaches(store: &dyn Store) {
    // GIVEN a seller's grant reaching two shops
    let conn = with_shops(
        store,
        ("wh-one", CART),
        "open-id-1",
        vec![
            shop("7494000000000000001", "ROW_a"),
            shop("7494000000000000002", "ROW_b"),
        ],
    )
    .await;
    // WHEN the connections at each shop, and at a third shop, are asked for
    // THEN each of its shops finds it once, and the third finds nothing
    let id = vec![conn.id.to_string()];
    assert_eq!(found(store, CART, "7494000000000000001").await, id);
    assert_eq!(found(store, CART, "7494000000000000002").await, id);
    assert!(found(store, CART, "7494000000000000003").await.is_empty());
}

async fn a_connection_reads_back_with_its_shops_and_ciphers(store: &dyn Store) {
    // GIVEN a seller's grant reaching two shops
    let shops = vec![
        shop("7494000000000000001", "ROW_a"),
        shop("7494000000000000002", "ROW_b"),
    ];
    let conn = with_shops(store, ("wh-one", CART), "open-id-1", shops.clone()).await;
    // WHEN the connection is read
    let read = store.connection(&conn.id).await.unwrap().unwrap();
    // THEN its shops are the ones recorded, with their ciphers, and its account the seller's
    assert_eq!(read.shops, shops);
    assert_eq!(read.account.as_deref(), Some("open-id-1"));
}

async fn a_shop_at_another_cart_is_not_found(store: &dyn Store) {
    // GIVEN a connection reaching a shop whose id is the same at another cart
    with_shops(
        store,
        ("wh-one", "other-cart"),
        "open-id-1",
        vec![shop("7494000000000000001", "ROW_a")],
    )
    .await;
    // WHEN TikTok Shop's connections at that shop id are asked for THEN none is found
    assert!(found(store, CART, "7494000000000000001").await.is_empty());
}

async fn a_connection_is_not_found_as_a_shop_by_its_account(store: &dyn Store) {
    // GIVEN a seller's grant reaching a shop, its account the seller's id
    with_shops(
        store,
        ("wh-one", CART),
        "7010736057180325637",
        vec![shop("7494000000000000001", "ROW_a")],
    )
    .await;
    // WHEN the connections at a shop whose id is the seller's are asked for THEN none is found
    assert!(found(store, CART, "7010736057180325637").await.is_empty());
}

async fn a_dropped_connection_is_still_found_by_its_shop_once(store: &dyn Store) {
    // GIVEN a connection reaching a shop, dropped by the cart (a revocation whose email a
    // crash may have left owed)
    let conn = with_shops(
        store,
        ("wh-one", CART),
        "open-id-1",
        vec![shop("7494000000000000001", "ROW_a")],
    )
    .await;
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
    // WHEN the connections at that shop are asked for
    // THEN its id is found once, so a repeated signal finishes what the first left owed
    assert_eq!(
        found(store, CART, "7494000000000000001").await,
        vec![conn.id.to_string()]
    );
    assert!(store.connection(&conn.id).await.unwrap().is_none());
}

async fn a_connection_without_shops_reads_back_with_none_and_is_found_by_no_shop(
    store: &dyn Store,
) {
    // GIVEN a connection recorded without shops, as every one made before they were, its
    // account a shop id (as TikTok Shop's first stand-in faked it)
    let conn = with_shops(store, ("wh-one", CART), "7494000000000000001", Vec::new()).await;
    // WHEN it is read, and looked up by that shop id
    let read = store.connection(&conn.id).await.unwrap().unwrap();
    // THEN it has no shops and no shop finds it
    assert!(read.shops.is_empty());
    assert!(found(store, CART, "7494000000000000001").await.is_empty());
}
