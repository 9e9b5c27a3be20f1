//! The queue on SQS: a delivery's next try is a message with a delay (at most 15 minutes, SQS's
//! limit; a longer wait is served by putting the message back until the try is due), and a
//! delivery whose every try failed is a message on the dead-letter queue, where an alarm sees
//! it. The `webhooks` function is the queue's consumer.

use async_trait::async_trait;

use super::{DeliveryRef, QueueError, WebhookQueue};
use crate::domain::Timestamp;

/// SQS's longest message delay.
pub const MAX_DELAY_SECS: i64 = 900;

/// The SQS queue and its dead-letter queue.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    queue_url: Option<String>,
    dead_letter_url: Option<String>,
}

impl SqsQueue {
    /// The queue at `queue_url`, parking failed deliveries at `dead_letter_url` (a function
    /// that has neither configured never queues: a call then fails, saying which is missing).
    pub fn new(
        client: aws_sdk_sqs::Client,
        queue_url: Option<String>,
        dead_letter_url: Option<String>,
    ) -> Self {
        SqsQueue {
            client,
            queue_url,
            dead_letter_url,
        }
    }

    async fn send(
        &self,
        url: &Option<String>,
        setting: &str,
        delivery: &DeliveryRef,
        delay: i64,
    ) -> Result<(), QueueError> {
        let url = url
            .as_deref()
            .ok_or_else(|| QueueError(format!("{setting} is not set")))?;
        let body = serde_json::to_string(delivery).expect("a delivery ref always serializes");
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .delay_seconds(i32::try_from(delay.clamp(0, MAX_DELAY_SECS)).unwrap_or(0))
            .send()
            .await
            .map_err(|e| QueueError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}

#[async_trait]
impl WebhookQueue for SqsQueue {
    async fn schedule(
        &self,
        delivery: &DeliveryRef,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<(), QueueError> {
        self.send(
            &self.queue_url,
            "CARTLINK_WEBHOOK_QUEUE_URL",
            delivery,
            at.0 - now.0,
        )
        .await
    }

    async fn dead_letter(&self, delivery: &DeliveryRef) -> Result<(), QueueError> {
        self.send(
            &self.dead_letter_url,
            "CARTLINK_WEBHOOK_DLQ_URL",
            delivery,
            0,
        )
        .await
    }

    async fn due(&self, _now: Timestamp, _limit: usize) -> Result<Vec<DeliveryRef>, QueueError> {
        // SQS pushes its messages to the webhooks function: nothing is polled.
        Ok(Vec::new())
    }

    async fn forget(&self, _delivery: &DeliveryRef) -> Result<(), QueueError> {
        // Lambda deletes a message its function finished.
        Ok(())
    }
}
