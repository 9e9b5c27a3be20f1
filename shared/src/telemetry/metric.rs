//! The measures operators watch: the merchant funnel (each step of an invite's history, once),
//! popups the browser blocked, refreshes by outcome, and how long the confirmation emails took
//! after a grant. Each is one `tracing` event on [`TARGET`]; on Lambda the EMF layer writes it
//! as a CloudWatch metric ([`super::emf`]), elsewhere nothing writes it.

/// The target of measure events (never written as log lines).
pub const TARGET: &str = "cartlink::metric";
/// The field naming the metric.
pub const NAME: &str = "metric";
/// The field holding its unit (CloudWatch's unit names).
pub const UNIT: &str = "unit";
/// The field holding its value.
pub const VALUE: &str = "value";

/// Every metric name, as the template's dashboard and alarms name them.
pub const NAMES: [&str; 4] = [
    FUNNEL_STEPS,
    POPUPS_BLOCKED,
    REFRESHES,
    CONFIRMATION_LATENCY,
];

/// Steps of invites' histories (dimension `Step`: `created`, `opened`, `grant_started`,
/// `authorized`, `declined`, `failed`, `confirmed`, …; `Reason` for a failed grant).
pub const FUNNEL_STEPS: &str = "FunnelSteps";
/// Grant pages whose popup the browser blocked (the page's beacon).
pub const POPUPS_BLOCKED: &str = "PopupsBlocked";
/// Token refreshes at the cart (dimension `Outcome`: `refreshed`, `refused`, `failed`).
pub const REFRESHES: &str = "Refreshes";
/// Milliseconds from a grant to both confirmation emails sent.
pub const CONFIRMATION_LATENCY: &str = "ConfirmationLatency";

/// One step of an invite's history, counted once per step (`reason` for a failed grant).
pub fn funnel_step(step: &str, reason: Option<&str>) {
    match reason {
        Some(reason) => tracing::info!(
            target: TARGET,
            metric = FUNNEL_STEPS,
            unit = "Count",
            value = 1_u64,
            Step = step,
            Reason = reason
        ),
        None => tracing::info!(
            target: TARGET,
            metric = FUNNEL_STEPS,
            unit = "Count",
            value = 1_u64,
            Step = step
        ),
    }
}

/// A grant page's popup blocked by the browser.
pub fn popup_blocked() {
    tracing::info!(
        target: TARGET,
        metric = POPUPS_BLOCKED,
        unit = "Count",
        value = 1_u64
    );
}

/// A refresh at the cart ended so: `refreshed`, `refused` (the grant is gone) or `failed`.
pub fn refresh(outcome: &str) {
    tracing::info!(
        target: TARGET,
        metric = REFRESHES,
        unit = "Count",
        value = 1_u64,
        Outcome = outcome
    );
}

/// Both confirmation emails of a grant sent, `millis` after it.
pub fn confirmation_latency(millis: u64) {
    tracing::info!(
        target: TARGET,
        metric = CONFIRMATION_LATENCY,
        unit = "Milliseconds",
        value = millis
    );
}
