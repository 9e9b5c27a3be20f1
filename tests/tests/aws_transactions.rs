//! The callback's commit (one `TransactWriteItems`) against conflicts DynamoDB reports and moto
//! never does, injected on the wire (`cartlink_e2e::aws_faults`): a conflict is retried with the
//! same `ClientRequestToken`, and conflicts that do not end leave nothing stored.

use std::sync::Arc;

use cartlink_e2e::aws::{callback, consent, create_invite, link_token, World, VERIFIED_DOMAIN};
use cartlink_e2e::aws_faults::TransactionFaults;
use shared::carts::Catalog;
use shared::service::Services;

/// A consented grant of a new invite, and the services whose transactions meet `faults`.
async fn consented_with(
    world: &World,
    faults: &Arc<TransactionFaults>,
) -> (cartlink_e2e::aws::Consented, Services, String) {
    let svc = world.services();
    let (_, v) = create_invite(&svc, world).await;
    let c = consent(&svc, world, link_token(&v)).await;
    let sdk = world.sdk.to_builder().http_client(faults.client()).build();
    let config = world.config(&format!("cartlink <no-reply@{VERIFIED_DOMAIN}>"));
    let catalog = Catalog::from_config(&config);
    let faulty = Services::aws(config, catalog, &sdk).expect("services");
    (c, faulty, v["id"].as_str().unwrap().to_owned())
}

/// The connection items of `invite` in the table.
async fn connections_of(world: &World, invite: &str) -> usize {
    let scan = aws_sdk_dynamodb::Client::new(&world.sdk)
        .scan()
        .table_name(&world.table)
        .send()
        .await
        .unwrap();
    scan.items()
        .iter()
        .filter(|i| {
            i.get("entity")
                .and_then(|e| e.as_s().ok())
                .map(String::as_str)
                == Some("connection")
        })
        .filter(|i| {
            i.get("invite_id")
                .and_then(|e| e.as_s().ok())
                .map(String::as_str)
                == Some(invite)
        })
        .count()
}

fn page(resp: &shared::web::Response) -> String {
    String::from_utf8_lossy(resp.body()).into_owned()
}

#[tokio::test]
async fn a_conflicted_commit_is_retried_with_the_same_client_request_token() {
    // GIVEN a grant whose first commit DynamoDB cancels for a conflict
    let world = World::new().await;
    let faults = TransactionFaults::conflicts(1);
    let (c, faulty, _) = consented_with(&world, &faults).await;
    // WHEN its callback arrives
    callback(&faulty, &c).await;
    // THEN the commit was asked twice, with one and the same token
    let tokens = faults.tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert!(
        tokens[0].is_some(),
        "the commit carries a ClientRequestToken"
    );
    assert_eq!(tokens[0], tokens[1]);
}

#[tokio::test]
async fn a_conflicted_commit_retried_stores_one_connection_and_says_so() {
    // GIVEN a grant whose first commit DynamoDB cancels for a conflict
    let world = World::new().await;
    let faults = TransactionFaults::conflicts(1);
    let (c, faulty, invite) = consented_with(&world, &faults).await;
    // WHEN its callback arrives
    let resp = callback(&faulty, &c).await;
    // THEN the merchant sees success, and it is true: one connection
    assert!(
        page(&resp).contains("Successful Authorization"),
        "{}",
        page(&resp)
    );
    assert_eq!(connections_of(&world, &invite).await, 1);
}

#[tokio::test]
async fn conflicts_that_do_not_end_stop_after_four_tries_and_store_nothing() {
    // GIVEN a grant whose every commit DynamoDB cancels for a conflict
    let world = World::new().await;
    let faults = TransactionFaults::conflicts(usize::MAX);
    let (c, faulty, invite) = consented_with(&world, &faults).await;
    // WHEN its callback arrives
    let resp = callback(&faulty, &c).await;
    // THEN it gives up after four tries, shows no success, and stores no connection
    assert_eq!(faults.tokens.lock().unwrap().len(), 4);
    assert!(
        !page(&resp).contains("Successful Authorization"),
        "{}",
        page(&resp)
    );
    assert_eq!(connections_of(&world, &invite).await, 0);
}
