//! Manage links (`MLINK#<hash>`, filed under the merchant's address hash as
//! `MADDR#<hash>` / `CON#<connection id>` in the same transaction) and last token fetches
//! (`FETCH#<connection id>`).

use async_trait::async_trait;

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::item::{key, n, need_n, need_s, s, Item};
use super::{build_err, condition_failed, unavailable, DynamoStore};
use crate::domain::{ConnectionId, InviteId, Timestamp, TokenHash};
use crate::store::manage::FETCH_RECORD_EVERY_SECS;
use crate::store::{ManageLink, ManageLinks, StoreError};

fn manage_key(link: &TokenHash) -> Item {
    key(format!("MLINK#{}", link.as_str()), "MLINK")
}

fn address_key(merchant: &TokenHash, connection: &ConnectionId) -> Item {
    key(
        format!("MADDR#{}", merchant.as_str()),
        &format!("CON#{connection}"),
    )
}

fn link_of(item: &Item) -> Result<ManageLink, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("manage link's {what}"));
    Ok(ManageLink {
        connection_id: ConnectionId::parse(need_s(item, "connection_id")?)
            .ok_or_else(|| corrupt("connection id"))?,
        invite_id: InviteId::parse(need_s(item, "invite_id")?)
            .ok_or_else(|| corrupt("invite id"))?,
        created_at: Timestamp(need_n(item, "created_at")?),
        merchant: TokenHash::from_stored(need_s(item, "merchant")?)
            .ok_or_else(|| corrupt("merchant hash"))?,
    })
}

fn fetch_key(id: &ConnectionId) -> Item {
    key(format!("FETCH#{id}"), "FETCH")
}

#[async_trait]
impl ManageLinks for DynamoStore {
    async fn add_manage_link(
        &self,
        link: &TokenHash,
        record: &ManageLink,
    ) -> Result<(), StoreError> {
        let fields = [
            ("connection_id".to_owned(), s(record.connection_id.as_str())),
            ("invite_id".to_owned(), s(record.invite_id.as_str())),
            ("created_at".to_owned(), n(record.created_at.0)),
            ("merchant".to_owned(), s(record.merchant.as_str())),
        ];
        let mut item = manage_key(link);
        item.extend(fields.clone());
        item.insert("entity".to_owned(), s("manage_link"));
        let mut filed = address_key(&record.merchant, &record.connection_id);
        filed.extend(fields);
        filed.insert("entity".to_owned(), s("managed_connection"));
        let file = Put::builder()
            .table_name(&self.table)
            .set_item(Some(filed))
            .build()
            .map_err(build_err)?;
        self.transact(
            vec![
                self.put(item, "attribute_not_exists(pk)")?,
                TransactWriteItem::builder().put(file).build(),
            ],
            None,
            "manage link exists",
        )
        .await
    }

    async fn manage_link(&self, link: &TokenHash) -> Result<Option<ManageLink>, StoreError> {
        self.get(manage_key(link))
            .await?
            .map(|item| link_of(&item))
            .transpose()
    }

    async fn manage_links_for(&self, merchant: &TokenHash) -> Result<Vec<ManageLink>, StoreError> {
        let mut links = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(format!("MADDR#{}", merchant.as_str())))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items() {
                links.push(link_of(item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(links)
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
