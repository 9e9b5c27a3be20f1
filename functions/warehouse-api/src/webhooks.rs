//! The warehouse's webhooks: `POST` and `GET /v1/webhooks/endpoints`,
//! `DELETE /v1/webhooks/endpoints/{id}`, `POST /v1/webhooks/endpoints/{id}/rotate-secret`,
//! `GET /v1/webhooks/deliveries`, `POST /v1/webhooks/deliveries/{id}/retry` and
//! `POST /v1/webhooks/test`. A signing secret is answered once, when made.

use http::StatusCode;
use serde::Serialize;
use shared::domain::{WarehouseId, WebhookDelivery, WebhookEndpoint};
use shared::service::webhooks::{EndpointWithSecret, NewEndpoint, WebhookError};
use shared::service::Services;
use shared::web::{Request, Response};

use super::reads::{list_query, ListPage};
use super::{unavailable, ApiError};

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        use WebhookError::*;
        match e {
            Invalid { field, reason } => ApiError::Invalid { field, reason },
            NotFound => ApiError::NotFound,
            TooManyEndpoints => ApiError::WebhookConflict(
                "too-many-endpoints",
                "A warehouse may have 10 webhook endpoints; delete one first.",
            ),
            NoEndpoint => ApiError::WebhookConflict(
                "no-webhook-endpoint",
                "The warehouse has no enabled webhook endpoint to send a test message to.",
            ),
            NotRetryable(_) => ApiError::WebhookConflict(
                "delivery-not-retryable",
                "Only a failed delivery can be retried; this one is delivered or still trying.",
            ),
            Conflict => ApiError::WebhookConflict(
                "changed-meanwhile",
                "Another change of the same record ran at the same time; read it and try again.",
            ),
            Store(e) => unavailable(e),
            Vault(e) => {
                tracing::error!(error = %e, "key service failed in a webhook call");
                ApiError::Unavailable
            }
            Queue(e) => {
                tracing::error!(error = %e, "webhook queue failed");
                ApiError::Unavailable
            }
        }
    }
}

/// One signing secret's dates (never the secret).
#[derive(Debug, Serialize)]
pub struct SecretView {
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it stops signing (RFC 3339), once a newer one replaced it.
    pub retires_at: Option<String>,
}

/// An endpoint as the warehouse sees it.
#[derive(Serialize)]
pub struct EndpointView {
    /// Endpoint id.
    pub id: String,
    /// Where messages are posted.
    pub url: String,
    /// The event types it hears; empty: every type.
    pub events: Vec<&'static str>,
    /// `enabled`, or `disabled` (it answered 410 Gone).
    pub status: &'static str,
    /// When it was disabled (RFC 3339).
    pub disabled_at: Option<String>,
    /// Its signing secrets' dates, oldest first.
    pub secrets: Vec<SecretView>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// The new signing secret (`whsec_…`), answered only when it is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl EndpointView {
    fn of(e: &WebhookEndpoint) -> Self {
        EndpointView {
            id: e.id.to_string(),
            url: e.url.clone(),
            events: e.events.iter().map(|t| t.as_str()).collect(),
            status: if e.disabled.is_some() {
                "disabled"
            } else {
                "enabled"
            },
            disabled_at: e.disabled.as_ref().map(|d| d.at.rfc3339()),
            secrets: e
                .secrets
                .iter()
                .map(|s| SecretView {
                    created_at: s.created_at.rfc3339(),
                    retires_at: s.retires_at.map(|t| t.rfc3339()),
                })
                .collect(),
            created_at: e.created_at.rfc3339(),
            secret: None,
        }
    }

    fn with_secret(made: EndpointWithSecret) -> Self {
        EndpointView {
            secret: Some(made.secret.to_string()),
            ..EndpointView::of(&made.endpoint)
        }
    }
}

/// One try of a delivery.
#[derive(Debug, Serialize)]
pub struct TryView {
    /// When (RFC 3339).
    pub at: String,
    /// The endpoint's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// How long the try took, in milliseconds.
    pub latency_ms: u64,
    /// Why there was no answer (`timeout`, `connect`, `refused_address`, `request`,
    /// `endpoint_gone`).
    pub error: Option<String>,
}

/// A delivery as the warehouse sees it.
#[derive(Debug, Serialize)]
pub struct DeliveryView {
    /// Delivery id.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The `webhook-id`, the same on every try.
    pub message_id: String,
    /// The event type.
    pub event: &'static str,
    /// `pending`, `delivered` or `failed`.
    pub status: &'static str,
    /// Every try, oldest first.
    pub tries: Vec<TryView>,
    /// When the next try is due (RFC 3339), while pending.
    pub next_try_at: Option<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
}

impl DeliveryView {
    fn of(d: &WebhookDelivery) -> Self {
        DeliveryView {
            id: d.id.to_string(),
            endpoint_id: d.endpoint.to_string(),
            message_id: d.message_id.clone(),
            event: d.event_type.as_str(),
            status: d.status.as_str(),
            tries: d
                .tries
                .iter()
                .map(|t| TryView {
                    at: t.at.rfc3339(),
                    status_code: t.status_code,
                    latency_ms: t.latency_ms,
                    error: t.error.clone(),
                })
                .collect(),
            next_try_at: (d.status == shared::domain::DeliveryStatus::Pending)
                .then(|| d.next_try_at.rfc3339()),
            created_at: d.created_at.rfc3339(),
        }
    }
}

/// `POST /v1/webhooks/endpoints`.
pub(crate) async fn create_endpoint(
    svc: &Services,
    warehouse: &WarehouseId,
    req: &Request,
) -> Result<Response, ApiError> {
    let body: NewEndpoint = super::json_body(req)?;
    let made = svc.create_endpoint(warehouse, body).await?;
    Ok(shared::web::json(
        StatusCode::CREATED,
        &EndpointView::with_secret(made),
    ))
}

/// `GET /v1/webhooks/endpoints`.
pub(crate) async fn list_endpoints(
    svc: &Services,
    warehouse: &WarehouseId,
) -> Result<Response, ApiError> {
    let data: Vec<EndpointView> = svc
        .endpoints(warehouse)
        .await
        .map_err(unavailable)?
        .iter()
        .map(EndpointView::of)
        .collect();
    Ok(shared::web::json(
        StatusCode::OK,
        &serde_json::json!({ "data": data }),
    ))
}

/// `DELETE /v1/webhooks/endpoints/{id}`.
pub(crate) async fn delete_endpoint(
    svc: &Services,
    warehouse: &WarehouseId,
    id: &str,
) -> Result<Response, ApiError> {
    svc.delete_endpoint(warehouse, id).await?;
    Ok(shared::web::no_content())
}

/// `POST /v1/webhooks/endpoints/{id}/rotate-secret`.
pub(crate) async fn rotate_secret(
    svc: &Services,
    warehouse: &WarehouseId,
    id: &str,
) -> Result<Response, ApiError> {
    let made = svc.rotate_endpoint_secret(warehouse, id).await?;
    Ok(shared::web::json(
        StatusCode::OK,
        &EndpointView::with_secret(made),
    ))
}

/// `GET /v1/webhooks/deliveries`.
pub(crate) async fn list_deliveries(
    svc: &Services,
    warehouse: &WarehouseId,
    req: &Request,
) -> Result<Response, ApiError> {
    let listed = svc.list_deliveries(warehouse, &list_query(req)).await?;
    let page = ListPage {
        data: listed.items.iter().map(DeliveryView::of).collect(),
        next_cursor: listed.next_cursor,
    };
    Ok(shared::web::json(StatusCode::OK, &page))
}

/// `POST /v1/webhooks/deliveries/{id}/retry`.
pub(crate) async fn retry_delivery(
    svc: &Services,
    warehouse: &WarehouseId,
    id: &str,
) -> Result<Response, ApiError> {
    let d = svc.retry_delivery(warehouse, id).await?;
    Ok(shared::web::json(
        StatusCode::ACCEPTED,
        &DeliveryView::of(&d),
    ))
}

/// `POST /v1/webhooks/test`.
pub(crate) async fn send_test(
    svc: &Services,
    warehouse: &WarehouseId,
) -> Result<Response, ApiError> {
    let made = svc.send_test_webhook(warehouse).await?;
    let data: Vec<DeliveryView> = made.iter().map(DeliveryView::of).collect();
    Ok(shared::web::json(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "data": data }),
    ))
}
