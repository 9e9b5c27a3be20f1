//! Webhooks on the AWS adapters (moto: DynamoDB with its stream, KMS, SES and SQS, through the
//! real SDK clients): the webhooks function fed the table's stream records and then the SQS
//! messages it queued, as Lambda would hand them over; a receiver written with the Standard
//! Webhooks reference library verifies every delivery.

use std::collections::HashMap;

use aws_lambda_events::event::sqs::SqsEvent;
use cartlink_e2e::aws::{callback, consent, invoke, World};
use cartlink_e2e::aws_ops::as_handler;
use cartlink_e2e::{Receiver, API_KEY, CART};
use serde_json::{json, Value};
use shared::carts::Catalog;
use shared::domain::RetrySchedule;
use shared::service::Services;

/// The SQS queue and its dead letters on moto.
struct Queues {
    sqs: aws_sdk_sqs::Client,
    queue: String,
    dead: String,
}

impl Queues {
    async fn create(world: &World) -> Queues {
        let sqs = aws_sdk_sqs::Client::new(&world.sdk);
        let make = |name: String| {
            let sqs = sqs.clone();
            async move {
                sqs.create_queue()
                    .queue_name(name)
                    .send()
                    .await
                    .unwrap()
                    .queue_url
                    .unwrap()
            }
        };
        let suffix = world.table.trim_start_matches("cartlink-").to_owned();
        Queues {
            queue: make(format!("webhooks-{suffix}")).await,
            dead: make(format!("webhook-dead-letters-{suffix}")).await,
            sqs,
        }
    }

    /// Takes what `url` holds now, as the Lambda SQS event that would carry it.
    async fn take(&self, url: &str) -> SqsEvent {
        let out = self
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let mut records = Vec::new();
        for m in out.messages() {
            self.sqs
                .delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            records.push(json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:webhooks",
                "awsRegion": "us-east-1"
            }));
        }
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }
}

/// The services of the webhooks function (and warehouse-api) on moto, with `schedule`.
fn services(world: &World, queues: &Queues, schedule: &[u64]) -> Services {
    let mut config = world.config(&format!(
        "cartlink <no-reply@{}>",
        cartlink_e2e::aws::VERIFIED_DOMAIN
    ));
    config.aws.webhook_queue_url = Some(queues.queue.clone());
    config.aws.webhook_dead_letter_url = Some(queues.dead.clone());
    config.webhook_schedule = RetrySchedule(schedule.to_vec());
    let catalog = Catalog::from_config(&config);
    Services::aws(config, catalog, &world.sdk).unwrap()
}

async fn api(svc: &Services, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let auth = format!("Bearer {API_KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let resp = invoke(
        |req| warehouse_api::handle(svc, req),
        method,
        path,
        &headers,
        &[],
        body,
    )
    .await;
    let value = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    (resp.status().as_u16(), value)
}

/// An endpoint at `r`, whose secret `r` is told.
async fn endpoint(svc: &Services, r: &Receiver) {
    let body = json!({"url": r.url}).to_string();
    let (status, made) = api(svc, "POST", "/v1/webhooks/endpoints", Some(&body)).await;
    assert_eq!(status, 201, "{made}");
    r.control(json!({"secrets": [made["secret"]]})).await;
}

/// Hands every queued message to the function until the queue is empty (at most `rounds`).
async fn drain(svc: &Services, queues: &Queues, rounds: usize) {
    for _ in 0..rounds {
        let event = queues.take(&queues.queue).await;
        if event.records.is_empty() {
            return;
        }
        let answer = as_handler(webhooks::handle_sqs(svc, event)).await;
        assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_merchant_flow_reaches_the_receiver_verified_through_stream_and_queue() {
    // GIVEN an endpoint and a merchant who connects
    let world = World::new().await;
    let queues = Queues::create(&world).await;
    let svc = services(&world, &queues, &[0, 0]);
    let r = Receiver::start();
    endpoint(&svc, &r).await;
    let body = json!({"cart": CART, "merchant_email": world.merchant_email}).to_string();
    let (status, v) = api(&svc, "POST", "/v1/invites", Some(&body)).await;
    assert_eq!(status, 201, "{v}");
    let token = v["setup_url"].as_str().unwrap().rsplit('/').next().unwrap();
    let c = consent(&svc, &world, token).await;
    assert_eq!(callback(&svc, &c).await.status(), 200);
    // WHEN the webhooks function gets the table's stream, then the queue's messages
    let stream = world.stream_event().await;
    let answer = as_handler(webhooks::handle_stream(&svc, stream.clone())).await;
    assert!(answer.batch_item_failures.is_empty());
    // (the stream handed over twice makes nothing new)
    as_handler(webhooks::handle_stream(&svc, stream)).await;
    drain(&svc, &queues, 10).await;
    // THEN the receiver verified one message per step with the reference library
    let log = r.log().await;
    let mut per_type: HashMap<String, usize> = HashMap::new();
    for d in &log {
        assert_eq!(d["verified"], true, "{d}");
        *per_type
            .entry(d["type"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for t in ["invite.created", "invite.emailed", "connection.authorized"] {
        assert_eq!(per_type.get(t), Some(&1), "{t}: {per_type:?}");
    }
    // AND no message carries the link, the state or the verifier
    for d in &log {
        let body = d["body"].as_str().unwrap();
        for secret in [token, c.state.as_str(), c.verifier.as_str()] {
            assert!(!body.contains(secret), "{body}");
        }
    }
    // AND the table holds the signing secret only sealed
    let scan = world.scan_text().await;
    assert!(!scan.contains("whsec_"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_down_for_the_whole_schedule_dead_letters_the_delivery_and_a_retry_delivers() {
    // GIVEN a receiver that answers 503 to everything, and three tries
    let world = World::new().await;
    let queues = Queues::create(&world).await;
    let svc = services(&world, &queues, &[0, 0]);
    let r = Receiver::start();
    endpoint(&svc, &r).await;
    r.control(json!({"always_status": 503})).await;
    let (status, sent) = api(&svc, "POST", "/v1/webhooks/test", None).await;
    assert_eq!(status, 202, "{sent}");
    let id = sent["data"][0]["id"].as_str().unwrap().to_owned();
    // WHEN the function works the queue until it is empty
    drain(&svc, &queues, 10).await;
    // THEN the receiver saw three tries with one webhook-id, and the delivery is dead-lettered
    let log = r.log().await;
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log.iter().all(|d| d["id"] == sent["data"][0]["message_id"]));
    let dead = queues.take(&queues.dead).await;
    assert_eq!(dead.records.len(), 1);
    let parked: Value = serde_json::from_str(dead.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(parked["delivery"], id);
    let (_, failed) = api(&svc, "GET", "/v1/webhooks/deliveries?status=failed", None).await;
    assert_eq!(failed["data"][0]["id"], id);
    // AND once the receiver is back, a retry through the API delivers it
    r.control(json!({"always_status": null})).await;
    let (status, _) = api(
        &svc,
        "POST",
        &format!("/v1/webhooks/deliveries/{id}/retry"),
        None,
    )
    .await;
    assert_eq!(status, 202);
    drain(&svc, &queues, 5).await;
    let (_, delivered) = api(
        &svc,
        "GET",
        "/v1/webhooks/deliveries?status=delivered",
        None,
    )
    .await;
    assert_eq!(delivered["data"][0]["id"], id, "{delivered}");
    assert_eq!(r.log().await.len(), 4);
}
