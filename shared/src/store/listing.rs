//! Listing a warehouse's invites and connections a page at a time.
//!
//! Both lists share one total order, newest first: by creation time, then by id (descending),
//! so two records made in the same second still have a place. A page ends at a [`Position`]
//! and the next page starts strictly after it, so every record is seen exactly once however
//! the pages are cut, and records made meanwhile (newer than the first page) never shift the
//! pages after it.

use crate::domain::{CartId, Connection, ConnectionStatus, Invite, InviteStatus, Timestamp};

/// A place in a warehouse's list: the creation time and id of the last record of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// When the record was made.
    pub created_at: Timestamp,
    /// The record's id.
    pub id: String,
}

/// Which page to read: up to `limit` records strictly after `after` (from the newest when
/// `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// Where the previous page ended.
    pub after: Option<Position>,
    /// How many records at most; at least one is asked for.
    pub limit: usize,
}

impl PageRequest {
    /// The first page of up to `limit` records.
    pub fn first(limit: usize) -> Self {
        PageRequest { after: None, limit }
    }
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The records, newest first: `limit` of them whenever more match.
    pub items: Vec<T>,
    /// Where the next page starts, or `None` when no record after this page matches.
    pub next: Option<Position>,
}

/// Which of a warehouse's invites to list; an empty filter keeps all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InviteFilter {
    /// Only invites in this status.
    pub status: Option<InviteStatus>,
    /// Only invites for this cart.
    pub cart: Option<CartId>,
    /// Only invites to this (normalized) merchant address.
    pub merchant_email: Option<String>,
}

impl InviteFilter {
    /// Only invites in `status`.
    pub fn status(status: InviteStatus) -> Self {
        InviteFilter {
            status: Some(status),
            ..InviteFilter::default()
        }
    }

    /// Whether `invite` passes.
    pub fn keeps(&self, invite: &Invite) -> bool {
        self.status.is_none_or(|s| s == invite.status)
            && self.cart.as_ref().is_none_or(|c| c == &invite.cart)
            && self
                .merchant_email
                .as_ref()
                .is_none_or(|e| e == &invite.merchant_email)
    }

    /// Where `invite` stands in the list.
    pub fn position(invite: &Invite) -> Position {
        Position {
            created_at: invite.created_at,
            id: invite.id.to_string(),
        }
    }
}

/// Which of a warehouse's connections to list; an empty filter keeps all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionFilter {
    /// Only connections in this status.
    pub status: Option<ConnectionStatus>,
    /// Only connections to this cart.
    pub cart: Option<CartId>,
}

impl ConnectionFilter {
    /// Whether `connection` passes.
    pub fn keeps(&self, connection: &Connection) -> bool {
        self.status.is_none_or(|s| s == connection.status)
            && self.cart.as_ref().is_none_or(|c| c == &connection.cart)
    }

    /// Where `connection` stands in the list.
    pub fn position(connection: &Connection) -> Position {
        Position {
            created_at: connection.created_at,
            id: connection.id.to_string(),
        }
    }
}

/// Cuts up to `limit + 1` matching records, read in list order, into a page: the extra record
/// only says that a next page exists.
pub fn page_of<T>(mut found: Vec<T>, limit: usize, position: impl Fn(&T) -> Position) -> Page<T> {
    if found.len() <= limit {
        return Page {
            items: found,
            next: None,
        };
    }
    found.truncate(limit);
    let next = found.last().map(position);
    Page { items: found, next }
}
