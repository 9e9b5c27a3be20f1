//! CloudWatch's embedded metric format: each measure of [`super::metric`] as one JSON line
//! that CloudWatch Logs turns into a metric (no API call, nothing to wait for), and the
//! invocation's request id on every JSON log line.
//!
//! A line: `{"_aws":{"Timestamp":<ms>,"CloudWatchMetrics":[{"Namespace":<ns>,
//! "Dimensions":[[<names>]],"Metrics":[{"Name":<metric>,"Unit":<unit>}]}]},<metric>:<value>,
//! <dimension>:<value>,…}`.

use std::fmt;
use std::io::Write;

use serde_json::{json, Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::metric;

/// Writes each measure event as one embedded-metric-format line.
pub struct EmfLayer<W> {
    namespace: String,
    writer: W,
}

impl<W> EmfLayer<W> {
    /// A layer writing to `writer` under `namespace`.
    pub fn new(namespace: String, writer: W) -> Self {
        EmfLayer { namespace, writer }
    }
}

/// The dimension every measure carries (`Service = cartlink`), so that each has at least one
/// and a dashboard names each the same way whichever function wrote it.
pub const SERVICE: (&str, &str) = ("Service", "cartlink");

/// The fields of one measure event.
#[derive(Default)]
struct Measure {
    name: Option<String>,
    unit: Option<String>,
    value: Option<f64>,
    dimensions: Vec<(String, String)>,
}

impl Visit for Measure {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            metric::NAME => self.name = Some(value.to_owned()),
            metric::UNIT => self.unit = Some(value.to_owned()),
            other => self.dimensions.push((other.to_owned(), value.to_owned())),
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == metric::VALUE {
            self.value = Some(value as f64);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() != "message" {
            self.record_str(field, &format!("{value:?}"));
        }
    }
}

impl Measure {
    /// The line for this measure, or `None` for an event that is not a whole measure.
    fn line(self, namespace: &str, at_ms: u128) -> Option<String> {
        let (name, unit, value) = (self.name?, self.unit?, self.value?);
        let mut dimensions = self.dimensions;
        dimensions.insert(0, (SERVICE.0.to_owned(), SERVICE.1.to_owned()));
        // One dimension set per prefix (`[Service, Step]`, `[Service, Step, Reason]`), so a
        // graph of every step need not name each reason.
        let names: Vec<&str> = dimensions.iter().map(|(k, _)| k.as_str()).collect();
        let sets: Vec<&[&str]> = (1..=names.len())
            .filter(|n| *n == names.len() || *n >= 2)
            .map(|n| &names[..n])
            .collect();
        let mut root = Map::new();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": at_ms as u64,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": sets,
                    "Metrics": [{"Name": name, "Unit": unit}],
                }],
            }),
        );
        for (k, v) in &dimensions {
            root.insert(k.clone(), Value::String(v.clone()));
        }
        root.insert(name, json!(value));
        Some(Value::Object(root).to_string())
    }
}

impl<S, W> Layer<S> for EmfLayer<W>
where
    S: Subscriber,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut measure = Measure::default();
        event.record(&mut measure);
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        if let Some(line) = measure.line(&self.namespace, at_ms) {
            let _ = writeln!(self.writer.make_writer(), "{line}");
        }
    }
}

/// The JSON line format with the Lambda invocation's `requestId` (a field of the span the
/// runtime opens per invocation) at the top level of every line, where CloudWatch's Lambda
/// JSON format puts it.
pub struct WithRequestId<F>(F);

impl<F> WithRequestId<F> {
    /// Wraps the JSON event format `inner`.
    pub fn new(inner: F) -> Self {
        WithRequestId(inner)
    }
}

/// The span field holding the invocation's id (`lambda_runtime`'s request span).
const REQUEST_ID: &str = "requestId";

impl<S, N, F> FormatEvent<S, N> for WithRequestId<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        let request_id = ctx.event_scope().and_then(|scope| {
            scope.from_root().find_map(|span| {
                let ext = span.extensions();
                let fields = ext.get::<FormattedFields<N>>()?;
                let parsed: Value = serde_json::from_str(fields.fields.as_str()).ok()?;
                parsed.get(REQUEST_ID)?.as_str().map(str::to_owned)
            })
        });
        match (request_id, serde_json::from_str::<Value>(line.trim_end())) {
            (Some(id), Ok(Value::Object(mut object))) => {
                object.insert(REQUEST_ID.into(), Value::String(id));
                writeln!(writer, "{}", Value::Object(object))
            }
            _ => writer.write_str(&line),
        }
    }
}
