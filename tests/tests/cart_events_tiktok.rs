//! TikTok Shop's seller deauthorization webhook (issue 13, item 1) at
//! `POST /cart-events/tiktok-shop`, against a connection made through TikTok Shop's stand-in.
//! Each webhook is signed here as TikTok Shop's client libraries verify it: `Authorization` =
//! lowercase hex HMAC-SHA256, under the app secret (the entry's client secret), of the app key
//! (its client id) followed by the raw body. A valid deauthorization revokes the shop's
//! connection (token record deleted, `revoked_at_cart`), records the history step behind
//! `connection.revoked` and emails the warehouse; a bad signature, a stale notification and a
//! replay are refused and change nothing.
//!
//! The webhook names a shop (`shop_id`); the grant records the seller's `open_id` as the
//! account and, from Get Authorized Shops (signed, served by `common/tiktok.rs`), the seller's
//! two shops: the webhook ends the connection through either shop's id.

#[path = "common/rig.rs"]
mod common;
#[path = "common/tiktok.rs"]
mod tiktok;

use cartlink_e2e::browser;
use common::{now, Rig, CLIENT_ID, CLIENT_SECRET};
use serde_json::{json, Value};
use shared::domain::{ConnectionId, InviteId};
use shared::service::lifecycle::tiktok::signature_of;

use tiktok::{ACCESS_TOKEN, OPEN_ID, OTHER_SHOP_ID, SHOP_ID};

const SERVICE_ID: &str = "7310403104158238510";

/// A webhook as TikTok Shop sends it.
struct Notification {
    kind: i64,
    pushed_secs_ago: i64,
    key: &'static str,
    secret: &'static str,
    shop: &'static str,
    id: &'static str,
}

impl Notification {
    fn deauthorized(id: &'static str) -> Notification {
        Notification {
            kind: 6,
            pushed_secs_ago: 5,
            key: CLIENT_ID,
            secret: CLIENT_SECRET,
            shop: SHOP_ID,
            id,
        }
    }

    /// The body, as TikTok Shop's example writes it; the same notification gives the same
    /// bytes within a second.
    fn body(&self) -> String {
        json!({"type": self.kind, "tts_notification_id": self.id, "shop_id": self.shop,
            "timestamp": now() - self.pushed_secs_ago,
            "data": {"message": format!("Shop_id {} is deauthorized from your APP by merchant.", self.shop)}})
        .to_string()
    }
}

async fn send(rig: &Rig, body: String, signature: String) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/cart-events/tiktok-shop", rig.base))
        .header("content-type", "application/json")
        .header("authorization", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn deliver(rig: &Rig, n: &Notification) -> (u16, Value) {
    let body = n.body();
    let signature = signature_of(n.key, n.secret, body.as_bytes());
    send(rig, body, signature).await
}

/// A seller connected through TikTok Shop's stand-in ([`tiktok::serve_grant`]), Get
/// Authorized Shops answering the seller's two shops.
async fn connected_rig() -> (Rig, InviteId, ConnectionId) {
    let rig = Rig::start_with("tiktok-shop", &format!("app_id = \"{SERVICE_ID}\"")).await;
    tiktok::serve_grant(&rig.stand, &rig.callback("tiktok-shop")).await;
    let shops = tiktok::serve_shops(&rig.stand, (CLIENT_ID, CLIENT_SECRET), ACCESS_TOKEN).await;
    let (invite, setup) = rig.invite("tiktok-shop", "global").await;
    let (status, page) = rig.grant(&browser(), &setup).await;
    assert_eq!(status, 200, "{page}");
    let conn = rig.connection(&invite).await.expect("a connection");
    assert_eq!(conn.account.as_deref(), Some(OPEN_ID));
    let recorded: Vec<&str> = conn.shops.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(recorded, [SHOP_ID, OTHER_SHOP_ID]);
    assert_eq!(shops.counts(), (1, 0));
    (rig, invite, conn.id)
}

#[tokio::test]
async fn a_signed_deauthorization_deletes_the_tokens_and_marks_the_connection_revoked_at_cart() {
    // GIVEN a connected TikTok shop
    let (rig, _, id) = connected_rig().await;
    // WHEN TikTok Shop delivers the seller deauthorization of that shop
    let (status, v) = deliver(&rig, &Notification::deauthorized("7327112393057371910")).await;
    // THEN it is handled, the sealed tokens are gone and the record says the cart revoked it
    assert_eq!((status, &v["revoked"]), (200, &json!(1)), "{v}");
    rig.assert_revoked_by_cart(&id).await;
}

#[tokio::test]
async fn the_deauthorization_of_the_sellers_other_shop_ends_the_connection_too() {
    // GIVEN a seller connected with two shops
    let (rig, _, id) = connected_rig().await;
    // WHEN TikTok Shop delivers the deauthorization of the second shop
    let other = Notification {
        shop: OTHER_SHOP_ID,
        ..Notification::deauthorized("7327112393057371919")
    };
    let (status, v) = deliver(&rig, &other).await;
    // THEN the grant's one connection is revoked at the cart
    assert_eq!((status, &v["revoked"]), (200, &json!(1)), "{v}");
    rig.assert_revoked_by_cart(&id).await;
}

#[tokio::test]
async fn a_deauthorization_naming_the_sellers_open_id_ends_nothing() {
    // GIVEN a seller connected with two shops, whose account is its open_id
    let (rig, invite, id) = connected_rig().await;
    // WHEN a deauthorization names the open_id as its shop
    let by_open_id = Notification {
        shop: OPEN_ID,
        ..Notification::deauthorized("7327112393057371920")
    };
    let (status, v) = deliver(&rig, &by_open_id).await;
    // THEN nothing is revoked: the webhook matches recorded shops, never the account
    assert_eq!((status, &v["revoked"]), (200, &json!(0)), "{v}");
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_signed_deauthorization_tells_the_warehouse_by_history_and_email() {
    // GIVEN a connected TikTok shop
    let (rig, invite, _) = connected_rig().await;
    // WHEN TikTok Shop delivers the seller deauthorization of that shop
    deliver(&rig, &Notification::deauthorized("7327112393057371910")).await;
    // THEN the history has the step behind `connection.revoked`, and the warehouse got one email
    assert_eq!(rig.revoked_steps(&invite).await, 1);
    let emails = rig.emails_of_kind("revoked_at_cart");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, "ops@scope-warehouse.test");
}

#[tokio::test]
async fn a_deauthorization_signed_with_another_secret_is_refused_and_changes_nothing() {
    // GIVEN a connected TikTok shop
    let (rig, invite, id) = connected_rig().await;
    // WHEN a deauthorization signed with another app's secret arrives
    let forged = Notification {
        secret: "another-apps-secret",
        ..Notification::deauthorized("7327112393057371911")
    };
    let (status, v) = deliver(&rig, &forged).await;
    // THEN it is 401 bad_signature and the connection still serves tokens, with no step
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_signature")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_deauthorization_whose_signature_leaves_out_the_app_key_is_refused() {
    // GIVEN a connected TikTok shop
    let (rig, invite, id) = connected_rig().await;
    // WHEN a deauthorization arrives signed with the right secret over the body alone
    let forged = Notification {
        key: "",
        ..Notification::deauthorized("7327112393057371912")
    };
    let (status, v) = deliver(&rig, &forged).await;
    // THEN it is 401 bad_signature and nothing changed
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_signature")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_deauthorization_with_another_body_than_it_signed_is_refused() {
    // GIVEN a connected TikTok shop, and a genuine deauthorization of another shop
    let (rig, invite, id) = connected_rig().await;
    let other = Notification {
        shop: "7494049642642441999",
        ..Notification::deauthorized("7327112393057371913")
    };
    let signature = signature_of(CLIENT_ID, CLIENT_SECRET, other.body().as_bytes());
    // WHEN its signature arrives beside a body naming this shop
    let body = Notification::deauthorized("7327112393057371913").body();
    let (status, v) = send(&rig, body, signature).await;
    // THEN it is 401 bad_signature and nothing changed
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_signature")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_stale_deauthorization_is_refused_and_changes_nothing() {
    // GIVEN a connected TikTok shop
    let (rig, invite, id) = connected_rig().await;
    // WHEN a deauthorization pushed two days ago arrives, signed
    let old = Notification {
        pushed_secs_ago: 2 * 24 * 3600,
        ..Notification::deauthorized("7327112393057371914")
    };
    let (status, v) = deliver(&rig, &old).await;
    // THEN it is 400 stale and nothing changed
    assert_eq!((status, v["error"].as_str()), (400, Some("stale")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_replayed_deauthorization_is_refused_and_changes_nothing() {
    // GIVEN a shop whose deauthorization was handled
    let (rig, invite, _) = connected_rig().await;
    let body = Notification::deauthorized("7327112393057371915").body();
    let signature = signature_of(CLIENT_ID, CLIENT_SECRET, body.as_bytes());
    send(&rig, body.clone(), signature.clone()).await;
    // WHEN the same signed body arrives again
    let (status, v) = send(&rig, body, signature).await;
    // THEN it is 409 replayed, and there is still one step and one email
    assert_eq!((status, v["error"].as_str()), (409, Some("replayed")));
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn a_deauthorization_of_another_shop_leaves_this_one_connected() {
    // GIVEN a connected TikTok shop
    let (rig, invite, id) = connected_rig().await;
    // WHEN TikTok Shop delivers the deauthorization of another shop
    let other = Notification {
        shop: "7494049642642441999",
        ..Notification::deauthorized("7327112393057371916")
    };
    let (status, v) = deliver(&rig, &other).await;
    // THEN it is handled with nothing revoked, and this shop still serves tokens
    assert_eq!((status, &v["revoked"]), (200, &json!(0)), "{v}");
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn another_type_of_webhook_is_answered_and_changes_nothing() {
    // GIVEN a connected TikTok shop
    let (rig, invite, id) = connected_rig().await;
    // WHEN TikTok Shop delivers its upcoming authorization expiration (type 7) for that shop
    let expiring = Notification {
        kind: 7,
        ..Notification::deauthorized("7327112393057371917")
    };
    let (status, v) = deliver(&rig, &expiring).await;
    // THEN it is answered 200 with nothing revoked, and the shop still serves tokens
    assert_eq!((status, &v["revoked"]), (200, &json!(0)), "{v}");
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn twenty_identical_deauthorizations_at_once_end_the_connection_once() {
    // GIVEN a connected TikTok shop
    let (rig, invite, id) = connected_rig().await;
    // WHEN the same signed deauthorization arrives twenty times at once
    let body = Notification::deauthorized("7327112393057371918").body();
    let signature = signature_of(CLIENT_ID, CLIENT_SECRET, body.as_bytes());
    let answers =
        futures::future::join_all((0..20).map(|_| send(&rig, body.clone(), signature.clone())))
            .await;
    // THEN one handled it, the others were replays; the connection is revoked, with one step
    // and one email
    let handled = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(handled, 1, "{answers:?}");
    rig.assert_revoked_by_cart(&id).await;
    rig.assert_told_once(&invite).await;
}
