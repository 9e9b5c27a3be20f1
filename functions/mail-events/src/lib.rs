//! `mail-events`: consumes the SES events of cartlink's configuration set (bounces and
//! complaints), delivered by SNS. A permanent bounce of an invite email marks the invite
//! `undeliverable`; complaints, soft bounces and bounces of confirmation emails are logged as
//! structured events with opaque ids (never an address).
//!
//! The email is found by the tags the SES mailer sets on every message (`invite-id`, `kind`).
//! SNS invokes the function asynchronously: an event that cannot be read, or a store failure,
//! fails the invocation, so Lambda retries it and then hands it to the function's dead-letter
//! queue (alarmed), never a silent success.

use serde::{Deserialize, Serialize};
use shared::domain::InviteId;
use shared::service::mail_feedback::{FeedbackEvent, FeedbackOutcome, MailFeedback};
use shared::service::Services;
use shared::store::{EmailKind, StoreError};

/// The SNS event Lambda receives, as `aws_lambda_events` models it. SES's bounce and complaint
/// notifications themselves have no type there (its `ses` module is SES's inbound receipt
/// event), so the few fields read from them are declared below.
pub use aws_lambda_events::sns::SnsEvent;

/// The SES event (event publishing uses `eventType`, identity notifications
/// `notificationType`; both are read).
#[derive(Deserialize)]
struct SesEvent {
    #[serde(rename = "eventType", alias = "notificationType")]
    event_type: String,
    #[serde(default)]
    bounce: Option<SesBounce>,
    mail: SesMail,
}

#[derive(Deserialize)]
struct SesBounce {
    #[serde(rename = "bounceType")]
    bounce_type: String,
    #[serde(rename = "bounceSubType", default)]
    bounce_sub_type: String,
}

#[derive(Deserialize)]
struct SesMail {
    #[serde(default)]
    tags: std::collections::HashMap<String, Vec<String>>,
}

/// Why an invocation failed (Lambda retries it, then dead-letters it).
#[derive(Debug, thiserror::Error)]
pub enum MailEventsError {
    /// The SNS message is not an SES event cartlink understands.
    #[error("unreadable SES event in SNS message {0}")]
    Unreadable(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one invocation did, per record.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Invites marked undeliverable.
    pub undeliverable: usize,
    /// Records only logged, or about invites already settled or unknown.
    pub ignored: usize,
}

fn sanitize(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect()
}

/// Reads the feedback out of one SES event (JSON text). `None` for event types other than
/// bounces and complaints (the configuration set sends only those; anything else is ignored).
pub fn parse_feedback(message: &str) -> Result<Option<MailFeedback>, String> {
    let event: SesEvent =
        serde_json::from_str(message).map_err(|e| format!("not an SES event: {e}"))?;
    let tag = |name: &str| event.mail.tags.get(name).and_then(|v| v.first()).cloned();
    let invite_id = tag("invite-id").and_then(|v| InviteId::parse(&v));
    let email_kind = tag("kind").and_then(|v| EmailKind::parse(&v));
    let event = match event.event_type.as_str() {
        "Bounce" => {
            let bounce = event
                .bounce
                .ok_or_else(|| "a Bounce event without its bounce object".to_owned())?;
            let sub = sanitize(&bounce.bounce_sub_type);
            if bounce.bounce_type == "Permanent" {
                FeedbackEvent::HardBounce(sub)
            } else {
                FeedbackEvent::SoftBounce(sub)
            }
        }
        "Complaint" => FeedbackEvent::Complaint,
        _ => return Ok(None),
    };
    Ok(Some(MailFeedback {
        invite_id,
        email_kind,
        event,
    }))
}

/// Handles one SNS delivery of SES events.
pub async fn handle_sns(svc: &Services, event: SnsEvent) -> Result<Summary, MailEventsError> {
    let mut summary = Summary::default();
    for record in &event.records {
        let id = sanitize(&record.sns.message_id);
        let feedback = match parse_feedback(&record.sns.message) {
            Ok(Some(f)) => f,
            Ok(None) => {
                summary.ignored += 1;
                continue;
            }
            Err(why) => {
                tracing::error!(event = "mail_event_unreadable", sns_message_id = %id, reason = %why, "SES event not understood");
                return Err(MailEventsError::Unreadable(id));
            }
        };
        match svc.on_mail_feedback(&feedback).await? {
            FeedbackOutcome::MarkedUndeliverable => summary.undeliverable += 1,
            _ => summary.ignored += 1,
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests;
