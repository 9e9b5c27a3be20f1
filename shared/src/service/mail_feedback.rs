//! Mail feedback: what SES tells us after an email left (bounces and complaints), consumed so
//! that an invite whose email bounced permanently is marked `undeliverable` instead of waiting
//! for a merchant who never got the link.

use super::Services;
use crate::domain::{InviteEventKind, InviteId, InviteStatus};
use crate::store::{EmailKind, StoreError};

/// What SES reported about one email, reduced to what cartlink acts on. Carries opaque ids
/// only: recipients' addresses are never read from the event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailFeedback {
    /// The invite the email was about (its `invite-id` tag), if tagged.
    pub invite_id: Option<InviteId>,
    /// Which email it was (its `kind` tag), if tagged.
    pub email_kind: Option<EmailKind>,
    /// What happened.
    pub event: FeedbackEvent,
}

/// The kinds of feedback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedbackEvent {
    /// A permanent (hard) bounce, with SES's sub-type (`General`, `NoEmail`, `Suppressed`…).
    HardBounce(String),
    /// A transient or undetermined bounce: SES may still deliver; nothing changes.
    SoftBounce(String),
    /// The recipient marked the email as spam.
    Complaint,
}

/// What cartlink did with one piece of feedback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedbackOutcome {
    /// The invite is now `undeliverable`.
    MarkedUndeliverable,
    /// The invite was already past the point where a bounce matters (connected, revoked or
    /// already undeliverable): nothing changed.
    InviteAlreadySettled(InviteStatus),
    /// Recorded in the log only (complaints, soft bounces, bounces of confirmation emails).
    Logged,
    /// The email carried no invite id, or one this deployment does not know.
    UnknownInvite,
}

impl Services {
    /// Acts on one piece of SES feedback: a hard bounce of an invite email moves the invite to
    /// `undeliverable` with a conditional write (only from pending, emailed, email_failed or
    /// granting); everything else is logged as a structured event with opaque ids. A store
    /// failure is an error, so the delivery is retried.
    pub async fn on_mail_feedback(
        &self,
        feedback: &MailFeedback,
    ) -> Result<FeedbackOutcome, StoreError> {
        let invite = feedback.invite_id.as_ref().map(|i| i.to_string());
        let kind = feedback.email_kind.map(EmailKind::as_str);
        let sub_type = match &feedback.event {
            FeedbackEvent::HardBounce(sub) => sub.as_str(),
            FeedbackEvent::SoftBounce(sub) => {
                tracing::info!(event = "mail_soft_bounce", reason = %sub, invite_id = ?invite, kind = ?kind, "soft bounce; SES retries by itself");
                return Ok(FeedbackOutcome::Logged);
            }
            FeedbackEvent::Complaint => {
                tracing::warn!(event = "mail_complaint", invite_id = ?invite, kind = ?kind, "recipient complained about an email");
                return Ok(FeedbackOutcome::Logged);
            }
        };
        tracing::warn!(event = "mail_hard_bounce", reason = %sub_type, invite_id = ?invite, kind = ?kind, "email bounced permanently");
        let Some(id) = &feedback.invite_id else {
            return Ok(FeedbackOutcome::UnknownInvite);
        };
        if feedback.email_kind != Some(EmailKind::Invite) {
            // A confirmation that bounced changes nothing about the connection.
            return Ok(FeedbackOutcome::Logged);
        }
        let reason = format!("invite email bounced permanently ({sub_type})");
        let now = self.clock.now();
        match self
            .store
            .set_invite_status(id, InviteStatus::Undeliverable, Some(&reason), now)
            .await
        {
            Ok(()) => {
                tracing::warn!(event = "invite_undeliverable", invite_id = %id, "invite marked undeliverable");
                self.record_invite_event(id, InviteEventKind::Undeliverable, None, None)
                    .await;
                Ok(FeedbackOutcome::MarkedUndeliverable)
            }
            Err(StoreError::Missing(_)) => Ok(FeedbackOutcome::UnknownInvite),
            Err(StoreError::Conflict(_)) => match self.store.invite(id).await? {
                Some(invite) => Ok(FeedbackOutcome::InviteAlreadySettled(invite.status)),
                None => Ok(FeedbackOutcome::UnknownInvite),
            },
            Err(e) => Err(e),
        }
    }
}

impl EmailKind {
    /// The email kind with this stored name (the `kind` tag of an email).
    pub fn parse(name: &str) -> Option<EmailKind> {
        [
            EmailKind::Invite,
            EmailKind::MerchantConfirmation,
            EmailKind::WarehouseConfirmation,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}
