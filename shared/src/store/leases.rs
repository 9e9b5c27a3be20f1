//! Leases: one owner at a time for a piece of work (a refresh, a connection's care).

use async_trait::async_trait;

use super::StoreError;
use crate::domain::Timestamp;

/// Leases: one owner at a time for a piece of work, until the lease expires.
#[async_trait]
pub trait Leases: Send + Sync {
    /// Takes the lease `key` (an opaque id, such as `refresh:<connection id>`) for `owner` until
    /// `now + lease_secs`, unless another owner holds it unexpired: answers whether this owner
    /// holds it now. One conditional write.
    async fn take_lease(
        &self,
        key: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<bool, StoreError>;

    /// Gives the lease back, only if `owner` still holds it (an expired lease another owner
    /// took since is left alone).
    async fn release_lease(&self, key: &str, owner: &str) -> Result<(), StoreError>;
}
