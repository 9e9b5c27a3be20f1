//! The care schedule: connections by their next care time (`Connection::care_at`, the rule in
//! `domain::care`). Every write of a connection's tokens or status writes its care time in the
//! same write (the callback's commits, [`super::ConnectionStore::update_tokens`],
//! [`super::ConnectionStore::set_connection_status`]), so the schedule never drifts from the
//! connection; this part adds the read of what is due and care's own move of the time.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{Connection, ConnectionId, Timestamp};

/// Connections due for proactive care.
#[async_trait]
pub trait CareSchedule: Send + Sync {
    /// Up to `limit` connections whose care time is at or before `now`, the earliest first.
    /// One indexed query, however many connections the store holds (never a scan); like every
    /// index read it may lag a write by a moment, so the caller reads each one again.
    async fn due_for_care(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Connection>, StoreError>;

    /// Moves a connection's care time to `care_at` (`None` takes it off the schedule) and, when
    /// given, records `noticed` as the deadline whose notice went out, only while its version is
    /// still `read_version`; the version stays (a refresh under way still lands).
    /// [`StoreError::Conflict`] if the version moved, [`StoreError::Missing`] if it is gone.
    async fn reschedule_care(
        &self,
        id: &ConnectionId,
        care_at: Option<Timestamp>,
        noticed: Option<Timestamp>,
        read_version: u64,
    ) -> Result<(), StoreError>;

    /// Records that care made sure of the connection's uninstall subscription at `at`
    /// ([`Connection::subscribed_at`]), only while its version is still `read_version`; the
    /// version and the care time stay (care moves the time next).
    /// [`StoreError::Conflict`] if the version moved, [`StoreError::Missing`] if it is gone.
    async fn record_subscribed(
        &self,
        id: &ConnectionId,
        at: Timestamp,
        read_version: u64,
    ) -> Result<(), StoreError>;
}
