//! `care`: proactive care of connections (see `shared::service::care`). On AWS an EventBridge
//! schedule invokes it every hour; locally the server's timer calls [`run_once`] with the same
//! service.

use serde_json::{json, Value};
use shared::service::care::CareRun;
use shared::service::Services;

/// Why an invocation did not run.
#[derive(Debug, PartialEq, Eq)]
pub enum CareRefusal {
    /// The event is not EventBridge's scheduled event (`source` `aws.events`, `detail-type`
    /// `Scheduled Event`): the function runs on its schedule only.
    NotScheduled,
    /// The schedule could not be read (the store failed); the next invocation tries again.
    ScheduleUnread,
}

impl std::fmt::Display for CareRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CareRefusal::NotScheduled => "not an EventBridge scheduled event",
            CareRefusal::ScheduleUnread => "the care schedule could not be read",
        })
    }
}

impl std::error::Error for CareRefusal {}

/// One run of care: the same for the schedule and the local timer.
pub async fn run_once(svc: &Services) -> Result<CareRun, CareRefusal> {
    svc.run_care().await.map_err(|e| {
        tracing::error!(error = %e, "care schedule not read; the next run tries again");
        CareRefusal::ScheduleUnread
    })
}

/// The Lambda handler: EventBridge's scheduled event in, what the run did out.
pub async fn handle_scheduled(svc: &Services, event: Value) -> Result<Value, CareRefusal> {
    let scheduled = event["source"] == "aws.events" && event["detail-type"] == "Scheduled Event";
    if !scheduled {
        tracing::warn!("care invoked by another event than its schedule; nothing done");
        return Err(CareRefusal::NotScheduled);
    }
    let run = run_once(svc).await?;
    Ok(json!({
        "due": run.due,
        "refreshed": run.refreshed,
        "noticed": run.noticed,
        "busy": run.busy,
        "failed": run.failed,
    }))
}

#[cfg(test)]
mod tests;
