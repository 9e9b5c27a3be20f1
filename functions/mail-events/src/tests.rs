use serde_json::{json, Value};
use shared::domain::InviteStatus;
use shared::testing::TestKit;

use super::*;

/// An SES event as SES publishes it to SNS for a configuration set.
fn ses_event(event_type: &str, bounce_type: &str, invite_id: &str, kind: &str) -> Value {
    let mut v = json!({
        "eventType": event_type,
        "mail": {
            "timestamp": "2026-11-29T10:00:00.000Z",
            "source": "no-reply@cartlink.test",
            "messageId": "0100018c-abc",
            "destination": ["merchant@shop.test"],
            "tags": {
                "ses:configuration-set": ["cartlink-dev"],
                "invite-id": [invite_id],
                "kind": [kind]
            }
        }
    });
    match event_type {
        "Bounce" => {
            v["bounce"] = json!({
                "bounceType": bounce_type,
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": "merchant@shop.test"}],
                "timestamp": "2026-11-29T10:00:01.000Z",
                "feedbackId": "0100018c-def"
            })
        }
        "Complaint" => {
            v["complaint"] = json!({
                "complainedRecipients": [{"emailAddress": "merchant@shop.test"}],
                "timestamp": "2026-11-29T10:00:01.000Z",
                "feedbackId": "0100018c-def"
            })
        }
        _ => {}
    }
    v
}

/// One SNS record as Lambda delivers it (the shape of AWS's sample SNS event), carrying `message`.
fn sns_record(message_id: &str, message: &str) -> Value {
    json!({
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:cartlink-mail-events:x",
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:cartlink-mail-events",
            "Subject": null,
            "Message": message,
            "Timestamp": "2026-11-29T10:00:02.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": {}
        }
    })
}

fn sns(messages: &[Value]) -> SnsEvent {
    let records: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| sns_record(&format!("msg-{i}"), &m.to_string()))
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

async fn status(kit: &TestKit, id: &InviteId) -> (InviteStatus, Option<String>) {
    let inv = kit.services.store.invite(id).await.unwrap().unwrap();
    (inv.status, inv.status_reason)
}

#[tokio::test]
async fn a_hard_bounce_of_the_invite_email_marks_the_invite_undeliverable() {
    // GIVEN an emailed invite
    let kit = TestKit::new();
    let (id, token) = kit.invite().await;
    // WHEN SES reports a permanent bounce of its invite email
    let out = handle_sns(
        &kit.services,
        sns(&[ses_event("Bounce", "Permanent", id.as_str(), "invite")]),
    )
    .await
    .unwrap();
    // THEN the invite is undeliverable, with a reason that names no address
    assert_eq!(out.undeliverable, 1);
    let (st, reason) = status(&kit, &id).await;
    assert_eq!(st, InviteStatus::Undeliverable);
    let reason = reason.unwrap();
    assert!(reason.contains("bounced permanently (General)"), "{reason}");
    assert!(!reason.contains('@'));
    // AND its link no longer starts a grant
    assert!(kit.services.start_grant(&token).await.is_err());
}

#[tokio::test]
async fn the_same_bounce_delivered_twice_changes_the_invite_once() {
    let kit = TestKit::new();
    let (id, _) = kit.invite().await;
    let ev = sns(&[ses_event("Bounce", "Permanent", id.as_str(), "invite")]);
    handle_sns(&kit.services, ev.clone()).await.unwrap();
    // WHEN SNS delivers it again
    let again = handle_sns(&kit.services, ev).await.unwrap();
    // THEN nothing more happens and it is not an error
    assert_eq!(
        again,
        Summary {
            undeliverable: 0,
            ignored: 1
        }
    );
    assert_eq!(status(&kit, &id).await.0, InviteStatus::Undeliverable);
}

#[tokio::test]
async fn soft_bounces_complaints_and_confirmation_bounces_change_nothing() {
    // GIVEN an emailed invite
    let kit = TestKit::new();
    let (id, _) = kit.invite().await;
    // WHEN SES reports a transient bounce, a complaint, and a hard bounce of a confirmation
    let out = handle_sns(
        &kit.services,
        sns(&[
            ses_event("Bounce", "Transient", id.as_str(), "invite"),
            ses_event("Complaint", "", id.as_str(), "invite"),
            ses_event("Bounce", "Permanent", id.as_str(), "merchant_confirmation"),
            ses_event("Delivery", "", id.as_str(), "invite"),
        ]),
    )
    .await
    .unwrap();
    // THEN the invite is still emailed
    assert_eq!(
        out,
        Summary {
            undeliverable: 0,
            ignored: 4
        }
    );
    assert_eq!(status(&kit, &id).await.0, InviteStatus::Emailed);
}

#[tokio::test]
async fn a_bounce_after_the_merchant_connected_leaves_the_connection_alone() {
    // GIVEN an authorized invite
    let kit = TestKit::new();
    let id = kit.authorized().await;
    // WHEN a late hard bounce of its invite email arrives
    let out = handle_sns(
        &kit.services,
        sns(&[ses_event("Bounce", "Permanent", id.as_str(), "invite")]),
    )
    .await
    .unwrap();
    // THEN the conditional write refuses it and the invite stays authorized
    assert_eq!(out.undeliverable, 0);
    assert_eq!(status(&kit, &id).await.0, InviteStatus::Authorized);
    assert_eq!(
        kit.services
            .on_mail_feedback(
                &parse_feedback(
                    &ses_event("Bounce", "Permanent", id.as_str(), "invite").to_string()
                )
                .unwrap()
                .unwrap()
            )
            .await
            .unwrap(),
        FeedbackOutcome::InviteAlreadySettled(InviteStatus::Authorized)
    );
}

#[tokio::test]
async fn untagged_or_unknown_invites_are_acknowledged() {
    let kit = TestKit::new();
    let unknown = InviteId::generate();
    let mut untagged = ses_event("Bounce", "Permanent", "x", "invite");
    untagged["mail"]["tags"] = json!({});
    let out = handle_sns(
        &kit.services,
        sns(&[
            untagged,
            ses_event("Bounce", "Permanent", unknown.as_str(), "invite"),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        Summary {
            undeliverable: 0,
            ignored: 2
        }
    );
}

#[tokio::test]
async fn an_unreadable_message_fails_the_invocation_so_it_is_retried_then_dead_lettered() {
    let kit = TestKit::new();
    let (id, _) = kit.invite().await;
    // GIVEN a message that is not an SES event, and a bounce without its bounce object
    for bad in [
        json!("not json at all"),
        json!({"eventType": "Bounce", "mail": {"tags": {"invite-id": [id.as_str()]}}}),
    ] {
        let text = match &bad {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let ev: SnsEvent =
            serde_json::from_value(json!({"Records": [sns_record("m-1", &text)]})).unwrap();
        // WHEN it is delivered
        let r = handle_sns(&kit.services, ev).await;
        // THEN the invocation fails, naming only the SNS message id
        match r {
            Err(MailEventsError::Unreadable(m)) => assert_eq!(m, "m-1"),
            other => panic!("expected unreadable, got {other:?}"),
        }
    }
    assert_eq!(status(&kit, &id).await.0, InviteStatus::Emailed);
}
