//! The warehouse's lists and the connection view: `GET /v1/invites`, `GET /v1/connections`,
//! `GET /v1/connections/{id}`, and an invite's history, `GET /v1/invites/{id}/events`. No
//! answer here ever carries a token.

use http::StatusCode;
use serde::Serialize;
use shared::domain::{Connection, Invite, Timestamp, WarehouseId};
use shared::service::listing::{ConnectionDetail, ListError, ListQuery, Listed};
use shared::service::Services;
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

/// A connection as the list shows it.
#[derive(Debug, Serialize)]
pub struct ConnectionSummary {
    /// Connection id.
    pub id: String,
    /// The invite it came from.
    pub invite_id: String,
    /// The cart's id.
    pub cart: String,
    /// The merchant's account at the cart, if known.
    pub account: Option<String>,
    /// `active` or `needs_reauth`.
    pub status: &'static str,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When the stored access token expires (RFC 3339), if the cart said.
    pub access_token_expires_at: Option<String>,
}

/// `GET /v1/connections/{id}`: a connection without its tokens.
#[derive(Debug, Serialize)]
pub struct ConnectionDetailView {
    /// What the list shows.
    #[serde(flatten)]
    pub summary: ConnectionSummary,
    /// The store the invite named, if any.
    pub store: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The functions the invite asked for.
    pub functions: Vec<&'static str>,
    /// When its tokens were last refreshed at the cart (RFC 3339); `null` before the first
    /// refresh.
    pub last_refreshed_at: Option<String>,
    /// When the merchant must authorize again, where the cart documents a fixed period
    /// (RFC 3339); `null` where none is known.
    pub reauthorize_by: Option<String>,
}

fn rfc3339(t: Option<Timestamp>) -> Option<String> {
    t.map(Timestamp::rfc3339)
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

fn connection_summary(c: Connection) -> ConnectionSummary {
    ConnectionSummary {
        id: c.id.to_string(),
        invite_id: c.invite_id.to_string(),
        cart: c.cart.to_string(),
        account: c.account,
        status: c.status.as_str(),
        created_at: c.created_at.rfc3339(),
        access_token_expires_at: rfc3339(c.token_expires_at),
    }
}

fn page<T, V>(listed: Listed<T>, view: impl FnMut(T) -> V) -> ListPage<V> {
    ListPage {
        data: listed.items.into_iter().map(view).collect(),
        next_cursor: listed.next_cursor,
    }
}

/// The list parameters of `req`'s query string.
fn list_query(req: &Request) -> ListQuery {
    let mut q = req.query_params();
    ListQuery {
        status: q.remove("status"),
        cart: q.remove("cart"),
        merchant_email: q.remove("merchant_email"),
        limit: q.remove("limit"),
        cursor: q.remove("cursor"),
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
    let body = page(listed, connection_summary);
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
    let scopes = connection.scopes.clone();
    let last_refreshed_at = rfc3339(connection.refreshed_at);
    let view = ConnectionDetailView {
        summary: connection_summary(connection),
        store: invite.as_ref().and_then(|i| i.store.clone()),
        scopes,
        functions: invite
            .map(|i| i.functions.iter().map(|f| f.as_str()).collect())
            .unwrap_or_default(),
        last_refreshed_at,
        reauthorize_by: rfc3339(reauthorize_by),
    };
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
