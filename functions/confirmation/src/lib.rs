//! `confirmation`: when an invite changes into `authorized`, emails the merchant and the
//! warehouse, each exactly once.
//!
//! On AWS the change arrives as DynamoDB stream records ([`handle_stream`]): only an invite item
//! whose `status` changes into `authorized` is acted on; REMOVE records (TTL deletions) and every
//! other change are ignored; a record that could not be finished is answered in
//! `batchItemFailures` so Lambda delivers it again, never a silent success. Locally the event is
//! delivered in process after the callback commits ([`handle`]).

use aws_lambda_events::event::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde::{Deserialize, Serialize};
use serde_dynamo::AttributeValue;
use shared::domain::{InviteId, InviteStatus};
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

/// What a stream record asks of us.
#[derive(Debug, PartialEq, Eq)]
pub enum RecordAction {
    /// An invite changed into `authorized`: confirm it.
    Confirm(InviteId),
    /// Anything else.
    Ignore,
}

fn string_attr<'a>(image: &'a serde_dynamo::Item, name: &str) -> Option<&'a str> {
    match image.get(name)? {
        AttributeValue::S(s) => Some(s.as_str()),
        _ => None,
    }
}

/// Decides what a stream record asks of us; a record that looks like an invite changing into
/// `authorized` but does not name a valid invite is an error.
pub fn classify(record: &EventRecord) -> Result<RecordAction, ConfirmationError> {
    if record.event_name == "REMOVE" {
        return Ok(RecordAction::Ignore);
    }
    let new = &record.change.new_image;
    let old = &record.change.old_image;
    let authorized = InviteStatus::Authorized.as_str();
    if string_attr(new, "entity") != Some("invite")
        || string_attr(new, "status") != Some(authorized)
        || string_attr(old, "status") == Some(authorized)
    {
        return Ok(RecordAction::Ignore);
    }
    string_attr(new, "invite_id")
        .and_then(InviteId::parse)
        .map(RecordAction::Confirm)
        .ok_or(ConfirmationError::InvalidEvent)
}

/// Handles a batch of DynamoDB stream records; answers the records it could not finish.
pub async fn handle_stream(svc: &Services, event: StreamEvent) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let result = match classify(record) {
            Ok(RecordAction::Confirm(id)) => svc.confirm(&id).await.map(|_| ()).map_err(Into::into),
            Ok(RecordAction::Ignore) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            let identifier = record
                .change
                .sequence_number
                .clone()
                .unwrap_or_else(|| record.event_id.clone());
            tracing::warn!(sequence = %identifier, error = %e, "stream record not finished; reported for redelivery");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(identifier);
            response.batch_item_failures.push(failure);
        }
    }
    response
}

#[cfg(test)]
mod tests;
