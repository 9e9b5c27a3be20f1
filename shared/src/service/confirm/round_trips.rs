//! The two confirmation emails go out one after the other, so a crash during one never catches
//! the other in flight: the round trips of a confirmation, counted by the fault plan's depths
//! (no clock involved).

use std::sync::Arc;

use crate::testing::faults::{FaultPlan, FaultyMailer, FaultyStore};
use crate::testing::TestKit;

#[tokio::test]
async fn the_two_confirmations_are_sent_one_after_the_other() {
    // GIVEN an authorized invite, its store and mailer calls counted with their depths
    let mut kit = TestKit::new();
    let id = kit.authorized().await;
    let plan = FaultPlan::new();
    let services = &mut kit.services;
    services.store = Arc::new(FaultyStore::new(services.store.clone(), plan.clone()));
    services.mailer = Arc::new(FaultyMailer::new(services.mailer.clone(), plan.clone()));
    plan.arm(None);
    // WHEN it is confirmed
    let done = kit.services.confirm(&id).await.expect("confirmed");
    // THEN both emails went out, and no call ran beside another: every call of the
    // confirmation waited for the one before
    assert_eq!(done.sent.len(), 2);
    let total: usize = plan.calls().iter().map(|(_, _, n)| n).sum();
    assert_eq!(plan.sequential_calls(), total, "{:?}", plan.calls());
}
