//! Cursor-paged listing on the warehouse list index (`gsi3`): a warehouse's invites,
//! connections or webhook deliveries, newest first.

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{list_sk, s, Item};
use super::{unavailable, DynamoStore, GSI3};
use crate::domain::WarehouseId;
use crate::store::listing::page_of;
use crate::store::{Page, PageRequest, Position, StoreError};

/// How many index items one Query reads: filters are applied while paging, so a page may need
/// more than `limit` items read.
const READ_BATCH: i32 = 100;

/// Which list of a warehouse: the `gsi3pk` of its records.
pub(super) enum List {
    /// Its invites.
    Invites,
    /// Its connections.
    Connections,
    /// Its webhook deliveries.
    Deliveries,
}

impl List {
    /// The partition of `warehouse`'s records of this list.
    pub(super) fn partition(&self, warehouse: &WarehouseId) -> String {
        match self {
            List::Invites => format!("INVITES#{warehouse}"),
            List::Connections => format!("CONNECTIONS#{warehouse}"),
            List::Deliveries => format!("DELIVERIES#{warehouse}"),
        }
    }
}

/// How one list reads its items: parse an item, keep it or not, and say where it stands.
pub(super) struct Reader<T, P, K, O>
where
    P: Fn(&Item) -> Result<T, StoreError>,
    K: Fn(&T) -> bool,
    O: Fn(&T) -> Position,
{
    /// Parses an item.
    pub parse: P,
    /// Whether the filter keeps a record.
    pub keeps: K,
    /// Where a record stands.
    pub position: O,
}

impl DynamoStore {
    /// Up to `page.limit` kept records of `list` strictly after `page.after`, newest first.
    /// Reads Query pages until `limit + 1` records are kept or the partition ends, so a
    /// filtered page is still full whenever more match; the next page starts after the last
    /// record returned (not after the last item read), so every record is seen exactly once.
    pub(super) async fn list_page<T, P, K, O>(
        &self,
        list: List,
        warehouse: &WarehouseId,
        page: &PageRequest,
        reader: Reader<T, P, K, O>,
    ) -> Result<Page<T>, StoreError>
    where
        P: Fn(&Item) -> Result<T, StoreError>,
        K: Fn(&T) -> bool,
        O: Fn(&T) -> Position,
    {
        let want = page.limit.saturating_add(1);
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI3)
                .scan_index_forward(false)
                .limit(READ_BATCH)
                .set_exclusive_start_key(start.take())
                .expression_attribute_values(":pk", s(list.partition(warehouse)));
            req = match &page.after {
                Some(after) => req
                    .key_condition_expression("gsi3pk = :pk AND gsi3sk < :after")
                    .expression_attribute_values(
                        ":after",
                        AttributeValue::S(list_sk(after.created_at, &after.id)),
                    ),
                None => req.key_condition_expression("gsi3pk = :pk"),
            };
            let out = req.send().await.map_err(unavailable)?;
            for item in out.items() {
                let record = (reader.parse)(item)?;
                if (reader.keeps)(&record) {
                    found.push(record);
                    if found.len() == want {
                        return Ok(page_of(found, page.limit, reader.position));
                    }
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(page_of(found, page.limit, reader.position)),
            }
        }
    }
}
