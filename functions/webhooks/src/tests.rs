use shared::service::webhooks::NewEndpoint;
use shared::testing::TestKit;
use shared::webhooks::PostOutcome;

use super::poll_once;

fn warehouse() -> shared::domain::WarehouseId {
    shared::domain::WarehouseId::parse("wh-test").unwrap()
}

async fn kit_with_endpoint() -> TestKit {
    let kit = TestKit::new();
    kit.services
        .create_endpoint(
            &warehouse(),
            NewEndpoint {
                url: "https://hooks.example.com/in".into(),
                events: vec![],
            },
        )
        .await
        .unwrap();
    kit
}

#[tokio::test]
async fn one_round_turns_the_steps_into_messages_and_delivers_them() {
    // GIVEN an endpoint and an invite made (created, emailed)
    let kit = kit_with_endpoint().await;
    kit.invite().await;
    // WHEN the worker runs one round
    let handed = poll_once(&kit.services).await;
    // THEN both messages were posted, and a second round has nothing to do
    assert_eq!(handed, 2);
    assert_eq!(kit.sender.count(), 2);
    assert_eq!(poll_once(&kit.services).await, 0);
    assert_eq!(kit.sender.count(), 2);
}

#[tokio::test]
async fn a_failed_try_stays_queued_for_a_later_round() {
    // GIVEN an endpoint that answers 503 once, and a schedule with no wait
    let mut kit = kit_with_endpoint().await;
    kit.services.config.webhook_schedule = shared::domain::RetrySchedule(vec![0]);
    kit.sender.answer([PostOutcome::Answered(503)]);
    kit.services.send_test_webhook(&warehouse()).await.unwrap();
    // WHEN the worker runs twice
    poll_once(&kit.services).await;
    poll_once(&kit.services).await;
    // THEN the message was posted twice: the failure, then the success
    assert_eq!(kit.sender.count(), 2);
}

#[cfg(feature = "lambda")]
mod lambda {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn an_event_of_neither_trigger_is_an_error() {
        let kit = TestKit::new();
        let answer = crate::handle_event(&kit.services, json!({"detail": "x"})).await;
        assert!(answer.is_err());
    }

    #[tokio::test]
    async fn a_malformed_queue_message_is_dropped_and_a_due_one_delivered() {
        // GIVEN a queued test message and a message that names no delivery
        let kit = kit_with_endpoint().await;
        let made = kit.services.send_test_webhook(&warehouse()).await.unwrap();
        let good = json!({"warehouse": "wh-test", "delivery": made[0].id.as_str()}).to_string();
        let record = |id: &str, body: &str| {
            json!({"messageId": id, "body": body, "eventSource": "aws:sqs",
                   "attributes": {}, "messageAttributes": {}})
        };
        let event = json!({"Records": [record("m-1", "not json"), record("m-2", &good)]});
        // WHEN the function gets them
        let answer = crate::handle_event(&kit.services, event).await.unwrap();
        // THEN nothing is handed back, and the good one was posted
        assert_eq!(answer["batchItemFailures"], json!([]));
        assert_eq!(kit.sender.count(), 1);
    }

    #[tokio::test]
    async fn a_stream_record_of_another_item_makes_no_message() {
        let kit = kit_with_endpoint().await;
        let event = json!({"Records": [{
            "eventID": "e-1", "eventName": "MODIFY", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {"Keys": {"pk": {"S": "INV#x"}, "sk": {"S": "INV"}},
                         "NewImage": {"entity": {"S": "invite"}}, "SequenceNumber": "1",
                         "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        }]});
        let answer = crate::handle_event(&kit.services, event).await.unwrap();
        assert_eq!(answer["batchItemFailures"], json!([]));
        assert_eq!(kit.sender.count(), 0);
    }
}
