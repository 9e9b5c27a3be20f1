//! `webhooks`: turns invites' history steps into signed messages and delivers them, with
//! retries for a day (see `shared::service::webhooks`).
//!
//! On AWS one function has two triggers: the table's stream (each inserted history event item
//! becomes a delivery per endpoint that hears it, queued on SQS) and that SQS queue (each
//! message is one try of one delivery, queued again with the next wait, or dead-lettered). A
//! record or message that could not be finished is answered in `batchItemFailures`, so Lambda
//! hands it over again. Locally [`poll_once`] does both from the SQLite store's feed and queue.

use shared::service::webhooks::deliver::DeliveryOutcome;
use shared::service::Services;

/// How many steps and deliveries one local round takes.
pub const LOCAL_BATCH: usize = 50;

/// One round of the local worker: turns the recorded steps into messages, then hands every due
/// delivery to its endpoint. Answers how many deliveries it handed over. Failures are logged
/// and left for the next round (nothing is lost: feed and queue rows stay until done).
pub async fn poll_once(svc: &Services) -> usize {
    if let Err(e) = svc.fan_out_pending_steps(LOCAL_BATCH).await {
        tracing::warn!(error = %e, "webhook steps not read; the next round tries again");
    }
    let now = svc.clock.now();
    let due = match svc.webhooks.queue.due(now, LOCAL_BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "webhook queue not read; the next round tries again");
            return 0;
        }
    };
    let mut handed = 0;
    for queued in due {
        match svc.deliver_webhook(&queued).await {
            Ok(DeliveryOutcome::Busy) => {}
            Ok(_) => handed += 1,
            Err(e) => {
                tracing::warn!(delivery_id = %queued.delivery, error = %e, "webhook delivery not finished; the next round tries again");
            }
        }
    }
    handed
}

#[cfg(feature = "lambda")]
mod lambda;
#[cfg(feature = "lambda")]
pub use lambda::{handle_event, handle_sqs, handle_stream};

#[cfg(test)]
mod tests;
