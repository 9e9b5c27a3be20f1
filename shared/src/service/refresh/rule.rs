//! The refresh rule: when tokens are due for a refresh, and why a caller refreshes.

use crate::domain::{Timestamp, TokenSet};

/// The longest refresh margin: an access token is refreshed at most this many seconds before it
/// expires (see [`refresh_due`]).
pub const REFRESH_MARGIN_SECS: i64 = 120;
/// The margin is also at most this part of the token's lifetime (1/4: a 60-second token is
/// refreshed in its last 15 seconds).
pub const REFRESH_MARGIN_LIFETIME_PARTS: i64 = 4;
/// How long before their expiry `tokens` are refreshed: [`REFRESH_MARGIN_SECS`], or a quarter
/// of their lifetime (`expires_at - issued_at`) when that is shorter. Tokens sealed before issue
/// times were recorded have the full margin.
pub fn refresh_margin(tokens: &TokenSet) -> i64 {
    match (tokens.issued_at, tokens.expires_at) {
        (Some(issued), Some(expires)) => {
            REFRESH_MARGIN_SECS.min((expires.0 - issued.0).max(0) / REFRESH_MARGIN_LIFETIME_PARTS)
        }
        _ => REFRESH_MARGIN_SECS,
    }
}

/// The refresh rule: whether expiring `tokens` are refreshed at `now` (for a connection whose
/// cart refreshes and that holds a refresh token; others are never refreshed).
///
/// - Tokens without an expiry are never due.
/// - Otherwise they are due once they are within their margin of expiring: at most two minutes
///   ([`REFRESH_MARGIN_SECS`]) and at most a quarter of their lifetime ([`refresh_margin`]; the
///   lifetime is `expires_at - issued_at`, both recorded when tokens are stored, at the code
///   exchange and at each refresh). An hour-long token is refreshed in its last two minutes, a
///   five-minute one in its last 75 seconds, a 60-second one in its last 15: a token just
///   received is never due, so each rotation is refreshed once, whatever the lifetime.
/// - A caller that finds tokens `written_since_read` (another caller refreshed while it waited
///   for the lock or the lease) uses them even inside their margin; only tokens already
///   expired are refreshed again.
pub fn refresh_due(tokens: &TokenSet, now: Timestamp, written_since_read: bool) -> bool {
    let Some(expires) = tokens.expires_at else {
        return false;
    };
    let margin = if written_since_read {
        0
    } else {
        refresh_margin(tokens)
    };
    now.0 >= expires.0 - margin
}

/// Why tokens are refreshed: they expire soon ([`refresh_due`]; a warehouse's token fetch), or
/// also because the cart's inactivity limit nears (`Connection::refresh_care_at`; proactive
/// care only, so a failed care refresh never fails a fetch of tokens that still work).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(in crate::service) enum RefreshWhy {
    Expiry,
    Care,
}
