//! The webhook ports besides the store: where a delivery's next try waits (the queue), where the
//! local server finds the history steps not yet turned into messages (the feed), and what posts
//! a message (the sender).
//!
//! On AWS the table's stream is the feed and SQS is the queue, and both push to the `webhooks`
//! function; locally the SQLite store is both, and the local server's worker polls them.

#[cfg(feature = "aws")]
pub mod sqs;

pub mod http;

use async_trait::async_trait;

use crate::domain::{DeliveryId, InviteEvent, InviteId, Timestamp, WarehouseId};

pub use http::HttpSender;

/// A delivery as the queue carries it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeliveryRef {
    /// Whose.
    pub warehouse: WarehouseId,
    /// Which.
    pub delivery: DeliveryId,
}

/// The queue (or the step feed) could not do the work.
#[derive(Debug, thiserror::Error)]
#[error("webhook queue unavailable: {0}")]
pub struct QueueError(pub String);

/// Where a delivery waits for its next try.
#[async_trait]
pub trait WebhookQueue: Send + Sync {
    /// Hands `delivery` to a worker at `at` (a queue that cannot wait that long hands it over
    /// earlier; the worker puts it back until it is due).
    async fn schedule(
        &self,
        delivery: &DeliveryRef,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<(), QueueError>;

    /// Parks a delivery whose every try failed where operators see it (a dead-letter queue).
    async fn dead_letter(&self, delivery: &DeliveryRef) -> Result<(), QueueError>;

    /// The deliveries due at `now`, for a worker that polls (the local server). A queue that
    /// pushes to its worker (SQS triggering the `webhooks` function) answers none.
    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<DeliveryRef>, QueueError>;

    /// Forgets a delivery that needs no more tries (a pushed queue forgets what its worker
    /// finished by itself).
    async fn forget(&self, delivery: &DeliveryRef) -> Result<(), QueueError>;
}

/// One recorded history step not yet turned into webhook messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FedStep {
    /// Whose.
    pub invite: InviteId,
    /// The step's key.
    pub key: String,
    /// The event.
    pub event: InviteEvent,
}

/// The history steps not yet turned into messages, for a process that polls (the local
/// server: the SQLite store queues each recorded step in the transaction that records it).
#[async_trait]
pub trait StepFeed: Send + Sync {
    /// Up to `limit` steps, oldest first.
    async fn pending_steps(&self, limit: usize) -> Result<Vec<FedStep>, QueueError>;

    /// Marks a step turned into messages.
    async fn step_done(&self, invite: &InviteId, key: &str) -> Result<(), QueueError>;
}

/// For deployments where the table's stream feeds the `webhooks` function: nothing to poll.
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamFed;

#[async_trait]
impl StepFeed for StreamFed {
    async fn pending_steps(&self, _limit: usize) -> Result<Vec<FedStep>, QueueError> {
        Ok(Vec::new())
    }

    async fn step_done(&self, _invite: &InviteId, _key: &str) -> Result<(), QueueError> {
        Ok(())
    }
}

/// What became of one post.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostOutcome {
    /// The endpoint answered with this status.
    Answered(u16),
    /// No answer: a stable code (`timeout`, `connect`, `refused_address`, `tls`, `request`).
    NoAnswer(&'static str),
}

/// Posts one signed message.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Posts `body` to `url` with `headers`; never follows a redirect.
    async fn post(&self, url: &str, headers: &[(&'static str, String)], body: &str) -> PostOutcome;
}
