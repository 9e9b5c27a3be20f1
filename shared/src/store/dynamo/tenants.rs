//! Warehouses kept as data and their API keys.
//!
//! A warehouse is `WH#<id>`/`WH` (listed on `gsi3` under `TENANTS`), its logo `WH#<id>`/`LOGO`
//! (apart, so reading a warehouse never reads its image). A key record is `KEY#<sha256 of the
//! key>`/`KEY`, found by the hash a caller presents, and listed on `gsi3` under
//! `KEYS#<warehouse id>`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};

use super::item::{get_n, get_s, key, list_sk, n, need_n, need_s, s, Item};
use super::{build_err, settle, DynamoStore, GSI3};
use crate::domain::tenant::LAST_USED_GRANULARITY_SECS;
use crate::domain::{ApiKeyRecord, Branding, Tenant, Timestamp, TokenHash, WarehouseId};
use crate::store::{StoreError, Tenants};

const TENANTS_LIST: &str = "TENANTS";

fn tenant_key(id: &WarehouseId) -> Item {
    key(format!("WH#{id}"), "WH")
}

fn logo_key(id: &WarehouseId) -> Item {
    key(format!("WH#{id}"), "LOGO")
}

fn api_key_key(hash: &TokenHash) -> Item {
    key(format!("KEY#{}", hash.as_str()), "KEY")
}

fn keys_list(warehouse: &WarehouseId) -> String {
    format!("KEYS#{warehouse}")
}

fn optional(item: &mut Item, name: &str, value: &Option<String>) {
    if let Some(v) = value {
        item.insert(name.to_owned(), s(v));
    }
}

fn tenant_of(item: &Item) -> Result<Tenant, StoreError> {
    let id = need_s(item, "warehouse_id")?;
    Ok(Tenant {
        id: WarehouseId::parse(id).ok_or_else(|| StoreError::Corrupt("warehouse id".into()))?,
        display_name: need_s(item, "display_name")?.to_owned(),
        notify_email: need_s(item, "notify_email")?.to_owned(),
        created_at: Timestamp(need_n(item, "created_at")?),
        disabled: item
            .get("disabled")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        branding: Branding {
            accent: get_s(item, "accent").map(str::to_owned),
            support_email: get_s(item, "support_email").map(str::to_owned),
            privacy_url: get_s(item, "privacy_url").map(str::to_owned),
            logo_version: get_n(item, "logo_version").and_then(|v| u32::try_from(v).ok()),
        },
    })
}

fn api_key_of(item: &Item) -> Result<ApiKeyRecord, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("api key {what}"));
    Ok(ApiKeyRecord {
        id: need_s(item, "key_id")?.to_owned(),
        warehouse: WarehouseId::parse(need_s(item, "warehouse_id")?)
            .ok_or_else(|| corrupt("warehouse"))?,
        hash: TokenHash::from_stored(need_s(item, "hash")?).ok_or_else(|| corrupt("hash"))?,
        prefix: need_s(item, "prefix")?.to_owned(),
        name: need_s(item, "name")?.to_owned(),
        created_at: Timestamp(need_n(item, "created_at")?),
        last_used_at: get_n(item, "last_used_at").map(Timestamp),
        revoked_at: get_n(item, "revoked_at").map(Timestamp),
    })
}

impl DynamoStore {
    /// Every item of a `gsi3` list, oldest first.
    async fn whole_list(&self, partition: String) -> Result<Vec<Item>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI3)
            .key_condition_expression("gsi3pk = :pk")
            .expression_attribute_values(":pk", s(partition));
        self.query_all(query).await
    }

    /// One conditional update of an existing warehouse item.
    async fn update_tenant(
        &self,
        id: &WarehouseId,
        expression: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<(), StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(tenant_key(id)))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk)");
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        settle(req.send().await, StoreError::Missing("warehouse"))
    }
}

#[async_trait]
impl Tenants for DynamoStore {
    async fn create_tenant(&self, t: &Tenant) -> Result<(), StoreError> {
        let mut item = tenant_key(&t.id);
        item.extend([
            ("entity".to_owned(), s("tenant")),
            ("warehouse_id".to_owned(), s(t.id.as_str())),
            ("display_name".to_owned(), s(&t.display_name)),
            ("notify_email".to_owned(), s(&t.notify_email)),
            ("created_at".to_owned(), n(t.created_at.0)),
            ("disabled".to_owned(), AttributeValue::Bool(t.disabled)),
            ("gsi3pk".to_owned(), s(TENANTS_LIST)),
            ("gsi3sk".to_owned(), s(list_sk(t.created_at, t.id.as_str()))),
        ]);
        optional(&mut item, "accent", &t.branding.accent);
        optional(&mut item, "support_email", &t.branding.support_email);
        optional(&mut item, "privacy_url", &t.branding.privacy_url);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        settle(result, StoreError::Conflict("warehouse exists"))
    }

    async fn tenant(&self, id: &WarehouseId) -> Result<Option<Tenant>, StoreError> {
        self.get(tenant_key(id))
            .await?
            .as_ref()
            .map(tenant_of)
            .transpose()
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let items = self.whole_list(TENANTS_LIST.to_owned()).await?;
        items.iter().map(tenant_of).collect()
    }

    async fn set_tenant_disabled(
        &self,
        id: &WarehouseId,
        disabled: bool,
    ) -> Result<(), StoreError> {
        self.update_tenant(
            id,
            "SET disabled = :d",
            vec![(":d", AttributeValue::Bool(disabled))],
        )
        .await
    }

    async fn set_branding(&self, id: &WarehouseId, b: &Branding) -> Result<(), StoreError> {
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut values = Vec::new();
        for (name, placeholder, value) in [
            ("accent", ":a", &b.accent),
            ("support_email", ":s", &b.support_email),
            ("privacy_url", ":p", &b.privacy_url),
        ] {
            match value {
                Some(v) => {
                    set.push(format!("{name} = {placeholder}"));
                    values.push((placeholder, s(v)));
                }
                None => remove.push(name),
            }
        }
        let mut expression = String::new();
        if !set.is_empty() {
            expression.push_str(&format!("SET {} ", set.join(", ")));
        }
        if !remove.is_empty() {
            expression.push_str(&format!("REMOVE {}", remove.join(", ")));
        }
        self.update_tenant(id, expression.trim(), values).await
    }

    async fn put_logo(&self, id: &WarehouseId, png: &[u8]) -> Result<u32, StoreError> {
        let current = self
            .tenant(id)
            .await?
            .ok_or(StoreError::Missing("warehouse"))?
            .branding
            .logo_version;
        let next = current.unwrap_or(0) + 1;
        let mut logo = logo_key(id);
        logo.extend([
            ("entity".to_owned(), s("logo")),
            ("png".to_owned(), AttributeValue::B(Blob::new(png.to_vec()))),
            ("version".to_owned(), n(i64::from(next))),
        ]);
        // The version moves only from the one read, so of two uploads at once one wins whole.
        let (condition, mut values): (&str, HashMap<String, AttributeValue>) = match current {
            Some(v) => (
                "logo_version = :old",
                HashMap::from([(":old".to_owned(), n(i64::from(v)))]),
            ),
            None => (
                "attribute_exists(pk) AND attribute_not_exists(logo_version)",
                HashMap::new(),
            ),
        };
        values.insert(":next".to_owned(), n(i64::from(next)));
        let bump = TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(tenant_key(id)))
                    .update_expression("SET logo_version = :next")
                    .condition_expression(condition)
                    .set_expression_attribute_values(Some(values))
                    .build()
                    .map_err(build_err)?,
            )
            .build();
        let put = self.put(logo, "attribute_exists(pk) OR attribute_not_exists(pk)")?;
        self.transact(vec![bump, put], None, "logo changed meanwhile")
            .await?;
        Ok(next)
    }

    async fn logo(&self, id: &WarehouseId) -> Result<Option<Vec<u8>>, StoreError> {
        let item = self.get(logo_key(id)).await?;
        Ok(item
            .as_ref()
            .and_then(|i| i.get("png"))
            .and_then(|v| v.as_b().ok())
            .map(|b| b.as_ref().to_vec()))
    }

    async fn insert_api_key(&self, k: &ApiKeyRecord) -> Result<(), StoreError> {
        let mut item = api_key_key(&k.hash);
        item.extend([
            ("entity".to_owned(), s("api_key")),
            ("key_id".to_owned(), s(&k.id)),
            ("warehouse_id".to_owned(), s(k.warehouse.as_str())),
            ("hash".to_owned(), s(k.hash.as_str())),
            ("prefix".to_owned(), s(&k.prefix)),
            ("name".to_owned(), s(&k.name)),
            ("created_at".to_owned(), n(k.created_at.0)),
            ("gsi3pk".to_owned(), s(keys_list(&k.warehouse))),
            ("gsi3sk".to_owned(), s(list_sk(k.created_at, &k.id))),
        ]);
        let warehouse_exists = TransactWriteItem::builder()
            .condition_check(
                ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(tenant_key(&k.warehouse)))
                    .condition_expression("attribute_exists(pk)")
                    .build()
                    .map_err(build_err)?,
            )
            .build();
        let put = self.put(item, "attribute_not_exists(pk)")?;
        match self
            .transact(vec![warehouse_exists, put], None, "api key exists")
            .await
        {
            Err(StoreError::Conflict(what)) => match self.tenant(&k.warehouse).await? {
                None => Err(StoreError::Missing("warehouse")),
                Some(_) => Err(StoreError::Conflict(what)),
            },
            other => other,
        }
    }

    async fn api_key(&self, hash: &TokenHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get(api_key_key(hash))
            .await?
            .as_ref()
            .map(api_key_of)
            .transpose()
    }

    async fn api_keys_of(&self, warehouse: &WarehouseId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let items = self.whole_list(keys_list(warehouse)).await?;
        items.iter().map(api_key_of).collect()
    }

    async fn revoke_api_key(
        &self,
        warehouse: &WarehouseId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let record = self
            .api_keys_of(warehouse)
            .await?
            .into_iter()
            .find(|k| k.id == key_id)
            .ok_or(StoreError::Missing("api key"))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(api_key_key(&record.hash)))
            .update_expression("SET revoked_at = if_not_exists(revoked_at, :at)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", n(at.0))
            .send()
            .await;
        settle(result, StoreError::Missing("api key"))
    }

    async fn touch_api_key(&self, hash: &TokenHash, at: Timestamp) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(api_key_key(hash)))
            .update_expression("SET last_used_at = :at")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(last_used_at) OR last_used_at <= :cutoff)",
            )
            .expression_attribute_values(":at", n(at.0))
            .expression_attribute_values(":cutoff", n(at.0 - LAST_USED_GRANULARITY_SECS))
            .send()
            .await;
        // A recent use recorded already (or a key gone) is not a failure: nothing to write.
        match settle(result, StoreError::Conflict("used recently")) {
            Err(StoreError::Conflict(_)) => Ok(()),
            other => other,
        }
    }
}
