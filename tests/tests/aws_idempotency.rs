//! `Idempotency-Key` on the AWS adapters: warehouse-api's handler with API Gateway events, the
//! records in DynamoDB and the kept answer sealed by KMS, on moto through the real SDK clients;
//! two instances (two `Services`) share the table.

use cartlink_e2e::aws::{invoke, World};
use cartlink_e2e::{API_KEY, CART};
use serde_json::{json, Value};
use shared::service::Services;

async fn post(svc: &Services, body: &str, key: &str) -> (u16, bool, Value) {
    let auth = format!("Bearer {API_KEY}");
    let resp = invoke(
        |req| warehouse_api::handle(svc, req),
        "POST",
        "/v1/invites",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
            ("idempotency-key", key),
        ],
        &[],
        Some(body),
    )
    .await;
    let replayed = resp.headers().get("idempotent-replayed").is_some();
    (
        resp.status().as_u16(),
        replayed,
        serde_json::from_slice(resp.body()).unwrap(),
    )
}

#[tokio::test]
async fn a_replay_on_another_instance_returns_the_sealed_answer_and_ses_sends_once() {
    // GIVEN two instances on one table and an invite created on the first under a key
    let world = World::new().await;
    let (one, two) = (world.services(), world.services());
    let body = json!({"cart": CART, "merchant_email": world.merchant_email}).to_string();
    let (status, replayed, first) = post(&one, &body, "aws-order-1").await;
    assert_eq!((status, replayed), (201, false), "{first}");
    // WHEN the second instance gets the same request with the key
    let (status, replayed, again) = post(&two, &body, "aws-order-1").await;
    // THEN it answers the first answer (opened with KMS), marked replayed
    assert_eq!((status, replayed), (201, true));
    assert_eq!(again, first);
    // AND another body under the key is a mismatch
    let other = json!({"cart": CART, "merchant_email": format!("x{}", world.merchant_email)});
    let (status, _, problem) = post(&two, &other.to_string(), "aws-order-1").await;
    assert_eq!(status, 422);
    assert_eq!(problem["type"], "urn:cartlink:problem:idempotency-mismatch");
    // AND SES sent the merchant one email
    assert_eq!(world.emails_to(&world.merchant_email).await.len(), 1);
}
