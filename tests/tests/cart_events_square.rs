//! Square's `oauth.authorization.revoked` event (issue 13, item 1) at `POST /cart-events/square`,
//! against a connection made through Square's stand-in (the grant records the `merchant_id`).
//! Each event is signed here as Square documents it: `x-square-hmacsha256-signature` = base64
//! HMAC-SHA256, under the subscription's signature key, of the notification URL as registered
//! followed by the raw body. A valid event revokes the merchant's connection (token record
//! deleted, `revoked_at_cart`), records the history step behind `connection.revoked` and emails
//! the warehouse; a bad signature, a stale event and a replay are refused and change nothing.

#[path = "common/rig.rs"]
mod common;

use common::{Rig, CLIENT_ID, CLIENT_SECRET};
use serde_json::{json, Value};
use shared::domain::{ConnectionId, InviteId};
use shared::service::lifecycle::shopify::hmac_of;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use url::Url;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, Request as Seen, ResponseTemplate};

/// The notification URL as registered at Square (Square signs it, whatever host serves it).
const NOTIFICATION_URL: &str = "https://cartlink.example/cart-events/square";
const SIGNATURE_KEY: &str = "square-signature-key";
const MERCHANT: &str = "MLSQUARE1";

/// An event as Square sends it.
struct Event {
    kind: &'static str,
    id: String,
    created_secs_ago: i64,
    key: &'static str,
    merchant: &'static str,
}

impl Event {
    fn revoked(id: &str) -> Event {
        Event {
            kind: "oauth.authorization.revoked",
            id: id.to_owned(),
            created_secs_ago: 5,
            key: SIGNATURE_KEY,
            merchant: MERCHANT,
        }
    }

    fn body(&self) -> String {
        let at = OffsetDateTime::now_utc() - time::Duration::seconds(self.created_secs_ago);
        json!({
            "merchant_id": self.merchant, "type": self.kind, "event_id": self.id,
            "created_at": at.format(&Rfc3339).unwrap(),
            "data": {"type": "revocation", "id": "rev-1", "object": {"revocation": {
                "revoked_at": at.format(&Rfc3339).unwrap(), "revoker_type": "MERCHANT"}}}
        })
        .to_string()
    }
}

async fn deliver(rig: &Rig, e: &Event) -> (u16, Value) {
    let body = e.body();
    let signed = format!("{NOTIFICATION_URL}{body}");
    let resp = reqwest::Client::new()
        .post(format!("{}/cart-events/square", rig.base))
        .header("content-type", "application/json")
        .header(
            "x-square-hmacsha256-signature",
            hmac_of(e.key, signed.as_bytes()),
        )
        .header("square-environment", "Production")
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// A merchant connected through Square's stand-in (its authorize and token endpoints as Square
/// documents them; the token answer names the merchant).
async fn connected_rig() -> (Rig, InviteId, ConnectionId) {
    let extra = format!(
        "\n[square_webhooks]\nnotification_url = \"{NOTIFICATION_URL}\"\nsignature_key = \"{SIGNATURE_KEY}\"\n"
    );
    let rig = Rig::start_with("square", &extra).await;
    let back = rig.callback("square");
    Mock::given(method("GET"))
        .and(path("/connect.squareup.com/oauth2/authorize"))
        .respond_with(move |req: &Seen| {
            let q: std::collections::HashMap<String, String> =
                req.url.query_pairs().into_owned().collect();
            let mut to = Url::parse(&back).unwrap();
            to.query_pairs_mut()
                .append_pair("code", "sq0cgb-code")
                .append_pair("response_type", "code")
                .append_pair("state", &q["state"]);
            ResponseTemplate::new(302).insert_header("location", to.as_str())
        })
        .mount(&rig.stand)
        .await;
    Mock::given(method("POST"))
        .and(path("/connect.squareup.com/oauth2/token"))
        .and(body_json(json!({
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "code": "sq0cgb-code", "grant_type": "authorization_code"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "EAAAsquare", "token_type": "bearer",
            "expires_at": "2027-01-30T00:00:00Z", "merchant_id": MERCHANT,
            "refresh_token": "EQAAsquare"
        })))
        .mount(&rig.stand)
        .await;
    let (invite, conn) = rig.connect_storeless("square").await;
    assert_eq!(conn.account.as_deref(), Some(MERCHANT));
    (rig, invite, conn.id)
}

#[tokio::test]
async fn a_signed_revocation_deletes_the_tokens_and_marks_the_connection_revoked_at_cart() {
    // GIVEN a connected Square merchant
    let (rig, _, id) = connected_rig().await;
    // WHEN Square delivers oauth.authorization.revoked for that merchant
    let (status, v) = deliver(&rig, &Event::revoked("evt-1")).await;
    // THEN it is handled, the sealed tokens are gone and the record says the cart revoked it
    assert_eq!((status, &v["revoked"]), (200, &json!(1)), "{v}");
    rig.assert_revoked_by_cart(&id).await;
}

#[tokio::test]
async fn a_signed_revocation_tells_the_warehouse_by_history_and_email() {
    // GIVEN a connected Square merchant
    let (rig, invite, _) = connected_rig().await;
    // WHEN Square delivers oauth.authorization.revoked for that merchant
    deliver(&rig, &Event::revoked("evt-1")).await;
    // THEN the history has the step behind `connection.revoked`, and the warehouse got one email
    assert_eq!(rig.revoked_steps(&invite).await, 1);
    let emails = rig.emails_of_kind("revoked_at_cart");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, "ops@scope-warehouse.test");
}

#[tokio::test]
async fn an_event_signed_with_another_key_is_refused_and_changes_nothing() {
    // GIVEN a connected Square merchant
    let (rig, invite, id) = connected_rig().await;
    // WHEN a revocation signed with another key arrives
    let forged = Event {
        key: "not-the-signature-key",
        ..Event::revoked("evt-forged")
    };
    let (status, v) = deliver(&rig, &forged).await;
    // THEN it is 401 bad_signature and the connection still serves tokens, with no step
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_signature")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_stale_event_is_refused_and_changes_nothing() {
    // GIVEN a connected Square merchant
    let (rig, invite, id) = connected_rig().await;
    // WHEN a revocation created four days ago arrives, signed
    let old = Event {
        created_secs_ago: 4 * 24 * 3600,
        ..Event::revoked("evt-old")
    };
    let (status, v) = deliver(&rig, &old).await;
    // THEN it is 400 stale and nothing changed
    assert_eq!((status, v["error"].as_str()), (400, Some("stale")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_replayed_event_is_refused_and_changes_nothing() {
    // GIVEN a merchant whose revocation was handled
    let (rig, invite, _) = connected_rig().await;
    deliver(&rig, &Event::revoked("evt-1")).await;
    // WHEN the same event arrives again
    let (status, v) = deliver(&rig, &Event::revoked("evt-1")).await;
    // THEN it is 409 replayed, and there is still one step and one email
    assert_eq!((status, v["error"].as_str()), (409, Some("replayed")));
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn a_revocation_of_another_merchant_leaves_this_one_connected() {
    // GIVEN a connected Square merchant
    let (rig, invite, id) = connected_rig().await;
    // WHEN Square revokes another merchant's grant
    let other = Event {
        merchant: "MLOTHER2",
        ..Event::revoked("evt-other")
    };
    let (status, v) = deliver(&rig, &other).await;
    // THEN it is handled with nothing revoked, and this merchant still serves tokens
    assert_eq!((status, &v["revoked"]), (200, &json!(0)), "{v}");
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn twenty_identical_events_at_once_make_one_step_and_one_email() {
    // GIVEN a connected Square merchant
    let (rig, invite, _) = connected_rig().await;
    // WHEN the same revocation arrives twenty times at once
    let event = Event::revoked("evt-many");
    let answers = futures::future::join_all((0..20).map(|_| deliver(&rig, &event))).await;
    // THEN one handled it, the others were replays, and there is one step and one email
    let handled = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(handled, 1, "{answers:?}");
    rig.assert_told_once(&invite).await;
}
