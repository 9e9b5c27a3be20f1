//! The sequential round trips of a flow: every call that passes a [`FaultPlan`] gets a depth,
//! one more than the deepest call that had ended when it started, so calls made side by side
//! share a depth and the deepest one counts the calls made one after another.

use std::future::Future;

use super::FaultPlan;

/// The depths seen since the plan was last armed.
#[derive(Default)]
pub(super) struct Depths {
    /// The deepest call that has ended.
    ended: usize,
    /// The deepest call that has started.
    deepest: usize,
}

impl FaultPlan {
    /// The longest chain of calls (on every wrapped port) of which each started after the one
    /// before it had ended, since the plan was last armed: the round trips the flow made one
    /// after another.
    pub fn sequential_calls(&self) -> usize {
        self.lock().depths.deepest
    }

    /// Runs `op`, one call, at its depth. It yields once before the call, so a call made beside
    /// it (joined) starts before either ends, as it would over a network.
    pub(super) async fn at_depth<T>(&self, op: impl Future<Output = T>) -> T {
        let depth = {
            let mut s = self.lock();
            let depth = s.depths.ended + 1;
            s.depths.deepest = s.depths.deepest.max(depth);
            depth
        };
        tokio::task::yield_now().await;
        let out = op.await;
        let mut s = self.lock();
        s.depths.ended = s.depths.ended.max(depth);
        out
    }
}
