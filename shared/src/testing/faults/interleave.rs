//! Another writer's step run right before one named call: what a second worker does in the
//! window between a flow's read and its write, made to happen every time.

use std::future::Future;
use std::pin::Pin;

use super::{FaultPlan, Port};

type Step = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A step waiting for the first call named `call` on `port`.
pub(super) struct Before {
    port: Port,
    call: &'static str,
    step: Step,
}

impl FaultPlan {
    /// Runs `step` once, right before the next call named `call` on `port` is made (the call
    /// then goes on as the plan says).
    pub fn before_next(
        &self,
        port: Port,
        call: &'static str,
        step: impl Future<Output = ()> + Send + 'static,
    ) {
        self.lock().before = Some(Before {
            port,
            call,
            step: Box::pin(step),
        });
    }

    /// Whether the step given to [`FaultPlan::before_next`] has run (or none was given).
    pub fn before_is_spent(&self) -> bool {
        self.lock().before.is_none()
    }

    /// The waiting step, if this call is the one it waits for.
    pub(super) async fn run_before(&self, port: Port, call: &'static str) {
        let step = {
            let mut s = self.lock();
            match &s.before {
                Some(b) if b.port == port && b.call == call => s.before.take().map(|b| b.step),
                _ => None,
            }
        };
        if let Some(step) = step {
            step.await;
        }
    }
}
