//! Invites, with their setup links and access codes.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use serde_json::Value;

use super::item::{
    get_s, gsi1sk, gsi2sk, invite_key, key, list_sk, n, need_n, need_s, s, status_in, Item,
    GSI2_AUTHORIZED, INVITE_ENTITY, KEEP_AFTER_EXPIRY,
};
use super::listing::{List, Reader};
use super::{build_err, settle, unavailable, DynamoStore, GSI2};
use crate::domain::{Invite, InviteId, InviteStatus, Timestamp, TokenHash, WarehouseId};
use crate::store::record::{body_without, with_fields, INVITE_MUTABLE};
use crate::store::{InviteFilter, InviteStore, Page, PageRequest, StoreError};

impl DynamoStore {
    fn invite_from(item: &Item) -> Result<Invite, StoreError> {
        with_fields(
            need_s(item, "body")?,
            vec![
                ("status", Value::String(need_s(item, "status")?.to_owned())),
                (
                    "status_reason",
                    get_s(item, "status_reason")
                        .map_or(Value::Null, |r| Value::String(r.to_owned())),
                ),
                ("updated_at", need_n(item, "updated_at")?.into()),
                ("expires_at", need_n(item, "expires_at")?.into()),
            ],
        )
    }

    async fn invite_by_pointer(&self, pointer: Item) -> Result<Option<Invite>, StoreError> {
        let Some(item) = self.get(pointer).await? else {
            return Ok(None);
        };
        let id = need_s(&item, "invite_id")?.to_owned();
        self.get(invite_key(&id))
            .await?
            .map(|i| Self::invite_from(&i))
            .transpose()
    }
}

#[async_trait]
impl InviteStore for DynamoStore {
    async fn insert_invite(&self, invite: &Invite, link: &TokenHash) -> Result<(), StoreError> {
        let id = invite.id.as_str();
        let ttl = invite.expires_at.0 + KEEP_AFTER_EXPIRY;
        let mut item = invite_key(id);
        item.extend([
            ("entity".to_owned(), s(INVITE_ENTITY)),
            ("invite_id".to_owned(), s(id)),
            ("warehouse_id".to_owned(), s(invite.warehouse.id.as_str())),
            ("status".to_owned(), s(invite.status.as_str())),
            ("created_at".to_owned(), n(invite.created_at.0)),
            ("updated_at".to_owned(), n(invite.updated_at.0)),
            ("expires_at".to_owned(), n(invite.expires_at.0)),
            ("ttl".to_owned(), n(ttl)),
            (
                "gsi1pk".to_owned(),
                s(format!("WH#{}", invite.warehouse.id)),
            ),
            (
                "gsi1sk".to_owned(),
                s(gsi1sk(invite.status, invite.created_at, id)),
            ),
            (
                "gsi3pk".to_owned(),
                s(List::Invites.partition(&invite.warehouse.id)),
            ),
            ("gsi3sk".to_owned(), s(list_sk(invite.created_at, id))),
            ("body".to_owned(), s(body_without(invite, &INVITE_MUTABLE)?)),
        ]);
        if let Some(r) = &invite.status_reason {
            item.insert("status_reason".into(), s(r));
        }
        let mut link_item = key(format!("LINK#{}", link.as_str()), "LINK");
        link_item.extend([
            ("entity".to_owned(), s("link")),
            ("invite_id".to_owned(), s(id)),
            ("created_at".to_owned(), n(invite.created_at.0)),
            ("ttl".to_owned(), n(ttl)),
        ]);
        let mut code_item = key(format!("CODE#{}", invite.access_code_hash.as_str()), "CODE");
        code_item.extend([
            ("entity".to_owned(), s("code")),
            ("invite_id".to_owned(), s(id)),
            ("ttl".to_owned(), n(ttl)),
        ]);
        let absent = "attribute_not_exists(pk)";
        self.transact(
            vec![
                self.put(item, absent)?,
                self.put(link_item, absent)?,
                self.put(code_item, absent)?,
            ],
            None,
            "invite exists",
        )
        .await
    }

    async fn invite(&self, id: &InviteId) -> Result<Option<Invite>, StoreError> {
        self.get(invite_key(id.as_str()))
            .await?
            .map(|i| Self::invite_from(&i))
            .transpose()
    }

    async fn invite_by_link(&self, link: &TokenHash) -> Result<Option<Invite>, StoreError> {
        self.invite_by_pointer(key(format!("LINK#{}", link.as_str()), "LINK"))
            .await
    }

    async fn invite_by_access_code(&self, code: &TokenHash) -> Result<Option<Invite>, StoreError> {
        self.invite_by_pointer(key(format!("CODE#{}", code.as_str()), "CODE"))
            .await
    }

    async fn add_link(
        &self,
        invite: &InviteId,
        link: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(found) = self.get(invite_key(invite.as_str())).await? else {
            return Err(StoreError::Missing("invite"));
        };
        let ttl = need_n(&found, "expires_at")? + KEEP_AFTER_EXPIRY;
        let mut item = key(format!("LINK#{}", link.as_str()), "LINK");
        item.extend([
            ("entity".to_owned(), s("link")),
            ("invite_id".to_owned(), s(invite.as_str())),
            ("created_at".to_owned(), n(now.0)),
            ("ttl".to_owned(), n(ttl)),
        ]);
        let check = TransactWriteItem::builder()
            .condition_check(
                ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(invite_key(invite.as_str())))
                    .condition_expression("attribute_exists(pk)")
                    .build()
                    .map_err(build_err)?,
            )
            .build();
        self.transact(
            vec![check, self.put(item, "attribute_not_exists(pk)")?],
            None,
            "link exists",
        )
        .await
    }

    async fn set_invite_status(
        &self,
        id: &InviteId,
        to: InviteStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let created = self.created_at(id).await?;
        let (list, values) = status_in(&InviteStatus::sources_of(to));
        let mut vals: HashMap<String, AttributeValue> = values.into_iter().collect();
        vals.insert(":to".into(), s(to.as_str()));
        vals.insert(":now".into(), n(now.0));
        vals.insert(":gsk".into(), s(gsi1sk(to, created, id.as_str())));
        let mut set = vec!["#status = :to, #updated_at = :now, #gsi1sk = :gsk"];
        let mut remove = vec![];
        match reason {
            Some(r) => {
                vals.insert(":reason".into(), s(r));
                set.push("#status_reason = :reason");
            }
            None => remove.push("#status_reason"),
        }
        // The owed-confirmations index holds an invite exactly while it is authorized.
        if to == InviteStatus::Authorized {
            vals.insert(":g2pk".into(), s(GSI2_AUTHORIZED));
            vals.insert(":g2sk".into(), s(gsi2sk(now, id.as_str())));
            set.push("#gsi2pk = :g2pk, #gsi2sk = :g2sk");
        } else {
            remove.push("#gsi2pk, #gsi2sk");
        }
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(invite_key(id.as_str())))
            .update_expression(update)
            .condition_expression(format!("attribute_exists(pk) AND #status IN ({list})"))
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#status_reason", "status_reason")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_names("#gsi1sk", "gsi1sk")
            .expression_attribute_names("#gsi2pk", "gsi2pk")
            .expression_attribute_names("#gsi2sk", "gsi2sk")
            .set_expression_attribute_values(Some(vals));
        settle(req.send().await, StoreError::Conflict("invite status"))
    }

    async fn list_invites(
        &self,
        warehouse: &WarehouseId,
        filter: &InviteFilter,
        page: &PageRequest,
    ) -> Result<Page<Invite>, StoreError> {
        let reader = Reader {
            parse: Self::invite_from,
            keeps: |i: &Invite| filter.keeps(i),
            position: InviteFilter::position,
        };
        self.list_page(List::Invites, warehouse, page, reader).await
    }

    async fn authorized_invites(&self, limit: usize) -> Result<Vec<Invite>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI2)
            .key_condition_expression("gsi2pk = :authorized")
            .expression_attribute_values(":authorized", s(GSI2_AUTHORIZED))
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        // A global index is eventually consistent: an invite confirmed a moment ago may still
        // be listed (as authorized); the confirmation reads the invite again before it acts.
        out.items().iter().map(Self::invite_from).collect()
    }
}
