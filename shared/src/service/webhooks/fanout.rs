//! From a recorded history step to messages: the step's webhook type, the `data` view of what
//! it is about as the warehouse API shows it now, one delivery per endpoint that hears it,
//! each queued. Seeing a step again makes nothing new (the deliveries' ids come from the step
//! and the endpoint) but queues them again, so a crash between the record and the queue loses
//! nothing.

use serde_json::{json, Value};

use super::{Services, WebhookError};
use crate::domain::webhook::message_id_of_step;
use crate::domain::{
    ConnectionId, DeliveryId, DeliveryStatus, InviteEvent, InviteId, Timestamp, WarehouseId,
    WebhookDelivery, WebhookEndpoint, WebhookEventType,
};
use crate::store::StoreError;
use crate::views::{ConnectionDetailView, ConnectionDisconnected, InviteView};
use crate::webhooks::DeliveryRef;

/// The body of a message: `{type, id, timestamp, data}`.
fn payload(t: WebhookEventType, message_id: &str, at: Timestamp, data: Value) -> String {
    json!({
        "type": t.as_str(),
        "id": message_id,
        "timestamp": at.rfc3339(),
        "data": data,
    })
    .to_string()
}

impl Services {
    /// Turns one recorded step of `invite` (`key`, `event`) into a delivery per endpoint that
    /// hears its type, and queues each. Answers how many endpoints it addressed. The step is
    /// counted in the funnel metric once it is done: the history's feed (the table's stream on
    /// AWS) hands each step here once, and again only when it was not done.
    pub async fn fan_out_step(
        &self,
        invite: &InviteId,
        key: &str,
        event: &InviteEvent,
    ) -> Result<usize, WebhookError> {
        let addressed = self.fan_out_messages(invite, key, event).await?;
        crate::telemetry::metric::funnel_step(event.kind.as_str(), event.reason.as_deref());
        Ok(addressed)
    }

    async fn fan_out_messages(
        &self,
        invite: &InviteId,
        key: &str,
        event: &InviteEvent,
    ) -> Result<usize, WebhookError> {
        let Some(stored) = self.store.invite(invite).await? else {
            return Ok(0);
        };
        let reconnect = stored.reconnects.is_some();
        let Some(t) = WebhookEventType::of_step(event.kind, reconnect) else {
            return Ok(0);
        };
        let warehouse = stored.warehouse.id.clone();
        let endpoints: Vec<WebhookEndpoint> = self
            .store
            .endpoints_of(&warehouse)
            .await?
            .into_iter()
            .filter(|e| e.hears(t))
            .collect();
        if endpoints.is_empty() {
            return Ok(0);
        }
        let Some(data) = self.data_of(&stored, t, key).await? else {
            tracing::warn!(invite_id = %invite, event = t.as_str(), "webhook data not found; no message made");
            return Ok(0);
        };
        let message_id = message_id_of_step(invite, key);
        let body = payload(t, &message_id, event.at, data);
        self.address(&warehouse, &endpoints, t, &message_id, &body)
            .await?;
        Ok(endpoints.len())
    }

    /// Stores (once) and queues the message `message_id` to each of `endpoints`.
    async fn address(
        &self,
        warehouse: &WarehouseId,
        endpoints: &[WebhookEndpoint],
        t: WebhookEventType,
        message_id: &str,
        body: &str,
    ) -> Result<Vec<WebhookDelivery>, WebhookError> {
        let now = self.clock.now();
        let mut made = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            let delivery = WebhookDelivery {
                id: DeliveryId::of(message_id, &endpoint.id),
                warehouse: warehouse.clone(),
                endpoint: endpoint.id.clone(),
                message_id: message_id.to_owned(),
                event_type: t,
                payload: body.to_owned(),
                status: DeliveryStatus::Pending,
                tries: Vec::new(),
                next_try_at: now,
                created_at: now,
            };
            let fresh = self.store.insert_delivery(&delivery).await?;
            let queued = DeliveryRef {
                warehouse: warehouse.clone(),
                delivery: delivery.id.clone(),
            };
            // Queued again when seen again: the first sight may have died before this line.
            let stored = if fresh {
                delivery
            } else {
                match self.store.delivery(&delivery.id).await? {
                    Some(d) => d,
                    None => continue,
                }
            };
            if stored.status == DeliveryStatus::Pending {
                self.webhooks
                    .queue
                    .schedule(&queued, stored.next_try_at, now)
                    .await?;
            }
            made.push(stored);
        }
        Ok(made)
    }

    /// The `data` of a message of type `t` about `invite`: the connection's view for a
    /// connection event (the disconnection's once it is gone), else the invite's.
    async fn data_of(
        &self,
        invite: &crate::domain::Invite,
        t: WebhookEventType,
        key: &str,
    ) -> Result<Option<Value>, StoreError> {
        let now = self.clock.now();
        let view = |v: serde_json::Result<Value>| v.expect("a view always serializes");
        if matches!(
            t,
            WebhookEventType::ConnectionDisconnected | WebhookEventType::ConnectionRevoked
        ) {
            let Some(id) = key
                .split_once(':')
                .and_then(|(_, c)| ConnectionId::parse(c))
            else {
                return Ok(None);
            };
            let record = self.store.disconnection(&id).await?;
            return Ok(record.map(|r| view(serde_json::to_value(ConnectionDisconnected::of(&r)))));
        }
        if !t.is_about_connection() {
            let connection = self.store.connection_for_invite(&invite.id).await?;
            let v = InviteView::of(invite, connection.as_ref(), now);
            return Ok(Some(view(serde_json::to_value(v))));
        }
        let connection = match &invite.reconnects {
            Some(id) => self.store.connection(id).await?,
            None => self.store.connection_for_invite(&invite.id).await?,
        };
        let Some(connection) = connection else {
            // Disconnected before this step's message was made: the message still goes out,
            // saying what is true now.
            return Ok(Some(json!({
                "invite_id": invite.id.as_str(),
                "cart": invite.cart.as_str(),
                "status": "disconnected",
            })));
        };
        let origin = if connection.invite_id == invite.id {
            Some(invite.clone())
        } else {
            self.store.invite(&connection.invite_id).await?
        };
        let reauthorize_by = self
            .catalog
            .get(&connection.cart)
            .and_then(|c| connection.reauthorize_by(&c.care_limits()));
        let v = ConnectionDetailView::of(&connection, origin.as_ref(), reauthorize_by);
        Ok(Some(view(serde_json::to_value(v))))
    }

    /// Sends a `webhook.test` message to every enabled endpoint of `warehouse`.
    pub async fn send_test_webhook(
        &self,
        warehouse: &WarehouseId,
    ) -> Result<Vec<WebhookDelivery>, WebhookError> {
        let endpoints: Vec<_> = self
            .store
            .endpoints_of(warehouse)
            .await?
            .into_iter()
            .filter(|e| e.hears(WebhookEventType::Test))
            .collect();
        if endpoints.is_empty() {
            return Err(WebhookError::NoEndpoint);
        }
        let message_id = message_id_of_step(&InviteId::generate(), "test");
        let now = self.clock.now();
        let data = json!({ "warehouse_id": warehouse.as_str() });
        let body = payload(WebhookEventType::Test, &message_id, now, data);
        self.address(
            warehouse,
            &endpoints,
            WebhookEventType::Test,
            &message_id,
            &body,
        )
        .await
    }

    /// The local server's feed: turns every recorded step not yet turned into messages, oldest
    /// first, and marks each done once its messages are queued. Answers how many steps it
    /// turned; a step that failed stays for the next round.
    pub async fn fan_out_pending_steps(&self, limit: usize) -> Result<usize, WebhookError> {
        let steps = self.webhooks.feed.pending_steps(limit).await?;
        let mut done = 0;
        for step in steps {
            match self
                .fan_out_step(&step.invite, &step.key, &step.event)
                .await
            {
                Ok(_) => {
                    self.webhooks
                        .feed
                        .step_done(&step.invite, &step.key)
                        .await?;
                    done += 1;
                }
                Err(e) => {
                    tracing::warn!(invite_id = %step.invite, error = %e, "webhook step not turned into messages; tried again later");
                }
            }
        }
        Ok(done)
    }
}
