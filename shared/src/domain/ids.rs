//! Opaque identifiers and timestamps.
//!
//! Identifiers are random and carry no personal data, so they may appear in storage keys, logs
//! and KMS encryption contexts (all of which match `^[a-z0-9-]{1,64}$`).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::secrets::random_bytes;

const LOWER_BASE32: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

fn opaque(prefix: &str) -> String {
    // 26 symbols of 5 bits, each from its own random byte (32 divides 256: no bias): 130 bits.
    opaque_from(prefix, &random_bytes::<26>())
}

/// An opaque id of `prefix` whose 26 symbols are drawn from `bytes` (random for a new id, a
/// digest for an id that must come out the same from the same inputs).
pub fn opaque_from(prefix: &str, bytes: &[u8; 26]) -> String {
    let mut out = String::with_capacity(prefix.len() + 27);
    out.push_str(prefix);
    out.push('-');
    out.extend(
        bytes
            .iter()
            .map(|b| char::from(LOWER_BASE32[usize::from(b & 31)])),
    );
    out
}

/// True for strings safe as an opaque id: `^[a-z0-9-]{1,64}$`.
pub fn is_opaque_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Mints a new random id.
            pub fn generate() -> Self {
                $name(opaque($prefix))
            }

            /// Accepts an id read from storage or a request if it is opaque-id shaped.
            pub fn parse(value: &str) -> Option<Self> {
                is_opaque_id(value).then(|| $name(value.to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

opaque_id!(
    /// Identifies an invite (`inv-…`).
    InviteId, "inv"
);
opaque_id!(
    /// Identifies a stored connection to a merchant's cart account (`con-…`).
    ConnectionId, "con"
);
opaque_id!(
    /// Identifies a warehouse (chosen in configuration, opaque-id shaped).
    WarehouseId, "wh"
);
opaque_id!(
    /// Identifies a warehouse's webhook endpoint (`whe-…`).
    EndpointId, "whe"
);
opaque_id!(
    /// Identifies one webhook message to one endpoint (`dlv-…`), the same on every try.
    DeliveryId, "dlv"
);

/// A point in time, in whole seconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// This moment plus `seconds`.
    pub fn plus_secs(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds))
    }

    /// RFC 3339, for APIs (`2026-11-29T10:00:00Z`).
    pub fn rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| self.0.to_string())
    }

    /// A date and time as people read it in an email or on a page (`29 November 2026, 10:00 UTC`).
    pub fn human(self) -> String {
        let format = time::macros::format_description!(
            "[day padding:none] [month repr:long] [year], [hour]:[minute] UTC"
        );
        OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_else(|| self.rfc3339())
    }
}

/// A cart's id (`sandbox`, `shopify`, or the id of a generic cart from configuration):
/// `^[a-z0-9-]{1,32}$`, used in callback paths and storage.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CartId(String);

impl CartId {
    /// Wraps an id known to be well formed (catalog constants).
    pub fn new(id: &str) -> Self {
        debug_assert!(CartId::parse(id).is_some(), "bad cart id {id}");
        CartId(id.to_owned())
    }

    /// Accepts an id from outside if it is well formed.
    pub fn parse(id: &str) -> Option<Self> {
        let ok = !id.is_empty()
            && id.len() <= 32
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| CartId(id.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CartId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_opaque_prefixed_and_distinct() {
        // GIVEN two fresh ids
        let a = InviteId::generate();
        let b = InviteId::generate();
        // THEN each is opaque-id shaped, starts with its prefix and carries 26 random symbols
        assert!(is_opaque_id(a.as_str()));
        assert!(a.as_str().starts_with("inv-"));
        assert_eq!(a.as_str().len(), 30);
        assert_ne!(a, b);
        assert!(ConnectionId::generate().as_str().starts_with("con-"));
    }

    #[test]
    fn ids_from_outside_must_be_opaque_shaped() {
        assert!(InviteId::parse("inv-abc").is_some());
        for bad in ["", "INV-ABC", "inv_abc", "a@b.c", &"a".repeat(65)] {
            assert!(InviteId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn timestamps_format_for_machines_and_people() {
        let t = Timestamp(1_796_083_200); // 2026-12-01T00:00:00Z
        assert_eq!(t.rfc3339(), "2026-12-01T00:00:00Z");
        assert_eq!(t.human(), "1 December 2026, 00:00 UTC");
        assert_eq!(t.plus_secs(60).0, 1_796_083_260);
    }
    #[test]
    fn cart_ids_are_path_safe() {
        assert!(CartId::parse("amazon-na").is_some());
        for bad in ["", "Shopify", "a/b", "a.b", &"a".repeat(33)] {
            assert!(CartId::parse(bad).is_none(), "{bad}");
        }
    }
}
