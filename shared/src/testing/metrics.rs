//! The metrics a flow wrote, read as CloudWatch reads them: the subscriber a deployed function
//! installs (Lambda's JSON format, metrics on), writing to memory for the test's thread.

use serde_json::Value;

use super::lines::CapturedLines;
use crate::telemetry::LogSettings;

/// Captures the lines written on this thread until dropped.
pub struct MetricCapture {
    lines: CapturedLines,
    _installed: tracing::subscriber::DefaultGuard,
}

impl MetricCapture {
    /// Starts capturing, as a function deployed with metrics in namespace `test` writes.
    pub fn start() -> MetricCapture {
        let settings = LogSettings {
            json: true,
            filter: "info".into(),
            metrics_namespace: Some("test".into()),
        };
        let (lines, installed) = CapturedLines::install(&settings);
        MetricCapture {
            lines,
            _installed: installed,
        }
    }

    /// The values of metric `name` written so far, each with its document (the EMF line).
    pub fn measures(&self, name: &str) -> Vec<Value> {
        self.lines
            .json()
            .into_iter()
            .filter(|v| v.get("_aws").is_some() && v.get(name).is_some())
            .collect()
    }
}
