//! Webhook endpoints (`WEBHOOKS#<warehouse id>`, `WHE#<endpoint id>`) and deliveries
//! (`DLV#<delivery id>`, `DLV`, listed on `gsi3` under `DELIVERIES#<warehouse id>`). Each
//! change is conditional on what its writer read: an endpoint's `revision`, a delivery's
//! `status` and number of `tries`.

use async_trait::async_trait;

use super::item::{get_s, key, list_sk, n, need_s, s, Item};
use super::listing::{List, Reader};
use super::{conditional, unavailable, DynamoStore};
use crate::domain::{DeliveryId, EndpointId, WarehouseId, WebhookDelivery, WebhookEndpoint};
use crate::store::{DeliveryFilter, DeliveryRead, Page, PageRequest, StoreError, WebhookStore};

/// The `entity` of an endpoint item.
const ENDPOINT_ENTITY: &str = "webhook_endpoint";
/// The `entity` of a delivery item.
const DELIVERY_ENTITY: &str = "webhook_delivery";
/// How long a delivery record is kept after it was made (a retry through the API still finds
/// it for this long).
const KEEP_DELIVERY: i64 = 30 * 24 * 3600;

fn endpoint_key(warehouse: &WarehouseId, id: &EndpointId) -> Item {
    key(format!("WEBHOOKS#{warehouse}"), &format!("WHE#{id}"))
}

fn delivery_key(id: &DeliveryId) -> Item {
    key(format!("DLV#{id}"), "DLV")
}

fn body_of<T: serde::de::DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(need_s(item, "body")?).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("a record always serializes")
}

fn count(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[async_trait]
impl WebhookStore for DynamoStore {
    async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        let mut item = endpoint_key(&endpoint.warehouse, &endpoint.id);
        item.extend([
            ("entity".to_owned(), s(ENDPOINT_ENTITY)),
            ("revision".to_owned(), n(endpoint.revision as i64)),
            ("body".to_owned(), s(json(endpoint))),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match conditional(result)? {
            true => Ok(()),
            false => Err(StoreError::Conflict("endpoint id taken")),
        }
    }

    async fn endpoints_of(
        &self,
        warehouse: &WarehouseId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let mut found = self
            .query_prefix(format!("WEBHOOKS#{warehouse}"), "WHE#")
            .await?
            .iter()
            .map(body_of)
            .collect::<Result<Vec<WebhookEndpoint>, _>>()?;
        found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(found)
    }

    async fn update_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<bool, StoreError> {
        let read = endpoint.revision.checked_sub(1).ok_or_else(|| {
            StoreError::Corrupt("an updated endpoint's revision must follow the one read".into())
        })?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(&endpoint.warehouse, &endpoint.id)))
            .update_expression("SET revision = :next, body = :body")
            .condition_expression("revision = :read")
            .expression_attribute_values(":next", n(endpoint.revision as i64))
            .expression_attribute_values(":read", n(read as i64))
            .expression_attribute_values(":body", s(json(endpoint)))
            .send()
            .await;
        conditional(result)
    }

    async fn delete_endpoint(
        &self,
        warehouse: &WarehouseId,
        id: &EndpointId,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(warehouse, id)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        conditional(result)
    }

    async fn insert_delivery(&self, delivery: &WebhookDelivery) -> Result<bool, StoreError> {
        let mut item = delivery_key(&delivery.id);
        item.extend([
            ("entity".to_owned(), s(DELIVERY_ENTITY)),
            ("warehouse_id".to_owned(), s(delivery.warehouse.as_str())),
            ("status".to_owned(), s(delivery.status.as_str())),
            ("tries".to_owned(), n(count(delivery.tries.len()))),
            (
                "gsi3pk".to_owned(),
                s(List::Deliveries.partition(&delivery.warehouse)),
            ),
            (
                "gsi3sk".to_owned(),
                s(list_sk(delivery.created_at, delivery.id.as_str())),
            ),
            ("body".to_owned(), s(json(delivery))),
            ("ttl".to_owned(), n(delivery.created_at.0 + KEEP_DELIVERY)),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        conditional(result)
    }

    async fn delivery(&self, id: &DeliveryId) -> Result<Option<WebhookDelivery>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(delivery_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item.as_ref().map(body_of).transpose()
    }

    async fn update_delivery(
        &self,
        delivery: &WebhookDelivery,
        read: DeliveryRead,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(delivery_key(&delivery.id)))
            .update_expression("SET #status = :status, tries = :tries, body = :body")
            .condition_expression("#status = :read_status AND tries = :read_tries")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(delivery.status.as_str()))
            .expression_attribute_values(":tries", n(count(delivery.tries.len())))
            .expression_attribute_values(":body", s(json(delivery)))
            .expression_attribute_values(":read_status", s(read.status.as_str()))
            .expression_attribute_values(":read_tries", n(count(read.tries)))
            .send()
            .await;
        conditional(result)
    }

    async fn list_deliveries(
        &self,
        warehouse: &WarehouseId,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> Result<Page<WebhookDelivery>, StoreError> {
        let reader = Reader {
            parse: |item: &Item| {
                if get_s(item, "entity") != Some(DELIVERY_ENTITY) {
                    return Err(StoreError::Corrupt("not a delivery".into()));
                }
                body_of(item)
            },
            keeps: |d: &WebhookDelivery| filter.keeps(d),
            position: DeliveryFilter::position,
        };
        self.list_page(List::Deliveries, warehouse, page, reader)
            .await
    }
}
