//! The Lambda side: DynamoDB stream records in, `batchItemFailures` out (AWS builds only).

use aws_lambda_events::event::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::service::Services;
use shared::store::dynamo::stream::{self, StreamChange};

use crate::ConfirmationError;

/// Confirms the invite a stream record says was authorized; any other record needs nothing.
async fn handle_record(svc: &Services, record: &EventRecord) -> Result<(), ConfirmationError> {
    let change = stream::classify(
        &record.event_name,
        &record.change.old_image,
        &record.change.new_image,
    )
    .map_err(|_| ConfirmationError::InvalidEvent)?;
    match change {
        StreamChange::InviteAuthorized(id) => {
            svc.confirm(&id).await.map(|_| ()).map_err(Into::into)
        }
        StreamChange::Other => Ok(()),
    }
}

/// Handles a batch of DynamoDB stream records; answers the records it could not finish.
pub async fn handle_stream(svc: &Services, event: StreamEvent) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        if let Err(e) = handle_record(svc, record).await {
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
