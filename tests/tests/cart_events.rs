//! Shopify's lifecycle webhooks (issue 13, item 1) at `POST /cart-events/shopify`, against a
//! connection made through Shopify's stand-in. Each delivery is signed here as Shopify documents
//! it: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body with the app's client
//! secret, with `X-Shopify-Topic`, `X-Shopify-Webhook-Id` and `X-Shopify-Triggered-At`.
//! A valid uninstall revokes the connection (token record deleted, `revoked_at_cart`), records
//! the history step behind `connection.revoked` and emails the warehouse; a bad signature, a
//! stale time and a replay are refused and change nothing.

#[path = "common/rig.rs"]
mod common;

use common::{shopify_rig, Rig, CLIENT_SECRET, SHOP, SHOPIFY_ALL};
use serde_json::{json, Value};
use shared::domain::{ConnectionId, DisconnectedBy, InviteId};
use shared::service::lifecycle::shopify::hmac_of;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A delivery as Shopify sends it.
struct Delivery {
    topic: &'static str,
    body: String,
    id: String,
    triggered_secs_ago: i64,
    secret: &'static str,
}

impl Delivery {
    fn uninstall(id: &str) -> Delivery {
        Delivery {
            topic: "app/uninstalled",
            body: json!({"id": 548380009, "name": "Acme", "domain": "shop.acme.test",
                         "myshopify_domain": SHOP})
            .to_string(),
            id: id.to_owned(),
            triggered_secs_ago: 5,
            secret: CLIENT_SECRET,
        }
    }

    fn privacy(topic: &'static str, id: &str) -> Delivery {
        Delivery {
            topic,
            body: json!({"shop_id": 548380009, "shop_domain": SHOP,
                         "customer": {"id": 207119551}, "orders_requested": [299938]})
            .to_string(),
            id: id.to_owned(),
            triggered_secs_ago: 5,
            secret: CLIENT_SECRET,
        }
    }
}

async fn deliver(rig: &Rig, d: &Delivery) -> (u16, Value) {
    let at = OffsetDateTime::now_utc() - time::Duration::seconds(d.triggered_secs_ago);
    let resp = reqwest::Client::new()
        .post(format!("{}/cart-events/shopify", rig.base))
        .header("content-type", "application/json")
        .header("x-shopify-topic", d.topic)
        .header(
            "x-shopify-hmac-sha256",
            hmac_of(d.secret, d.body.as_bytes()),
        )
        .header("x-shopify-shop-domain", SHOP)
        .header("x-shopify-webhook-id", &d.id)
        .header("x-shopify-triggered-at", at.format(&Rfc3339).unwrap())
        .header("x-shopify-api-version", "2026-07")
        .body(d.body.clone())
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn connected_rig() -> (Rig, InviteId, ConnectionId) {
    let rig = shopify_rig(SHOPIFY_ALL).await;
    let (invite, conn) = rig.connect_shop().await;
    (rig, invite, conn.id)
}

#[tokio::test]
async fn a_signed_uninstall_deletes_the_tokens_and_marks_the_connection_revoked_at_cart() {
    // GIVEN a connected shop
    let (rig, _, id) = connected_rig().await;
    // WHEN Shopify delivers app/uninstalled for it
    let (status, v) = deliver(&rig, &Delivery::uninstall("wh-1")).await;
    // THEN it is handled, the sealed tokens are gone (token API 404) and the record says the
    // cart revoked it
    assert_eq!((status, &v["revoked"]), (200, &json!(1)), "{v}");
    assert_eq!(rig.token_status(&id).await, 404);
    let svc = &rig.app.services;
    assert!(svc.store.connection(&id).await.unwrap().is_none());
    let record = svc
        .store
        .disconnection(&id)
        .await
        .unwrap()
        .expect("a record");
    assert_eq!(record.by, DisconnectedBy::Cart);
    let view = shared::views::ConnectionDisconnected::of(&record);
    assert_eq!(view.status, "revoked_at_cart");
}

#[tokio::test]
async fn a_signed_uninstall_tells_the_warehouse_by_history_and_email() {
    // GIVEN a connected shop
    let (rig, invite, _) = connected_rig().await;
    // WHEN Shopify delivers app/uninstalled for it
    deliver(&rig, &Delivery::uninstall("wh-1")).await;
    // THEN the history has the step behind `connection.revoked`, and the warehouse got one email
    assert_eq!(rig.revoked_steps(&invite).await, 1);
    let emails = rig.emails_of_kind("revoked_at_cart");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, "ops@scope-warehouse.test");
    assert!(
        emails[0].subject.contains("removed the app"),
        "{}",
        emails[0].subject
    );
}

#[tokio::test]
async fn a_delivery_with_a_bad_signature_is_refused_and_changes_nothing() {
    // GIVEN a connected shop
    let (rig, invite, id) = connected_rig().await;
    // WHEN an uninstall signed with another secret arrives
    let forged = Delivery {
        secret: "not-the-app-secret",
        ..Delivery::uninstall("wh-forged")
    };
    let (status, v) = deliver(&rig, &forged).await;
    // THEN it is 401 bad_signature and the connection still serves tokens, with no step
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_signature")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_stale_delivery_is_refused_and_changes_nothing() {
    // GIVEN a connected shop
    let (rig, _, id) = connected_rig().await;
    // WHEN a correctly signed uninstall triggered two hours ago arrives
    let stale = Delivery {
        triggered_secs_ago: 7200,
        ..Delivery::uninstall("wh-old")
    };
    let (status, v) = deliver(&rig, &stale).await;
    // THEN it is 400 stale and the connection still serves tokens
    assert_eq!((status, v["error"].as_str()), (400, Some("stale")));
    assert_eq!(rig.token_status(&id).await, 200);
}

#[tokio::test]
async fn a_replayed_delivery_is_refused_and_changes_nothing() {
    // GIVEN an uninstall that was handled
    let (rig, invite, _) = connected_rig().await;
    let first = Delivery::uninstall("wh-1");
    assert_eq!(deliver(&rig, &first).await.0, 200);
    // WHEN the same delivery (same id, same signed body) arrives again
    let (status, v) = deliver(&rig, &first).await;
    // THEN it is 409 replayed, and there is still one step and one email
    assert_eq!((status, v["error"].as_str()), (409, Some("replayed")));
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn a_body_of_another_topic_under_the_uninstall_topic_is_refused() {
    // GIVEN a connected shop, and a signed customers/redact body (Shopify signs the body only)
    let (rig, _, id) = connected_rig().await;
    let swapped = Delivery {
        topic: "app/uninstalled",
        ..Delivery::privacy("customers/redact", "wh-swap")
    };
    // WHEN it arrives with its topic header changed to app/uninstalled
    let (status, v) = deliver(&rig, &swapped).await;
    // THEN it is 400 malformed (no Shop resource) and the connection stays
    assert_eq!((status, v["error"].as_str()), (400, Some("malformed")));
    assert_eq!(rig.token_status(&id).await, 200);
}

#[tokio::test]
async fn twenty_identical_deliveries_at_once_make_one_step_and_one_email() {
    // GIVEN a connected shop
    let (rig, invite, _) = connected_rig().await;
    // WHEN the same uninstall delivery arrives 20 times at once
    let d = Delivery::uninstall("wh-same");
    let answers = futures::future::join_all((0..20).map(|_| deliver(&rig, &d))).await;
    // THEN exactly one is handled, the others are replays, and one step and one email exist
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 1, "{answers:?}");
    assert!(
        answers.iter().all(|(s, _)| *s == 200 || *s == 409),
        "{answers:?}"
    );
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn twenty_distinct_uninstall_deliveries_at_once_revoke_once() {
    // GIVEN a connected shop
    let (rig, invite, _) = connected_rig().await;
    // WHEN 20 uninstall deliveries with their own ids (one per subscription) arrive at once
    let ds: Vec<Delivery> = (0..20)
        .map(|i| Delivery::uninstall(&format!("wh-{i}")))
        .collect();
    let answers = futures::future::join_all(ds.iter().map(|d| deliver(&rig, d))).await;
    // THEN all are answered 200, exactly one revoked, with one step and one email
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let revoked: i64 = answers
        .iter()
        .map(|(_, v)| v["revoked"].as_i64().unwrap())
        .sum();
    assert_eq!(revoked, 1);
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn a_crash_after_the_write_is_finished_by_the_carts_next_delivery() {
    // GIVEN a connection whose revocation was written and then the process died (no step,
    // no email), as the store holds it then
    let (rig, invite, id) = connected_rig().await;
    let svc = &rig.app.services;
    let conn = svc.store.connection(&id).await.unwrap().unwrap();
    let record = crashed_record(&conn);
    svc.store.disconnect(&record, conn.version).await.unwrap();
    // WHEN Shopify delivers the uninstall again (it was never answered)
    let (status, v) = deliver(&rig, &Delivery::uninstall("wh-retry")).await;
    // THEN the step and the email still owed are made, once
    assert_eq!((status, &v["revoked"]), (200, &json!(0)), "{v}");
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn a_crash_after_the_step_sends_only_the_email_still_owed() {
    // GIVEN a revocation written and its history step recorded, then the process died before
    // the email
    let (rig, invite, id) = connected_rig().await;
    let svc = &rig.app.services;
    let conn = svc.store.connection(&id).await.unwrap().unwrap();
    let record = crashed_record(&conn);
    svc.store.disconnect(&record, conn.version).await.unwrap();
    svc.record_invite_event(
        &invite,
        shared::domain::InviteEventKind::RevokedAtCart,
        Some(id.as_str()),
        None,
    )
    .await;
    // WHEN Shopify delivers the uninstall again
    let (status, _) = deliver(&rig, &Delivery::uninstall("wh-retry")).await;
    // THEN the email goes out once and the step is not repeated
    assert_eq!(status, 200);
    assert_eq!(rig.emails_of_kind("revoked_at_cart").len(), 1);
    assert_eq!(rig.revoked_steps(&invite).await, 1);
}

/// The disconnection record an uninstall writes for `conn`, as a crash right after the write
/// leaves it.
fn crashed_record(conn: &shared::domain::Connection) -> shared::domain::Disconnection {
    shared::domain::Disconnection {
        connection_id: conn.id.clone(),
        invite_id: conn.invite_id.clone(),
        warehouse_id: conn.warehouse_id.clone(),
        cart: conn.cart.clone(),
        disconnected_at: conn.created_at,
        revocation: shared::domain::Revocation::Revoked,
        by: DisconnectedBy::Cart,
        account: conn.account.clone(),
    }
}

#[tokio::test]
async fn a_connection_made_after_the_uninstall_was_triggered_is_left_alone() {
    // GIVEN a shop connected a minute ago (a reinstall)
    let (rig, _, id) = connected_rig().await;
    // WHEN an uninstall triggered ten minutes ago (before the reinstall) arrives
    let earlier = Delivery {
        triggered_secs_ago: 600,
        ..Delivery::uninstall("wh-earlier")
    };
    let (status, v) = deliver(&rig, &earlier).await;
    // THEN it is handled but revokes nothing: the connection still serves tokens
    assert_eq!((status, &v["revoked"]), (200, &json!(0)), "{v}");
    assert_eq!(rig.token_status(&id).await, 200);
}

#[tokio::test]
async fn the_privacy_webhooks_are_answered_and_say_no_customer_data_is_held() {
    // GIVEN a connected shop
    let (rig, _, id) = connected_rig().await;
    // WHEN Shopify sends customers/data_request and customers/redact
    for (i, topic) in ["customers/data_request", "customers/redact"]
        .into_iter()
        .enumerate()
    {
        let (status, v) = deliver(&rig, &Delivery::privacy(topic, &format!("p-{i}"))).await;
        // THEN each is 200 and says no customer data is held
        assert_eq!(
            (status, &v["customer_data_held"]),
            (200, &json!(false)),
            "{v}"
        );
    }
    // AND the connection is untouched
    assert_eq!(rig.token_status(&id).await, 200);
}

#[tokio::test]
async fn shop_redact_revokes_whatever_connection_is_left_at_the_shop() {
    // GIVEN a connected shop (its uninstall never arrived)
    let (rig, _, id) = connected_rig().await;
    // WHEN Shopify sends shop/redact for it
    let (status, v) = deliver(&rig, &Delivery::privacy("shop/redact", "p-shop")).await;
    // THEN the connection is revoked
    assert_eq!((status, &v["revoked"]), (200, &json!(1)), "{v}");
    assert_eq!(rig.token_status(&id).await, 404);
}
