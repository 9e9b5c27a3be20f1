//! The callback's critical path: how many round trips to the store, the vault and the cart it
//! makes one after another, counted by the fault plan's depths (no clock involved), and what a
//! data key asked for beside a failed exchange leaves behind.

use std::sync::Arc;

use crate::domain::{AttemptStatus, GrantState};
use crate::store::{AttemptStore, ConnectionStore, InviteEvents};
use crate::testing::faults::{FaultPlan, FaultyStore, FaultyTokenEndpoint, FaultyVault, Port};
use crate::testing::{StartedGrant, TestKit, ACME_ISS};

/// A kit with a started grant, whose store, vault and token endpoint now go through `plan`
/// (armed with nothing: it only counts).
async fn measured_grant(plan: &Arc<FaultPlan>) -> (TestKit, StartedGrant) {
    let mut kit = TestKit::new();
    let (_, token) = kit.invite().await;
    let g = kit.start(&token).await;
    let services = &mut kit.services;
    services.store = Arc::new(FaultyStore::new(services.store.clone(), plan.clone()));
    services.vault = Arc::new(FaultyVault::new(services.vault.clone(), plan.clone()));
    services.oauth = Arc::new(FaultyTokenEndpoint::new(
        services.oauth.clone(),
        plan.clone(),
    ));
    plan.arm(None);
    (kit, g)
}

async fn load(kit: &TestKit, g: &StartedGrant) -> Result<super::Authorized, super::CallbackError> {
    kit.callback(
        "acme",
        &[("code", "C1"), ("state", &g.state), ACME_ISS],
        Some(&g.binding),
    )
    .await
}

#[tokio::test]
async fn a_completed_callback_makes_at_most_four_round_trips_one_after_another() {
    // GIVEN a started grant, every port call counted with its depth
    let plan = FaultPlan::new();
    let (kit, g) = measured_grant(&plan).await;
    // WHEN the merchant comes back with a code
    let done = load(&kit, &g).await;
    // THEN the grant completed with at most four round trips one after another: the attempt;
    // the invite beside the claim; the code exchange beside the data key; the commit
    assert!(done.is_ok(), "{done:?}");
    assert!(
        plan.sequential_calls() <= 4,
        "{} sequential calls: {:?}",
        plan.sequential_calls(),
        plan.calls()
    );
}

#[tokio::test]
async fn a_data_key_taken_beside_a_refused_exchange_leaves_no_connection_and_a_failed_attempt() {
    // GIVEN a started grant whose cart refuses the code
    let plan = FaultPlan::new();
    let (kit, g) = measured_grant(&plan).await;
    *kit.oauth.refuse.lock().unwrap() = Some("invalid_grant".into());
    // WHEN the merchant comes back with the code
    let r = load(&kit, &g).await;
    // THEN the data key was asked for, and dropped: no connection, no `authorized` in the
    // history, and the attempt closed as failed (so a retry from the link starts afresh)
    assert!(r.is_err(), "{r:?}");
    let asked = plan
        .calls()
        .iter()
        .any(|(port, call, _)| *port == Port::Vault && *call == "data_key");
    assert!(asked, "{:?}", plan.calls());
    assert_eq!(kit.store.connection_count().await.unwrap(), 0);
    let attempt = kit
        .store
        .attempt(&GrantState::parse(&g.state).unwrap().hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attempt.status, AttemptStatus::Failed);
    let invite = attempt.invite_id;
    assert!(kit
        .store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .is_none());
    let events = kit.store.events_of(&invite).await.unwrap();
    assert!(
        events
            .iter()
            .all(|e| e.kind != crate::domain::InviteEventKind::Authorized),
        "{events:?}"
    );
}
