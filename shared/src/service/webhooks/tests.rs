use std::sync::Arc;

use super::deliver::DeliveryOutcome;
use super::{NewEndpoint, WebhookError};
use crate::domain::webhook::WebhookSecret;
use crate::domain::{DeliveryStatus, RetrySchedule, WarehouseId, WebhookEventType};
use crate::store::WebhookStore;
use crate::testing::TestKit;
use crate::webhooks::{DeliveryRef, PostOutcome, WebhookQueue};

fn warehouse() -> WarehouseId {
    WarehouseId::parse("wh-test").unwrap()
}

fn new_endpoint(url: &str, events: &[&str]) -> NewEndpoint {
    NewEndpoint {
        url: url.into(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
    }
}

/// A kit with a short schedule (two waits) and one endpoint hearing every type; answers the
/// endpoint's secret.
async fn kit_with_endpoint() -> (TestKit, String) {
    let mut kit = TestKit::new();
    kit.services.config.webhook_schedule = RetrySchedule(vec![0, 0]);
    let made = kit
        .services
        .create_endpoint(
            &warehouse(),
            new_endpoint("https://hooks.example.com/in", &[]),
        )
        .await
        .unwrap();
    (kit, made.secret.to_string())
}

/// Turns every recorded step into messages and hands every due delivery over once.
async fn run_worker(kit: &TestKit) -> Vec<DeliveryOutcome> {
    kit.services.fan_out_pending_steps(100).await.unwrap();
    let due = kit
        .store
        .due(crate::clock::Clock::now(kit.clock.as_ref()), 100)
        .await
        .unwrap();
    let mut outcomes = Vec::new();
    for d in due {
        outcomes.push(kit.services.deliver_webhook(&d).await.unwrap());
    }
    outcomes
}

#[tokio::test]
async fn a_private_endpoint_url_is_refused_in_a_production_configuration() {
    // GIVEN a production configuration (https base URL)
    let kit = TestKit::new();
    // WHEN an endpoint on a private address is asked for
    let refused = kit
        .services
        .create_endpoint(&warehouse(), new_endpoint("https://10.0.0.7/hook", &[]))
        .await;
    // THEN it is refused as an invalid url, and nothing is stored
    assert!(matches!(
        refused,
        Err(WebhookError::Invalid { field: "url", .. })
    ));
    assert!(kit
        .store
        .endpoints_of(&warehouse())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn an_unknown_event_type_is_refused() {
    let kit = TestKit::new();
    let refused = kit
        .services
        .create_endpoint(
            &warehouse(),
            new_endpoint("https://hooks.example.com/in", &["invite.nothing"]),
        )
        .await;
    assert!(matches!(
        refused,
        Err(WebhookError::Invalid {
            field: "events",
            ..
        })
    ));
}

#[tokio::test]
async fn the_eleventh_endpoint_is_refused() {
    // GIVEN ten endpoints
    let kit = TestKit::new();
    for _ in 0..super::MAX_ENDPOINTS {
        kit.services
            .create_endpoint(
                &warehouse(),
                new_endpoint("https://hooks.example.com/in", &[]),
            )
            .await
            .unwrap();
    }
    // WHEN one more is asked for THEN it is refused
    let refused = kit
        .services
        .create_endpoint(
            &warehouse(),
            new_endpoint("https://hooks.example.com/in", &[]),
        )
        .await;
    assert!(matches!(refused, Err(WebhookError::TooManyEndpoints)));
}

#[tokio::test]
async fn every_step_of_a_flow_reaches_the_endpoint_signed_with_its_secret() {
    // GIVEN an endpoint, and an invite the merchant authorized
    let (kit, secret) = kit_with_endpoint().await;
    kit.authorized().await;
    // WHEN the worker runs
    let outcomes = run_worker(&kit).await;
    // THEN each message was delivered, signed with the endpoint's secret
    assert!(
        outcomes.iter().all(|o| *o == DeliveryOutcome::Delivered),
        "{outcomes:?}"
    );
    let posts = kit.sender.posts.lock().unwrap().clone();
    let types: Vec<String> = posts
        .iter()
        .map(|(_, _, body)| {
            serde_json::from_str::<serde_json::Value>(body).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(types.contains(&"invite.created".to_owned()), "{types:?}");
    assert!(
        types.contains(&"connection.authorized".to_owned()),
        "{types:?}"
    );
    let key = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        &secret["whsec_".len()..],
    )
    .unwrap();
    let verifier = WebhookSecret::from_bytes(zeroize::Zeroizing::new(key));
    for (_, headers, body) in &posts {
        let h = |n: &str| headers.iter().find(|(k, _)| *k == n).unwrap().1.clone();
        let ts: i64 = h("webhook-timestamp").parse().unwrap();
        assert_eq!(
            h("webhook-signature"),
            verifier.sign(&h("webhook-id"), ts, body)
        );
    }
}

#[tokio::test]
async fn a_step_seen_twice_makes_one_delivery() {
    // GIVEN an endpoint and a recorded step
    let (kit, _) = kit_with_endpoint().await;
    let (invite, _) = kit.invite().await;
    let steps = kit.services.webhooks.feed.pending_steps(10).await.unwrap();
    let created = steps
        .iter()
        .find(|s| s.invite == invite && s.key == "created")
        .unwrap();
    // WHEN it is turned into messages twice, and twice at once
    for _ in 0..2 {
        let (a, b) = tokio::join!(
            kit.services
                .fan_out_step(&created.invite, &created.key, &created.event),
            kit.services
                .fan_out_step(&created.invite, &created.key, &created.event),
        );
        a.unwrap();
        b.unwrap();
    }
    // THEN one delivery of it exists
    let listed = kit
        .store
        .list_deliveries(
            &warehouse(),
            &Default::default(),
            &crate::store::PageRequest::first(50),
        )
        .await
        .unwrap();
    let made = listed
        .items
        .iter()
        .filter(|d| d.event_type == WebhookEventType::InviteCreated)
        .count();
    assert_eq!(made, 1);
}

#[tokio::test]
async fn twenty_workers_handed_one_delivery_at_once_post_it_once() {
    // GIVEN one due delivery
    let (kit, _) = kit_with_endpoint().await;
    let made = kit.services.send_test_webhook(&warehouse()).await.unwrap();
    let queued = DeliveryRef {
        warehouse: warehouse(),
        delivery: made[0].id.clone(),
    };
    // WHEN twenty workers are handed it at once
    let svc = Arc::new(kit);
    let tries = (0..20).map(|_| {
        let kit = svc.clone();
        let q = queued.clone();
        async move { kit.services.deliver_webhook(&q).await.unwrap() }
    });
    let outcomes = futures::future::join_all(tries).await;
    // THEN it was posted once and delivered once
    assert_eq!(svc.sender.count(), 1);
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == DeliveryOutcome::Delivered)
            .count(),
        1
    );
}

#[tokio::test]
async fn failing_every_try_of_the_schedule_fails_the_delivery_and_a_retry_delivers_it() {
    // GIVEN an endpoint that answers 500 three times (the whole short schedule)
    let (kit, _) = kit_with_endpoint().await;
    kit.sender.answer([PostOutcome::Answered(500); 3]);
    let made = kit.services.send_test_webhook(&warehouse()).await.unwrap();
    // WHEN the worker runs three times
    for _ in 0..3 {
        run_worker(&kit).await;
    }
    // THEN the delivery is failed with three tries, and no longer queued
    let d = kit.store.delivery(&made[0].id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.tries.len(), 3);
    assert!(kit
        .store
        .due(crate::clock::Clock::now(kit.clock.as_ref()), 10)
        .await
        .unwrap()
        .is_empty());
    // AND a retry asked for delivers it, with the same webhook-id
    kit.services
        .retry_delivery(&warehouse(), made[0].id.as_str())
        .await
        .unwrap();
    run_worker(&kit).await;
    let d = kit.store.delivery(&made[0].id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Delivered);
    let posts = kit.sender.posts.lock().unwrap();
    let ids: Vec<_> = posts.iter().map(|(_, h, _)| h[0].1.clone()).collect();
    assert!(ids.iter().all(|i| *i == made[0].message_id), "{ids:?}");
}

#[tokio::test]
async fn a_delivered_message_is_not_retried() {
    let (kit, _) = kit_with_endpoint().await;
    let made = kit.services.send_test_webhook(&warehouse()).await.unwrap();
    run_worker(&kit).await;
    let again = kit
        .services
        .retry_delivery(&warehouse(), made[0].id.as_str())
        .await;
    assert!(matches!(
        again,
        Err(WebhookError::NotRetryable("delivered"))
    ));
}

#[tokio::test]
async fn an_endpoint_answering_410_is_disabled_and_its_warehouse_told_once() {
    // GIVEN an endpoint that answers 410 Gone
    let (kit, _) = kit_with_endpoint().await;
    kit.sender.answer([PostOutcome::Answered(410)]);
    let made = kit.services.send_test_webhook(&warehouse()).await.unwrap();
    // WHEN the worker runs (twice)
    run_worker(&kit).await;
    run_worker(&kit).await;
    // THEN the endpoint is disabled, the delivery failed, and the warehouse got one email
    let endpoints = kit.store.endpoints_of(&warehouse()).await.unwrap();
    assert_eq!(endpoints[0].disabled.as_ref().unwrap().reason, "gone");
    let d = kit.store.delivery(&made[0].id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Failed);
    let mails = kit.mailer.messages();
    let told: Vec<_> = mails
        .iter()
        .filter(|m| m.tags.iter().any(|(_, v)| v == "webhook_endpoint_disabled"))
        .collect();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].to, "ops@warehouse.test");
}

#[tokio::test]
async fn after_a_rotation_each_message_carries_both_signatures() {
    // GIVEN an endpoint whose secret was rotated
    let (kit, old) = kit_with_endpoint().await;
    let id = kit.store.endpoints_of(&warehouse()).await.unwrap()[0]
        .id
        .clone();
    let rotated = kit
        .services
        .rotate_endpoint_secret(&warehouse(), id.as_str())
        .await
        .unwrap();
    assert_ne!(rotated.secret.as_str(), old);
    // WHEN a message is delivered
    kit.services.send_test_webhook(&warehouse()).await.unwrap();
    run_worker(&kit).await;
    // THEN its signature header holds two signatures
    let posts = kit.sender.posts.lock().unwrap();
    let sig = &posts[0].1[2].1;
    assert_eq!(sig.split(' ').count(), 2, "{sig}");
}

#[tokio::test]
async fn a_not_due_delivery_is_queued_again_for_its_time() {
    // GIVEN a delivery that failed once (next try after a long wait)
    let (mut kit, _) = kit_with_endpoint().await;
    kit.services.config.webhook_schedule = RetrySchedule(vec![3600]);
    kit.sender.answer([PostOutcome::Answered(503)]);
    let made = kit.services.send_test_webhook(&warehouse()).await.unwrap();
    run_worker(&kit).await;
    // WHEN it is handed over before its time
    let q = DeliveryRef {
        warehouse: warehouse(),
        delivery: made[0].id.clone(),
    };
    let outcome = kit.services.deliver_webhook(&q).await.unwrap();
    // THEN nothing is posted and it waits for its time
    assert!(matches!(outcome, DeliveryOutcome::NotDue(_)), "{outcome:?}");
    assert_eq!(kit.sender.count(), 1);
}

#[tokio::test]
async fn no_payload_carries_a_link_a_code_or_a_token() {
    // GIVEN an endpoint and a whole flow
    let (kit, _) = kit_with_endpoint().await;
    let (_, link_token) = kit.invite().await;
    kit.authorized().await;
    run_worker(&kit).await;
    // THEN no body holds the link token, a setup path or a token the fake cart issued
    let posts = kit.sender.posts.lock().unwrap();
    assert!(!posts.is_empty());
    for (_, _, body) in posts.iter() {
        assert!(!body.contains(&link_token), "{body}");
        assert!(!body.contains("/setup/"), "{body}");
        assert!(!body.contains("CANARY"), "{body}");
    }
}
