//! The cart-subscriptions part of the store's contract (`CartSubscriptions`), on both
//! adapters: one subscription per cart and account, replaced whole (a rotated secret), apart
//! from other accounts and carts.

use shared::carts::CartId;
use shared::domain::{CartSubscription, SealedBlob, Timestamp};
use shared::store::Store;

use super::{dynamodb_store, sqlite_store};

on_both_stores!(
    a_subscription_is_read_back_as_written_and_only_at_its_account,
    a_rotated_secret_replaces_the_subscription_whole,
    of_twenty_concurrent_writes_one_whole_subscription_stands,
);

fn subscription(account: &str, id: &str, secret: &str) -> CartSubscription {
    CartSubscription {
        cart: CartId::new("squarespace"),
        account: account.into(),
        subscription_id: id.into(),
        secret: SealedBlob {
            v: 1,
            key_id: "k".into(),
            edk: format!("edk-of-{secret}"),
            nonce: "n".into(),
            ct: format!("ct-of-{secret}"),
        },
        stored_at: Timestamp(100),
    }
}

async fn a_subscription_is_read_back_as_written_and_only_at_its_account(store: &dyn Store) {
    // GIVEN a subscription stored at one site
    let written = subscription("site-a", "sub-1", "s1");
    store.put_cart_subscription(&written).await.unwrap();
    // WHEN it is read at that site, at another site and at another cart
    let cart = CartId::new("squarespace");
    let read = store.cart_subscription(&cart, "site-a").await.unwrap();
    let other_site = store.cart_subscription(&cart, "site-b").await.unwrap();
    let other_cart = store
        .cart_subscription(&CartId::new("square"), "site-a")
        .await
        .unwrap();
    // THEN only the first finds it, as written
    assert_eq!(read, Some(written));
    assert_eq!((other_site, other_cart), (None, None));
}

async fn a_rotated_secret_replaces_the_subscription_whole(store: &dyn Store) {
    // GIVEN a subscription, then its rotated secret stored later
    store
        .put_cart_subscription(&subscription("site-a", "sub-1", "s1"))
        .await
        .unwrap();
    let rotated = CartSubscription {
        stored_at: Timestamp(200),
        ..subscription("site-a", "sub-1", "s2")
    };
    store.put_cart_subscription(&rotated).await.unwrap();
    // WHEN it is read THEN it is the rotated one only
    let read = store
        .cart_subscription(&CartId::new("squarespace"), "site-a")
        .await
        .unwrap();
    assert_eq!(read, Some(rotated));
}

async fn of_twenty_concurrent_writes_one_whole_subscription_stands(store: &dyn Store) {
    // GIVEN twenty writers each storing their own secret for one site at once
    let writes = (0..20).map(|i| {
        let record = subscription("site-a", &format!("sub-{i}"), &format!("s{i}"));
        async move { store.put_cart_subscription(&record).await }
    });
    // WHEN they all finish
    for r in futures::future::join_all(writes).await {
        r.unwrap();
    }
    // THEN one whole record stands: its id and secret are one writer's
    let read = store
        .cart_subscription(&CartId::new("squarespace"), "site-a")
        .await
        .unwrap()
        .unwrap();
    let n = read.subscription_id.trim_start_matches("sub-");
    assert_eq!(read.secret.ct, format!("ct-of-s{n}"));
}
