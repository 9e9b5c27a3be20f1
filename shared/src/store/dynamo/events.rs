//! Invites' histories: one item per invite and step key (`INV#<invite id>`,
//! `EVT#<key>`), put only if absent.

use async_trait::async_trait;

use super::item::{get_s, key, n, need_n, need_s, s, Item, KEEP_AFTER_EXPIRY};
use super::{conditional, DynamoStore};
use crate::domain::{InviteEvent, InviteEventKind, InviteId, Timestamp};
use crate::store::{InviteEvents, StoreError};

/// The `entity` of an event item.
const EVENT_ENTITY: &str = "event";

/// The item of `invite`'s history step `step`: put only if absent (here and in the callback's
/// commit).
pub(super) fn event_item(invite: &InviteId, step: &str, event: &InviteEvent) -> Item {
    let mut item = key(format!("INV#{invite}"), &format!("EVT#{step}"));
    item.extend([
        ("entity".to_owned(), s(EVENT_ENTITY)),
        ("kind".to_owned(), s(event.kind.as_str())),
        ("at".to_owned(), n(event.at.0)),
        // Kept as long as an invite outlives its expiry, counted from the event.
        ("ttl".to_owned(), n(event.at.0 + 2 * KEEP_AFTER_EXPIRY)),
    ]);
    if let Some(reason) = &event.reason {
        item.insert("reason".into(), s(reason));
    }
    item
}

#[async_trait]
impl InviteEvents for DynamoStore {
    async fn record_event(
        &self,
        invite: &InviteId,
        step: &str,
        event: &InviteEvent,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(event_item(invite, step, event)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        conditional(result)
    }

    async fn events_of(&self, invite: &InviteId) -> Result<Vec<InviteEvent>, StoreError> {
        let items = self.query_prefix(format!("INV#{invite}"), "EVT#").await?;
        let mut events = Vec::with_capacity(items.len());
        for item in &items {
            let kind = need_s(item, "kind")?;
            events.push(InviteEvent {
                kind: InviteEventKind::parse(kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown event kind {kind}")))?,
                at: Timestamp(need_n(item, "at")?),
                reason: get_s(item, "reason").map(str::to_owned),
            });
        }
        InviteEvent::sort(&mut events);
        Ok(events)
    }
}

impl DynamoStore {
    /// Every item of partition `pk` whose sort key begins with `prefix`, read consistently,
    /// page after page.
    pub(super) async fn query_prefix(
        &self,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<super::item::Item>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true);
        self.query_all(query).await
    }
}
