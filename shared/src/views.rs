//! The warehouse's views of its invites and connections: what the warehouse API answers and
//! what a webhook message carries as its `data`, built in one place so both say the same.
//! No view ever carries a token, a setup link or an access code.

use serde::Serialize;

use crate::domain::{Connection, DisconnectedBy, Disconnection, Invite, Timestamp};

fn rfc3339(t: Option<Timestamp>) -> Option<String> {
    t.map(Timestamp::rfc3339)
}

/// `GET /v1/invites/{id}`: an invite and, once granted, its connection.
#[derive(Debug, Serialize)]
pub struct InviteView {
    /// Invite id.
    pub id: String,
    /// The cart's id.
    pub cart: String,
    /// `pending`, `emailed`, `email_failed`, `undeliverable`, `granting`, `authorized`,
    /// `confirmed` or `revoked`.
    pub status: String,
    /// Whether it expired before the store was connected.
    pub expired: bool,
    /// When it expires (RFC 3339).
    pub expires_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
    /// Counts the invite's changes: of two views of one invite, the higher is the newer.
    pub version: u64,
    /// The merchant's address.
    pub merchant_email: String,
    /// The functions asked for.
    pub functions: Vec<&'static str>,
    /// The connection, once the merchant granted access.
    pub connection: Option<ConnectionView>,
}

/// A connection as [`InviteView`] shows it (its tokens: `GET /v1/connections/{id}/tokens`).
#[derive(Debug, Serialize)]
pub struct ConnectionView {
    /// Connection id.
    pub id: String,
    /// `active`, or `needs_reauth` when the cart refused its grant.
    pub status: &'static str,
    /// The merchant's account at the cart, if known.
    pub account: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
}

impl InviteView {
    /// `invite` (and its `connection`) as seen at `now`.
    pub fn of(invite: &Invite, connection: Option<&Connection>, now: Timestamp) -> Self {
        InviteView {
            id: invite.id.to_string(),
            cart: invite.cart.to_string(),
            status: invite.status.to_string(),
            expired: !invite.status.is_connected() && invite.is_expired(now),
            expires_at: invite.expires_at.rfc3339(),
            updated_at: invite.updated_at.rfc3339(),
            version: invite.version,
            merchant_email: invite.merchant_email.clone(),
            functions: invite.functions.iter().map(|f| f.as_str()).collect(),
            connection: connection.map(|c| ConnectionView {
                id: c.id.to_string(),
                status: c.status.as_str(),
                account: c.account.clone(),
                scopes: c.scopes.clone(),
                created_at: c.created_at.rfc3339(),
            }),
        }
    }
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

impl ConnectionSummary {
    /// `c` as listed.
    pub fn of(c: &Connection) -> Self {
        ConnectionSummary {
            id: c.id.to_string(),
            invite_id: c.invite_id.to_string(),
            cart: c.cart.to_string(),
            account: c.account.clone(),
            status: c.status.as_str(),
            created_at: c.created_at.rfc3339(),
            access_token_expires_at: rfc3339(c.token_expires_at),
        }
    }
}

/// `GET /v1/connections/{id}`: a connection without its tokens.
#[derive(Debug, Serialize)]
pub struct ConnectionDetailView {
    /// What the list shows.
    #[serde(flatten)]
    pub summary: ConnectionSummary,
    /// Counts the connection's changes of tokens: of two views of one connection, the one with
    /// the higher version is the newer.
    pub version: u64,
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

impl ConnectionDetailView {
    /// `connection` with what its `invite` asked for, and its re-authorization deadline.
    pub fn of(
        connection: &Connection,
        invite: Option<&Invite>,
        reauthorize_by: Option<Timestamp>,
    ) -> Self {
        ConnectionDetailView {
            summary: ConnectionSummary::of(connection),
            version: connection.version,
            store: invite.and_then(|i| i.store.clone()),
            scopes: connection.scopes.clone(),
            functions: invite
                .map(|i| i.functions.iter().map(|f| f.as_str()).collect())
                .unwrap_or_default(),
            last_refreshed_at: rfc3339(connection.refreshed_at),
            reauthorize_by: rfc3339(reauthorize_by),
        }
    }
}

/// The 200 answer of `DELETE /v1/connections/{id}`, the same on every repeat (and the `data` of
/// `connection.disconnected`).
#[derive(Debug, Serialize)]
pub struct ConnectionDisconnected {
    /// Connection id.
    pub id: String,
    /// The invite it came from.
    pub invite_id: String,
    /// The cart's id.
    pub cart: String,
    /// `disconnected` (the warehouse or the merchant dropped it), or `revoked_at_cart` (the
    /// merchant removed the app at the cart): either way its tokens are deleted and the token
    /// API answers 404.
    pub status: &'static str,
    /// When the tokens were deleted (RFC 3339).
    pub disconnected_at: String,
    /// What the cart was told: `revoked`, `failed` (the cart refused or could not be reached;
    /// the tokens are deleted here all the same), `not_offered` (the cart documents no
    /// revocation call), or `pending` (the process died before the cart answered).
    pub revocation: &'static str,
}

impl ConnectionDisconnected {
    /// What `record` says.
    pub fn of(record: &Disconnection) -> Self {
        ConnectionDisconnected {
            id: record.connection_id.to_string(),
            invite_id: record.invite_id.to_string(),
            cart: record.cart.to_string(),
            status: match record.by {
                DisconnectedBy::Cart => "revoked_at_cart",
                DisconnectedBy::Warehouse | DisconnectedBy::Merchant => "disconnected",
            },
            disconnected_at: record.disconnected_at.rfc3339(),
            revocation: record.revocation.as_str(),
        }
    }
}
