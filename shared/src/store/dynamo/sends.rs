//! Send records: one per invite and email kind, leased to one sender, then sent.

use async_trait::async_trait;

use super::item::{get_s, n, s, send_key};
use super::{condition_failed, settle, unavailable, DynamoStore};
use crate::domain::{InviteId, Timestamp};
use crate::store::{EmailKind, SendClaim, SendLedger, StoreError};

#[async_trait]
impl SendLedger for DynamoStore {
    async fn claim_send(
        &self,
        invite: &InviteId,
        kind: EmailKind,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<SendClaim, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(send_key(invite, kind)))
            .update_expression(
                "SET #status = :sending, #lease_until = :lease, #updated_at = :now, #entity = :entity",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR (#status <> :sent AND (#status <> :sending OR #lease_until <= :now))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#lease_until", "lease_until")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_names("#entity", "entity")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":lease", n(now.0 + lease_secs))
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":entity", s("send"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(SendClaim::Claimed),
            Err(e) if condition_failed(&e) => {
                let item = self.get(send_key(invite, kind)).await?.unwrap_or_default();
                Ok(if get_s(&item, "status") == Some("sent") {
                    SendClaim::AlreadySent(
                        get_s(&item, "message_id").unwrap_or_default().to_owned(),
                    )
                } else {
                    SendClaim::Busy
                })
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn finish_send(
        &self,
        invite: &InviteId,
        kind: EmailKind,
        message_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(send_key(invite, kind)))
            .update_expression("SET #status = :sent, #message_id = :mid, #updated_at = :now")
            .condition_expression("#status = :sending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#message_id", "message_id")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":mid", s(message_id))
            .expression_attribute_values(":now", n(now.0))
            .send()
            .await;
        settle(result, StoreError::Conflict("send not claimed"))
    }

    async fn release_send(&self, invite: &InviteId, kind: EmailKind) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(send_key(invite, kind)))
            .update_expression("SET #status = :pending, #lease_until = :zero")
            .condition_expression("#status = :sending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#lease_until", "lease_until")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}
