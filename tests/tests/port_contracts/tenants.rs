//! The tenants part of the store's contract (`Tenants`), on both adapters: warehouses kept as
//! data, their branding and logo, and the records of their API keys (by hash only).

use shared::domain::{ApiKeyRecord, Branding, Tenant, Timestamp, TokenHash, WarehouseId};
use shared::store::{Store, StoreError};

use super::{dynamodb_store, sqlite_store};

on_both_stores!(
    a_warehouse_is_created_once_and_listed_oldest_first,
    of_twenty_concurrent_creations_of_one_warehouse_exactly_one_wins,
    disabling_and_branding_change_only_their_fields,
    changing_a_missing_warehouse_is_missing,
    each_logo_upload_replaces_the_image_and_bumps_the_version,
    of_concurrent_logo_uploads_the_stored_image_is_the_one_of_the_last_version,
    a_key_is_found_by_its_hash_and_listed_with_its_warehouse_only,
    a_key_needs_its_warehouse_and_a_hash_of_its_own,
    a_revoked_key_stays_revoked_from_the_first_revocation,
    a_keys_last_use_is_written_at_most_every_five_minutes,
);

fn tenant(id: &str, created_at: i64) -> Tenant {
    Tenant {
        id: WarehouseId::parse(id).unwrap(),
        display_name: format!("{id} Ltd"),
        notify_email: format!("ops@{id}.test"),
        created_at: Timestamp(created_at),
        disabled: false,
        branding: Branding::default(),
    }
}

fn key(warehouse: &str, id: &str, created_at: i64) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        warehouse: WarehouseId::parse(warehouse).unwrap(),
        hash: TokenHash::of(&format!("secret-of-{id}")),
        prefix: "clk_live_abcdef".into(),
        name: "ci".into(),
        created_at: Timestamp(created_at),
        last_used_at: None,
        revoked_at: None,
    }
}

async fn a_warehouse_is_created_once_and_listed_oldest_first(store: &dyn Store) {
    // GIVEN two warehouses, the second created first
    store.create_tenant(&tenant("wh-b", 200)).await.unwrap();
    store.create_tenant(&tenant("wh-a", 100)).await.unwrap();
    // WHEN one is created again with other fields
    let again = Tenant {
        display_name: "Other".into(),
        ..tenant("wh-a", 300)
    };
    let second = store.create_tenant(&again).await;
    // THEN that is a conflict and the first stays, and the list is oldest first
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    let read = store.tenant(&again.id).await.unwrap().unwrap();
    assert_eq!(read, tenant("wh-a", 100));
    let ids: Vec<String> = store
        .tenants()
        .await
        .unwrap()
        .iter()
        .map(|t| t.id.to_string())
        .collect();
    assert_eq!(ids, ["wh-a", "wh-b"]);
}

async fn of_twenty_concurrent_creations_of_one_warehouse_exactly_one_wins(store: &dyn Store) {
    // GIVEN twenty creations of the same id, each with its own name, at once
    let attempts = (0..20).map(|i| {
        let t = Tenant {
            display_name: format!("name {i}"),
            ..tenant("wh-race", 100)
        };
        async move { (store.create_tenant(&t).await, t.display_name) }
    });
    let results = futures::future::join_all(attempts).await;
    // THEN exactly one succeeds, the others conflict, and the stored name is the winner's
    let winners: Vec<&String> = results
        .iter()
        .filter(|(r, _)| r.is_ok())
        .map(|(_, n)| n)
        .collect();
    assert_eq!(winners.len(), 1);
    assert!(results
        .iter()
        .all(|(r, _)| r.is_ok() || matches!(r, Err(StoreError::Conflict(_)))));
    let stored = store
        .tenant(&WarehouseId::parse("wh-race").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&stored.display_name, winners[0]);
}

async fn disabling_and_branding_change_only_their_fields(store: &dyn Store) {
    // GIVEN a warehouse with a logo
    let t = tenant("wh-a", 100);
    store.create_tenant(&t).await.unwrap();
    store.put_logo(&t.id, b"png").await.unwrap();
    // WHEN it is branded, then disabled, then branded with fewer fields
    let full = Branding {
        accent: Some("#1a4d8f".into()),
        support_email: Some("help@a.test".into()),
        privacy_url: Some("https://a.test/privacy".into()),
        logo_version: None,
    };
    store.set_branding(&t.id, &full).await.unwrap();
    store.set_tenant_disabled(&t.id, true).await.unwrap();
    let fewer = Branding {
        support_email: None,
        ..full.clone()
    };
    store.set_branding(&t.id, &fewer).await.unwrap();
    // THEN it is disabled, the cleared field is gone, and the logo version is untouched
    let read = store.tenant(&t.id).await.unwrap().unwrap();
    assert!(read.disabled);
    assert_eq!(
        read.branding,
        Branding {
            logo_version: Some(1),
            ..fewer
        }
    );
    assert_eq!(read.display_name, t.display_name);
}

async fn changing_a_missing_warehouse_is_missing(store: &dyn Store) {
    // GIVEN no warehouse
    let id = WarehouseId::parse("wh-none").unwrap();
    // THEN disabling, branding and a logo each answer Missing, and nothing is read back
    let missing = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Missing(_)));
    assert!(missing(store.set_tenant_disabled(&id, true).await));
    assert!(missing(store.set_branding(&id, &Branding::default()).await));
    assert!(missing(store.put_logo(&id, b"png").await.map(|_| ())));
    assert!(store.tenant(&id).await.unwrap().is_none());
    assert!(store.logo(&id).await.unwrap().is_none());
}

async fn each_logo_upload_replaces_the_image_and_bumps_the_version(store: &dyn Store) {
    // GIVEN a warehouse without a logo
    let t = tenant("wh-a", 100);
    store.create_tenant(&t).await.unwrap();
    assert!(store.logo(&t.id).await.unwrap().is_none());
    // WHEN two logos are uploaded one after the other
    let first = store.put_logo(&t.id, b"first").await.unwrap();
    let second = store.put_logo(&t.id, b"second").await.unwrap();
    // THEN the versions count up, and the second image is the one stored
    assert_eq!((first, second), (1, 2));
    assert_eq!(store.logo(&t.id).await.unwrap().unwrap(), b"second");
    let read = store.tenant(&t.id).await.unwrap().unwrap();
    assert_eq!(read.branding.logo_version, Some(2));
}

async fn a_key_is_found_by_its_hash_and_listed_with_its_warehouse_only(store: &dyn Store) {
    // GIVEN two warehouses, one with two keys, the other with one
    store.create_tenant(&tenant("wh-a", 100)).await.unwrap();
    store.create_tenant(&tenant("wh-b", 100)).await.unwrap();
    let (a1, a2, b1) = (
        key("wh-a", "key-a1", 10),
        key("wh-a", "key-a2", 20),
        key("wh-b", "key-b1", 5),
    );
    for k in [&a2, &b1, &a1] {
        store.insert_api_key(k).await.unwrap();
    }
    // THEN each key is found by its hash as stored, an unknown hash finds none
    assert_eq!(store.api_key(&a2.hash).await.unwrap().unwrap(), a2);
    assert!(store
        .api_key(&TokenHash::of("other"))
        .await
        .unwrap()
        .is_none());
    // AND a warehouse lists its own keys, oldest first
    let listed = store.api_keys_of(&a1.warehouse).await.unwrap();
    assert_eq!(listed, [a1, a2]);
}

async fn a_key_needs_its_warehouse_and_a_hash_of_its_own(store: &dyn Store) {
    // GIVEN a warehouse with a key
    store.create_tenant(&tenant("wh-a", 100)).await.unwrap();
    let k = key("wh-a", "key-1", 10);
    store.insert_api_key(&k).await.unwrap();
    // WHEN a key of a missing warehouse, and another record with the same hash, are stored
    let orphan = store.insert_api_key(&key("wh-none", "key-2", 10)).await;
    let twin = store
        .insert_api_key(&ApiKeyRecord {
            id: "key-3".into(),
            ..k.clone()
        })
        .await;
    // THEN the first is Missing, the second a Conflict, and the stored record is unchanged
    assert!(matches!(orphan, Err(StoreError::Missing(_))), "{orphan:?}");
    assert!(matches!(twin, Err(StoreError::Conflict(_))), "{twin:?}");
    assert_eq!(store.api_key(&k.hash).await.unwrap().unwrap(), k);
}

async fn a_revoked_key_stays_revoked_from_the_first_revocation(store: &dyn Store) {
    // GIVEN two warehouses, each with a key
    store.create_tenant(&tenant("wh-a", 100)).await.unwrap();
    store.create_tenant(&tenant("wh-b", 100)).await.unwrap();
    let (a, b) = (key("wh-a", "key-a", 10), key("wh-b", "key-b", 10));
    store.insert_api_key(&a).await.unwrap();
    store.insert_api_key(&b).await.unwrap();
    // WHEN a's key is revoked twice, and b's key is named under a
    store
        .revoke_api_key(&a.warehouse, "key-a", Timestamp(50))
        .await
        .unwrap();
    store
        .revoke_api_key(&a.warehouse, "key-a", Timestamp(60))
        .await
        .unwrap();
    let foreign = store
        .revoke_api_key(&a.warehouse, "key-b", Timestamp(70))
        .await;
    // THEN a's key keeps the first time, b's key is untouched and naming it under a is Missing
    let read = store.api_key(&a.hash).await.unwrap().unwrap();
    assert_eq!(read.revoked_at, Some(Timestamp(50)));
    assert!(
        matches!(foreign, Err(StoreError::Missing(_))),
        "{foreign:?}"
    );
    assert_eq!(
        store.api_key(&b.hash).await.unwrap().unwrap().revoked_at,
        None
    );
}

async fn a_keys_last_use_is_written_at_most_every_five_minutes(store: &dyn Store) {
    // GIVEN a key never used
    store.create_tenant(&tenant("wh-a", 100)).await.unwrap();
    let k = key("wh-a", "key-1", 10);
    store.insert_api_key(&k).await.unwrap();
    // WHEN it is used at 1000, 1299 and 1300
    store.touch_api_key(&k.hash, Timestamp(1000)).await.unwrap();
    let after_first = store.api_key(&k.hash).await.unwrap().unwrap().last_used_at;
    store.touch_api_key(&k.hash, Timestamp(1299)).await.unwrap();
    let within = store.api_key(&k.hash).await.unwrap().unwrap().last_used_at;
    store.touch_api_key(&k.hash, Timestamp(1300)).await.unwrap();
    let after = store.api_key(&k.hash).await.unwrap().unwrap().last_used_at;
    // THEN the first use is written, one within five minutes is not, one five minutes later is
    assert_eq!(after_first, Some(Timestamp(1000)));
    assert_eq!(within, Some(Timestamp(1000)));
    assert_eq!(after, Some(Timestamp(1300)));
    // AND using an unknown key writes nothing and is no error
    store
        .touch_api_key(&TokenHash::of("unknown"), Timestamp(1300))
        .await
        .unwrap();
    assert!(store
        .api_key(&TokenHash::of("unknown"))
        .await
        .unwrap()
        .is_none());
}

async fn of_concurrent_logo_uploads_the_stored_image_is_the_one_of_the_last_version(
    store: &dyn Store,
) {
    // GIVEN a warehouse, and ten different logos uploaded at once
    let t = tenant("wh-a", 100);
    store.create_tenant(&t).await.unwrap();
    let uploads = (0..10u8).map(|i| {
        let id = t.id.clone();
        async move { (i, store.put_logo(&id, &[i; 8]).await) }
    });
    let results = futures::future::join_all(uploads).await;
    // THEN each upload either got a version of its own or was refused as a conflict
    let mut won: Vec<(u32, u8)> = Vec::new();
    for (i, r) in results {
        match r {
            Ok(v) => won.push((v, i)),
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    won.sort();
    let versions: Vec<u32> = won.iter().map(|(v, _)| *v).collect();
    let mut distinct = versions.clone();
    distinct.dedup();
    assert!(!won.is_empty());
    assert_eq!(versions, distinct, "two uploads got one version");
    // AND the stored image and version are those of the highest version handed out
    let (last, image) = *won.last().unwrap();
    assert_eq!(store.logo(&t.id).await.unwrap().unwrap(), vec![image; 8]);
    let read = store.tenant(&t.id).await.unwrap().unwrap();
    assert_eq!(read.branding.logo_version, Some(last));
}
