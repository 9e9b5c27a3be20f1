//! The warehouse's lists and the connection view: `GET /v1/invites`, `GET /v1/connections`,
//! `GET /v1/connections/{id}`, and an invite's history, `GET /v1/invites/{id}/events`. No
//! answer here ever carries a token.

use http::StatusCode;
use serde::Serialize;
use shared::domain::{Invite, Timestamp, WarehouseId};
use shared::service::listing::{ConnectionDetail, ListError, ListQuery, Listed};
use shared::service::Services;
use shared::views::{ConnectionDetailView, ConnectionSummary};
use shared::web::{Request, Response};

use super::{unavailable, ApiError};

impl From<ListError> for ApiError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::Invalid { field, reason } => ApiError::Invalid {
                field,
                reason: reason.to_owned(),
            },
            ListError::Store(e) => unavailable(e),
        }
    }
}

/// A page of a list: `{"data": [...], "next_cursor": "…" | null}`.
#[derive(Debug, Serialize)]
pub struct ListPage<T> {
    /// The records, newest first.
    pub data: Vec<T>,
    /// The `cursor` of the next page, `null` on the last.
    pub next_cursor: Option<String>,
}

/// An invite as the list shows it.
#[derive(Debug, Serialize)]
pub struct InviteSummary {
    /// Invite id.
    pub id: String,
    /// The cart's id.
    pub cart: String,
    /// Its status (as `GET /v1/invites/{id}`).
    pub status: String,
    /// Whether it expired before the store was connected.
    pub expired: bool,
    /// The merchant's address.
    pub merchant_email: String,
    /// The merchant's name, if given.
    pub merchant_name: Option<String>,
    /// The store it names, if any.
    pub store: Option<String>,
    /// The functions asked for.
    pub functions: Vec<&'static str>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
}

fn invite_summary(now: Timestamp, invite: Invite) -> InviteSummary {
    InviteSummary {
        id: invite.id.to_string(),
        cart: invite.cart.to_string(),
        status: invite.status.to_string(),
        expired: !invite.status.is_connected() && invite.is_expired(now),
        functions: invite.functions.iter().map(|f| f.as_str()).collect(),
        created_at: invite.created_at.rfc3339(),
        expires_at: invite.expires_at.rfc3339(),
        merchant_email: invite.merchant_email,
        merchant_name: invite.merchant_name,
        store: invite.store,
    }
}

fn page<T, V>(listed: Listed<T>, view: impl FnMut(T) -> V) -> ListPage<V> {
    ListPage {
        data: listed.items.into_iter().map(view).collect(),
        next_cursor: listed.next_cursor,
    }
}

/// The list parameters of `req`'s query string.
pub(crate) fn list_query(req: &Request) -> ListQuery {
    let mut q = req.query_params();
    ListQuery {
        status: q.remove("status"),
        cart: q.remove("cart"),
        merchant_email: q.remove("merchant_email"),
        limit: q.remove("limit"),
        cursor: q.remove("cursor"),
        event: q.remove("event"),
    }
}

/// `GET /v1/invites`.
pub async fn list_invites(
    svc: &Services,
    warehouse: &WarehouseId,
    req: &Request,
) -> Result<Response, ApiError> {
    let listed = svc.list_invites(warehouse, &list_query(req)).await?;
    let now = svc.clock.now();
    let body = page(listed, |i| invite_summary(now, i));
    Ok(shared::web::json(StatusCode::OK, &body))
}

/// `GET /v1/connections`.
pub async fn list_connections(
    svc: &Services,
    warehouse: &WarehouseId,
    req: &Request,
) -> Result<Response, ApiError> {
    let listed = svc.list_connections(warehouse, &list_query(req)).await?;
    let body = page(listed, |c| ConnectionSummary::of(&c));
    Ok(shared::web::json(StatusCode::OK, &body))
}

/// `GET /v1/connections/{id}`.
pub async fn show_connection(
    svc: &Services,
    warehouse: &WarehouseId,
    id: &str,
) -> Result<Response, ApiError> {
    let ConnectionDetail {
        connection,
        invite,
        reauthorize_by,
    } = svc
        .connection_detail(warehouse, id)
        .await
        .map_err(unavailable)?
        .ok_or(ApiError::NotFound)?;
    let view = ConnectionDetailView::of(&connection, invite.as_ref(), reauthorize_by);
    Ok(shared::web::json(StatusCode::OK, &view))
}

/// One event of an invite's history.
#[derive(Debug, Serialize)]
pub struct EventView {
    /// What happened (`created`, `emailed`, `opened`, `grant_started`, …).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When (RFC 3339).
    pub at: String,
    /// A stable reason code (`failed`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /v1/invites/{id}/events`: `{"data": [...]}`, oldest first.
pub async fn invite_events(
    svc: &Services,
    warehouse: &WarehouseId,
    id: &str,
) -> Result<Response, ApiError> {
    let events = svc
        .invite_history(warehouse, id)
        .await
        .map_err(unavailable)?
        .ok_or(ApiError::NotFound)?;
    let data: Vec<EventView> = events
        .into_iter()
        .map(|e| EventView {
            kind: e.kind.as_str(),
            at: e.at.rfc3339(),
            reason: e.reason,
        })
        .collect();
    Ok(shared::web::json(
        StatusCode::OK,
        &serde_json::json!({ "data": data }),
    ))
}
