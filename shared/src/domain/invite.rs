//! Invites: a warehouse's request for access to one merchant's cart account.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::brand::Brand;
use super::cart_app::OwnApp;
use super::ids::{CartId, ConnectionId, InviteId, Timestamp, WarehouseId};
use super::locale::Locale;
use super::secrets::TokenHash;

/// What a warehouse may ask to do in a merchant's store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Function {
    /// Download orders to fulfil.
    Orders,
    /// Keep stock levels in sync.
    Inventory,
    /// Post back shipments and tracking numbers.
    Shipments,
}

impl Function {
    /// Every function, in display order.
    pub const ALL: [Function; 3] = [Function::Orders, Function::Inventory, Function::Shipments];

    /// The wire name (`orders`).
    pub fn as_str(self) -> &'static str {
        match self {
            Function::Orders => "orders",
            Function::Inventory => "inventory",
            Function::Shipments => "shipments",
        }
    }
}

impl FromStr for Function {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Function::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or(())
    }
}

/// Where an invite is in its life.
///
/// ```text
///  pending ──invite email sent──▶ emailed ──┐
///     │                                     ├──grant started──▶ granting ──callback committed──▶ authorized
///     └──invite email failed──▶ email_failed┘       ▲    │                                          │
///              │      ▲                             └────┘ (another attempt, e.g. after a decline)   │
///              └──────┘ (retried send)                                          both confirmations sent
///                                                                                                   ▼
///  every state but confirmed ──warehouse revokes──▶ revoked                                     confirmed
///
///  pending, emailed, email_failed, granting ──the invite email hard-bounced──▶ undeliverable
/// ```
///
/// "Expired" is not stored: every read compares `expires_at` with the clock
/// ([`Invite::is_expired`]), because storage TTL only collects garbage, late.
/// Every change is written conditionally on the state read ([`InviteStatus::may_become`] says
/// which changes exist); a change the table does not list is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteStatus {
    /// Stored; the invite email has not been sent yet.
    Pending,
    /// The invite email went out.
    Emailed,
    /// The invite email could not be sent; the invite is kept and the send may be retried.
    EmailFailed,
    /// The merchant started at least one grant attempt.
    Granting,
    /// The cart granted access and the connection is stored.
    Authorized,
    /// Merchant and warehouse were both told.
    Confirmed,
    /// The warehouse withdrew the invite.
    Revoked,
    /// The invite email bounced permanently (SES hard bounce): the merchant never got the link.
    /// Only the warehouse's revoke leaves it; a new invite with a corrected address is the way on.
    Undeliverable,
}

impl InviteStatus {
    /// Every status.
    pub const ALL: [InviteStatus; 8] = [
        InviteStatus::Pending,
        InviteStatus::Emailed,
        InviteStatus::EmailFailed,
        InviteStatus::Granting,
        InviteStatus::Authorized,
        InviteStatus::Confirmed,
        InviteStatus::Revoked,
        InviteStatus::Undeliverable,
    ];

    /// The stored name (`email_failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            InviteStatus::Pending => "pending",
            InviteStatus::Emailed => "emailed",
            InviteStatus::EmailFailed => "email_failed",
            InviteStatus::Granting => "granting",
            InviteStatus::Authorized => "authorized",
            InviteStatus::Confirmed => "confirmed",
            InviteStatus::Revoked => "revoked",
            InviteStatus::Undeliverable => "undeliverable",
        }
    }

    /// Whether the state machine has the change `self → next`.
    pub fn may_become(self, next: InviteStatus) -> bool {
        use InviteStatus::*;
        match (self, next) {
            (Pending, Emailed | EmailFailed) => true,
            (EmailFailed, Emailed | EmailFailed) => true,
            (Pending | Emailed | EmailFailed | Granting, Granting) => true,
            (Granting, Authorized) => true,
            (Authorized, Confirmed) => true,
            (Pending | Emailed | EmailFailed | Granting, Undeliverable) => true,
            (Confirmed | Revoked, Revoked) => false,
            (_, Revoked) => true,
            _ => false,
        }
    }

    /// The states from which `next` may be reached: the condition of the write.
    pub fn sources_of(next: InviteStatus) -> Vec<InviteStatus> {
        InviteStatus::ALL
            .into_iter()
            .filter(|s| s.may_become(next))
            .collect()
    }

    /// Whether a merchant may still start a grant from this state.
    pub fn accepts_grant(self) -> bool {
        self.may_become(InviteStatus::Granting)
    }

    /// Whether the warehouse may have the link and access code replaced and emailed again:
    /// while the merchant may still grant from this state (not connected, withdrawn or
    /// undeliverable).
    pub fn takes_resend(self) -> bool {
        self.accepts_grant()
    }

    /// Whether the merchant has connected their store.
    pub fn is_connected(self) -> bool {
        matches!(self, InviteStatus::Authorized | InviteStatus::Confirmed)
    }
}

impl fmt::Display for InviteStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InviteStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        InviteStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(())
    }
}

/// The warehouse as an invite remembers it (copied when the invite is made, so the emails and
/// pages say what the merchant was told even if the warehouse is renamed later).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseRef {
    /// The warehouse's id.
    pub id: WarehouseId,
    /// The name merchants see.
    pub display_name: String,
    /// Where the warehouse's confirmation goes.
    pub notify_email: String,
    /// Its look when the invite was made (absent in invites made before brands existed).
    #[serde(default, skip_serializing_if = "Brand::is_plain")]
    pub brand: Brand,
}

/// An invite, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// Opaque id.
    pub id: InviteId,
    /// Who asks.
    pub warehouse: WarehouseRef,
    /// Which cart.
    pub cart: CartId,
    /// The merchant's email address (domain lower-cased).
    pub merchant_email: String,
    /// The merchant's name, if the warehouse gave one.
    pub merchant_name: Option<String>,
    /// The store identifier the cart needs (shop domain, store URL…), if any.
    pub store: Option<String>,
    /// What the warehouse asks to do.
    pub functions: Vec<Function>,
    /// Where the invite is in its life.
    pub status: InviteStatus,
    /// Why the last step failed (for example the mail error), in plain words without secrets.
    pub status_reason: Option<String>,
    /// SHA-256 of the access code printed in the email.
    pub access_code_hash: TokenHash,
    /// The last symbols of the access code, for support.
    pub access_code_hint: String,
    /// How many times the warehouse had the link and access code replaced (resent): a setup
    /// link issued before the latest replacement opens nothing. Absent in records made before
    /// resends existed, which is 0.
    #[serde(default)]
    pub resends: u32,
    /// For a re-authorization invite: the connection it renews. Granting it gives that
    /// connection new tokens instead of making a new one. Absent on ordinary invites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnects: Option<ConnectionId>,
    /// The language of the merchant's emails (the `locale` of `POST /v1/invites`, else the
    /// warehouse's, else English). Absent in records made before there was a choice: English.
    #[serde(default)]
    pub locale: Locale,
    /// When it was made.
    pub created_at: Timestamp,
    /// When its status last changed.
    pub updated_at: Timestamp,
    /// When the link and code stop working.
    pub expires_at: Timestamp,
    /// Counts the stored invite's writes (1 once stored): of two views of one invite, the one
    /// with the higher version is the newer. Set by the store; 0 on an invite not yet stored.
    #[serde(default)]
    pub version: u64,
    /// The warehouse's own app it goes through; absent: cartlink's app at the cart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<OwnApp>,
}

impl Invite {
    /// Whether the invite has expired at `now`. Checked on every read.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    /// Where the invite stands at `now` for a merchant who wants to grant access: the one rule
    /// the setup pages, the grant page's poll and the callback each read. The most useful fact
    /// wins: connected over withdrawn, both over expired, expired over a state that takes no
    /// grant.
    pub fn standing(&self, now: Timestamp) -> Standing {
        if self.status.is_connected() {
            Standing::Connected
        } else if self.status == InviteStatus::Revoked {
            Standing::Withdrawn
        } else if self.is_expired(now) {
            Standing::Expired
        } else if !self.status.accepts_grant() {
            Standing::Closed
        } else {
            Standing::Grantable
        }
    }

    /// Whether a merchant may start a grant now.
    pub fn accepts_grant(&self, now: Timestamp) -> bool {
        self.standing(now) == Standing::Grantable
    }
}

/// Where an invite stands for a merchant who wants to grant access ([`Invite::standing`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// The merchant connected their store through it.
    Connected,
    /// The warehouse withdrew it.
    Withdrawn,
    /// It expired before the store was connected.
    Expired,
    /// Its state takes no grant (the invite email bounced).
    Closed,
    /// A merchant may start a grant.
    Grantable,
}

/// Default life of an invite: 14 days.
pub const DEFAULT_EXPIRY_HOURS: u32 = 14 * 24;
/// Shortest life a warehouse may ask for.
pub const MIN_EXPIRY_HOURS: u32 = 1;
/// Longest life a warehouse may ask for: 30 days.
pub const MAX_EXPIRY_HOURS: u32 = 30 * 24;

#[cfg(test)]
mod tests {
    use super::*;
    use InviteStatus::*;

    #[test]
    fn the_happy_path_is_a_chain_of_allowed_changes() {
        // GIVEN the life of an invite that goes well
        let path = [Pending, Emailed, Granting, Granting, Authorized, Confirmed];
        // THEN each step is allowed
        for pair in path.windows(2) {
            assert!(pair[0].may_become(pair[1]), "{} -> {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn illegal_changes_are_refused() {
        // GIVEN changes that would skip or undo a step
        let illegal = [
            (Pending, Authorized),
            (Emailed, Authorized),
            (Authorized, Granting),
            (Confirmed, Granting),
            (Confirmed, Revoked),
            (Revoked, Granting),
            (Revoked, Revoked),
            (Authorized, Emailed),
            (Granting, Emailed),
            (Undeliverable, Granting),
            (Undeliverable, Emailed),
            (Undeliverable, Undeliverable),
            (Authorized, Undeliverable),
            (Confirmed, Undeliverable),
            (Revoked, Undeliverable),
        ];
        // THEN the state machine has none of them
        for (from, to) in illegal {
            assert!(!from.may_become(to), "{from} -> {to}");
        }
    }

    #[test]
    fn write_conditions_list_exactly_the_sources() {
        assert_eq!(InviteStatus::sources_of(Authorized), vec![Granting]);
        assert_eq!(
            InviteStatus::sources_of(Granting),
            vec![Pending, Emailed, EmailFailed, Granting]
        );
        assert!(!InviteStatus::sources_of(Revoked).contains(&Confirmed));
        assert_eq!(
            InviteStatus::sources_of(Undeliverable),
            vec![Pending, Emailed, EmailFailed, Granting]
        );
    }

    #[test]
    fn an_undeliverable_invite_accepts_no_grant_but_may_be_revoked() {
        // GIVEN an invite whose email hard-bounced
        let s = Undeliverable;
        // THEN no merchant may start a grant from it, it is not connected, and the warehouse may
        // still withdraw it
        assert!(!s.accepts_grant());
        assert!(!s.is_connected());
        assert!(s.may_become(Revoked));
    }

    fn invite_in(status: InviteStatus) -> Invite {
        Invite {
            app: None,
            version: 0,
            id: InviteId::generate(),
            warehouse: WarehouseRef {
                id: WarehouseId::parse("wh-1").unwrap(),
                display_name: "Warehouse".into(),
                notify_email: "ops@wh.test".into(),
                brand: Default::default(),
            },
            cart: CartId::new("acme"),
            merchant_email: "m@shop.test".into(),
            merchant_name: None,
            store: None,
            functions: vec![Function::Orders],
            status,
            status_reason: None,
            access_code_hash: TokenHash::of("x"),
            access_code_hint: "…0000".into(),
            resends: 0,
            reconnects: None,
            locale: Default::default(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            expires_at: Timestamp(1000),
        }
    }

    #[test]
    fn an_invites_standing_tells_the_most_useful_fact_first() {
        // GIVEN invites in every status, read before and after they expire at 1000
        let (before, after) = (Timestamp(999), Timestamp(1000));
        let standing = |s: InviteStatus, now| invite_in(s).standing(now);
        // THEN a connected invite stands connected, expired or not
        for s in [Authorized, Confirmed] {
            assert_eq!(standing(s, before), Standing::Connected, "{s}");
            assert_eq!(standing(s, after), Standing::Connected, "{s}");
        }
        // AND a withdrawn one withdrawn, expired or not
        assert_eq!(standing(Revoked, before), Standing::Withdrawn);
        assert_eq!(standing(Revoked, after), Standing::Withdrawn);
        // AND every other one expired once its time is up
        for s in [Pending, Emailed, EmailFailed, Granting, Undeliverable] {
            assert_eq!(standing(s, after), Standing::Expired, "{s}");
        }
        // AND before that, grantable where its state takes a grant, else closed
        for s in [Pending, Emailed, EmailFailed, Granting] {
            assert_eq!(standing(s, before), Standing::Grantable, "{s}");
            assert!(invite_in(s).accepts_grant(before), "{s}");
        }
        assert_eq!(standing(Undeliverable, before), Standing::Closed);
        assert!(!invite_in(Undeliverable).accepts_grant(before));
    }

    #[test]
    fn status_names_round_trip() {
        for s in InviteStatus::ALL {
            assert_eq!(s.as_str().parse::<InviteStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert!("expired".parse::<InviteStatus>().is_err());
    }

    #[test]
    fn functions_parse_from_their_wire_names() {
        assert_eq!("orders".parse::<Function>(), Ok(Function::Orders));
        assert!("Orders".parse::<Function>().is_err());
    }
}
