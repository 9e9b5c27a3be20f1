//! The email of webhooks: an endpoint answered 410 Gone, so it was disabled.

use super::render::{b, para, t, to_html_with, to_text, Block, Letterhead};
use crate::domain::{Timestamp, WebhookEndpoint};
use crate::mailer::{MailError, OutgoingEmail};

/// "Your webhook endpoint was disabled", to the warehouse: which endpoint, when, why, and how
/// to get messages again. Named by the endpoint and its revision, so the outbox keeps one.
pub fn endpoint_disabled_email(
    to: &str,
    warehouse_name: &str,
    endpoint: &WebhookEndpoint,
    at: Timestamp,
) -> Result<OutgoingEmail, MailError> {
    let subject = "A cartlink webhook endpoint was disabled";
    let blocks = [
        para(vec![t(format!("Hello {warehouse_name},"))]),
        para(vec![
            t(format!("On {} your webhook endpoint ", at.human())),
            b(endpoint.url.as_str()),
            t(" answered 410 Gone, so cartlink disabled it and sends it no more messages."),
        ]),
        Block::Facts(vec![("Endpoint id", endpoint.id.to_string())]),
        para(vec![t(
            "To get messages again, make a new endpoint (POST /v1/webhooks/endpoints); failed \
             deliveries can then be sent again with POST /v1/webhooks/deliveries/{id}/retry.",
        )]),
    ];
    let email = OutgoingEmail::new(
        to,
        subject,
        to_text(&blocks),
        to_html_with("en", subject, &blocks, &Letterhead::default()),
        vec![
            ("endpoint-id".into(), endpoint.id.to_string()),
            ("kind".into(), "webhook_endpoint_disabled".into()),
        ],
    )?;
    Ok(email.with_idempotency_key(format!(
        "webhook-disabled-{}-{}",
        endpoint.id, endpoint.revision
    )))
}
