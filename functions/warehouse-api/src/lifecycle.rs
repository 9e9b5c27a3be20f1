//! The warehouse's hand on what exists: `POST /v1/invites/{id}/resend` and
//! `DELETE /v1/connections/{id}`.

use http::StatusCode;
use serde::Serialize;
use shared::service::Services;
use shared::views::ConnectionDisconnected;
use shared::web::Response;

use crate::ApiError;

/// The 200 answer of `POST /v1/invites/{id}/resend`.
#[derive(Debug, Serialize)]
pub struct InviteResent {
    /// Invite id.
    pub id: String,
    /// The invite's status now (`emailed`, `email_failed` or `granting`).
    pub status: String,
    /// `sent` once the mail service took the email, else `failed` (with `email_error`).
    pub email: &'static str,
    /// How many times the link and code were replaced so far.
    pub resends: u32,
    /// The new setup link; a secret, to hand only to the merchant. Earlier links are dead.
    pub setup_url: String,
    /// The last symbols of the new access code.
    pub access_code_hint: String,
    /// When the invite expires (RFC 3339); a resend does not extend it.
    pub expires_at: String,
    /// Why the email failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_error: Option<String>,
}

/// Resends an invite of `warehouse`: a new link and code, emailed.
pub(crate) async fn resend_invite(
    svc: &Services,
    warehouse: &shared::domain::WarehouseId,
    id: &str,
) -> Result<Response, ApiError> {
    let resent = svc.resend_invite(warehouse, id).await?;
    let invite = &resent.invite;
    let answer = InviteResent {
        id: invite.id.to_string(),
        status: invite.status.to_string(),
        email: if resent.email_error.is_none() {
            "sent"
        } else {
            "failed"
        },
        resends: invite.resends,
        setup_url: resent.setup_url.clone(),
        access_code_hint: invite.access_code_hint.clone(),
        expires_at: invite.expires_at.rfc3339(),
        email_error: resent.email_error.clone(),
    };
    Ok(shared::web::json(StatusCode::OK, &answer))
}

/// Disconnects a connection of `warehouse`.
pub(crate) async fn disconnect(
    svc: &Services,
    warehouse: &shared::domain::WarehouseId,
    id: &str,
) -> Result<Response, ApiError> {
    let record = svc.disconnect_connection(warehouse, id).await?;
    let answer = ConnectionDisconnected::of(&record);
    Ok(shared::web::json(StatusCode::OK, &answer))
}
