use aws_lambda_events::event::dynamodb::Event;
use serde_json::{json, Value};
use shared::service::confirm::ConfirmError;
use shared::testing::TestKit;

use super::*;

fn record(seq: &str, name: &str, old: Value, new: Value) -> Value {
    json!({
        "eventID": format!("ev-{seq}"),
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/cartlink/stream/x",
        "dynamodb": {
            "ApproximateCreationDateTime": 1796083200,
            "Keys": {"pk": {"S": "INV#x"}, "sk": {"S": "INV"}},
            "OldImage": old,
            "NewImage": new,
            "SequenceNumber": seq,
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        }
    })
}

fn invite_image(id: &str, status: &str) -> Value {
    json!({"entity": {"S": "invite"}, "invite_id": {"S": id}, "status": {"S": status}})
}

fn event(records: Vec<Value>) -> Event {
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

#[tokio::test]
async fn an_authorized_invite_is_confirmed_to_both_sides_once() {
    // GIVEN an authorized invite
    let kit = TestKit::new();
    let id = kit.authorized().await.to_string();
    // WHEN the event is delivered twice
    let first = handle(
        &kit.services,
        InviteAuthorized {
            invite_id: id.clone(),
        },
    )
    .await
    .unwrap();
    let second = handle(&kit.services, InviteAuthorized { invite_id: id })
        .await
        .unwrap();
    // THEN both emails went out with the first delivery only
    assert_eq!(
        first.sent,
        vec!["merchant_confirmation", "warehouse_confirmation"]
    );
    assert!(second.sent.is_empty());
    let to: Vec<_> = kit
        .mailer
        .messages()
        .iter()
        .skip(1)
        .map(|m| m.to.clone())
        .collect();
    assert_eq!(to, vec!["Merchant@shop.test", "ops@warehouse.test"]);
}

#[tokio::test]
async fn a_malformed_or_stray_event_is_an_error_and_sends_nothing() {
    let kit = TestKit::new();
    let r = handle(
        &kit.services,
        InviteAuthorized {
            invite_id: "not an id".into(),
        },
    )
    .await;
    assert!(matches!(r, Err(ConfirmationError::InvalidEvent)));
    let r = handle(
        &kit.services,
        InviteAuthorized {
            invite_id: "inv-unknown".into(),
        },
    )
    .await;
    assert!(matches!(
        r,
        Err(ConfirmationError::Confirm(ConfirmError::NotAuthorized(_)))
    ));
    assert!(kit.mailer.messages().is_empty());
    assert!(serde_json::from_str::<InviteAuthorized>(r#"{"invite_id":"x","extra":1}"#).is_err());
}

#[tokio::test]
async fn unfinished_records_are_reported_by_sequence_number_never_silently() {
    // GIVEN a batch: a good change, a malformed one, an unknown invite, and a TTL removal
    let kit = TestKit::new();
    let good = kit.authorized().await.to_string();
    let batch = event(vec![
        record(
            "100",
            "MODIFY",
            invite_image(&good, "granting"),
            invite_image(&good, "authorized"),
        ),
        record(
            "200",
            "MODIFY",
            invite_image("BAD ID", "granting"),
            invite_image("BAD ID", "authorized"),
        ),
        record(
            "300",
            "MODIFY",
            invite_image("inv-unknown", "granting"),
            invite_image("inv-unknown", "authorized"),
        ),
        record(
            "400",
            "REMOVE",
            invite_image(&good, "authorized"),
            json!({}),
        ),
    ]);
    // WHEN the batch is handled
    let resp = handle_stream(&kit.services, batch).await;
    // THEN exactly the two unfinished records are reported, by sequence number
    let failed: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(failed, vec!["200", "300"]);
    // AND the good one was confirmed to both sides
    assert_eq!(kit.mailer.messages().len(), 3);
}

#[tokio::test]
async fn a_mail_failure_is_reported_and_a_later_delivery_sends_once() {
    let kit = TestKit::new();
    let id = kit.authorized().await.to_string();
    let batch = || {
        event(vec![record(
            "7",
            "MODIFY",
            invite_image(&id, "granting"),
            invite_image(&id, "authorized"),
        )])
    };
    *kit.mailer.reject.lock().unwrap() = Some("Email address not verified".into());
    let resp = handle_stream(&kit.services, batch()).await;
    assert_eq!(resp.batch_item_failures.len(), 1);
    *kit.mailer.reject.lock().unwrap() = None;
    assert!(handle_stream(&kit.services, batch())
        .await
        .batch_item_failures
        .is_empty());
    assert!(handle_stream(&kit.services, batch())
        .await
        .batch_item_failures
        .is_empty());
    assert_eq!(
        kit.mailer.messages().len(),
        3,
        "invite + one of each confirmation"
    );
}
