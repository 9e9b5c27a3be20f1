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
