//! `POST /v1/connections/{id}/reconnect`: a re-authorization invite for a connection, emailed
//! to the merchant (or the open one answered again).

use http::StatusCode;
use serde::Serialize;
use shared::domain::WarehouseId;
use shared::service::reconnect::ReconnectError;
use shared::service::Services;
use shared::web::Response;

use crate::ApiError;

/// The 201 answer: the invite as `POST /v1/invites` answers one, plus the connection it renews.
#[derive(Debug, Serialize)]
pub struct ReconnectCreated {
    /// The re-authorization invite's id.
    pub id: String,
    /// `emailed` or `email_failed` for one made now; an open one answered again is as it
    /// stands (`pending`, `emailed`, `email_failed` or `granting`).
    pub status: String,
    /// A setup link for it; a secret, to hand only to the merchant.
    pub setup_url: String,
    /// The last symbols of the access code in the email.
    pub access_code_hint: String,
    /// When the invite expires (RFC 3339).
    pub expires_at: String,
    /// Why the email failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_error: Option<String>,
    /// The connection that granting the invite renews (keeps its id).
    pub connection_id: String,
}

impl From<ReconnectError> for ApiError {
    fn from(e: ReconnectError) -> Self {
        match e {
            ReconnectError::NotFound => ApiError::NotFound,
            ReconnectError::Disconnected => ApiError::NotReconnectable(
                "connection-disconnected",
                "The connection was disconnected; make a new invite.",
            ),
            ReconnectError::TooMany => ApiError::NotReconnectable(
                "reconnect-limit",
                "This connection has had too many reconnect invites expire or be withdrawn; make a new invite.",
            ),
            ReconnectError::RateLimited(limited) => ApiError::RateLimited {
                retry_after_secs: limited.retry_after_secs,
            },
            ReconnectError::MailUnavailable => ApiError::Unavailable,
            ReconnectError::Store(e) => crate::unavailable(e),
        }
    }
}

/// Serves `POST /v1/connections/{id}/reconnect`.
pub(crate) async fn reconnect(
    svc: &Services,
    warehouse: &WarehouseId,
    id: &str,
) -> Result<Response, ApiError> {
    let answered = svc.request_reconnect(warehouse, id).await?;
    let invite = &answered.invite;
    let connection_id = invite
        .reconnects
        .as_ref()
        .map_or_else(|| id.to_owned(), ToString::to_string);
    let answer = ReconnectCreated {
        id: invite.id.to_string(),
        status: invite.status.to_string(),
        setup_url: answered.setup_url.clone(),
        access_code_hint: invite.access_code_hint.clone(),
        expires_at: invite.expires_at.rfc3339(),
        email_error: invite.status_reason.clone(),
        connection_id,
    };
    Ok(shared::web::json(StatusCode::CREATED, &answer))
}
