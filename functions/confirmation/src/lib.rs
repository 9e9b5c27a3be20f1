//! `confirmation`: given "invite authorized", emails the merchant and the warehouse, each
//! exactly once. Locally the event comes in process after the callback commits; on AWS it comes
//! from the table's change stream.

use serde::{Deserialize, Serialize};
use shared::domain::InviteId;
use shared::service::confirm::ConfirmError;
use shared::service::Services;

/// The event: which invite was authorized.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InviteAuthorized {
    /// The invite id.
    pub invite_id: String,
}

/// What the confirmation did.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Outcome {
    /// The email kinds sent by this delivery.
    pub sent: Vec<&'static str>,
}

/// Why a delivery is not finished (it should be retried unless the event is malformed).
#[derive(Debug, thiserror::Error)]
pub enum ConfirmationError {
    /// The event does not name an invite.
    #[error("the event does not name an invite")]
    InvalidEvent,
    /// The confirmation could not finish.
    #[error(transparent)]
    Confirm(#[from] ConfirmError),
}

impl From<ConfirmationError> for lambda_runtime::Diagnostic {
    fn from(e: ConfirmationError) -> Self {
        let error_type = match &e {
            ConfirmationError::InvalidEvent => "InvalidEvent",
            ConfirmationError::Confirm(ConfirmError::NotAuthorized(_)) => "NotAuthorized",
            ConfirmationError::Confirm(ConfirmError::Busy) => "Busy",
            ConfirmationError::Confirm(ConfirmError::Mail(_)) => "MailFailed",
            ConfirmationError::Confirm(ConfirmError::Store(_)) => "StoreFailed",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// Handles one "invite authorized" event.
pub async fn handle(svc: &Services, event: InviteAuthorized) -> Result<Outcome, ConfirmationError> {
    let id = InviteId::parse(&event.invite_id).ok_or(ConfirmationError::InvalidEvent)?;
    let done = svc.confirm(&id).await?;
    Ok(Outcome {
        sent: done.sent.iter().map(|k| k.as_str()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::TestKit;

    async fn authorized(kit: &TestKit) -> String {
        kit.authorized().await.to_string()
    }

    #[tokio::test]
    async fn an_authorized_invite_is_confirmed_to_both_sides_once() {
        // GIVEN an authorized invite
        let kit = TestKit::new();
        let id = authorized(&kit).await;
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
        assert!(
            serde_json::from_str::<InviteAuthorized>(r#"{"invite_id":"x","extra":1}"#).is_err()
        );
    }
}
