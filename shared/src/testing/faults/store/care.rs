//! The care schedule of the store port behind the fault plan.

use async_trait::async_trait;

use super::FaultyStore;
use crate::domain::{Connection, ConnectionId, Timestamp};
use crate::store::{CareSchedule, StoreError};

#[async_trait]
impl CareSchedule for FaultyStore {
    async fn due_for_care(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Connection>, StoreError> {
        self.run("due_for_care", self.inner.due_for_care(now, limit))
            .await
    }

    async fn reschedule_care(
        &self,
        id: &ConnectionId,
        care_at: Option<Timestamp>,
        noticed: Option<Timestamp>,
        read_version: u64,
    ) -> Result<(), StoreError> {
        self.run(
            "reschedule_care",
            self.inner
                .reschedule_care(id, care_at, noticed, read_version),
        )
        .await
    }

    async fn record_subscribed(
        &self,
        id: &ConnectionId,
        at: Timestamp,
        read_version: u64,
    ) -> Result<(), StoreError> {
        self.run(
            "record_subscribed",
            self.inner.record_subscribed(id, at, read_version),
        )
        .await
    }
}
