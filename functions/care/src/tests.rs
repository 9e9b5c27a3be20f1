use serde_json::json;
use shared::testing::faults::{Fault, FaultPlan, FaultPoint, FaultyStore, Port};
use shared::testing::TestKit;

use super::*;

fn scheduled() -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-30T14:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/care"],
        "detail": {}
    })
}

#[tokio::test]
async fn the_scheduled_event_runs_care_and_answers_what_it_did() {
    // GIVEN a store with a connection that is not due
    let kit = TestKit::new();
    kit.authorized().await;
    // WHEN the schedule invokes the function
    let answer = handle_scheduled(&kit.services, scheduled()).await.unwrap();
    // THEN it ran and read nothing due
    assert_eq!(
        answer,
        json!({"due": 0, "refreshed": 0, "noticed": 0, "busy": 0, "failed": 0})
    );
}

#[tokio::test]
async fn another_event_runs_nothing() {
    // GIVEN an event that is not the schedule's (an API call someone pointed here)
    let kit = TestKit::new();
    let event = json!({"source": "aws.s3", "detail-type": "Object Created"});
    // WHEN it invokes the function THEN it is refused and the schedule is not read
    let r = handle_scheduled(&kit.services, event).await;
    assert_eq!(r, Err(CareRefusal::NotScheduled));
}

#[tokio::test]
async fn a_store_that_cannot_be_read_fails_the_run_for_the_next_to_retry() {
    // GIVEN a store whose schedule read fails
    let mut kit = TestKit::new();
    let plan = FaultPlan::new();
    plan.arm(Some(FaultPoint {
        port: Port::Store,
        call: "due_for_care",
        occurrence: 1,
        fault: Fault::Error,
    }));
    kit.services.store = std::sync::Arc::new(FaultyStore::new(kit.store.clone(), plan));
    // WHEN the schedule invokes the function
    let r = handle_scheduled(&kit.services, scheduled()).await;
    // THEN the invocation fails (Lambda counts the error; the next hour runs again)
    assert_eq!(r, Err(CareRefusal::ScheduleUnread));
}
