//! Manage links (`MLINK#<hash>`) and last token fetches (`FETCH#<connection id>`), one item each.

use async_trait::async_trait;

use super::item::{key, n, need_n, need_s, s};
use super::{condition_failed, settle, unavailable, DynamoStore};
use crate::domain::{ConnectionId, InviteId, Timestamp, TokenHash};
use crate::store::manage::FETCH_RECORD_EVERY_SECS;
use crate::store::{ManageLink, ManageLinks, StoreError};

fn manage_key(link: &TokenHash) -> super::item::Item {
    key(format!("MLINK#{}", link.as_str()), "MLINK")
}

fn fetch_key(id: &ConnectionId) -> super::item::Item {
    key(format!("FETCH#{id}"), "FETCH")
}

#[async_trait]
impl ManageLinks for DynamoStore {
    async fn add_manage_link(
        &self,
        link: &TokenHash,
        record: &ManageLink,
    ) -> Result<(), StoreError> {
        let mut item = manage_key(link);
        item.extend([
            ("entity".to_owned(), s("manage_link")),
            ("connection_id".to_owned(), s(record.connection_id.as_str())),
            ("invite_id".to_owned(), s(record.invite_id.as_str())),
            ("created_at".to_owned(), n(record.created_at.0)),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        settle(result, StoreError::Conflict("manage link exists"))
    }

    async fn manage_link(&self, link: &TokenHash) -> Result<Option<ManageLink>, StoreError> {
        let Some(item) = self.get(manage_key(link)).await? else {
            return Ok(None);
        };
        let corrupt = |what: &str| StoreError::Corrupt(format!("manage link's {what}"));
        Ok(Some(ManageLink {
            connection_id: ConnectionId::parse(need_s(&item, "connection_id")?)
                .ok_or_else(|| corrupt("connection id"))?,
            invite_id: InviteId::parse(need_s(&item, "invite_id")?)
                .ok_or_else(|| corrupt("invite id"))?,
            created_at: Timestamp(need_n(&item, "created_at")?),
        }))
    }

    async fn record_token_fetch(&self, id: &ConnectionId, at: Timestamp) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(fetch_key(id)))
            .update_expression("SET #at = :at, #entity = :entity")
            .condition_expression("attribute_not_exists(pk) OR #at <= :before")
            .expression_attribute_names("#at", "at")
            .expression_attribute_names("#entity", "entity")
            .expression_attribute_values(":at", n(at.0))
            .expression_attribute_values(":before", n(at.0 - FETCH_RECORD_EVERY_SECS))
            .expression_attribute_values(":entity", s("token_fetch"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn last_token_fetch(&self, id: &ConnectionId) -> Result<Option<Timestamp>, StoreError> {
        let Some(item) = self.get(fetch_key(id)).await? else {
            return Ok(None);
        };
        Ok(Some(Timestamp(need_n(&item, "at")?)))
    }
}
