//! `confirmation`: when an invite changes into `authorized`, emails the merchant and the
//! warehouse, each exactly once.
//!
//! On AWS the change arrives as DynamoDB stream records ([`handle_stream`]): only an invite item
//! whose `status` changes into `authorized` is acted on (the DynamoDB store, which knows its
//! items, reads each record: `shared::store::dynamo::stream::classify`); REMOVE records (TTL deletions) and every
//! other change are ignored; a record that could not be finished is answered in
//! `batchItemFailures` so Lambda delivers it again, never a silent success. Locally the event is
//! delivered in process after the callback commits ([`handle`]).

use serde::{Deserialize, Serialize};
use shared::domain::InviteId;
use shared::service::confirm::ConfirmError;
use shared::service::Services;

/// The in-process event: which invite was authorized.
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

/// Handles one in-process "invite authorized" event.
pub async fn handle(svc: &Services, event: InviteAuthorized) -> Result<Outcome, ConfirmationError> {
    let id = InviteId::parse(&event.invite_id).ok_or(ConfirmationError::InvalidEvent)?;
    let done = svc.confirm(&id).await?;
    Ok(Outcome {
        sent: done.sent.iter().map(|k| k.as_str()).collect(),
    })
}

#[cfg(feature = "lambda")]
mod stream_records;
#[cfg(feature = "lambda")]
pub use stream_records::handle_stream;

#[cfg(all(test, feature = "lambda"))]
mod tests;
