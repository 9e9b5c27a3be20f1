use crate::domain::{Timestamp, WarehouseId};
use crate::service::webhooks::NewEndpoint;
use crate::store::ConnectionStore;
use crate::testing::TestKit;
use crate::webhooks::WebhookQueue;

#[tokio::test]
async fn an_uninstall_reaches_the_warehouses_webhook_as_connection_revoked() {
    // GIVEN an endpoint hearing every type, and a connected invite
    let mut kit = TestKit::new();
    kit.services.config.webhook_schedule = crate::domain::RetrySchedule(vec![0, 0]);
    kit.services
        .create_endpoint(
            &WarehouseId::parse("wh-test").unwrap(),
            NewEndpoint {
                url: "https://hooks.example.com/in".into(),
                events: vec![],
            },
        )
        .await
        .unwrap();
    let invite = kit.authorized().await;
    let conn = kit
        .store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap();
    // WHEN the cart's uninstall revokes it, and the webhook worker runs
    assert!(kit
        .services
        .revoke_one(&conn.id, Timestamp(i64::MAX), &super::Signalled::App(None))
        .await
        .unwrap());
    kit.services.fan_out_pending_steps(100).await.unwrap();
    let now = crate::clock::Clock::now(kit.clock.as_ref());
    for d in kit.store.due(now, 100).await.unwrap() {
        kit.services.deliver_webhook(&d).await.unwrap();
    }
    // THEN the endpoint got connection.revoked, whose data says revoked_at_cart
    let posts = kit.sender.posts.lock().unwrap().clone();
    let revoked: Vec<serde_json::Value> = posts
        .iter()
        .map(|(_, _, body)| serde_json::from_str::<serde_json::Value>(body).unwrap())
        .filter(|m| m["type"] == "connection.revoked")
        .collect();
    assert_eq!(revoked.len(), 1, "{posts:?}");
    assert_eq!(revoked[0]["data"]["status"], "revoked_at_cart");
    assert_eq!(revoked[0]["data"]["id"], conn.id.as_str());
}
