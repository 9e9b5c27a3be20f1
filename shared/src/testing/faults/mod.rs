//! Fault injection: wrappers around the store, vault, mailer and token-endpoint ports that let
//! one named call fail, stall or "crash", driven by one shared [`FaultPlan`].
//!
//! A plan is armed with one [`FaultPoint`]: a port, the name of one of its calls, which
//! occurrence of that call (1-based) and a [`Fault`]. Every wrapped call asks the plan first;
//! the armed occurrence gets its fault, every other call goes through untouched. The plan also
//! counts every call by name, so a clean run tells a test which points exist.
//!
//! A crash stands for the process dying: the call (for [`Fault::CrashAfter`]) is made, then the
//! wrapper marks the plan crashed and never returns. The test runs each step as a task and
//! aborts it once [`FaultPlan::crashed`] fires, so nothing after that line runs, as after a
//! `SIGKILL`.

mod interleave;
mod store;
mod token_endpoint;
mod trips;
mod webhooks;

pub use store::FaultyStore;
pub use token_endpoint::FaultyTokenEndpoint;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use zeroize::Zeroizing;

use crate::mailer::{MailError, Mailer, OutgoingEmail};
use crate::vault::{DataKey, SealContext, SealedBlob, Vault, VaultError};

/// The port a fault is injected into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Port {
    /// The store.
    Store,
    /// The vault.
    Vault,
    /// The mailer.
    Mailer,
    /// The cart's token endpoint.
    TokenEndpoint,
}

/// What happens to the armed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The call is not made; the port answers its "unavailable" error.
    Error,
    /// The call is not made; the port answers its "unavailable" error after a stall, as a
    /// client timeout does.
    Timeout,
    /// The process dies before the call is made.
    CrashBefore,
    /// The call is made (its effect stays), then the process dies before it sees the answer.
    CrashAfter,
}

impl Fault {
    /// Every fault, for sweeps.
    pub const ALL: [Fault; 4] = [
        Fault::Error,
        Fault::Timeout,
        Fault::CrashBefore,
        Fault::CrashAfter,
    ];

    /// Whether this fault ends the process.
    pub fn is_crash(self) -> bool {
        matches!(self, Fault::CrashBefore | Fault::CrashAfter)
    }
}

/// One place to inject a fault: the `occurrence`-th call (1-based) named `call` on `port`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultPoint {
    /// The port.
    pub port: Port,
    /// The call's name, as the wrappers report it (the port method's name).
    pub call: &'static str,
    /// Which call of that name, counting from 1.
    pub occurrence: usize,
    /// What happens to it.
    pub fault: Fault,
}

/// How long an injected timeout stalls before the error.
pub const INJECTED_TIMEOUT: Duration = Duration::from_millis(20);

#[derive(Default)]
struct PlanState {
    armed: Option<FaultPoint>,
    fired: bool,
    calls: BTreeMap<(Port, &'static str), usize>,
    crashed: bool,
    before: Option<interleave::Before>,
    depths: trips::Depths,
}

/// The shared plan every wrapper asks before a call.
#[derive(Default)]
pub struct FaultPlan {
    state: Mutex<PlanState>,
    crash: Notify,
}

/// What a wrapper is told to do with one call.
enum Verdict {
    Pass,
    Fail,
    Stall,
    CrashBefore,
    CrashAfter,
}

impl FaultPlan {
    /// A plan with nothing armed.
    pub fn new() -> Arc<FaultPlan> {
        Arc::new(FaultPlan::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PlanState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Arms `point` (or nothing, to only count): its call gets the fault once. Counting starts
    /// again from here, so occurrences are counted from the arming on.
    pub fn arm(&self, point: Option<FaultPoint>) {
        let mut s = self.lock();
        s.armed = point;
        s.fired = false;
        s.crashed = false;
        s.calls.clear();
        s.depths = trips::Depths::default();
    }

    /// Disarms the plan and forgets a crash (the process "restarted"); call counts stay.
    pub fn disarm(&self) {
        let mut s = self.lock();
        s.armed = None;
        s.crashed = false;
    }

    /// Whether the armed fault has been injected.
    pub fn fired(&self) -> bool {
        self.lock().fired
    }

    /// Every call seen so far, by port and name, with its count.
    pub fn calls(&self) -> Vec<(Port, &'static str, usize)> {
        self.lock()
            .calls
            .iter()
            .map(|(&(p, c), &n)| (p, c, n))
            .collect()
    }

    /// Resolves once a crash fault has fired (at once if one has already).
    pub async fn crashed(&self) {
        loop {
            let notified = self.crash.notified();
            if self.lock().crashed {
                return;
            }
            notified.await;
        }
    }

    fn verdict(&self, port: Port, call: &'static str) -> Verdict {
        let mut s = self.lock();
        if s.crashed {
            // A dead process makes no more calls.
            return Verdict::CrashBefore;
        }
        let n = {
            let n = s.calls.entry((port, call)).or_insert(0);
            *n += 1;
            *n
        };
        match s.armed {
            Some(p) if !s.fired && p.port == port && p.call == call && p.occurrence == n => {
                s.fired = true;
                match p.fault {
                    Fault::Error => Verdict::Fail,
                    Fault::Timeout => Verdict::Stall,
                    Fault::CrashBefore => Verdict::CrashBefore,
                    Fault::CrashAfter => Verdict::CrashAfter,
                }
            }
            _ => Verdict::Pass,
        }
    }

    fn die(&self) {
        self.lock().crashed = true;
        self.crash.notify_waiters();
    }

    /// Runs `op` (the real call) under the plan's verdict for (`port`, `call`); `unavailable`
    /// builds the port's own "unavailable" error.
    async fn guard<T, E>(
        &self,
        port: Port,
        call: &'static str,
        op: impl Future<Output = Result<T, E>>,
        unavailable: impl FnOnce(&'static str) -> E,
    ) -> Result<T, E> {
        self.run_before(port, call).await;
        match self.verdict(port, call) {
            Verdict::Pass => self.at_depth(port, op).await,
            Verdict::Fail => Err(unavailable("injected fault")),
            Verdict::Stall => {
                tokio::time::sleep(INJECTED_TIMEOUT).await;
                Err(unavailable("injected timeout"))
            }
            Verdict::CrashBefore => {
                self.die();
                std::future::pending().await
            }
            Verdict::CrashAfter => {
                let _ = op.await;
                self.die();
                std::future::pending().await
            }
        }
    }
}

/// Runs `step` as a task that dies with the plan: answers `None` when a crash fault fired
/// (the task was aborted right there), else the step's output.
pub async fn until_crash<T: Send + 'static>(
    plan: &FaultPlan,
    step: impl Future<Output = T> + Send + 'static,
) -> Option<T> {
    let mut task = tokio::spawn(step);
    tokio::select! {
        out = &mut task => Some(out.expect("a step never panics")),
        () = plan.crashed() => {
            task.abort();
            let _ = task.await;
            None
        }
    }
}

/// The vault port behind a [`FaultPlan`].
pub struct FaultyVault {
    inner: Arc<dyn Vault>,
    plan: Arc<FaultPlan>,
}

impl FaultyVault {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Vault>, plan: Arc<FaultPlan>) -> Self {
        FaultyVault { inner, plan }
    }
}

fn vault_unavailable(why: &'static str) -> VaultError {
    VaultError::Unavailable(why.into())
}

#[async_trait]
impl Vault for FaultyVault {
    async fn data_key(&self, context: &SealContext) -> Result<DataKey, VaultError> {
        self.plan
            .guard(
                Port::Vault,
                "data_key",
                self.inner.data_key(context),
                vault_unavailable,
            )
            .await
    }

    async fn open(
        &self,
        context: &SealContext,
        blob: &SealedBlob,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.plan
            .guard(
                Port::Vault,
                "open",
                self.inner.open(context, blob),
                vault_unavailable,
            )
            .await
    }
}

/// The mailer port behind a [`FaultPlan`].
pub struct FaultyMailer {
    inner: Arc<dyn Mailer>,
    plan: Arc<FaultPlan>,
}

impl FaultyMailer {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Mailer>, plan: Arc<FaultPlan>) -> Self {
        FaultyMailer { inner, plan }
    }
}

#[async_trait]
impl Mailer for FaultyMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        self.plan
            .guard(Port::Mailer, "send", self.inner.send(email), |why| {
                MailError::Unavailable(why.into())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::RecordingMailer;

    fn mail() -> OutgoingEmail {
        OutgoingEmail::new("a@b.test", "s", "t".into(), "h".into(), vec![]).expect("mail")
    }

    #[tokio::test]
    async fn only_the_armed_occurrence_fails() {
        // GIVEN a mailer whose second send is armed to fail
        let plan = FaultPlan::new();
        let inner = Arc::new(RecordingMailer::default());
        let mailer = FaultyMailer::new(inner.clone(), plan.clone());
        plan.arm(Some(FaultPoint {
            port: Port::Mailer,
            call: "send",
            occurrence: 2,
            fault: Fault::Error,
        }));
        // WHEN it sends three times
        let results: Vec<bool> = [
            mailer.send(&mail()).await.is_ok(),
            mailer.send(&mail()).await.is_ok(),
            mailer.send(&mail()).await.is_ok(),
        ]
        .into();
        // THEN only the second failed, and it never reached the real mailer
        assert_eq!(results, [true, false, true]);
        assert_eq!(inner.messages().len(), 2);
        assert!(plan.fired());
        assert_eq!(plan.calls(), vec![(Port::Mailer, "send", 3)]);
    }

    #[tokio::test]
    async fn a_crash_after_the_call_keeps_its_effect_and_stops_the_step() {
        // GIVEN a mailer armed to crash right after its first send
        let plan = FaultPlan::new();
        let inner = Arc::new(RecordingMailer::default());
        let mailer = Arc::new(FaultyMailer::new(inner.clone(), plan.clone()));
        plan.arm(Some(FaultPoint {
            port: Port::Mailer,
            call: "send",
            occurrence: 1,
            fault: Fault::CrashAfter,
        }));
        // WHEN a step sends, then would send again
        let m = mailer.clone();
        let out = until_crash(&plan, async move {
            let _ = m.send(&mail()).await;
            let _ = m.send(&mail()).await;
        })
        .await;
        // THEN the step died after the first send: that message went out, nothing after it
        assert!(out.is_none());
        assert_eq!(inner.messages().len(), 1);
    }

    #[tokio::test]
    async fn a_crash_before_the_call_has_no_effect() {
        // GIVEN a mailer armed to crash before its first send
        let plan = FaultPlan::new();
        let inner = Arc::new(RecordingMailer::default());
        let mailer = Arc::new(FaultyMailer::new(inner.clone(), plan.clone()));
        plan.arm(Some(FaultPoint {
            port: Port::Mailer,
            call: "send",
            occurrence: 1,
            fault: Fault::CrashBefore,
        }));
        // WHEN a step sends
        let m = mailer.clone();
        let out = until_crash(&plan, async move { m.send(&mail()).await.is_ok() }).await;
        // THEN it died and nothing was sent
        assert!(out.is_none());
        assert!(inner.messages().is_empty());
    }

    #[tokio::test]
    async fn a_timeout_stalls_then_answers_unavailable() {
        // GIVEN a vault-less plan armed with a timeout on the mailer
        let plan = FaultPlan::new();
        let mailer = FaultyMailer::new(Arc::new(RecordingMailer::default()), plan.clone());
        plan.arm(Some(FaultPoint {
            port: Port::Mailer,
            call: "send",
            occurrence: 1,
            fault: Fault::Timeout,
        }));
        // WHEN it sends
        let r = mailer.send(&mail()).await;
        // THEN the answer is the port's "unavailable" error
        assert!(matches!(r, Err(MailError::Unavailable(_))), "{r:?}");
    }
}
