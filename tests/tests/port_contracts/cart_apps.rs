//! The cart-apps part of the store's contract (`CartApps`), on both adapters: one app per
//! warehouse and cart, replaced whole, listed by cart, removed once.

use shared::carts::CartId;
use shared::domain::{CartApp, SealedBlob, Timestamp, WarehouseId};
use shared::store::Store;

use super::{dynamodb_store, sqlite_store};

on_both_stores!(
    an_app_is_read_back_as_written,
    a_second_write_replaces_the_app_whole,
    a_warehouses_apps_are_listed_by_cart_and_apart_from_others,
    an_app_is_removed_once,
    of_twenty_concurrent_writes_one_whole_app_stands,
);

fn app(warehouse: &str, cart: &str, client_id: &str) -> CartApp {
    CartApp {
        warehouse: WarehouseId::parse(warehouse).unwrap(),
        cart: CartId::new(cart),
        client_id: client_id.into(),
        secret: Some(SealedBlob {
            v: 1,
            key_id: "k".into(),
            edk: format!("edk-of-{client_id}"),
            nonce: "n".into(),
            ct: format!("ct-of-{client_id}"),
        }),
        app_id: None,
        ru_name: Some(format!("ru-of-{client_id}")),
        draft: false,
        created_at: Timestamp(100),
        updated_at: Timestamp(100),
    }
}

async fn an_app_is_read_back_as_written(store: &dyn Store) {
    // GIVEN an app stored
    let written = app("wh-a", "shopify", "app-1");
    store.put_cart_app(&written).await.unwrap();
    // WHEN it is read
    let read = store
        .cart_app(&written.warehouse, &written.cart)
        .await
        .unwrap();
    // THEN it is what was written, and another cart has none
    assert_eq!(read, Some(written.clone()));
    let other = store
        .cart_app(&written.warehouse, &CartId::new("ebay"))
        .await
        .unwrap();
    assert_eq!(other, None);
}

async fn a_second_write_replaces_the_app_whole(store: &dyn Store) {
    // GIVEN an app, then another one written for the same warehouse and cart
    store
        .put_cart_app(&app("wh-a", "shopify", "app-1"))
        .await
        .unwrap();
    let mut second = app("wh-a", "shopify", "app-2");
    second.ru_name = None;
    store.put_cart_app(&second).await.unwrap();
    // WHEN it is read
    let read = store
        .cart_app(&second.warehouse, &second.cart)
        .await
        .unwrap();
    // THEN only the second stands, with none of the first's fields
    assert_eq!(read, Some(second));
}

async fn a_warehouses_apps_are_listed_by_cart_and_apart_from_others(store: &dyn Store) {
    // GIVEN two apps of one warehouse (written out of order) and one of another
    store
        .put_cart_app(&app("wh-a", "shopify", "s"))
        .await
        .unwrap();
    store.put_cart_app(&app("wh-a", "ebay", "e")).await.unwrap();
    store.put_cart_app(&app("wh-b", "etsy", "x")).await.unwrap();
    // WHEN the first warehouse's are listed
    let listed = store
        .cart_apps(&WarehouseId::parse("wh-a").unwrap())
        .await
        .unwrap();
    // THEN they are its two, by cart id
    let carts: Vec<&str> = listed.iter().map(|a| a.cart.as_str()).collect();
    assert_eq!(carts, ["ebay", "shopify"]);
}

async fn an_app_is_removed_once(store: &dyn Store) {
    // GIVEN a stored app
    let written = app("wh-a", "shopify", "app-1");
    store.put_cart_app(&written).await.unwrap();
    // WHEN it is removed twice
    let first = store
        .delete_cart_app(&written.warehouse, &written.cart)
        .await
        .unwrap();
    let second = store
        .delete_cart_app(&written.warehouse, &written.cart)
        .await
        .unwrap();
    // THEN the first removal found it, the second none, and it is gone
    assert!(first && !second);
    assert_eq!(
        store
            .cart_app(&written.warehouse, &written.cart)
            .await
            .unwrap(),
        None
    );
}

async fn of_twenty_concurrent_writes_one_whole_app_stands(store: &dyn Store) {
    // GIVEN twenty different apps written at once for one warehouse and cart
    let apps: Vec<CartApp> = (0..20)
        .map(|i| app("wh-a", "shopify", &format!("app-{i}")))
        .collect();
    let writes = apps.iter().map(|a| store.put_cart_app(a));
    for done in futures::future::join_all(writes).await {
        done.unwrap();
    }
    // WHEN it is read
    let read = store
        .cart_app(&apps[0].warehouse, &apps[0].cart)
        .await
        .unwrap()
        .unwrap();
    // THEN it is one of the twenty whole: its sealed secret is its own client id's
    assert!(apps.contains(&read), "{read:?}");
}
