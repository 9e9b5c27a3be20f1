//! The Lambda side: DynamoDB stream records and SQS messages in, `batchItemFailures` out.

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_json::Value;
use shared::service::webhooks::deliver::DeliveryOutcome;
use shared::service::Services;
use shared::store::dynamo::stream;
use shared::webhooks::DeliveryRef;

/// Which trigger an invocation came from, by its records' `eventSource`.
fn source(event: &Value) -> Option<&str> {
    event
        .get("Records")?
        .as_array()?
        .first()?
        .get("eventSource")?
        .as_str()
}

/// Handles one invocation of either trigger; answers the records it could not finish.
pub async fn handle_event(svc: &Services, event: Value) -> Result<Value, lambda_runtime::Error> {
    match source(&event) {
        Some("aws:sqs") => {
            let event: SqsEvent = serde_json::from_value(event)?;
            Ok(serde_json::to_value(handle_sqs(svc, event).await)?)
        }
        Some("aws:dynamodb") => {
            let event: StreamEvent = serde_json::from_value(event)?;
            Ok(serde_json::to_value(handle_stream(svc, event).await)?)
        }
        // An empty batch asks nothing.
        None if event.get("Records").is_some() => Ok(serde_json::json!({"batchItemFailures": []})),
        _ => Err("neither an SQS nor a DynamoDB stream event".into()),
    }
}

fn failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}

/// Each inserted history event item becomes its messages; other records need nothing.
pub async fn handle_stream(svc: &Services, event: StreamEvent) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let Some(step) = stream::step_of(&record.event_name, &record.change.new_image) else {
            continue;
        };
        if let Err(e) = svc.fan_out_step(&step.invite, &step.key, &step.event).await {
            let id = record
                .change
                .sequence_number
                .clone()
                .unwrap_or_else(|| record.event_id.clone());
            tracing::warn!(sequence = %id, error = %e, "webhook step not turned into messages; reported for redelivery");
            let mut f = DynamoDbBatchItemFailure::default();
            f.item_identifier = Some(id);
            response.batch_item_failures.push(f);
        }
    }
    response
}

/// Each message is one try of one delivery. A malformed message is dropped (logged: it can
/// never succeed); a busy or failed hand-over is reported so SQS hands it over again.
pub async fn handle_sqs(svc: &Services, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in &event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let Some(queued) = message
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<DeliveryRef>(b).ok())
        else {
            tracing::error!(message_id = %id, "webhook queue message is not a delivery; dropped");
            continue;
        };
        match svc.deliver_webhook(&queued).await {
            Ok(DeliveryOutcome::Busy) => response.batch_item_failures.push(failure(id)),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(delivery_id = %queued.delivery, error = %e, "webhook delivery not finished; reported for redelivery");
                response.batch_item_failures.push(failure(id));
            }
        }
    }
    response
}
