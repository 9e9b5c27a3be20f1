//! The metrics a flow wrote, read as CloudWatch reads them: the subscriber a deployed function
//! installs (Lambda's JSON format, metrics on), writing to memory for the test's thread.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

use crate::telemetry::{subscriber, LogSettings};

/// Captures the lines written on this thread until dropped.
pub struct MetricCapture {
    lines: Lines,
    _installed: tracing::subscriber::DefaultGuard,
}

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lines").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Lines;
    fn make_writer(&'a self) -> Lines {
        self.clone()
    }
}

impl MetricCapture {
    /// Starts capturing, as a function deployed with metrics in namespace `test` writes.
    pub fn start() -> MetricCapture {
        let settings = LogSettings {
            json: true,
            filter: "info".into(),
            metrics_namespace: Some("test".into()),
        };
        let lines = Lines::default();
        let installed = tracing::subscriber::set_default(subscriber(&settings, lines.clone()));
        MetricCapture {
            lines,
            _installed: installed,
        }
    }

    /// The values of metric `name` written so far, each with its document (the EMF line).
    pub fn measures(&self, name: &str) -> Vec<Value> {
        String::from_utf8_lossy(&self.lines.0.lock().expect("lines"))
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("_aws").is_some() && v.get(name).is_some())
            .collect()
    }
}
