//! Logging: one line per event, level from `RUST_LOG` (default `info`), no colours. Log lines
//! carry opaque ids and reason codes only, never secrets or request URLs.

/// Installs the log subscriber once per process; later calls do nothing.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

/// The `alarm` field of the one log line written when a dependency fails without the request
/// being at fault. Such a failure answers "unavailable, retry later" and changes no state; an
/// alarm (a metric filter on the field) is how an operator learns of it.
pub mod alarm {
    /// The key service (KMS) did not seal or open: unreachable, throttled, access denied, the
    /// key disabled or not usable.
    pub const KEY_SERVICE_UNAVAILABLE: &str = "key_service_unavailable";
    /// The store (DynamoDB, SQLite) could not be reached or failed.
    pub const STORE_UNAVAILABLE: &str = "store_unavailable";
    /// The mail service could not be reached, throttled us, or refused us access.
    pub const MAIL_UNAVAILABLE: &str = "mail_unavailable";
}
