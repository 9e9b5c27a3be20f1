//! The two confirmation emails go out side by side: the round trips of a confirmation, counted
//! by the fault plan's depths (no clock involved).

use std::sync::Arc;

use crate::testing::faults::{FaultPlan, FaultyMailer, FaultyStore};
use crate::testing::TestKit;

#[tokio::test]
async fn the_two_confirmations_are_sent_side_by_side() {
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
    // THEN both emails went out, in no more round trips one after another than one email
    // takes: the invite, its connection, the manage link, then for both emails at once the
    // send record's claim, the send and its record, then the invite's status
    assert_eq!(done.sent.len(), 2);
    let one_email = 3;
    let total: usize = plan.calls().iter().map(|(_, _, n)| n).sum();
    let around = total - 2 * one_email;
    assert!(
        plan.sequential_calls() <= around + one_email,
        "{} sequential calls: {:?}",
        plan.sequential_calls(),
        plan.calls()
    );
}
