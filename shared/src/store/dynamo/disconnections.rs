//! Disconnections: a dropped connection's record, put in the same transaction that deletes the
//! connection's item (and with it the sealed tokens).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use serde_json::Value;

use super::item::{connection_key, key, n, need_s, s, Item};
use super::{build_err, settle, DynamoStore};
use crate::domain::{ConnectionId, Disconnection, Revocation};
use crate::store::record::{body_without, with_fields, DISCONNECTION_MUTABLE};
use crate::store::{Disconnections, StoreError};

fn disconnection_key(id: &str) -> Item {
    key(format!("DISC#{id}"), "DISC")
}

#[async_trait]
impl Disconnections for DynamoStore {
    async fn disconnect(
        &self,
        record: &Disconnection,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        let id = record.connection_id.as_str();
        let expected =
            i64::try_from(expected_version).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(connection_key(id)))
            .condition_expression("attribute_exists(pk) AND #version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected))
            .build()
            .map_err(build_err)?;
        let mut item = disconnection_key(id);
        item.extend([
            ("entity".to_owned(), s("disconnection")),
            ("warehouse_id".to_owned(), s(record.warehouse_id.as_str())),
            ("invite_id".to_owned(), s(record.invite_id.as_str())),
            ("revocation".to_owned(), s(record.revocation.as_str())),
            (
                "body".to_owned(),
                s(body_without(record, &DISCONNECTION_MUTABLE)?),
            ),
        ]);
        item.extend(super::accounts::account_attributes(
            record.cart.as_str(),
            record.account.as_deref(),
            id,
        ));
        self.transact(
            vec![
                TransactWriteItem::builder().delete(delete).build(),
                self.put(item, "attribute_not_exists(pk)")?,
            ],
            None,
            "connection gone or changed",
        )
        .await
    }

    async fn disconnection(&self, id: &ConnectionId) -> Result<Option<Disconnection>, StoreError> {
        let Some(item) = self.get(disconnection_key(id.as_str())).await? else {
            return Ok(None);
        };
        with_fields(
            need_s(&item, "body")?,
            vec![(
                "revocation",
                Value::String(need_s(&item, "revocation")?.to_owned()),
            )],
        )
        .map(Some)
    }

    async fn settle_revocation(
        &self,
        id: &ConnectionId,
        outcome: Revocation,
    ) -> Result<(), StoreError> {
        if self.get(disconnection_key(id.as_str())).await?.is_none() {
            return Err(StoreError::Missing("disconnection"));
        }
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(disconnection_key(id.as_str())))
            .update_expression("SET revocation = :to")
            .condition_expression("revocation = :pending")
            .expression_attribute_values(":to", s(outcome.as_str()))
            .expression_attribute_values(":pending", s(Revocation::Pending.as_str()));
        settle(req.send().await, StoreError::Conflict("revocation settled"))
    }
}
