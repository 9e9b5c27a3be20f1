//! Grant attempts: one trip of a merchant's browser to the cart and back.

use serde::{Deserialize, Serialize};

use super::ids::{CartId, InviteId, Timestamp};
use super::secrets::TokenHash;

/// How long a grant attempt may take, from the click to the callback: 15 minutes.
pub const ATTEMPT_TTL_SECS: i64 = 15 * 60;
/// How long an admin integration's grant attempt (Magento) lasts: an hour, since the merchant
/// creates the integration by hand in their admin (the cart's flavour says which life an
/// attempt gets).
pub const ADMIN_INTEGRATION_ATTEMPT_TTL_SECS: i64 = 60 * 60;

/// How a grant attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    /// Waiting for the callback.
    Open,
    /// The callback stored a connection.
    Completed,
    /// The merchant declined at the cart.
    Declined,
    /// The cart answered with an error, or the code exchange failed.
    Failed,
}

impl AttemptStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Open => "open",
            AttemptStatus::Completed => "completed",
            AttemptStatus::Declined => "declined",
            AttemptStatus::Failed => "failed",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            AttemptStatus::Open,
            AttemptStatus::Completed,
            AttemptStatus::Declined,
            AttemptStatus::Failed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A grant attempt, as stored. Keyed by the hash of its `state`; the browser that started it
/// holds the binding cookie, whose hash is kept here. No secret is stored: the PKCE verifier is
/// derived from the cookie and the state when the callback arrives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantAttempt {
    /// SHA-256 of the OAuth `state` sent to the cart.
    pub state_hash: TokenHash,
    /// The invite it is for.
    pub invite_id: InviteId,
    /// The cart it was sent to: a callback on another cart's path is refused (mix-up defence).
    pub cart: CartId,
    /// SHA-256 of the browser-binding cookie.
    pub binding_hash: TokenHash,
    /// The redirect URI sent in the authorization request, sent again byte for byte.
    pub redirect_uri: String,
    /// The store the attempt was started for, when the cart needs one.
    pub store: Option<String>,
    /// Where it is.
    pub status: AttemptStatus,
    /// When it started.
    pub created_at: Timestamp,
    /// When it stops being accepted.
    pub expires_at: Timestamp,
}

impl GrantAttempt {
    /// Whether a callback may still use it at `now`: open and within its 15 minutes.
    pub fn usable(&self, now: Timestamp) -> bool {
        self.status == AttemptStatus::Open && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(status: AttemptStatus) -> GrantAttempt {
        GrantAttempt {
            state_hash: TokenHash::of("s"),
            invite_id: InviteId::generate(),
            cart: CartId::new("sandbox"),
            binding_hash: TokenHash::of("b"),
            redirect_uri: "http://127.0.0.1/oauth/callback/sandbox".into(),
            store: None,
            status,
            created_at: Timestamp(1000),
            expires_at: Timestamp(1000 + ATTEMPT_TTL_SECS),
        }
    }

    #[test]
    fn an_attempt_is_usable_once_and_only_within_fifteen_minutes() {
        let open = attempt(AttemptStatus::Open);
        assert!(open.usable(Timestamp(1000)));
        assert!(open.usable(Timestamp(1000 + ATTEMPT_TTL_SECS - 1)));
        assert!(!open.usable(Timestamp(1000 + ATTEMPT_TTL_SECS)));
        for used in [
            AttemptStatus::Completed,
            AttemptStatus::Declined,
            AttemptStatus::Failed,
        ] {
            assert!(!attempt(used).usable(Timestamp(1000)));
            assert_eq!(AttemptStatus::parse(used.as_str()), Some(used));
        }
    }
}
