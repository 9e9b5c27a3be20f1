//! Grant attempts: one trip of a merchant's browser to the cart and back.
//!
//! # One redemption per attempt
//!
//! An attempt's code (or delivered keys) goes to the cart at most once: before any outbound
//! call, the request that will make it claims the attempt with one conditional write, `open` →
//! [`AttemptStatus::Exchanging`] until a claim deadline ([`claim_deadline`]). An attempt never
//! becomes `open` again, so no second claim can succeed. Only the holder may then complete or
//! fail it. A holder that died never does: once the deadline has passed the attempt reads as
//! failed ([`GrantAttempt::effective_status`]), and the merchant starts a fresh attempt.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::cart_app::OwnApp;
use super::ids::{CartId, InviteId, Timestamp};
use super::secrets::{constant_time_eq, BrowserBinding, TokenHash};

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
    /// Claimed by the one request that calls the cart, until the attempt's `claim_until`.
    Exchanging,
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
            AttemptStatus::Exchanging => "exchanging",
            AttemptStatus::Completed => "completed",
            AttemptStatus::Declined => "declined",
            AttemptStatus::Failed => "failed",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            AttemptStatus::Open,
            AttemptStatus::Exchanging,
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
    /// While [`AttemptStatus::Exchanging`]: when the claim lapses. Absent on attempts stored
    /// before claims existed, which were never claimed.
    #[serde(default)]
    pub claim_until: Option<Timestamp>,
    /// The warehouse's own app it goes through; absent: cartlink's app at the cart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<OwnApp>,
}

/// How long a claim outlives the timeouts of its outbound calls: time to seal the tokens (one
/// key-service call) and commit (one transaction, with its retries).
pub const CLAIM_MARGIN_SECS: i64 = 20;

/// When a claim made at `now` for `outbound_calls` calls to the cart lapses: each call may take
/// the whole outbound `http_timeout`, then [`CLAIM_MARGIN_SECS`] to seal and commit. With the
/// default 10-second timeout a callback's claim lasts 30 s and a Magento activation's (two
/// calls) 40 s, at least as long as the function that holds it can run (28 s on AWS); a holder
/// still alive past it cannot commit, so the attempt never turns from failed to completed.
pub fn claim_deadline(now: Timestamp, http_timeout: Duration, outbound_calls: u32) -> Timestamp {
    let per_call = i64::try_from(http_timeout.as_secs()).unwrap_or(i64::MAX);
    now.plus_secs(
        per_call
            .saturating_add(i64::from(http_timeout.subsec_nanos() > 0))
            .saturating_mul(i64::from(outbound_calls))
            .saturating_add(CLAIM_MARGIN_SECS),
    )
}

impl GrantAttempt {
    /// The browser binding in `cookie`, if it is the one this attempt was started with: the
    /// only browser that may finish (or read) the attempt. Compared by hash, in constant time.
    pub fn binding_from(&self, cookie: Option<&str>) -> Option<BrowserBinding> {
        cookie.and_then(BrowserBinding::parse).filter(|b| {
            constant_time_eq(
                b.hash().as_str().as_bytes(),
                self.binding_hash.as_str().as_bytes(),
            )
        })
    }

    /// Whether a callback may still use it at `now`: open and within its 15 minutes.
    pub fn usable(&self, now: Timestamp) -> bool {
        self.status == AttemptStatus::Open && now < self.expires_at
    }

    /// Where it stands at `now`, as every reader must see it: an exchanging attempt whose claim
    /// lapsed reads as [`AttemptStatus::Failed`] (its holder died before an outcome).
    pub fn effective_status(&self, now: Timestamp) -> AttemptStatus {
        match (self.status, self.claim_until) {
            (AttemptStatus::Exchanging, Some(until)) if now < until => AttemptStatus::Exchanging,
            (AttemptStatus::Exchanging, _) => AttemptStatus::Failed,
            (status, _) => status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(status: AttemptStatus) -> GrantAttempt {
        GrantAttempt {
            app: None,
            state_hash: TokenHash::of("s"),
            invite_id: InviteId::generate(),
            cart: CartId::new("sandbox"),
            binding_hash: TokenHash::of("b"),
            redirect_uri: "http://127.0.0.1/oauth/callback/sandbox".into(),
            store: None,
            status,
            created_at: Timestamp(1000),
            expires_at: Timestamp(1000 + ATTEMPT_TTL_SECS),
            claim_until: None,
        }
    }

    #[test]
    fn only_the_browser_that_started_an_attempt_holds_its_binding() {
        // GIVEN an attempt started by a browser holding `binding`
        let binding = BrowserBinding::generate();
        let mut started = attempt(AttemptStatus::Open);
        started.binding_hash = binding.hash();
        // THEN that browser's cookie is its binding
        let found = started.binding_from(Some(binding.expose()));
        assert_eq!(found.map(|b| b.hash()), Some(binding.hash()));
        // AND another browser's, a malformed one and none are not
        let other = BrowserBinding::generate();
        assert!(started.binding_from(Some(other.expose())).is_none());
        assert!(started.binding_from(Some("not-a-binding")).is_none());
        assert!(started.binding_from(None).is_none());
    }

    #[test]
    fn an_attempt_is_usable_once_and_only_within_fifteen_minutes() {
        let open = attempt(AttemptStatus::Open);
        assert!(open.usable(Timestamp(1000)));
        assert!(open.usable(Timestamp(1000 + ATTEMPT_TTL_SECS - 1)));
        assert!(!open.usable(Timestamp(1000 + ATTEMPT_TTL_SECS)));
        for used in [
            AttemptStatus::Exchanging,
            AttemptStatus::Completed,
            AttemptStatus::Declined,
            AttemptStatus::Failed,
        ] {
            assert!(!attempt(used).usable(Timestamp(1000)));
            assert_eq!(AttemptStatus::parse(used.as_str()), Some(used));
        }
    }

    #[test]
    fn an_exchanging_attempt_reads_as_failed_once_its_claim_lapses() {
        // GIVEN an attempt claimed until 1030
        let mut claimed = attempt(AttemptStatus::Exchanging);
        claimed.claim_until = Some(Timestamp(1030));
        // THEN it is exchanging before that, failed from then on, and never usable again
        assert_eq!(
            claimed.effective_status(Timestamp(1029)),
            AttemptStatus::Exchanging
        );
        assert_eq!(
            claimed.effective_status(Timestamp(1030)),
            AttemptStatus::Failed
        );
        assert!(!claimed.usable(Timestamp(1000)));
        // AND a claim without a deadline is no live claim
        let lost = attempt(AttemptStatus::Exchanging);
        assert_eq!(lost.effective_status(Timestamp(0)), AttemptStatus::Failed);
        // AND other states read as stored
        for status in [
            AttemptStatus::Open,
            AttemptStatus::Completed,
            AttemptStatus::Declined,
            AttemptStatus::Failed,
        ] {
            assert_eq!(attempt(status).effective_status(Timestamp(5000)), status);
        }
    }

    #[test]
    fn a_claim_lasts_every_outbound_call_plus_the_margin_to_seal_and_commit() {
        let ten = Duration::from_secs(10);
        assert_eq!(claim_deadline(Timestamp(1000), ten, 1), Timestamp(1030));
        assert_eq!(claim_deadline(Timestamp(1000), ten, 2), Timestamp(1040));
        // a fraction of a second counts as a whole one
        assert_eq!(
            claim_deadline(Timestamp(1000), Duration::from_millis(1500), 1),
            Timestamp(1022)
        );
    }

    #[test]
    fn an_attempt_stored_before_claims_existed_reads_without_one() {
        let mut old = serde_json::to_value(attempt(AttemptStatus::Open)).unwrap();
        old.as_object_mut().unwrap().remove("claim_until");
        let read: GrantAttempt = serde_json::from_value(old).unwrap();
        assert_eq!(read.claim_until, None);
    }
}
