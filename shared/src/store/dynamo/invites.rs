//! Invites, with their setup links and access codes.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, TransactWriteItem, Update};
use serde_json::Value;

use super::item::{
    get_n, get_s, gsi1sk, gsi2sk, invite_key, key, list_sk, n, need_n, need_s, s, status_in, Item,
    GSI2_AUTHORIZED, INVITE_ENTITY, KEEP_AFTER_EXPIRY,
};
use super::listing::{List, Reader};
use super::{build_err, settle, unavailable, DynamoStore, GSI2};
use crate::domain::{Invite, InviteId, InviteStatus, Timestamp, TokenHash, WarehouseId};
use crate::store::record::{body_without, with_fields, INVITE_MUTABLE};
use crate::store::{InviteFilter, InviteStore, Page, PageRequest, StoreError};

/// How many resends an invite, link or code item was made under (absent: none, as in items
/// made before resends existed).
fn resends_of(item: &Item) -> u32 {
    get_n(item, "resends")
        .and_then(|r| u32::try_from(r).ok())
        .unwrap_or(0)
}

/// The condition that an invite's `resends` is still `resends` (absent counts as 0), with its
/// value.
fn resends_are(resends: u32) -> (&'static str, Vec<(String, AttributeValue)>) {
    let values = vec![(":resends".to_owned(), n(i64::from(resends)))];
    if resends == 0 {
        (
            "(attribute_not_exists(resends) OR resends = :resends)",
            values,
        )
    } else {
        ("resends = :resends", values)
    }
}

/// The link and code items of an invite, issued under its `resends`.
struct Pointers<'a> {
    invite: &'a str,
    resends: u32,
    created_at: Timestamp,
    ttl: i64,
}

impl Pointers<'_> {
    fn item(&self, pk: String, sk: &str, entity: &str) -> Item {
        let mut item = key(pk, sk);
        item.extend([
            ("entity".to_owned(), s(entity)),
            ("invite_id".to_owned(), s(self.invite)),
            ("created_at".to_owned(), n(self.created_at.0)),
            ("resends".to_owned(), n(i64::from(self.resends))),
            ("ttl".to_owned(), n(self.ttl)),
        ]);
        item
    }

    fn link(&self, link: &TokenHash) -> Item {
        self.item(format!("LINK#{}", link.as_str()), "LINK", "link")
    }

    fn code(&self, code: &TokenHash) -> Item {
        self.item(format!("CODE#{}", code.as_str()), "CODE", "code")
    }
}

impl DynamoStore {
    fn invite_from(item: &Item) -> Result<Invite, StoreError> {
        let mut fields = vec![
            ("status", Value::String(need_s(item, "status")?.to_owned())),
            (
                "status_reason",
                get_s(item, "status_reason").map_or(Value::Null, |r| Value::String(r.to_owned())),
            ),
            ("updated_at", need_n(item, "updated_at")?.into()),
            ("expires_at", need_n(item, "expires_at")?.into()),
            ("resends", resends_of(item).into()),
            ("version", get_n(item, "version").unwrap_or(0).into()),
        ];
        // An item made before the access code could change has it in its body.
        if let Some(code) = get_s(item, "code_hash") {
            fields.push(("access_code_hash", Value::String(code.to_owned())));
        }
        if let Some(hint) = get_s(item, "code_hint") {
            fields.push(("access_code_hint", Value::String(hint.to_owned())));
        }
        with_fields(need_s(item, "body")?, fields)
    }

    /// The invite a link or code item points to, only if the pointer was issued under the
    /// invite's current `resends`: a resend leaves earlier links in the table, opening nothing.
    async fn invite_by_pointer(&self, pointer: Item) -> Result<Option<Invite>, StoreError> {
        let Some(item) = self.get(pointer).await? else {
            return Ok(None);
        };
        let id = need_s(&item, "invite_id")?.to_owned();
        let Some(invite) = self.get(invite_key(&id)).await? else {
            return Ok(None);
        };
        if resends_of(&item) != resends_of(&invite) {
            return Ok(None);
        }
        Self::invite_from(&invite).map(Some)
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
            ("version".to_owned(), n(1)),
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
        item.extend([
            ("code_hash".to_owned(), s(invite.access_code_hash.as_str())),
            ("code_hint".to_owned(), s(&invite.access_code_hint)),
            ("resends".to_owned(), n(i64::from(invite.resends))),
        ]);
        let pointers = Pointers {
            invite: id,
            resends: invite.resends,
            created_at: invite.created_at,
            ttl,
        };
        let link_item = pointers.link(link);
        let code_item = pointers.code(&invite.access_code_hash);
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
        let resends = resends_of(&found);
        let pointers = Pointers {
            invite: invite.as_str(),
            resends,
            created_at: now,
            ttl: need_n(&found, "expires_at")? + KEEP_AFTER_EXPIRY,
        };
        let item = pointers.link(link);
        // Issued under the `resends` read: a resend in between would leave it dead, so the
        // link is only stored if none came.
        let (unchanged, values) = resends_are(resends);
        let check = TransactWriteItem::builder()
            .condition_check(
                ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(invite_key(invite.as_str())))
                    .condition_expression(format!("attribute_exists(pk) AND {unchanged}"))
                    .set_expression_attribute_values(Some(values.into_iter().collect()))
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
        update.push_str(" ADD version :one");
        vals.insert(":one".into(), n(1));
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

    async fn replace_secrets(
        &self,
        id: &InviteId,
        expected_resends: u32,
        link: &TokenHash,
        code: &TokenHash,
        code_hint: &str,
        now: Timestamp,
    ) -> Result<u32, StoreError> {
        let Some(found) = self.get(invite_key(id.as_str())).await? else {
            return Err(StoreError::Missing("invite"));
        };
        let old = Self::invite_from(&found)?;
        if old.resends != expected_resends {
            return Err(StoreError::Conflict("invite resends"));
        }
        let next = expected_resends + 1;
        let pointers = Pointers {
            invite: id.as_str(),
            resends: next,
            created_at: now,
            ttl: old.expires_at.0 + KEEP_AFTER_EXPIRY,
        };
        let resendable: Vec<InviteStatus> = InviteStatus::ALL
            .into_iter()
            .filter(|s| s.takes_resend())
            .collect();
        let (list, statuses) = status_in(&resendable);
        let (unchanged, resends) = resends_are(expected_resends);
        let mut vals: HashMap<String, AttributeValue> =
            statuses.into_iter().chain(resends).collect();
        vals.insert(":code".into(), s(code.as_str()));
        vals.insert(":hint".into(), s(code_hint));
        vals.insert(":next".into(), n(i64::from(next)));
        vals.insert(":now".into(), n(now.0));
        vals.insert(":one".into(), n(1));
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(invite_key(id.as_str())))
            .update_expression(
                "SET code_hash = :code, code_hint = :hint, resends = :next, updated_at = :now \
                 ADD version :one",
            )
            .condition_expression(format!(
                "attribute_exists(pk) AND #status IN ({list}) AND {unchanged}"
            ))
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(vals))
            .build()
            .map_err(build_err)?;
        // The old code's item goes; earlier links stay, dead under the new `resends`.
        let old_code = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                format!("CODE#{}", old.access_code_hash.as_str()),
                "CODE",
            )))
            .build()
            .map_err(build_err)?;
        let absent = "attribute_not_exists(pk)";
        self.transact(
            vec![
                TransactWriteItem::builder().update(update).build(),
                TransactWriteItem::builder().delete(old_code).build(),
                self.put(pointers.code(code), absent)?,
                self.put(pointers.link(link), absent)?,
            ],
            None,
            "invite resends or status",
        )
        .await?;
        Ok(next)
    }
}
