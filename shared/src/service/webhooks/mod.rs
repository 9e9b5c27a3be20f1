//! Webhooks: the warehouse's endpoints (made, listed, deleted, their secret rotated), the
//! messages made from invites' history steps ([`fanout`]), their delivery with retries
//! ([`deliver`]), and a failed delivery's retry or a test message asked for by the warehouse.
//!
//! Every message of one step carries the same `webhook-id` on every try and to every endpoint;
//! its body is fixed when it is made, so every try posts the same bytes.

pub mod deliver;
pub mod fanout;

use zeroize::Zeroizing;

use super::Services;
use crate::domain::{
    DeliveryStatus, EndpointId, EndpointSecret, Timestamp, WarehouseId, WebhookDelivery,
    WebhookEndpoint, WebhookEventType, WebhookSecret,
};
use crate::net::webhook_url;
use crate::store::{DeliveryRead, StoreError};
use crate::vault::VaultError;
use crate::webhooks::{DeliveryRef, QueueError};

/// How many endpoints one warehouse may have.
pub const MAX_ENDPOINTS: usize = 10;
/// How long a replaced signing secret keeps signing, so the receiver can switch without a gap.
pub const SECRET_OVERLAP_SECS: i64 = 24 * 3600;
/// How long past its due try a pending delivery counts as stuck (its queue message lost).
pub const STUCK_AFTER_SECS: i64 = 3600;
/// The longest endpoint URL.
pub const MAX_URL_LEN: usize = 2048;

/// A new endpoint as the warehouse asks for it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Where to post.
    pub url: String,
    /// The event types it hears (`invite.created`, …); none or empty hears every type.
    #[serde(default)]
    pub events: Vec<String>,
}

/// Why a webhook call of the warehouse was not done.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// A field is wrong.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// No such endpoint or delivery of this warehouse.
    #[error("not found")]
    NotFound,
    /// The warehouse has [`MAX_ENDPOINTS`] endpoints already.
    #[error("too many endpoints")]
    TooManyEndpoints,
    /// The warehouse has no endpoint that would hear a test message.
    #[error("no enabled endpoint")]
    NoEndpoint,
    /// The delivery is not failed: it is delivered, or its tries are still running.
    #[error("the delivery is {0}")]
    NotRetryable(&'static str),
    /// Another change of the same endpoint or delivery won; nothing was changed by this call.
    #[error("changed meanwhile")]
    Conflict,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key service failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The queue failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// An endpoint with its new signing secret, shown to the warehouse this once.
pub struct EndpointWithSecret {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`.
    pub secret: Zeroizing<String>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> WebhookError {
    WebhookError::Invalid {
        field,
        reason: reason.into(),
    }
}

fn event_types(raw: &[String]) -> Result<Vec<WebhookEventType>, WebhookError> {
    let mut types = Vec::new();
    for name in raw {
        let t = WebhookEventType::parse(name)
            .filter(|t| *t != WebhookEventType::Test)
            .ok_or_else(|| invalid("events", format!("{name:?} is not an event type")))?;
        if !types.contains(&t) {
            types.push(t);
        }
    }
    types.sort();
    Ok(types)
}

impl Services {
    /// Seals a new secret for `endpoint` of `warehouse`.
    async fn new_secret(
        &self,
        warehouse: &WarehouseId,
        endpoint: &EndpointId,
        now: Timestamp,
    ) -> Result<(WebhookSecret, EndpointSecret), WebhookError> {
        let secret = WebhookSecret::generate();
        let context = WebhookEndpoint::seal_context(warehouse, endpoint);
        let sealed = self.vault.seal(&context, secret.bytes()).await?;
        Ok((
            secret,
            EndpointSecret {
                sealed,
                created_at: now,
                retires_at: None,
            },
        ))
    }

    /// Makes an endpoint for `warehouse`: the URL checked by the outbound rules (https to a
    /// public host in production), the types known, at most [`MAX_ENDPOINTS`]. Answers it with
    /// its signing secret, shown once.
    pub async fn create_endpoint(
        &self,
        warehouse: &WarehouseId,
        new: NewEndpoint,
    ) -> Result<EndpointWithSecret, WebhookError> {
        if new.url.len() > MAX_URL_LEN {
            return Err(invalid("url", "must be at most 2048 characters"));
        }
        let url = webhook_url(&new.url, self.config.is_local_http())
            .map_err(|reason| invalid("url", reason))?;
        let events = event_types(&new.events)?;
        if self.store.endpoints_of(warehouse).await?.len() >= MAX_ENDPOINTS {
            return Err(WebhookError::TooManyEndpoints);
        }
        let now = self.clock.now();
        let id = EndpointId::generate();
        let (secret, sealed) = self.new_secret(warehouse, &id, now).await?;
        let endpoint = WebhookEndpoint {
            id,
            warehouse: warehouse.clone(),
            url,
            events,
            secrets: vec![sealed],
            disabled: None,
            created_at: now,
            revision: 0,
        };
        self.store.insert_endpoint(&endpoint).await?;
        tracing::info!(warehouse_id = %warehouse, endpoint_id = %endpoint.id, "webhook endpoint made");
        Ok(EndpointWithSecret {
            endpoint,
            secret: secret.written(),
        })
    }

    /// A warehouse's endpoints, oldest first.
    pub async fn endpoints(
        &self,
        warehouse: &WarehouseId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.store.endpoints_of(warehouse).await
    }

    /// A warehouse's own endpoint by its raw id.
    async fn own_endpoint(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<WebhookEndpoint, WebhookError> {
        let id = EndpointId::parse(raw_id).ok_or(WebhookError::NotFound)?;
        self.store
            .endpoints_of(warehouse)
            .await?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or(WebhookError::NotFound)
    }

    /// Deletes a warehouse's endpoint: it gets no more messages (tries under way stop at their
    /// next turn).
    pub async fn delete_endpoint(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<(), WebhookError> {
        let id = EndpointId::parse(raw_id).ok_or(WebhookError::NotFound)?;
        if !self.store.delete_endpoint(warehouse, &id).await? {
            return Err(WebhookError::NotFound);
        }
        tracing::info!(warehouse_id = %warehouse, endpoint_id = %id, "webhook endpoint deleted");
        Ok(())
    }

    /// Gives an endpoint a new signing secret, shown once; the one it replaces keeps signing for
    /// [`SECRET_OVERLAP_SECS`] (every message meanwhile carries both signatures). Of two
    /// rotations at once one wins; the other is [`WebhookError::Conflict`] and changes nothing.
    pub async fn rotate_endpoint_secret(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<EndpointWithSecret, WebhookError> {
        let mut endpoint = self.own_endpoint(warehouse, raw_id).await?;
        let now = self.clock.now();
        let (secret, sealed) = self.new_secret(warehouse, &endpoint.id, now).await?;
        endpoint.rotate(sealed, now.plus_secs(SECRET_OVERLAP_SECS));
        endpoint.revision += 1;
        if !self.store.update_endpoint(&endpoint).await? {
            return Err(WebhookError::Conflict);
        }
        tracing::info!(warehouse_id = %warehouse, endpoint_id = %endpoint.id, "webhook secret rotated");
        Ok(EndpointWithSecret {
            endpoint,
            secret: secret.written(),
        })
    }

    /// Tries a failed delivery of the warehouse again, now, with the same `webhook-id` and body;
    /// it gets one more try (and, failing it, is failed again).
    pub async fn retry_delivery(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<WebhookDelivery, WebhookError> {
        let id = crate::domain::DeliveryId::parse(raw_id).ok_or(WebhookError::NotFound)?;
        let mut delivery = self
            .store
            .delivery(&id)
            .await?
            .filter(|d| &d.warehouse == warehouse)
            .ok_or(WebhookError::NotFound)?;
        let now = self.clock.now();
        match delivery.status {
            DeliveryStatus::Failed => {}
            // A pending delivery long past its try lost its queue message (a crash between
            // the record and the queue): it may be handed over again.
            DeliveryStatus::Pending if delivery.next_try_at.plus_secs(STUCK_AFTER_SECS) < now => {}
            DeliveryStatus::Pending => return Err(WebhookError::NotRetryable("pending")),
            DeliveryStatus::Delivered => return Err(WebhookError::NotRetryable("delivered")),
        }
        let read = DeliveryRead::of(&delivery);
        delivery.status = DeliveryStatus::Pending;
        delivery.next_try_at = now;
        if !self.store.update_delivery(&delivery, read).await? {
            return Err(WebhookError::Conflict);
        }
        let queued = DeliveryRef {
            warehouse: warehouse.clone(),
            delivery: delivery.id.clone(),
        };
        // Recorded before it is queued, so the worker never finds it failed; a lost queue
        // message leaves it pending past its try, which a later retry hands over again.
        self.webhooks.queue.schedule(&queued, now, now).await?;
        tracing::info!(warehouse_id = %warehouse, delivery_id = %delivery.id, "webhook delivery retry asked");
        Ok(delivery)
    }
}

#[cfg(test)]
mod tests;
