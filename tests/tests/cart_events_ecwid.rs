//! Ecwid's `application.uninstalled` webhook (issue 13, item 1) at `POST /cart-events/ecwid`,
//! against a connection made through Ecwid's stand-in (the token answer's `store_id` is the
//! connection's account). Each webhook is signed here as Ecwid documents it:
//! `X-Ecwid-Webhook-Signature` = base64 HMAC-SHA256, under the app's client secret, of
//! `{eventCreated}.{eventId}`. A valid webhook revokes the store's connection (token record
//! deleted, `revoked_at_cart`), records the history step behind `connection.revoked` and emails
//! the warehouse; a bad signature, a stale event and a replay are refused and change nothing.

#[path = "common/rig.rs"]
mod common;

use common::{now, Rig, CLIENT_SECRET};
use serde_json::{json, Value};
use shared::domain::{ConnectionId, InviteId};
use shared::service::lifecycle::shopify::hmac_of;
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request as Seen, ResponseTemplate};

const STORE: u64 = 1003;

/// A webhook as Ecwid sends it.
struct Event {
    kind: &'static str,
    id: String,
    created_secs_ago: i64,
    secret: &'static str,
    store: u64,
}

impl Event {
    fn uninstalled(id: &str) -> Event {
        Event {
            kind: "application.uninstalled",
            id: id.to_owned(),
            created_secs_ago: 5,
            secret: CLIENT_SECRET,
            store: STORE,
        }
    }
}

async fn deliver(rig: &Rig, e: &Event) -> (u16, Value) {
    let created = now() - e.created_secs_ago;
    let body = json!({"eventId": e.id, "eventCreated": created, "storeId": e.store,
        "entityId": e.store, "eventType": e.kind})
    .to_string();
    let signature = hmac_of(e.secret, format!("{created}.{}", e.id).as_bytes());
    let resp = reqwest::Client::new()
        .post(format!("{}/cart-events/ecwid", rig.base))
        .header("content-type", "application/json; charset=UTF-8")
        .header("x-ecwid-webhook-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// A store connected through Ecwid's stand-in (its token answer names the store).
async fn connected_rig() -> (Rig, InviteId, ConnectionId) {
    let rig = Rig::start("ecwid").await;
    let back = rig.callback("ecwid");
    Mock::given(method("GET"))
        .and(path("/my.ecwid.com/api/oauth/authorize"))
        .respond_with(move |req: &Seen| {
            let q: std::collections::HashMap<String, String> =
                req.url.query_pairs().into_owned().collect();
            let mut to = Url::parse(&back).unwrap();
            to.query_pairs_mut()
                .append_pair("code", "ecwid-code")
                .append_pair("state", &q["state"]);
            ResponseTemplate::new(302).insert_header("location", to.as_str())
        })
        .mount(&rig.stand)
        .await;
    Mock::given(method("POST"))
        .and(path("/my.ecwid.com/api/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "secret_ecwid", "token_type": "Bearer",
            "scope": "read_store_profile read_orders update_orders read_catalog update_catalog",
            "store_id": STORE
        })))
        .mount(&rig.stand)
        .await;
    let (invite, conn) = rig.connect_storeless("ecwid").await;
    assert_eq!(conn.account.as_deref(), Some("1003"));
    (rig, invite, conn.id)
}

#[tokio::test]
async fn a_signed_uninstall_deletes_the_tokens_and_marks_the_connection_revoked_at_cart() {
    // GIVEN a connected Ecwid store
    let (rig, _, id) = connected_rig().await;
    // WHEN Ecwid delivers application.uninstalled for that store
    let (status, v) = deliver(&rig, &Event::uninstalled("evt-1")).await;
    // THEN it is handled, the sealed tokens are gone and the record says the cart revoked it
    assert_eq!((status, &v["revoked"]), (200, &json!(1)), "{v}");
    rig.assert_revoked_by_cart(&id).await;
}

#[tokio::test]
async fn a_signed_uninstall_tells_the_warehouse_by_history_and_email() {
    // GIVEN a connected Ecwid store
    let (rig, invite, _) = connected_rig().await;
    // WHEN Ecwid delivers application.uninstalled for that store
    deliver(&rig, &Event::uninstalled("evt-1")).await;
    // THEN the history has the step behind `connection.revoked`, and the warehouse got one email
    assert_eq!(rig.revoked_steps(&invite).await, 1);
    let emails = rig.emails_of_kind("revoked_at_cart");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, "ops@scope-warehouse.test");
}

#[tokio::test]
async fn an_uninstall_signed_with_another_secret_is_refused_and_changes_nothing() {
    // GIVEN a connected Ecwid store
    let (rig, invite, id) = connected_rig().await;
    // WHEN an uninstall signed with another app's secret arrives
    let forged = Event {
        secret: "another-apps-secret",
        ..Event::uninstalled("evt-forged")
    };
    let (status, v) = deliver(&rig, &forged).await;
    // THEN it is 401 bad_signature and the connection still serves tokens, with no step
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_signature")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_stale_uninstall_is_refused_and_changes_nothing() {
    // GIVEN a connected Ecwid store
    let (rig, invite, id) = connected_rig().await;
    // WHEN an uninstall created four days ago arrives, signed
    let old = Event {
        created_secs_ago: 4 * 24 * 3600,
        ..Event::uninstalled("evt-old")
    };
    let (status, v) = deliver(&rig, &old).await;
    // THEN it is 400 stale and nothing changed
    assert_eq!((status, v["error"].as_str()), (400, Some("stale")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_replayed_uninstall_is_refused_and_changes_nothing() {
    // GIVEN a store whose uninstall was handled
    let (rig, invite, _) = connected_rig().await;
    deliver(&rig, &Event::uninstalled("evt-1")).await;
    // WHEN the same event arrives again
    let (status, v) = deliver(&rig, &Event::uninstalled("evt-1")).await;
    // THEN it is 409 replayed, and there is still one step and one email
    assert_eq!((status, v["error"].as_str()), (409, Some("replayed")));
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn another_events_signature_cannot_be_reused_for_an_uninstall() {
    // GIVEN a connected store, and a genuine order.updated webhook that was handled
    let (rig, invite, id) = connected_rig().await;
    let order = Event {
        kind: "order.updated",
        ..Event::uninstalled("evt-order")
    };
    let (status, _) = deliver(&rig, &order).await;
    assert_eq!(status, 200);
    // WHEN its signed fields are sent again beside the uninstall type (Ecwid signs only those)
    let (status, v) = deliver(&rig, &Event::uninstalled("evt-order")).await;
    // THEN it is 409 replayed and the store stays connected
    assert_eq!((status, v["error"].as_str()), (409, Some("replayed")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn an_uninstall_of_another_store_leaves_this_one_connected() {
    // GIVEN a connected Ecwid store
    let (rig, invite, id) = connected_rig().await;
    // WHEN Ecwid delivers the uninstall of another store
    let other = Event {
        store: 2004,
        ..Event::uninstalled("evt-other")
    };
    let (status, v) = deliver(&rig, &other).await;
    // THEN it is handled with nothing revoked, and this store still serves tokens
    assert_eq!((status, &v["revoked"]), (200, &json!(0)), "{v}");
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn twenty_identical_uninstalls_at_once_make_one_step_and_one_email() {
    // GIVEN a connected Ecwid store
    let (rig, invite, _) = connected_rig().await;
    // WHEN the same uninstall arrives twenty times at once
    let event = Event::uninstalled("evt-many");
    let answers = futures::future::join_all((0..20).map(|_| deliver(&rig, &event))).await;
    // THEN one handled it, the others were replays, and there is one step and one email
    let handled = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(handled, 1, "{answers:?}");
    rig.assert_told_once(&invite).await;
}
