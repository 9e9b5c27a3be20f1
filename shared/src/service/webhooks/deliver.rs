//! One try of one delivery, under a lease so two workers never post the same try: sign with
//! every current secret of the endpoint, post, record the try, then either done (2xx), the
//! endpoint disabled (410 Gone, and the warehouse emailed), the next try queued after the
//! schedule's wait, or (the schedule spent) failed and dead-lettered.
//!
//! A crash after the post and before the record leaves the delivery pending with its lease:
//! once the lease runs out the queue hands it over again and it is posted again with the same
//! `webhook-id` (at least once; the receiver drops the repeat by its id).

use std::time::Instant;

use super::{Services, WebhookError};
use crate::domain::secrets::random_bytes;
use crate::domain::webhook::Disabled;
use crate::domain::{
    DeliveryStatus, DeliveryTry, Timestamp, WebhookDelivery, WebhookEndpoint, WebhookSecret,
};
use crate::email::endpoint_disabled_email;
use crate::store::DeliveryRead;
use crate::webhooks::{DeliveryRef, PostOutcome};

/// How long a worker holds a delivery: more than the post's 10-second timeout.
pub const DELIVERY_LEASE_SECS: i64 = 30;

/// What one hand-over of a delivery came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The endpoint took it.
    Delivered,
    /// It failed this try; the next is queued for this time.
    Retrying(Timestamp),
    /// Every try failed, or the endpoint is gone: it waits for a retry asked for by the
    /// warehouse.
    Failed,
    /// Its try is not due yet: queued again for this time.
    NotDue(Timestamp),
    /// Another worker holds it now: hand it over again later.
    Busy,
    /// Nothing to do: unknown, another warehouse's, or no longer pending.
    Settled,
}

fn lease_key(d: &WebhookDelivery) -> String {
    format!("webhook:{}", d.id)
}

/// Up to 1000 per mille of jitter.
fn jitter() -> u16 {
    let [a, b] = random_bytes::<2>();
    u16::from_be_bytes([a, b]) % 1001
}

impl Services {
    /// Hands `queued` to its endpoint if its try is due (see the module).
    pub async fn deliver_webhook(
        &self,
        queued: &DeliveryRef,
    ) -> Result<DeliveryOutcome, WebhookError> {
        let Some(delivery) = self
            .store
            .delivery(&queued.delivery)
            .await?
            .filter(|d| d.warehouse == queued.warehouse)
        else {
            self.webhooks.queue.forget(queued).await?;
            return Ok(DeliveryOutcome::Settled);
        };
        if delivery.status != DeliveryStatus::Pending {
            self.webhooks.queue.forget(queued).await?;
            return Ok(DeliveryOutcome::Settled);
        }
        let now = self.clock.now();
        if delivery.next_try_at > now {
            let at = delivery.next_try_at;
            self.webhooks.queue.schedule(queued, at, now).await?;
            return Ok(DeliveryOutcome::NotDue(at));
        }
        let owner = crate::domain::secrets::random_token();
        let key = lease_key(&delivery);
        if !self
            .store
            .take_lease(&key, &owner, now, DELIVERY_LEASE_SECS)
            .await?
        {
            return Ok(DeliveryOutcome::Busy);
        }
        let outcome = self.try_once(queued, delivery, now).await;
        if let Err(e) = self.store.release_lease(&key, &owner).await {
            tracing::warn!(delivery_id = %queued.delivery, error = %e, "delivery lease not released; it runs out");
        }
        outcome
    }

    /// The try itself, under the lease.
    async fn try_once(
        &self,
        queued: &DeliveryRef,
        mut delivery: WebhookDelivery,
        now: Timestamp,
    ) -> Result<DeliveryOutcome, WebhookError> {
        let read = DeliveryRead::of(&delivery);
        let endpoint = self
            .store
            .endpoints_of(&delivery.warehouse)
            .await?
            .into_iter()
            .find(|e| e.id == delivery.endpoint && e.disabled.is_none());
        let attempt = match &endpoint {
            Some(endpoint) => self.post(endpoint, &delivery, now).await?,
            None => DeliveryTry {
                at: now,
                status_code: None,
                latency_ms: 0,
                error: Some("endpoint_gone".into()),
            },
        };
        let gone = attempt.status_code == Some(410) || endpoint.is_none();
        let wait = (!gone && !attempt.delivered())
            .then(|| {
                self.config
                    .webhook_schedule
                    .wait_after(delivery.tries.len() + 1, jitter())
            })
            .flatten();
        delivery.status = match (attempt.delivered(), wait) {
            (true, _) => DeliveryStatus::Delivered,
            (false, Some(_)) => DeliveryStatus::Pending,
            (false, None) => DeliveryStatus::Failed,
        };
        let code = attempt.status_code;
        delivery.tries.push(attempt);
        if let Some(w) = wait {
            delivery.next_try_at = now.plus_secs(i64::try_from(w).unwrap_or(i64::MAX));
        }
        if !self.store.update_delivery(&delivery, read).await? {
            // Another writer (a retry asked for meanwhile) changed it first; its state stands.
            return Ok(DeliveryOutcome::Settled);
        }
        tracing::info!(delivery_id = %delivery.id, endpoint_id = %delivery.endpoint, event = delivery.event_type.as_str(), status_code = ?code, tries = delivery.tries.len(), status = delivery.status.as_str(), "webhook try recorded");
        if let (Some(endpoint), Some(410)) = (endpoint, code) {
            self.disable_gone(endpoint, now).await;
        }
        Ok(match delivery.status {
            DeliveryStatus::Delivered => {
                self.webhooks.queue.forget(queued).await?;
                DeliveryOutcome::Delivered
            }
            DeliveryStatus::Pending => {
                let at = delivery.next_try_at;
                self.webhooks.queue.schedule(queued, at, now).await?;
                DeliveryOutcome::Retrying(at)
            }
            DeliveryStatus::Failed if gone => {
                self.webhooks.queue.forget(queued).await?;
                DeliveryOutcome::Failed
            }
            DeliveryStatus::Failed => {
                self.webhooks.queue.dead_letter(queued).await?;
                self.webhooks.queue.forget(queued).await?;
                tracing::warn!(delivery_id = %delivery.id, endpoint_id = %delivery.endpoint, "webhook delivery failed every try; dead-lettered");
                DeliveryOutcome::Failed
            }
        })
    }

    /// Signs and posts one try.
    async fn post(
        &self,
        endpoint: &WebhookEndpoint,
        delivery: &WebhookDelivery,
        now: Timestamp,
    ) -> Result<DeliveryTry, WebhookError> {
        let context = WebhookEndpoint::seal_context(&endpoint.warehouse, &endpoint.id);
        let mut signatures = Vec::new();
        for sealed in endpoint.signing_secrets(now) {
            let key = self.vault.open(&context, &sealed.sealed).await?;
            let secret = WebhookSecret::from_bytes(key);
            signatures.push(secret.sign(&delivery.message_id, now.0, &delivery.payload));
        }
        let headers = [
            ("webhook-id", delivery.message_id.clone()),
            ("webhook-timestamp", now.0.to_string()),
            ("webhook-signature", signatures.join(" ")),
        ];
        let started = Instant::now();
        let outcome = self
            .webhooks
            .sender
            .post(&endpoint.url, &headers, &delivery.payload)
            .await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(match outcome {
            PostOutcome::Answered(code) => DeliveryTry {
                at: now,
                status_code: Some(code),
                latency_ms,
                error: None,
            },
            PostOutcome::NoAnswer(code) => DeliveryTry {
                at: now,
                status_code: None,
                latency_ms,
                error: Some(code.to_owned()),
            },
        })
    }

    /// Disables an endpoint that answered 410 Gone and tells its warehouse, once: only the
    /// change that disables it sends the email.
    async fn disable_gone(&self, mut endpoint: WebhookEndpoint, now: Timestamp) {
        endpoint.disabled = Some(Disabled {
            at: now,
            reason: "gone".into(),
        });
        endpoint.revision += 1;
        match self.store.update_endpoint(&endpoint).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(endpoint_id = %endpoint.id, error = %e, "gone endpoint not disabled; its next message tries again");
                return;
            }
        }
        tracing::warn!(endpoint_id = %endpoint.id, warehouse_id = %endpoint.warehouse, "webhook endpoint answered 410 Gone; disabled");
        let warehouse = match self.warehouse_by_id(&endpoint.warehouse).await {
            Ok(Some(w)) => w,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(endpoint_id = %endpoint.id, error = %e, "disabled-endpoint email not sent: warehouse not read");
                return;
            }
        };
        let sent = match endpoint_disabled_email(
            &warehouse.notify_email,
            &warehouse.display_name,
            &endpoint,
            now,
        ) {
            Ok(email) => self.mailer.send(&email).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            tracing::warn!(endpoint_id = %endpoint.id, error = %e, "disabled-endpoint email not sent");
        }
    }
}
