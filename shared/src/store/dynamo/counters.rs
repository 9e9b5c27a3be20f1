//! Rate-limit counters: one item per key and window.

use async_trait::async_trait;

use super::item::{key, n};
use super::{condition_failed, unavailable, DynamoStore};
use crate::domain::Timestamp;
use crate::store::{Counters, StoreError};

#[async_trait]
impl Counters for DynamoStore {
    async fn count_hit_within(
        &self,
        key_name: &str,
        window_secs: i64,
        limit: u32,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        if limit == 0 {
            return Ok(false);
        }
        let window = now.0 - now.0.rem_euclid(window_secs.max(1));
        let ttl = now.0.saturating_add(window_secs.clamp(0, 60 * 24 * 3600)) + 3600;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("HIT#{key_name}"), &format!("W#{window}"))))
            .update_expression("ADD #count :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(ttl))
            .expression_attribute_values(":limit", n(i64::from(limit)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }
}
