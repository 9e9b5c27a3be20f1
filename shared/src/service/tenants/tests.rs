use std::sync::Arc;

use super::*;
use crate::clock::Clock;
use crate::domain::MintedKey;
use crate::service::admin::NewTenant;
use crate::store::Store;
use crate::testing::faults::{Fault, FaultPlan, FaultPoint, FaultyStore, Port};
use crate::testing::{TestKit, TEST_API_KEY};

/// A kit with a stored warehouse `wh-stored` and one minted key of it.
async fn kit_with_key() -> (TestKit, String) {
    let kit = TestKit::new();
    kit.services
        .create_tenant(NewTenant {
            id: "wh-stored".into(),
            display_name: "Stored Warehouse".into(),
            notify_email: "ops@stored.test".into(),
        })
        .await
        .unwrap();
    let issued = kit.services.issue_api_key("wh-stored", "ci").await.unwrap();
    (kit, issued.secret.expose().to_owned())
}

#[tokio::test]
async fn a_minted_key_names_its_stored_warehouse_and_a_config_key_still_works() {
    // GIVEN a stored warehouse with a minted key, beside the configured test warehouse
    let (kit, key) = kit_with_key().await;
    // WHEN each key authenticates
    let stored = kit.services.authenticate(Some(&key)).await.unwrap();
    let configured = kit.services.authenticate(Some(TEST_API_KEY)).await.unwrap();
    // THEN each names its own warehouse
    assert_eq!(stored.id.as_str(), "wh-stored");
    assert_eq!(stored.display_name, "Stored Warehouse");
    assert_eq!(configured.id.as_str(), "wh-test");
}

#[tokio::test]
async fn a_wrong_checksum_is_told_apart_from_an_unknown_key_without_the_store() {
    // GIVEN a minted key with its last symbol changed, and a well-formed key never issued
    let (kit, key) = kit_with_key().await;
    let last = if key.ends_with('A') { 'B' } else { 'A' };
    let typo = format!("{}{last}", &key[..key.len() - 1]);
    let never_issued = MintedKey::generate();
    // WHEN each is presented
    let typo_answer = kit.services.authenticate(Some(&typo)).await;
    let unknown_answer = kit
        .services
        .authenticate(Some(never_issued.secret.expose()))
        .await;
    // THEN the typo is a bad checksum, the other unknown
    assert!(
        matches!(typo_answer, Err(AuthError::BadChecksum)),
        "{typo_answer:?}"
    );
    assert!(
        matches!(unknown_answer, Err(AuthError::Unknown)),
        "{unknown_answer:?}"
    );
}

#[tokio::test]
async fn a_revoked_key_and_a_disabled_warehouses_key_authenticate_nobody() {
    // GIVEN a stored warehouse with two keys
    let (kit, first) = kit_with_key().await;
    let second = kit
        .services
        .issue_api_key("wh-stored", "other")
        .await
        .unwrap();
    let second = second.secret.expose().to_owned();
    let keys = kit.services.admin_api_keys("wh-stored").await.unwrap();
    let id = keys
        .iter()
        .find(|k| first.starts_with(&k.prefix))
        .unwrap()
        .id
        .clone();
    // WHEN the first is revoked
    kit.services.revoke_api_key("wh-stored", &id).await.unwrap();
    // THEN it is unknown, the second still works
    assert!(matches!(
        kit.services.authenticate(Some(&first)).await,
        Err(AuthError::Unknown)
    ));
    assert!(kit.services.authenticate(Some(&second)).await.is_ok());
    // WHEN the warehouse is disabled  THEN the second is unknown too
    kit.services.disable_tenant("wh-stored").await.unwrap();
    assert!(matches!(
        kit.services.authenticate(Some(&second)).await,
        Err(AuthError::Unknown)
    ));
}

#[tokio::test]
async fn no_key_or_a_foreign_one_is_unknown() {
    // GIVEN the kit
    let kit = TestKit::new();
    // THEN no key, and a key that is neither configured nor minted, are unknown
    assert!(matches!(
        kit.services.authenticate(None).await,
        Err(AuthError::Unknown)
    ));
    assert!(matches!(
        kit.services.authenticate(Some("sk_live_other")).await,
        Err(AuthError::Unknown)
    ));
}

#[tokio::test]
async fn a_use_is_recorded_as_the_keys_last_use() {
    // GIVEN a minted key never used
    let (kit, key) = kit_with_key().await;
    assert_eq!(
        kit.services.admin_api_keys("wh-stored").await.unwrap()[0].last_used_at,
        None
    );
    // WHEN it authenticates a call
    kit.services.authenticate(Some(&key)).await.unwrap();
    // THEN its last use is now
    let listed = kit.services.admin_api_keys("wh-stored").await.unwrap();
    assert_eq!(listed[0].last_used_at, Some(kit.clock.now()));
}

/// The kit's services with the store behind a plan that fails `call`'s first occurrence.
fn failing(kit: &mut TestKit, call: &'static str) {
    let plan = FaultPlan::new();
    plan.arm(Some(FaultPoint {
        port: Port::Store,
        call,
        occurrence: 1,
        fault: Fault::Error,
    }));
    let inner: Arc<dyn Store> = kit.store.clone();
    kit.services.store = Arc::new(FaultyStore::new(inner, plan));
}

#[tokio::test]
async fn a_store_outage_is_told_apart_from_a_wrong_key() {
    // GIVEN a minted key, and a store whose key lookup fails
    let (mut kit, key) = kit_with_key().await;
    failing(&mut kit, "api_key");
    // WHEN the key is presented  THEN the answer is the store's failure, not "unknown"
    let answer = kit.services.authenticate(Some(&key)).await;
    assert!(matches!(answer, Err(AuthError::Store(_))), "{answer:?}");
}

#[tokio::test]
async fn a_failed_last_use_record_does_not_fail_the_call() {
    // GIVEN a minted key, and a store whose last-use write fails
    let (mut kit, key) = kit_with_key().await;
    failing(&mut kit, "touch_api_key");
    // WHEN the key is presented  THEN it still authenticates
    assert_eq!(
        kit.services
            .authenticate(Some(&key))
            .await
            .unwrap()
            .id
            .as_str(),
        "wh-stored"
    );
}
