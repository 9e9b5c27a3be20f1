//! The SES adapter's reading of SES's refusals, through the real SDK client (answers injected
//! on the wire: moto never throttles and accepts any sender once its identity exists): a
//! throttled send is "unavailable" (try later), a rejected one "rejected" (a fix is needed).

use std::sync::Arc;

use cartlink_e2e::aws::sdk;
use cartlink_e2e::aws_faults::SesRefusal;
use shared::mailer::{MailError, Mailer, OutgoingEmail, SesMailer};

async fn send_through(refusal: &Arc<SesRefusal>) -> Result<String, MailError> {
    let sdk = sdk()
        .await
        .to_builder()
        .http_client(refusal.client())
        .build();
    let mailer = SesMailer::new(
        aws_sdk_sesv2::Client::new(&sdk),
        "cartlink <no-reply@cartlink.test>",
        None,
    )
    .unwrap();
    let email = OutgoingEmail::new(
        "merchant@shop.test",
        "Connect your store",
        "text".into(),
        "<p>html</p>".into(),
        vec![("kind".into(), "invite".into())],
    )
    .unwrap();
    mailer.send(&email).await
}

#[tokio::test]
async fn a_throttled_send_is_unavailable_to_be_tried_later() {
    // GIVEN SES answering 429 TooManyRequestsException (its sending rate exceeded)
    let refusal = SesRefusal::new(429, "TooManyRequestsException");
    // WHEN an email is sent
    let outcome = send_through(&refusal).await;
    // THEN it is "unavailable", which every caller retries later
    assert!(
        matches!(outcome, Err(MailError::Unavailable(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_rejected_send_is_rejected_and_not_retried_by_the_client() {
    // GIVEN SES answering 400 MessageRejected (an unverified sender, say)
    let refusal = SesRefusal::new(400, "MessageRejected");
    // WHEN an email is sent
    let outcome = send_through(&refusal).await;
    // THEN it is "rejected", with a stable code, after one try
    let Err(e) = &outcome else {
        panic!("sent: {outcome:?}")
    };
    assert!(matches!(e, MailError::Rejected(_)), "{e:?}");
    assert_eq!(e.code(), "mail_rejected");
    assert_eq!(refusal.tries.load(std::sync::atomic::Ordering::SeqCst), 1);
}
