//! The warehouse's reads: its invites, connections and webhook deliveries a page at a time, and one connection as
//! it stands (never its tokens).
//!
//! A page's cursor is opaque to the warehouse: the list it belongs to, the position the page
//! ended at and a tag binding both to the warehouse that was answered (the first 16 hex digits
//! of the SHA-256 of all three). A cursor that does not decode, another list's cursor, an
//! edited one and another warehouse's are all refused as invalid; none of them could show
//! another warehouse's records anyway, because every list is read under the caller's
//! warehouse only.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::Services;
use crate::carts::CartId;
use crate::config::normalize_email;
use crate::domain::{
    Connection, ConnectionId, ConnectionStatus, DeliveryStatus, Invite, InviteStatus, Timestamp,
    TokenHash, WarehouseId, WebhookDelivery, WebhookEventType,
};
use crate::store::{
    ConnectionFilter, DeliveryFilter, InviteFilter, Page, PageRequest, Position, StoreError,
};

/// The page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 25;
/// The largest page size.
pub const MAX_LIMIT: usize = 100;

/// A list request as the warehouse sent it: every parameter raw, validated here.
#[derive(Debug, Default)]
pub struct ListQuery {
    /// `status`.
    pub status: Option<String>,
    /// `cart`.
    pub cart: Option<String>,
    /// `merchant_email` (invites only).
    pub merchant_email: Option<String>,
    /// `limit`, 1 to [`MAX_LIMIT`].
    pub limit: Option<String>,
    /// `cursor`, as a previous page answered it.
    pub cursor: Option<String>,
    /// `event` (webhook deliveries only): a webhook event type.
    pub event: Option<String>,
}

/// Why a list was not read.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// A parameter is wrong.
    #[error("{field}: {reason}")]
    Invalid {
        /// The parameter.
        field: &'static str,
        /// What is wrong, in words safe to show the caller.
        reason: &'static str,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, reason: &'static str) -> ListError {
    ListError::Invalid { field, reason }
}

/// One page as the warehouse is answered: the records and the cursor of the next page.
#[derive(Debug)]
pub struct Listed<T> {
    /// The records, newest first.
    pub items: Vec<T>,
    /// The next page's cursor, or `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Which list a cursor belongs to.
#[derive(Clone, Copy)]
enum ListKind {
    Invites,
    Connections,
    Deliveries,
}

impl ListKind {
    fn as_str(self) -> &'static str {
        match self {
            ListKind::Invites => "invites",
            ListKind::Connections => "connections",
            ListKind::Deliveries => "deliveries",
        }
    }
}

fn cursor_tag(kind: ListKind, warehouse: &WarehouseId, at: &Position) -> String {
    let bound = format!(
        "cartlink-cursor|{}|{warehouse}|{}|{}",
        kind.as_str(),
        at.created_at.0,
        at.id
    );
    TokenHash::of(&bound).as_str()[..16].to_owned()
}

fn encode_cursor(kind: ListKind, warehouse: &WarehouseId, at: &Position) -> String {
    let raw = format!(
        "{}|{}|{}|{}",
        kind.as_str(),
        at.created_at.0,
        at.id,
        cursor_tag(kind, warehouse, at)
    );
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(
    kind: ListKind,
    warehouse: &WarehouseId,
    cursor: &str,
) -> Result<Position, ListError> {
    let bad = || {
        invalid(
            "cursor",
            "is not a cursor this list answered; start again without one",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let parts: Vec<&str> = text.split('|').collect();
    let [list, created, id, tag] = parts.as_slice() else {
        return Err(bad());
    };
    let created: i64 = created.parse().map_err(|_| bad())?;
    let at = Position {
        created_at: Timestamp(created),
        id: (*id).to_owned(),
    };
    if *list != kind.as_str() || *tag != cursor_tag(kind, warehouse, &at) {
        return Err(bad());
    }
    Ok(at)
}

fn page_request(
    kind: ListKind,
    warehouse: &WarehouseId,
    query: &ListQuery,
) -> Result<PageRequest, ListError> {
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| invalid("limit", "must be a whole number from 1 to 100"))?,
    };
    let after = query
        .cursor
        .as_deref()
        .map(|c| decode_cursor(kind, warehouse, c))
        .transpose()?;
    Ok(PageRequest { after, limit })
}

fn only_deliveries_filter_by_event(query: &ListQuery) -> Result<(), ListError> {
    match query.event {
        Some(_) => Err(invalid("event", "filters webhook deliveries only")),
        None => Ok(()),
    }
}

fn cart_filter(raw: Option<&str>) -> Result<Option<CartId>, ListError> {
    raw.map(|c| CartId::parse(c).ok_or_else(|| invalid("cart", "is not a cart id")))
        .transpose()
}

fn listed<T>(kind: ListKind, warehouse: &WarehouseId, page: Page<T>) -> Listed<T> {
    Listed {
        next_cursor: page.next.map(|at| encode_cursor(kind, warehouse, &at)),
        items: page.items,
    }
}

/// A connection as its warehouse may see it: the record (its sealed tokens never leave the
/// service's callers' hands as anything but this), what the invite asked for, and the cart's
/// re-authorization deadline where the catalog knows one.
#[derive(Debug)]
pub struct ConnectionDetail {
    /// The connection.
    pub connection: Connection,
    /// The invite that led to it, if still stored.
    pub invite: Option<Invite>,
    /// When the merchant must grant again, by the cart's documented fixed period.
    pub reauthorize_by: Option<Timestamp>,
}

impl Services {
    /// One page of a warehouse's invites, filtered by `status`, `cart` and `merchant_email`.
    pub async fn list_invites(
        &self,
        warehouse: &WarehouseId,
        query: &ListQuery,
    ) -> Result<Listed<Invite>, ListError> {
        only_deliveries_filter_by_event(query)?;
        let filter = InviteFilter {
            status: query
                .status
                .as_deref()
                .map(|s| {
                    s.parse::<InviteStatus>()
                        .map_err(|()| invalid("status", "is not an invite status"))
                })
                .transpose()?,
            cart: cart_filter(query.cart.as_deref())?,
            merchant_email: query
                .merchant_email
                .as_deref()
                .map(|e| {
                    normalize_email(e)
                        .ok_or_else(|| invalid("merchant_email", "is not one email address"))
                })
                .transpose()?,
        };
        let page = page_request(ListKind::Invites, warehouse, query)?;
        let found = self.store.list_invites(warehouse, &filter, &page).await?;
        Ok(listed(ListKind::Invites, warehouse, found))
    }

    /// One page of a warehouse's connections, filtered by `status` and `cart`
    /// (`merchant_email` is not a connection filter and is refused).
    pub async fn list_connections(
        &self,
        warehouse: &WarehouseId,
        query: &ListQuery,
    ) -> Result<Listed<Connection>, ListError> {
        if query.merchant_email.is_some() {
            return Err(invalid("merchant_email", "filters invites only"));
        }
        only_deliveries_filter_by_event(query)?;
        let filter = ConnectionFilter {
            status: query
                .status
                .as_deref()
                .map(|s| {
                    ConnectionStatus::parse(s)
                        .ok_or_else(|| invalid("status", "is not a connection status"))
                })
                .transpose()?,
            cart: cart_filter(query.cart.as_deref())?,
        };
        let page = page_request(ListKind::Connections, warehouse, query)?;
        let found = self
            .store
            .list_connections(warehouse, &filter, &page)
            .await?;
        Ok(listed(ListKind::Connections, warehouse, found))
    }

    /// One page of a warehouse's webhook deliveries, filtered by `status` and `event`.
    pub async fn list_deliveries(
        &self,
        warehouse: &WarehouseId,
        query: &ListQuery,
    ) -> Result<Listed<WebhookDelivery>, ListError> {
        if query.merchant_email.is_some() {
            return Err(invalid("merchant_email", "filters invites only"));
        }
        if query.cart.is_some() {
            return Err(invalid("cart", "filters invites and connections only"));
        }
        let filter = DeliveryFilter {
            status: query
                .status
                .as_deref()
                .map(|s| {
                    DeliveryStatus::parse(s)
                        .ok_or_else(|| invalid("status", "is not a delivery status"))
                })
                .transpose()?,
            event_type: query
                .event
                .as_deref()
                .map(|e| {
                    WebhookEventType::parse(e)
                        .ok_or_else(|| invalid("event", "is not a webhook event type"))
                })
                .transpose()?,
        };
        let page = page_request(ListKind::Deliveries, warehouse, query)?;
        let found = self
            .store
            .list_deliveries(warehouse, &filter, &page)
            .await?;
        Ok(listed(ListKind::Deliveries, warehouse, found))
    }

    /// A warehouse's own connection as it stands. An id that does not parse, an unknown
    /// connection and another warehouse's are all `None`: nobody learns what exists.
    pub async fn connection_detail(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<Option<ConnectionDetail>, StoreError> {
        let Some(id) = ConnectionId::parse(raw_id) else {
            return Ok(None);
        };
        let Some(connection) = self.store.connection(&id).await? else {
            return Ok(None);
        };
        if &connection.warehouse_id != warehouse {
            return Ok(None);
        }
        let invite = self.store.invite(&connection.invite_id).await?;
        let reauthorize_by = self
            .catalog
            .get(&connection.cart)
            .and_then(|c| connection.reauthorize_by(&c.care_limits()));
        Ok(Some(ConnectionDetail {
            connection,
            invite,
            reauthorize_by,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wh(id: &str) -> WarehouseId {
        WarehouseId::parse(id).unwrap()
    }

    fn at() -> Position {
        Position {
            created_at: Timestamp(1_700_000_000),
            id: "inv-abc".into(),
        }
    }

    #[test]
    fn a_cursor_reads_back_for_its_list_and_warehouse() {
        // GIVEN a cursor of wh-a's invites
        let cursor = encode_cursor(ListKind::Invites, &wh("wh-a"), &at());
        // WHEN wh-a sends it back to the same list
        let back = decode_cursor(ListKind::Invites, &wh("wh-a"), &cursor).unwrap();
        // THEN it is the same position
        assert_eq!(back, at());
    }

    #[test]
    fn another_warehouses_or_lists_cursor_is_invalid() {
        // GIVEN a cursor of wh-a's invites
        let cursor = encode_cursor(ListKind::Invites, &wh("wh-a"), &at());
        // WHEN another warehouse, or another list, sends it
        let other_wh = decode_cursor(ListKind::Invites, &wh("wh-b"), &cursor);
        let other_list = decode_cursor(ListKind::Connections, &wh("wh-a"), &cursor);
        // THEN both are the invalid cursor
        for result in [other_wh, other_list] {
            assert!(matches!(
                result,
                Err(ListError::Invalid {
                    field: "cursor",
                    ..
                })
            ));
        }
    }

    #[test]
    fn an_edited_or_garbage_cursor_is_invalid() {
        // GIVEN a cursor whose position was edited, and strings that are no cursor
        let raw = String::from_utf8(
            URL_SAFE_NO_PAD
                .decode(encode_cursor(ListKind::Invites, &wh("wh-a"), &at()))
                .unwrap(),
        )
        .unwrap();
        let edited = URL_SAFE_NO_PAD.encode(raw.replace("1700000000", "1800000000"));
        // WHEN each is decoded
        for cursor in [edited.as_str(), "", "!!!", "aGVsbG8", "a|b|c|d"] {
            let result = decode_cursor(ListKind::Invites, &wh("wh-a"), cursor);
            // THEN it is the invalid cursor
            assert!(
                matches!(
                    result,
                    Err(ListError::Invalid {
                        field: "cursor",
                        ..
                    })
                ),
                "{cursor}"
            );
        }
    }
}
