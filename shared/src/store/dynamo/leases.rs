//! Leases: one item per key, held by one owner until it expires.

use async_trait::async_trait;

use super::item::{key, n, s};
use super::{condition_failed, unavailable, DynamoStore};
use crate::domain::Timestamp;
use crate::store::{Leases, StoreError};

#[async_trait]
impl Leases for DynamoStore {
    async fn take_lease(
        &self,
        key_name: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<bool, StoreError> {
        let until = now.0 + lease_secs;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("LEASE#{key_name}"), "LEASE")))
            .update_expression(
                "SET #owner = :owner, #until = :until, #ttl = :ttl, #entity = :entity",
            )
            .condition_expression("attribute_not_exists(pk) OR #until <= :now OR #owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#until", "until")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_names("#entity", "entity")
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":ttl", n(until + 3600))
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":entity", s("lease"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn release_lease(&self, key_name: &str, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("LEASE#{key_name}"), "LEASE")))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}
