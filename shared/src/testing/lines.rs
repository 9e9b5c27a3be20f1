//! The lines a subscriber writes, kept in memory: what a deployed function would write to its
//! stdout, for a test to read back.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

use crate::telemetry::{subscriber, LogSettings};

/// The written bytes, shared with the subscriber that writes them.
#[derive(Clone, Default)]
pub struct CapturedLines(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lines").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLines {
    type Writer = CapturedLines;
    fn make_writer(&'a self) -> CapturedLines {
        self.clone()
    }
}

impl CapturedLines {
    /// Installs the subscriber of `settings` on this thread, writing here, until the guard
    /// is dropped.
    pub fn install(settings: &LogSettings) -> (CapturedLines, tracing::subscriber::DefaultGuard) {
        let lines = CapturedLines::default();
        let guard = tracing::subscriber::set_default(subscriber(settings, lines.clone()));
        (lines, guard)
    }

    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lines")).into_owned()
    }

    /// Every line written so far, each read as JSON (a line that is not JSON panics).
    pub fn json(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}
