//! An invite's history: what happened to it, and when, as the warehouse reads it.

use serde::{Deserialize, Serialize};

use super::ids::Timestamp;

/// What happened to an invite. The order of the variants is the order of a merchant's flow, so
/// events of the same second read in the order they happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteEventKind {
    /// The invite was made.
    Created,
    /// The invite email went out.
    Emailed,
    /// The mail service refused the invite email.
    EmailFailed,
    /// A new link and access code were emailed; the old ones stopped working.
    Resent,
    /// The invite email bounced permanently.
    Undeliverable,
    /// The merchant's browser first showed the grant page.
    Opened,
    /// The merchant started a grant at the cart.
    GrantStarted,
    /// The merchant declined at the cart.
    Declined,
    /// A grant failed (its reason code says why).
    Failed,
    /// The cart granted access and the connection is stored.
    Authorized,
    /// Merchant and warehouse were both told.
    Confirmed,
    /// The warehouse withdrew the invite.
    Withdrawn,
    /// The invite expired before the store was connected.
    Expired,
    /// The warehouse (or cartlink, after the cart refused the refresh token) asked the merchant
    /// to connect again.
    ReconnectRequested,
    /// The warehouse dropped the connection.
    Disconnected,
    /// The cart refused the connection's grant: the merchant must authorize again.
    NeedsReauth,
    /// The cart told cartlink that the merchant removed the app (an uninstall): the
    /// connection's tokens are deleted here.
    RevokedAtCart,
    /// The cart's hard re-authorization deadline nears: cartlink invited the merchant to
    /// connect again (proactive care), once per deadline.
    ReauthorizationDue,
}

impl InviteEventKind {
    /// Every kind, in flow order.
    pub const ALL: [InviteEventKind; 18] = [
        InviteEventKind::Created,
        InviteEventKind::Emailed,
        InviteEventKind::EmailFailed,
        InviteEventKind::Resent,
        InviteEventKind::Undeliverable,
        InviteEventKind::Opened,
        InviteEventKind::GrantStarted,
        InviteEventKind::Declined,
        InviteEventKind::Failed,
        InviteEventKind::Authorized,
        InviteEventKind::Confirmed,
        InviteEventKind::Withdrawn,
        InviteEventKind::Expired,
        InviteEventKind::ReconnectRequested,
        InviteEventKind::Disconnected,
        InviteEventKind::NeedsReauth,
        InviteEventKind::RevokedAtCart,
        InviteEventKind::ReauthorizationDue,
    ];

    /// The stored and wire name (`grant_started`).
    pub fn as_str(self) -> &'static str {
        match self {
            InviteEventKind::Created => "created",
            InviteEventKind::Emailed => "emailed",
            InviteEventKind::EmailFailed => "email_failed",
            InviteEventKind::Resent => "resent",
            InviteEventKind::Undeliverable => "undeliverable",
            InviteEventKind::Opened => "opened",
            InviteEventKind::GrantStarted => "grant_started",
            InviteEventKind::Declined => "declined",
            InviteEventKind::Failed => "failed",
            InviteEventKind::Authorized => "authorized",
            InviteEventKind::Confirmed => "confirmed",
            InviteEventKind::Withdrawn => "withdrawn",
            InviteEventKind::Expired => "expired",
            InviteEventKind::ReconnectRequested => "reconnect_requested",
            InviteEventKind::Disconnected => "disconnected",
            InviteEventKind::NeedsReauth => "needs_reauth",
            InviteEventKind::RevokedAtCart => "revoked_at_cart",
            InviteEventKind::ReauthorizationDue => "reauthorization_due",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        InviteEventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One event of an invite's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteEvent {
    /// What happened.
    pub kind: InviteEventKind,
    /// When.
    pub at: Timestamp,
    /// A stable reason code, for `failed` (and the mail service's reason for `email_failed`).
    pub reason: Option<String>,
}

impl InviteEvent {
    /// The history's order: oldest first, and within a second the flow's order.
    pub fn sort(events: &mut [InviteEvent]) {
        events.sort_by_key(|e| (e.at, e.kind));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in InviteEventKind::ALL {
            assert_eq!(InviteEventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(InviteEventKind::parse("nothing"), None);
    }

    #[test]
    fn events_of_one_second_read_in_flow_order() {
        // GIVEN an authorization and a grant start in the same second, after an earlier open
        let ev = |kind, at| InviteEvent {
            kind,
            at: Timestamp(at),
            reason: None,
        };
        let mut events = vec![
            ev(InviteEventKind::Authorized, 9),
            ev(InviteEventKind::GrantStarted, 9),
            ev(InviteEventKind::Opened, 5),
        ];
        // WHEN they are sorted
        InviteEvent::sort(&mut events);
        // THEN the older comes first, then the flow's order
        let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                InviteEventKind::Opened,
                InviteEventKind::GrantStarted,
                InviteEventKind::Authorized
            ]
        );
    }
}
