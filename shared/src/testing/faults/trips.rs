//! The sequential round trips of a flow: every call that passes a [`FaultPlan`] gets a depth,
//! one more than the deepest call that had ended when it started, so calls made side by side
//! share a depth and the deepest one counts the calls made one after another. For benchmarks,
//! a port's calls can also be given a fixed latency, as a network would add.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use super::{FaultPlan, Port};

/// The depths seen since the plan was last armed.
#[derive(Default)]
pub(super) struct Depths {
    /// The deepest call that has ended.
    ended: usize,
    /// The deepest call that has started.
    deepest: usize,
    /// The latency added to each call of a port.
    latencies: BTreeMap<Port, Duration>,
}

impl FaultPlan {
    /// The longest chain of calls (on every wrapped port) of which each started after the one
    /// before it had ended, since the plan was last armed: the round trips the flow made one
    /// after another.
    pub fn sequential_calls(&self) -> usize {
        self.lock().depths.deepest
    }

    /// Adds `latency` before every call of `port` that passes, until the plan is armed again:
    /// a network's round trip, for benchmarks.
    pub fn set_latency(&self, port: Port, latency: Duration) {
        self.lock().depths.latencies.insert(port, latency);
    }

    /// Runs `op`, one call of `port`, at its depth. It yields once (or waits the port's
    /// latency) before the call, so a call made beside it (joined) starts before either ends,
    /// as it would over a network.
    pub(super) async fn at_depth<T>(&self, port: Port, op: impl Future<Output = T>) -> T {
        let (depth, latency) = {
            let mut s = self.lock();
            let depth = s.depths.ended + 1;
            s.depths.deepest = s.depths.deepest.max(depth);
            (depth, s.depths.latencies.get(&port).copied())
        };
        match latency {
            Some(latency) => tokio::time::sleep(latency).await,
            None => tokio::task::yield_now().await,
        }
        let out = op.await;
        let mut s = self.lock();
        s.depths.ended = s.depths.ended.max(depth);
        out
    }
}
