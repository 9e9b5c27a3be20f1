//! Proactive care: when a connection must next be looked after, so that its tokens never lapse
//! while nobody asks and its merchant hears of a hard re-authorization deadline in time. This
//! is the one home of the rule; the stores index its answer ([`Connection::care_at`]) and the
//! care service acts on it.

use super::connection::{Connection, ConnectionStatus};
use super::ids::Timestamp;

/// A refresh for care happens this long before the cart's inactivity limit (at most half the
/// limit): a day before Square's seven, so a run that fails still has a day of hourly retries.
pub const REFRESH_LEAD_SECS: i64 = 24 * 3600;
/// The merchant is invited to authorize again this long before a hard deadline (Amazon itself
/// starts reminding sellers a month ahead).
pub const REAUTH_NOTICE_SECS: i64 = 30 * 24 * 3600;

/// A cart's documented limits on a grant, as care needs them (the catalog carries them with
/// their sources).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CareLimits {
    /// Tokens must be refreshed at least this often (Square: every 7 days), if the cart says.
    pub refresh_within_secs: Option<i64>,
    /// The grant dies this long after it was given, whatever is refreshed (Amazon: 365 days).
    pub reauthorize_after_secs: Option<i64>,
    /// The cart signals an uninstall only to a subscription made per site with the merchant's
    /// token (Squarespace): care makes sure of it after each grant.
    pub subscribe: bool,
}

impl Connection {
    /// When the merchant last granted this connection: its latest reconnect, else its creation.
    pub fn granted(&self) -> Timestamp {
        self.granted_at.unwrap_or(self.created_at)
    }

    /// When the grant dies under `limits` (its hard re-authorization deadline), if it does.
    pub fn reauthorize_by(&self, limits: &CareLimits) -> Option<Timestamp> {
        limits
            .reauthorize_after_secs
            .map(|after| self.granted().plus_secs(after))
    }

    /// When its tokens are refreshed for care: [`REFRESH_LEAD_SECS`] (at most half the limit)
    /// before the inactivity limit runs out, counted from the last refresh or grant.
    pub fn refresh_care_at(&self, limits: &CareLimits) -> Option<Timestamp> {
        let within = limits.refresh_within_secs?;
        let last = match self.refreshed_at {
            Some(r) if r.0 > self.granted().0 => r,
            _ => self.granted(),
        };
        Some(last.plus_secs(within - REFRESH_LEAD_SECS.min(within / 2)))
    }

    /// When the merchant is invited to authorize again: [`REAUTH_NOTICE_SECS`] before the
    /// deadline, unless that deadline's notice went out already ([`Connection::care_noticed`]).
    pub fn notice_care_at(&self, limits: &CareLimits) -> Option<Timestamp> {
        let deadline = self.reauthorize_by(limits)?;
        (self.care_noticed != Some(deadline)).then(|| deadline.plus_secs(-REAUTH_NOTICE_SECS))
    }

    /// When care makes sure of the site's uninstall subscription: at once (its grant), for a
    /// cart that needs one, until care did so after the latest grant
    /// ([`Connection::subscribed_at`]). A connection through a warehouse's own app has none
    /// (the subscription is cartlink's app's), nor has one that names no account (granted
    /// before the account was read: no notification could find it).
    pub fn subscribe_care_at(&self, limits: &CareLimits) -> Option<Timestamp> {
        let granted = self.granted();
        let owed = limits.subscribe
            && self.app.is_none()
            && self.account.is_some()
            && self.subscribed_at.is_none_or(|at| at < granted);
        owed.then_some(granted)
    }

    /// The next care time: the earliest of [`Connection::refresh_care_at`],
    /// [`Connection::notice_care_at`] and [`Connection::subscribe_care_at`]; none for a
    /// connection that is not active (it waits for the merchant, and care could do nothing for
    /// it).
    pub fn next_care_at(&self, limits: &CareLimits) -> Option<Timestamp> {
        if self.status != ConnectionStatus::Active {
            return None;
        }
        [
            self.refresh_care_at(limits),
            self.notice_care_at(limits),
            self.subscribe_care_at(limits),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// This connection with its next care time set by [`Connection::next_care_at`].
    pub fn scheduled(self, limits: &CareLimits) -> Connection {
        let care_at = self.next_care_at(limits);
        Connection { care_at, ..self }
    }
}

#[cfg(test)]
mod tests;
