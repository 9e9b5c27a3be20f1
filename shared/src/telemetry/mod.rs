//! Logging and metrics. One line per event, no colours. Log lines carry opaque ids and reason
//! codes only, never secrets, request URLs or email addresses.
//!
//! On Lambda with its JSON log format (`AWS_LAMBDA_LOG_FORMAT=JSON`, set by the template's
//! `LoggingConfig`) every line is a JSON object: `timestamp`, `level`, `message`, the event's
//! fields at the top level, and the invocation's `requestId` (from the span the Lambda runtime
//! opens for each invocation). With `CARTLINK_METRICS_NAMESPACE` set, the measures of
//! [`metric`] are written as CloudWatch embedded-metric-format lines ([`emf`]); elsewhere
//! (the local server, tests) they are not written.

pub mod emf;
pub mod metric;

use tracing::Subscriber;
use tracing_subscriber::filter::{filter_fn, LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// How this process logs, read from its environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSettings {
    /// Lines as JSON objects (Lambda's JSON log format) rather than text.
    pub json: bool,
    /// The level filter: `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `info`.
    pub filter: String,
    /// The CloudWatch namespace of the metrics; `None`: metrics are not written.
    pub metrics_namespace: Option<String>,
}

impl LogSettings {
    /// The settings `env` describes.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> LogSettings {
        let set = |k: &str| env(k).filter(|v| !v.is_empty());
        LogSettings {
            json: set("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json")),
            filter: set("AWS_LAMBDA_LOG_LEVEL")
                .map(|l| l.to_lowercase())
                .or_else(|| set("RUST_LOG"))
                .unwrap_or_else(|| "info".to_owned()),
            metrics_namespace: set("CARTLINK_METRICS_NAMESPACE"),
        }
    }
}

impl LogSettings {
    /// The level filter as `tracing`'s [`Targets`]: a level (`info`), or `target=level` pairs
    /// and a default level, comma-separated (`shared=debug,warn`). A filter that does not read
    /// as one is `info`. (Not `EnvFilter`, whose span and field directives need a regex engine
    /// in every binary, for syntax nobody configures.)
    pub fn targets(&self) -> Targets {
        self.filter
            .parse::<Targets>()
            .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO))
    }
}

/// The subscriber `settings` describe, writing to `writer`: what [`init`] installs, and what a
/// test installs to read the lines a deployed function writes.
pub fn subscriber<W>(settings: &LogSettings, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Clone + Send + Sync + 'static,
{
    let filter = settings.targets();
    let not_metric = filter_fn(|m| m.target() != metric::TARGET);
    let lines = if settings.json {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(false)
            .with_writer(writer.clone())
            .map_event_format(emf::WithRequestId::new)
            .with_filter(filter)
            .with_filter(not_metric)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_target(false)
            .with_writer(writer.clone())
            .with_filter(filter)
            .with_filter(not_metric)
            .boxed()
    };
    let metrics = settings.metrics_namespace.clone().map(|namespace| {
        emf::EmfLayer::new(namespace, writer)
            .with_filter(filter_fn(|m| m.target() == metric::TARGET))
    });
    tracing_subscriber::registry().with(lines).with(metrics)
}

/// Installs the subscriber of this process's environment once; later calls do nothing.
pub fn init() {
    let settings = LogSettings::from_env(&|k| std::env::var(k).ok());
    let _ = subscriber(&settings, std::io::stdout).try_init();
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

#[cfg(test)]
mod tests;
