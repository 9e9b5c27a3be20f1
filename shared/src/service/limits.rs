//! The warehouse API's rate limits: invites per warehouse per hour, and emails per merchant
//! address per day across warehouses. Each is one atomic count in the store
//! ([`crate::store::Counters::count_hit_within`]) in a fixed window; a refused request is told
//! when the window ends.

use super::Services;
use crate::domain::{Timestamp, TokenHash, WarehouseId};
use crate::store::StoreError;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * 3600;

/// A limit is reached until the current window ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimited {
    /// Seconds until the window ends (at least 1).
    pub retry_after_secs: u64,
}

/// Why a request was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// The limit is reached.
    #[error("rate limited for {} s", .0.retry_after_secs)]
    Limited(RateLimited),
    /// The store failed; nothing was counted.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The counter of emails to one address: a hash of the address, lower-cased whole (mail
/// providers treat the local part case-insensitively), never the address itself.
fn address_counter(address: &str) -> String {
    let normalized = address.trim().to_lowercase();
    format!("emails-to:{}", TokenHash::of(&normalized).as_str())
}

impl Services {
    /// Counts one email to the merchant address `address`, across warehouses, against
    /// `emails_per_address_per_day` (per UTC day). Every API path that emails a merchant calls
    /// this before it sends.
    pub async fn admit_merchant_email(&self, address: &str) -> Result<(), LimitError> {
        let limit = self.config.limits.emails_per_address_per_day;
        self.admit(&address_counter(address), DAY, limit).await
    }

    /// Counts one invite of `warehouse` against `invites_per_warehouse_per_hour` (per clock
    /// hour).
    pub async fn admit_warehouse_invite(&self, warehouse: &WarehouseId) -> Result<(), LimitError> {
        let limit = self.config.limits.invites_per_warehouse_per_hour;
        self.admit(&format!("invites-of:{warehouse}"), HOUR, limit)
            .await
    }

    async fn admit(&self, key: &str, window_secs: i64, limit: u32) -> Result<(), LimitError> {
        let now = self.clock.now();
        if self.count_hit(key, window_secs, limit, now).await? {
            return Ok(());
        }
        Err(LimitError::Limited(RateLimited {
            retry_after_secs: until_window_end(now, window_secs),
        }))
    }
}

impl Services {
    /// Counts one hit of `key` in its fixed window, as
    /// [`crate::store::Counters::count_hit_within`]: `false` when the limit was already reached.
    /// Every rate limit of the service counts through here, so each refusal writes the one line
    /// the template's `RateLimitHits` metric filter counts (`rate limit reached`), naming the
    /// limit by its key's prefix (never the rest of the key: it may hash an address).
    pub(crate) async fn count_hit(
        &self,
        key: &str,
        window_secs: i64,
        limit: u32,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let counted = self
            .store
            .count_hit_within(key, window_secs, limit, now)
            .await?;
        if !counted {
            tracing::info!(limit = limit_name(key), "rate limit reached");
        }
        Ok(counted)
    }
}

/// The name of the limit a counter key belongs to: its prefix before the first `:`.
fn limit_name(key: &str) -> &str {
    key.split_once(':').map_or(key, |(name, _)| name)
}

/// Seconds from `now` to the end of its fixed window of `window_secs` (windows start at
/// multiples of it since the epoch, as the counters count).
fn until_window_end(now: Timestamp, window_secs: i64) -> u64 {
    (window_secs - now.0.rem_euclid(window_secs)).unsigned_abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_runs_to_the_end_of_the_window() {
        // GIVEN moments at, inside and at the last second of an hour's window
        // THEN the wait is to the next multiple of the window
        assert_eq!(until_window_end(Timestamp(7200), HOUR), 3600);
        assert_eq!(until_window_end(Timestamp(7200 + 600), HOUR), 3000);
        assert_eq!(until_window_end(Timestamp(7200 + 3599), HOUR), 1);
    }

    #[test]
    fn an_address_is_counted_by_a_hash_of_its_normalized_form() {
        // GIVEN one address written two ways
        let a = address_counter("Merchant@Shop.test");
        // THEN both count under one key, which does not hold the address
        assert_eq!(a, address_counter(" merchant@shop.TEST "));
        assert!(
            !a.to_lowercase().contains("merchant") && !a.contains("shop"),
            "{a}"
        );
        assert_ne!(a, address_counter("other@shop.test"));
    }
}
