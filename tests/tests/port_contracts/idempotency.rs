//! The idempotency part of the store's contract (`IdempotencyKeys`), on both adapters.

use shared::domain::Timestamp;
use shared::store::{IdempotencyRecord, IdempotencyTake, Store, StoreError, StoredAnswer};
use shared::vault::SealedBlob;

use super::{dynamodb_store, sqlite_store};

on_both_stores!(
    a_fresh_key_is_taken_then_holds_its_answer,
    a_key_in_progress_is_held_until_its_lease_lapses_then_taken_over,
    a_lapsed_lease_is_not_taken_over_for_another_request,
    a_released_key_is_taken_afresh_and_only_its_owner_releases_it,
    a_key_past_its_keeping_is_taken_afresh,
    of_twenty_concurrent_takes_of_a_key_exactly_one_wins,
);

const LEASE: i64 = 30;
const KEEP: i64 = 86_400;

fn answer() -> StoredAnswer {
    StoredAnswer {
        status: 201,
        content_type: "application/json".into(),
        body: SealedBlob {
            v: 1,
            key_id: "k".into(),
            edk: "e".into(),
            nonce: "n".into(),
            ct: "c".into(),
        },
    }
}

async fn take(store: &dyn Store, hash: &str, owner: &str, at: i64) -> IdempotencyTake {
    store
        .take_idempotency_key("wh-a#key", hash, owner, Timestamp(at), LEASE, KEEP)
        .await
        .unwrap()
}

fn taken(first_owner: &str, taken_over: bool) -> IdempotencyTake {
    IdempotencyTake::Taken {
        first_owner: first_owner.into(),
        taken_over,
    }
}

async fn a_fresh_key_is_taken_then_holds_its_answer(store: &dyn Store) {
    // GIVEN no record WHEN one owner takes the key
    assert_eq!(take(store, "h1", "a", 100).await, taken("a", false));
    // AND finishes it with an answer
    store
        .finish_idempotency_key("wh-a#key", "a", &answer())
        .await
        .unwrap();
    // THEN a later take is told the answer and the request it was for
    assert_eq!(
        take(store, "h1", "b", 5000).await,
        IdempotencyTake::Held {
            request_hash: "h1".into(),
            record: IdempotencyRecord::Done(answer()),
        }
    );
}

async fn a_key_in_progress_is_held_until_its_lease_lapses_then_taken_over(store: &dyn Store) {
    // GIVEN a key taken by `a` at 100
    take(store, "h1", "a", 100).await;
    // WHEN `b` takes it inside the lease THEN it is told it is in progress
    assert_eq!(
        take(store, "h1", "b", 100 + LEASE - 1).await,
        IdempotencyTake::Held {
            request_hash: "h1".into(),
            record: IdempotencyRecord::InProgress {
                lease_until: Timestamp(100 + LEASE)
            },
        }
    );
    // WHEN the lease lapsed THEN `b` takes it over, keeping `a` as the first owner
    assert_eq!(take(store, "h1", "b", 100 + LEASE).await, taken("a", true));
    // AND `a` can no longer finish it, while `b` can
    let late = store
        .finish_idempotency_key("wh-a#key", "a", &answer())
        .await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    store
        .finish_idempotency_key("wh-a#key", "b", &answer())
        .await
        .unwrap();
}

async fn a_lapsed_lease_is_not_taken_over_for_another_request(store: &dyn Store) {
    // GIVEN a key taken for request h1 whose lease lapsed
    take(store, "h1", "a", 100).await;
    // WHEN it is taken for request h2 THEN it is held, for h1
    let held = take(store, "h2", "b", 100 + LEASE + 5).await;
    assert!(
        matches!(&held, IdempotencyTake::Held { request_hash, .. } if request_hash == "h1"),
        "{held:?}"
    );
}

async fn a_released_key_is_taken_afresh_and_only_its_owner_releases_it(store: &dyn Store) {
    // GIVEN a key taken by `a`
    take(store, "h1", "a", 100).await;
    // WHEN another owner releases it THEN it stays held
    store
        .release_idempotency_key("wh-a#key", "b")
        .await
        .unwrap();
    assert!(matches!(
        take(store, "h1", "c", 101).await,
        IdempotencyTake::Held { .. }
    ));
    // WHEN `a` releases it THEN the next take is fresh, with a first owner of its own
    store
        .release_idempotency_key("wh-a#key", "a")
        .await
        .unwrap();
    assert_eq!(take(store, "h2", "c", 102).await, taken("c", false));
}

async fn a_key_past_its_keeping_is_taken_afresh(store: &dyn Store) {
    // GIVEN a key finished at 100
    take(store, "h1", "a", 100).await;
    store
        .finish_idempotency_key("wh-a#key", "a", &answer())
        .await
        .unwrap();
    // WHEN it is taken a second before its keeping ends THEN it holds the answer
    assert!(matches!(
        take(store, "h2", "b", 100 + KEEP - 1).await,
        IdempotencyTake::Held { .. }
    ));
    // WHEN it is taken once its keeping ended THEN it is fresh, for any request
    assert_eq!(take(store, "h2", "b", 100 + KEEP).await, taken("b", false));
}

async fn of_twenty_concurrent_takes_of_a_key_exactly_one_wins(store: &dyn Store) {
    // GIVEN no record WHEN twenty owners take the key at once
    let owners: Vec<String> = (0..20).map(|i| format!("o{i}")).collect();
    let takes =
        futures::future::join_all(owners.iter().map(|o| {
            store.take_idempotency_key("wh-a#race", "h1", o, Timestamp(100), LEASE, KEEP)
        }))
        .await;
    // THEN exactly one holds it and the others are told it is in progress
    let won = takes
        .iter()
        .filter(|t| matches!(t, Ok(IdempotencyTake::Taken { .. })))
        .count();
    assert_eq!(won, 1, "{takes:?}");
    assert!(takes.iter().all(|t| matches!(
        t,
        Ok(IdempotencyTake::Taken { .. })
            | Ok(IdempotencyTake::Held {
                record: IdempotencyRecord::InProgress { .. },
                ..
            })
    )));
}
