//! The idempotency part of the store port: one record per warehouse and `Idempotency-Key`,
//! taken by the first request (in progress, under a lease), then holding that request's answer.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::Timestamp;
use crate::vault::SealedBlob;

/// A finished request's answer as kept for its replays: the status, the content type and the
/// body, sealed by the vault (a created invite's answer carries its secret setup link).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: String,
    /// The body, sealed.
    pub body: SealedBlob,
}

/// What a record holds when it is not taken by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyRecord {
    /// The first request finished with this answer.
    Done(StoredAnswer),
    /// A request holds the record until `lease_until` (a lapsed lease with another request
    /// hash than the caller's is reported so too).
    InProgress {
        /// When its lease ends.
        lease_until: Timestamp,
    },
}

/// The outcome of trying to take an idempotency record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyTake {
    /// The caller holds the record now and must run the request, then finish or release it.
    Taken {
        /// The owner that first took the record: a takeover keeps it, so a request and its
        /// retries agree on it (and on what they derive from it, such as the id of what they
        /// create), while a record taken afresh (after a release or its keeping) has another.
        first_owner: String,
        /// Whether an earlier holder's lease had lapsed (it may have done part of the work).
        taken_over: bool,
    },
    /// Another request has the record: the caller compares `request_hash` with its own.
    Held {
        /// The hash of the canonical request the record was first taken for.
        request_hash: String,
        /// What it holds.
        record: IdempotencyRecord,
    },
}

/// Idempotency records, by an opaque key (a warehouse id and a hash of its `Idempotency-Key`).
#[async_trait]
pub trait IdempotencyKeys: Send + Sync {
    /// Takes the record `key` for `owner` until `now + lease_secs`, in one conditional write:
    /// when there is none, or it is past the `keep_secs` it was kept for (a fresh record, whose
    /// `first_owner` is `owner`), or it is in progress for the same `request_hash` under a lease that
    /// has lapsed (a takeover). Otherwise answers what it holds; of concurrent takes exactly one
    /// wins.
    async fn take_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
        keep_secs: i64,
    ) -> Result<IdempotencyTake, StoreError>;

    /// Stores `answer` in the record, only while `owner` holds it in progress
    /// ([`StoreError::Conflict`] otherwise: another request took it over).
    async fn finish_idempotency_key(
        &self,
        key: &str,
        owner: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError>;

    /// Deletes the record, only while `owner` holds it in progress (an answer that is not kept,
    /// so that a retry runs the request again).
    async fn release_idempotency_key(&self, key: &str, owner: &str) -> Result<(), StoreError>;
}
