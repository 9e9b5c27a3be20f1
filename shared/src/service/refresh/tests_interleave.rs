//! A disconnect (the warehouse's, the merchant's or a cart's uninstall: all end in the one
//! conditional `disconnect` write) landing at every step of a refresh in flight, one step at a
//! time: whatever the order, the connection stays gone, its record stays, and the refresh never
//! writes tokens back, and the refresh token the cart holds live at the end is the one the
//! disconnect revoked (checklist C10: token and disconnect writes are versioned, so a
//! disconnect judged from tokens a refresh replaced is made again from the new ones).

use std::sync::Arc;

use super::tests::{connected, near_expiry, other_process};
use super::*;
use crate::carts::{RevocationEndpoint, RevocationStyle};
use crate::store::{ConnectionStore, Disconnections};
use crate::testing::faults::{FaultPlan, FaultyStore, FaultyTokenEndpoint, FaultyVault, Port};
use crate::testing::{acme_cart, TestKit};

/// Every call a refresh makes, in its order: the disconnect lands right before each.
const STEPS: [(Port, &str); 7] = [
    (Port::Store, "connection"),
    (Port::Vault, "open"),
    (Port::Store, "take_lease"),
    (Port::Vault, "data_key"),
    (Port::TokenEndpoint, "refresh"),
    (Port::Store, "update_tokens"),
    (Port::Store, "release_lease"),
];

#[tokio::test]
async fn a_disconnect_landing_at_any_step_of_a_refresh_leaves_the_connection_gone() {
    for (port, call) in STEPS {
        // GIVEN a connection due for a refresh at a cart that revokes tokens, and a disconnect
        // waiting for one step of the refresh
        let mut kit = TestKit::new();
        let mut cart = acme_cart();
        cart.revocation = Some(RevocationEndpoint {
            url: "https://auth.acme.test/revoke".into(),
            source: "test".into(),
            style: RevocationStyle::Rfc7009,
        });
        kit.services.catalog.add(cart);
        let c = connected(&kit).await;
        near_expiry(&kit);
        let plan = FaultPlan::new();
        let (services, id, warehouse) = (other_process(&kit), c.id.clone(), c.warehouse_id.clone());
        plan.before_next(port, call, async move {
            services
                .disconnect_connection(&warehouse, id.as_str())
                .await
                .expect("the disconnect");
        });
        let mut svc = other_process(&kit);
        svc.store = Arc::new(FaultyStore::new(kit.services.store.clone(), plan.clone()));
        svc.vault = Arc::new(FaultyVault::new(kit.services.vault.clone(), plan.clone()));
        svc.oauth = Arc::new(FaultyTokenEndpoint::new(
            kit.services.oauth.clone(),
            plan.clone(),
        ));
        // WHEN a fresh token is asked for while it lands
        let answer = svc.fresh_connection(&c.id).await;
        // THEN the disconnect ran, the connection is gone and its record kept
        assert!(plan.before_is_spent(), "{call}: the step was reached");
        assert!(
            kit.store.connection(&c.id).await.unwrap().is_none(),
            "{call}: the connection came back"
        );
        assert!(
            kit.store.disconnection(&c.id).await.unwrap().is_some(),
            "{call}: the disconnection record"
        );
        // AND the refresh token the cart holds live now is the one the disconnect revoked
        let live = kit.oauth.live_refresh_token.lock().unwrap().clone();
        let revoked = kit.oauth.revoked.lock().unwrap().clone();
        // (None: the exchange's own, never refreshed)
        let live = live.unwrap_or_else(|| "CANARY_RT".into());
        assert!(
            revoked.iter().any(|(_, token, _)| *token == live),
            "{call}: {live} still live, revoked {revoked:?}"
        );
        // AND only a refresh whose tokens were written before the disconnect answers them;
        // any other answers that the connection is gone, never tokens it could not keep
        match &answer {
            Ok(open) => assert!(
                call == "release_lease" && open.connection.version == c.version + 1,
                "{call}: answered tokens at version {} of a dropped connection",
                open.connection.version
            ),
            Err(e) => assert!(matches!(e, ConnectionError::NotFound), "{call}: {e}"),
        }
    }
}
