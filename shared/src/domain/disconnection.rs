//! Disconnections: what is left of a connection the warehouse dropped. Its sealed tokens are
//! gone from the store; this record remembers that it existed, so a repeated disconnect
//! answers the same and the merchant's email can still be sent after a crash.

use serde::{Deserialize, Serialize};

use super::connection::Connection;
use super::ids::{CartId, ConnectionId, InviteId, Timestamp, WarehouseId};

/// Whether the cart was told to revoke the connection's grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// The tokens were deleted; the call to the cart has not been answered yet (or the process
    /// died before it was: the tokens are gone, so it is never made).
    Pending,
    /// The cart's revocation endpoint accepted the revocation.
    Revoked,
    /// The cart's revocation endpoint refused it or could not be reached; the tokens were
    /// deleted here all the same.
    Failed,
    /// The cart documents no revocation call: the grant lives at the cart until the merchant
    /// removes the app there.
    NotOffered,
}

impl Revocation {
    /// Every outcome.
    pub const ALL: [Revocation; 4] = [
        Revocation::Pending,
        Revocation::Revoked,
        Revocation::Failed,
        Revocation::NotOffered,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Revocation::Pending => "pending",
            Revocation::Revoked => "revoked",
            Revocation::Failed => "failed",
            Revocation::NotOffered => "not_offered",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Revocation::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Who dropped a connection: it decides who is told, and how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisconnectedBy {
    /// The warehouse, through its API (records made before the merchant could withdraw).
    #[default]
    Warehouse,
    /// The merchant, from the page of their "Manage this connection" link.
    Merchant,
    /// The cart, which told cartlink that the merchant removed the app there (Shopify's
    /// `app/uninstalled`): the grant is gone at the cart, so no revocation call is made.
    Cart,
}

/// A dropped connection, as stored in place of its sealed tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disconnection {
    /// The connection's id.
    pub connection_id: ConnectionId,
    /// The invite that led to it.
    pub invite_id: InviteId,
    /// The warehouse it served.
    pub warehouse_id: WarehouseId,
    /// The cart.
    pub cart: CartId,
    /// When the tokens were deleted.
    pub disconnected_at: Timestamp,
    /// Whether the cart was told.
    pub revocation: Revocation,
    /// Who dropped it.
    #[serde(default)]
    pub by: DisconnectedBy,
    /// The store account the connection reached (so a cart's later signal about that store
    /// finds this record); records made before it was kept have none.
    #[serde(default)]
    pub account: Option<String>,
}

impl Disconnection {
    /// The record of dropping `connection` at `at`, by `by`, with `revocation` told to the cart:
    /// what it served and reached is the connection's own.
    pub fn of(
        connection: &Connection,
        at: Timestamp,
        revocation: Revocation,
        by: DisconnectedBy,
    ) -> Self {
        Disconnection {
            connection_id: connection.id.clone(),
            invite_id: connection.invite_id.clone(),
            warehouse_id: connection.warehouse_id.clone(),
            cart: connection.cart.clone(),
            disconnected_at: at,
            revocation,
            by,
            account: connection.account.clone(),
        }
    }
}
