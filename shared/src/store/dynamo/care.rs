//! The care schedule on DynamoDB: a connection with a care time carries `gsi1pk = CARE` and
//! `gsi1sk = <care time, 12 digits>#<connection id>` (invites use `gsi1` under `WH#…`
//! partitions; connections had no `gsi1` keys before), so what is due is one Query on `gsi1`
//! for `gsi1sk` below the next second, the earliest first. A connection without a care time
//! has no `gsi1` keys (the index is sparse for it). One partition holds the whole schedule: its
//! writes are the connections' token writes, a few per connection per day.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{connection_key, list_sk, n, s, Item};
use super::{condition_failed, unavailable, DynamoStore, GSI1};
use crate::domain::{Connection, ConnectionId, Timestamp};
use crate::store::{CareSchedule, StoreError};

/// The one `gsi1pk` of the care schedule.
pub(super) const CARE_PARTITION: &str = "CARE";

/// The care attributes of connection `id` with care time `care_at` (none without one).
pub(super) fn care_attributes(care_at: Option<Timestamp>, id: &str) -> Item {
    care_at
        .map(|t| {
            Item::from([
                ("care_at".to_owned(), n(t.0)),
                ("gsi1pk".to_owned(), s(CARE_PARTITION)),
                ("gsi1sk".to_owned(), s(list_sk(t, id))),
            ])
        })
        .unwrap_or_default()
}

/// An update's clauses that set (or, without a time, remove) a connection's care time and its
/// index keys, with the names and values they use.
pub(super) struct CareClauses {
    /// `SET` clauses.
    pub set: Vec<&'static str>,
    /// `REMOVE` clauses.
    pub remove: Vec<&'static str>,
    /// Attribute names.
    pub names: Vec<(String, String)>,
    /// Attribute values.
    pub values: Vec<(String, AttributeValue)>,
}

pub(super) fn care_clauses(care_at: Option<Timestamp>, id: &str) -> CareClauses {
    let names = ["care_at", "gsi1pk", "gsi1sk"]
        .into_iter()
        .map(|a| (format!("#{a}"), a.to_owned()))
        .collect();
    match care_at {
        Some(t) => CareClauses {
            set: vec![
                "#care_at = :care_at",
                "#gsi1pk = :care_pk",
                "#gsi1sk = :care_sk",
            ],
            remove: vec![],
            names,
            values: vec![
                (":care_at".to_owned(), n(t.0)),
                (":care_pk".to_owned(), s(CARE_PARTITION)),
                (":care_sk".to_owned(), s(list_sk(t, id))),
            ],
        },
        None => CareClauses {
            set: vec![],
            remove: vec!["#care_at", "#gsi1pk", "#gsi1sk"],
            names,
            values: vec![],
        },
    }
}

#[async_trait]
impl CareSchedule for DynamoStore {
    async fn due_for_care(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Connection>, StoreError> {
        let result = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :p AND gsi1sk < :before")
            .expression_attribute_values(":p", s(CARE_PARTITION))
            .expression_attribute_values(":before", s(format!("{:012}", now.0 + 1)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        result.items().iter().map(Self::connection_from).collect()
    }

    async fn reschedule_care(
        &self,
        id: &ConnectionId,
        care_at: Option<Timestamp>,
        noticed: Option<Timestamp>,
        read_version: u64,
    ) -> Result<(), StoreError> {
        let read = i64::try_from(read_version).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let care = care_clauses(care_at, id.as_str());
        let mut set = care.set;
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(connection_key(id.as_str())))
            .condition_expression("attribute_exists(pk) AND #version = :read")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":read", n(read));
        if let Some(t) = noticed {
            set.push("#care_noticed = :noticed");
            req = req
                .expression_attribute_names("#care_noticed", "care_noticed")
                .expression_attribute_values(":noticed", n(t.0));
        }
        for (k, v) in care.names {
            req = req.expression_attribute_names(k, v);
        }
        for (k, v) in care.values {
            req = req.expression_attribute_values(k, v);
        }
        let mut expression = String::new();
        if !set.is_empty() {
            expression.push_str(&format!("SET {}", set.join(", ")));
        }
        if !care.remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", care.remove.join(", ")));
        }
        match req.update_expression(expression.trim()).send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => match self.get(connection_key(id.as_str())).await? {
                Some(_) => Err(StoreError::Conflict("connection version")),
                None => Err(StoreError::Missing("connection")),
            },
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn record_subscribed(
        &self,
        id: &ConnectionId,
        at: Timestamp,
        read_version: u64,
    ) -> Result<(), StoreError> {
        let read = i64::try_from(read_version).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(connection_key(id.as_str())))
            .condition_expression("attribute_exists(pk) AND #version = :read")
            .update_expression("SET #subscribed_at = :at")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#subscribed_at", "subscribed_at")
            .expression_attribute_values(":read", n(read))
            .expression_attribute_values(":at", n(at.0))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => match self.get(connection_key(id.as_str())).await? {
                Some(_) => Err(StoreError::Conflict("connection version")),
                None => Err(StoreError::Missing("connection")),
            },
            Err(e) => Err(unavailable(e)),
        }
    }
}
