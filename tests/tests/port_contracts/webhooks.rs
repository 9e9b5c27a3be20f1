//! The webhook part of the store's contract (`WebhookStore`), on both adapters: endpoints
//! changed only from the revision read, deliveries stored once and updated only from the state
//! read, listed newest first a page at a time.

use shared::domain::{
    DeliveryId, DeliveryStatus, DeliveryTry, EndpointId, EndpointSecret, SealedBlob, Timestamp,
    WarehouseId, WebhookDelivery, WebhookEndpoint, WebhookEventType,
};
use shared::store::{DeliveryFilter, DeliveryRead, PageRequest, Store};

use super::{dynamodb_store, sqlite_store};

on_both_stores!(
    endpoints_are_listed_per_warehouse_oldest_first,
    an_endpoint_changes_only_from_the_revision_read,
    of_twenty_concurrent_endpoint_changes_exactly_one_wins,
    an_endpoint_is_deleted_by_its_own_warehouse_only,
    a_delivery_is_stored_once,
    a_delivery_changes_only_from_the_state_read,
    of_twenty_concurrent_delivery_updates_exactly_one_wins,
    deliveries_are_paged_newest_first_and_filtered,
);

fn wh(id: &str) -> WarehouseId {
    WarehouseId::parse(id).unwrap()
}

fn endpoint(warehouse: &str, created: i64) -> WebhookEndpoint {
    WebhookEndpoint {
        id: EndpointId::generate(),
        warehouse: wh(warehouse),
        url: "https://hooks.example.com/in".into(),
        events: vec![WebhookEventType::ConnectionAuthorized],
        secrets: vec![EndpointSecret {
            sealed: SealedBlob {
                v: 1,
                key_id: "k".into(),
                edk: "edk".into(),
                nonce: "n".into(),
                ct: "c".into(),
            },
            created_at: Timestamp(created),
            retires_at: None,
        }],
        disabled: None,
        created_at: Timestamp(created),
        revision: 0,
    }
}

fn delivery(warehouse: &str, created: i64, t: WebhookEventType) -> WebhookDelivery {
    let endpoint = EndpointId::generate();
    let message = format!("msg_{}", created);
    WebhookDelivery {
        id: DeliveryId::of(&format!("{message}-{endpoint}"), &endpoint),
        warehouse: wh(warehouse),
        endpoint,
        message_id: message,
        event_type: t,
        payload: "{}".into(),
        status: DeliveryStatus::Pending,
        tries: vec![],
        next_try_at: Timestamp(created),
        created_at: Timestamp(created),
    }
}

fn a_try(code: u16) -> DeliveryTry {
    DeliveryTry {
        at: Timestamp(500),
        status_code: Some(code),
        latency_ms: 3,
        error: None,
    }
}

async fn endpoints_are_listed_per_warehouse_oldest_first(store: &dyn Store) {
    // GIVEN two endpoints of one warehouse (the newer stored first) and one of another
    let (old, new) = (endpoint("wh-a", 100), endpoint("wh-a", 200));
    store.insert_endpoint(&new).await.unwrap();
    store.insert_endpoint(&old).await.unwrap();
    store.insert_endpoint(&endpoint("wh-b", 150)).await.unwrap();
    // WHEN the warehouse's endpoints are read THEN its own, oldest first, whole
    let listed = store.endpoints_of(&wh("wh-a")).await.unwrap();
    assert_eq!(listed, vec![old, new]);
}

async fn an_endpoint_changes_only_from_the_revision_read(store: &dyn Store) {
    // GIVEN an endpoint changed once
    let e = endpoint("wh-a", 100);
    store.insert_endpoint(&e).await.unwrap();
    let mut first = e.clone();
    first.url = "https://hooks.example.com/first".into();
    first.revision = 1;
    assert!(store.update_endpoint(&first).await.unwrap());
    // WHEN a change made from the original revision is written THEN it is refused
    let mut stale = e.clone();
    stale.url = "https://hooks.example.com/stale".into();
    stale.revision = 1;
    assert!(!store.update_endpoint(&stale).await.unwrap());
    // AND the first change stands
    assert_eq!(store.endpoints_of(&wh("wh-a")).await.unwrap(), vec![first]);
}

async fn of_twenty_concurrent_endpoint_changes_exactly_one_wins(store: &dyn Store) {
    let e = endpoint("wh-a", 100);
    store.insert_endpoint(&e).await.unwrap();
    let changes = (0..20).map(|i| {
        let mut c = e.clone();
        c.url = format!("https://hooks.example.com/{i}");
        c.revision = 1;
        async move { store.update_endpoint(&c).await.unwrap() }
    });
    let won = futures::future::join_all(changes).await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1);
}

async fn an_endpoint_is_deleted_by_its_own_warehouse_only(store: &dyn Store) {
    let e = endpoint("wh-a", 100);
    store.insert_endpoint(&e).await.unwrap();
    assert!(!store.delete_endpoint(&wh("wh-b"), &e.id).await.unwrap());
    assert!(store.delete_endpoint(&wh("wh-a"), &e.id).await.unwrap());
    assert!(!store.delete_endpoint(&wh("wh-a"), &e.id).await.unwrap());
    assert!(store.endpoints_of(&wh("wh-a")).await.unwrap().is_empty());
}

async fn a_delivery_is_stored_once(store: &dyn Store) {
    // GIVEN a delivery stored
    let d = delivery("wh-a", 100, WebhookEventType::Test);
    assert!(store.insert_delivery(&d).await.unwrap());
    // WHEN it is stored again (changed) THEN nothing changes
    let mut again = d.clone();
    again.payload = "{\"other\":1}".into();
    assert!(!store.insert_delivery(&again).await.unwrap());
    assert_eq!(store.delivery(&d.id).await.unwrap(), Some(d));
}

async fn a_delivery_changes_only_from_the_state_read(store: &dyn Store) {
    // GIVEN a delivery with one failed try recorded
    let d = delivery("wh-a", 100, WebhookEventType::Test);
    store.insert_delivery(&d).await.unwrap();
    let read = DeliveryRead::of(&d);
    let mut failed_once = d.clone();
    failed_once.tries.push(a_try(500));
    assert!(store.update_delivery(&failed_once, read).await.unwrap());
    // WHEN another writer writes from the state before that try THEN it is refused
    let mut stale = d.clone();
    stale.tries.push(a_try(200));
    stale.status = DeliveryStatus::Delivered;
    assert!(!store.update_delivery(&stale, read).await.unwrap());
    assert_eq!(store.delivery(&d.id).await.unwrap(), Some(failed_once));
}

async fn of_twenty_concurrent_delivery_updates_exactly_one_wins(store: &dyn Store) {
    let d = delivery("wh-a", 100, WebhookEventType::Test);
    store.insert_delivery(&d).await.unwrap();
    let read = DeliveryRead::of(&d);
    let updates = (0..20).map(|_| {
        let mut c = d.clone();
        c.tries.push(a_try(200));
        c.status = DeliveryStatus::Delivered;
        async move { store.update_delivery(&c, read).await.unwrap() }
    });
    let won = futures::future::join_all(updates).await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1);
    let stored = store.delivery(&d.id).await.unwrap().unwrap();
    assert_eq!(stored.tries.len(), 1);
}

async fn deliveries_are_paged_newest_first_and_filtered(store: &dyn Store) {
    // GIVEN 9 deliveries of one warehouse (every third a connection.authorized), one of another
    let mut made = Vec::new();
    for i in 0..9 {
        let t = if i % 3 == 0 {
            WebhookEventType::ConnectionAuthorized
        } else {
            WebhookEventType::InviteCreated
        };
        let d = delivery("wh-a", 100 + i, t);
        store.insert_delivery(&d).await.unwrap();
        made.push(d);
    }
    store
        .insert_delivery(&delivery("wh-b", 300, WebhookEventType::InviteCreated))
        .await
        .unwrap();
    // WHEN they are read 4 at a time
    let mut seen = Vec::new();
    let mut page = PageRequest::first(4);
    loop {
        let p = store
            .list_deliveries(&wh("wh-a"), &DeliveryFilter::default(), &page)
            .await
            .unwrap();
        seen.extend(p.items.iter().map(|d| d.id.clone()));
        match p.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    // THEN each of its own is seen once, newest first
    let newest_first: Vec<_> = made.iter().rev().map(|d| d.id.clone()).collect();
    assert_eq!(seen, newest_first);
    // AND a type filter keeps only that type
    let filter = DeliveryFilter {
        event_type: Some(WebhookEventType::ConnectionAuthorized),
        status: None,
    };
    let only = store
        .list_deliveries(&wh("wh-a"), &filter, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(only.items.len(), 3);
    assert!(only
        .items
        .iter()
        .all(|d| d.event_type == WebhookEventType::ConnectionAuthorized));
}
