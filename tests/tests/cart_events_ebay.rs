//! eBay's marketplace account deletion endpoint (issue 13, item 1) at `/cart-events/ebay`,
//! against a connection made through eBay's stand-in: the grant records the eBay user id
//! (`getUser`), the challenge is answered as eBay documents it, and a notification signed as
//! eBay signs (`common/ebay.rs`) revokes that user's connection (token record deleted,
//! `revoked_at_cart`), records the history step behind `connection.revoked` and emails the
//! warehouse; a bad signature, a stale publication and a replay are refused and change nothing.

#[path = "common/rig.rs"]
mod common;
#[path = "common/ebay.rs"]
mod ebay;

use common::{Rig, CLIENT_ID, CLIENT_SECRET, KEY};
use ebay::{app_token_requests, mount_keys, notification, public_key_path, EbayKey, USER_ID};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use shared::domain::{ConnectionId, DisconnectedBy, InviteId};
use url::Url;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, Request as Seen, ResponseTemplate};

const RUNAME: &str = "Cartlink-Test-RuName";
const USER_TOKEN: &str = "v^1.1#i^1#user-canary";

/// The grant's side of eBay's stand-in: consent redirects back with a code, the code is
/// exchanged with HTTP Basic and the RuName, and `getUser` answers `user` for that token.
async fn mount_grant(rig: &Rig, user: ResponseTemplate) {
    let back = rig.callback("ebay");
    Mock::given(method("GET"))
        .and(path("/auth.ebay.com/oauth2/authorize"))
        .and(query_param("redirect_uri", RUNAME))
        .respond_with(move |req: &Seen| {
            let state: String = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
                .unwrap();
            let mut to = Url::parse(&back).unwrap();
            to.query_pairs_mut()
                .extend_pairs([("state", state.as_str()), ("code", "v^1.1#code")]);
            ResponseTemplate::new(302).insert_header("location", to.as_str())
        })
        .mount(&rig.stand)
        .await;
    Mock::given(method("POST"))
        .and(path("/api.ebay.com/identity/v1/oauth2/token"))
        .and(header(
            "authorization",
            ebay::basic(CLIENT_ID, CLIENT_SECRET).as_str(),
        ))
        .and(body_string_contains("grant_type=authorization_code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": USER_TOKEN, "expires_in": 7200,
            "refresh_token": "v^1.1#r^1#canary", "refresh_token_expires_in": 47_304_000,
            "token_type": "User Access Token"
        })))
        .mount(&rig.stand)
        .await;
    Mock::given(method("GET"))
        .and(path("/apiz.ebay.com/commerce/identity/v1/user/"))
        .and(header(
            "authorization",
            format!("Bearer {USER_TOKEN}").as_str(),
        ))
        .respond_with(user)
        .mount(&rig.stand)
        .await;
}

/// getUser's answer naming `USER_ID`.
fn the_user() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "userId": USER_ID, "username": "acme_seller", "accountType": "INDIVIDUAL"
    }))
}

async fn ebay_rig(user: ResponseTemplate) -> Rig {
    let extra = format!("ru_name = \"{RUNAME}\"\n{}", ebay::deletion_config());
    let rig = Rig::start_with("ebay", &extra).await;
    mount_grant(&rig, user).await;
    rig
}

/// An invite for eBay, its setup link granted: the invite and the callback's status.
async fn granted(rig: &Rig) -> (InviteId, u16) {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/invites", rig.base))
        .bearer_auth(KEY)
        .json(&json!({"cart": "ebay", "merchant_email": "merchant@shop.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    let invite = InviteId::parse(v["id"].as_str().unwrap()).unwrap();
    let setup = v["setup_url"].as_str().unwrap().to_owned();
    let (status, _) = rig.grant(&cartlink_e2e::browser(), &setup).await;
    (invite, status)
}

/// A store connected through eBay's stand-in, whose keys are served for `key`.
async fn connected(key: &EbayKey) -> (Rig, InviteId, ConnectionId) {
    let rig = ebay_rig(the_user()).await;
    mount_keys(&rig.stand, (CLIENT_ID, CLIENT_SECRET), key, None).await;
    let (invite, status) = granted(&rig).await;
    assert_eq!(status, 200);
    let conn = rig.connection(&invite).await.expect("a connection");
    (rig, invite, conn.id)
}

async fn deliver(rig: &Rig, body: &str, signature: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/cart-events/ebay", rig.base))
        .header("content-type", "application/json")
        .header("x-ebay-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// A deletion of `USER_ID` published just now, signed by `key`.
fn deletion(key: &EbayKey, id: &str) -> (String, String) {
    let body = notification(id, USER_ID, 30, 5);
    let signature = key.sign(&body);
    (body, signature)
}

#[tokio::test]
async fn a_grant_records_the_ebay_user_id_as_the_connections_account() {
    // GIVEN eBay's stand-in, whose getUser names the user
    let key = EbayKey::generate();
    // WHEN a merchant grants access
    let (rig, invite, _) = connected(&key).await;
    // THEN the connection's account is the eBay user id
    let conn = rig.connection(&invite).await.unwrap();
    assert_eq!(conn.account.as_deref(), Some(USER_ID));
}

#[tokio::test]
async fn a_grant_whose_user_ebay_does_not_name_is_not_stored() {
    // GIVEN eBay's stand-in whose getUser refuses the new token
    let rig = ebay_rig(ResponseTemplate::new(401).set_body_json(json!({"errors": []}))).await;
    // WHEN a merchant grants access
    let (invite, status) = granted(&rig).await;
    // THEN no connection is stored (a deletion could not find it) and the page is not a success
    assert!(rig.connection(&invite).await.is_none());
    assert_ne!(status, 200);
}

#[tokio::test]
async fn the_challenge_is_answered_with_the_hash_of_code_token_and_endpoint() {
    // GIVEN the endpoint configured with eBay's registered endpoint and verification token
    let key = EbayKey::generate();
    let (rig, _, _) = connected(&key).await;
    // WHEN eBay sends its challenge
    let resp = reqwest::get(format!(
        "{}/cart-events/ebay?challenge_code=a8628072-3d33-45ee-9004-bee86830a22d",
        rig.base
    ))
    .await
    .unwrap();
    // THEN the answer is JSON holding the hex SHA-256 of code, token and endpoint, in order
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let v: Value = resp.json().await.unwrap();
    let expected = hex::encode(Sha256::digest(
        format!(
            "a8628072-3d33-45ee-9004-bee86830a22d{}{}",
            ebay::VERIFICATION_TOKEN,
            ebay::ENDPOINT
        )
        .as_bytes(),
    ));
    assert_eq!(v, json!({ "challengeResponse": expected }));
}

#[tokio::test]
async fn a_signed_deletion_revokes_the_users_connection_and_tells_the_warehouse() {
    // GIVEN a connection granted by the eBay user
    let key = EbayKey::generate();
    let (rig, invite, id) = connected(&key).await;
    // WHEN eBay notifies that the user's account is deleted
    let (body, signature) = deletion(&key, "n-1");
    let (status, v) = deliver(&rig, &body, &signature).await;
    // THEN it is handled, the sealed tokens are gone, the record says the cart revoked it,
    // the history has the step behind connection.revoked and the warehouse got one email
    assert_eq!((status, &v["revoked"]), (200, &json!(1)), "{v}");
    assert_eq!(rig.token_status(&id).await, 404);
    let record = rig.app.services.store.disconnection(&id).await.unwrap();
    assert_eq!(record.map(|r| r.by), Some(DisconnectedBy::Cart));
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn a_deletion_of_another_user_leaves_the_connection() {
    // GIVEN a connection granted by the eBay user
    let key = EbayKey::generate();
    let (rig, _, id) = connected(&key).await;
    // WHEN eBay notifies that another user's account is deleted
    let body = notification("n-other", "someoneElse1", 30, 5);
    let (status, v) = deliver(&rig, &body, &key.sign(&body)).await;
    // THEN it is handled with nothing revoked, and the connection still serves tokens
    assert_eq!((status, &v["revoked"]), (200, &json!(0)), "{v}");
    assert_eq!(rig.token_status(&id).await, 200);
}

#[tokio::test]
async fn a_notification_signed_by_another_key_is_refused_with_412_and_changes_nothing() {
    // GIVEN a connection, and a notification signed by a key not eBay's under eBay's key id
    let key = EbayKey::generate();
    let (rig, invite, id) = connected(&key).await;
    let body = notification("n-forged", USER_ID, 30, 5);
    let forged = EbayKey::generate().sign_as(&key, &body);
    // WHEN it arrives
    let (status, v) = deliver(&rig, &body, &forged).await;
    // THEN it is 412 bad_signature, the connection still serves tokens, no step, no email
    assert_eq!((status, v["error"].as_str()), (412, Some("bad_signature")));
    rig.assert_untouched(&invite, &id).await;
    assert!(rig.emails_of_kind("revoked_at_cart").is_empty());
}

#[tokio::test]
async fn a_notification_under_a_key_id_ebay_does_not_know_is_refused() {
    // GIVEN a connection, and a notification signed by a key eBay does not serve
    let key = EbayKey::generate();
    let (rig, _, id) = connected(&key).await;
    let body = notification("n-unknown-kid", USER_ID, 30, 5);
    // WHEN it arrives (eBay's public_key answers 404 for its id)
    let (status, _) = deliver(&rig, &body, &EbayKey::generate().sign(&body)).await;
    // THEN it is 412 and the connection stays
    assert_eq!(status, 412);
    assert_eq!(rig.token_status(&id).await, 200);
}

#[tokio::test]
async fn a_stale_notification_is_refused_and_changes_nothing() {
    // GIVEN a connection, and a correctly signed deletion published two hours ago
    let key = EbayKey::generate();
    let (rig, _, id) = connected(&key).await;
    let body = notification("n-old", USER_ID, 7300, 7200);
    // WHEN it arrives
    let (status, v) = deliver(&rig, &body, &key.sign(&body)).await;
    // THEN it is 400 stale and the connection still serves tokens
    assert_eq!((status, v["error"].as_str()), (400, Some("stale")));
    assert_eq!(rig.token_status(&id).await, 200);
}

#[tokio::test]
async fn a_replayed_notification_is_refused_and_changes_nothing() {
    // GIVEN a deletion that was handled
    let key = EbayKey::generate();
    let (rig, invite, _) = connected(&key).await;
    let (body, signature) = deletion(&key, "n-1");
    assert_eq!(deliver(&rig, &body, &signature).await.0, 200);
    // WHEN the same notification arrives again
    let (status, v) = deliver(&rig, &body, &signature).await;
    // THEN it is 409 replayed, and there is still one step and one email
    assert_eq!((status, v["error"].as_str()), (409, Some("replayed")));
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn twenty_copies_at_once_make_one_revocation_and_one_email() {
    // GIVEN a connection
    let key = EbayKey::generate();
    let (rig, invite, _) = connected(&key).await;
    // WHEN the same deletion arrives 20 times at once
    let (body, signature) = deletion(&key, "n-same");
    let answers =
        futures::future::join_all((0..20).map(|_| deliver(&rig, &body, &signature))).await;
    // THEN exactly one is handled, the others are replays, one step and one email exist
    let ok: Vec<&(u16, Value)> = answers.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(ok.len(), 1, "{answers:?}");
    assert_eq!(ok[0].1["revoked"], json!(1));
    assert!(
        answers.iter().all(|(s, _)| *s == 200 || *s == 409),
        "{answers:?}"
    );
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn a_crash_after_the_write_is_finished_by_ebays_next_delivery() {
    // GIVEN a connection whose revocation was written and then the process died (no step, no
    // email), as the store holds it then
    let key = EbayKey::generate();
    let (rig, invite, id) = connected(&key).await;
    let svc = &rig.app.services;
    let conn = svc.store.connection(&id).await.unwrap().unwrap();
    let record = shared::domain::Disconnection::of(
        &conn,
        conn.created_at,
        shared::domain::Revocation::Revoked,
        DisconnectedBy::Cart,
    );
    svc.store.disconnect(&record, conn.version).await.unwrap();
    // WHEN eBay delivers the notification again (it was never answered)
    let (body, signature) = deletion(&key, "n-retry");
    let (status, v) = deliver(&rig, &body, &signature).await;
    // THEN the step and the email still owed are made, once
    assert_eq!((status, &v["revoked"]), (200, &json!(0)), "{v}");
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn ebays_key_is_fetched_once_for_notifications_under_the_same_key_id() {
    // GIVEN a connection, with a second key whose public key may be fetched once only
    let key = EbayKey::generate();
    let (rig, _, _) = connected(&key).await;
    let second = EbayKey::generate();
    mount_keys(&rig.stand, (CLIENT_ID, CLIENT_SECRET), &second, Some(1)).await;
    // WHEN three notifications signed with it arrive
    for i in 0..3 {
        let body = notification(&format!("n-k{i}"), "someoneElse1", 30, 5);
        let (status, v) = deliver(&rig, &body, &second.sign(&body)).await;
        // THEN each verifies
        assert_eq!(status, 200, "{v}");
    }
    // AND the stand-in checks (when dropped) that its key was asked for once
}

#[tokio::test]
async fn a_notification_whose_key_ebay_cannot_serve_now_is_answered_503_and_changes_nothing() {
    // GIVEN a connection, and a key whose public key eBay's Notification API fails to serve
    let key = EbayKey::generate();
    let (rig, invite, id) = connected(&key).await;
    let failing = EbayKey::generate();
    Mock::given(method("GET"))
        .and(path(public_key_path(&failing.kid)))
        .respond_with(ResponseTemplate::new(500))
        .mount(&rig.stand)
        .await;
    // WHEN a deletion signed with it arrives
    let body = notification("n-500", USER_ID, 30, 5);
    let (status, v) = deliver(&rig, &body, &failing.sign(&body)).await;
    // THEN it is 503 unavailable (eBay delivers again), and nothing changed
    assert_eq!((status, v["error"].as_str()), (503, Some("unavailable")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_notification_when_ebay_refuses_our_app_token_is_answered_503() {
    // GIVEN an eBay endpoint configured with an app secret eBay does not accept: its stand-in
    // serves application tokens to other credentials only
    let extra = format!("ru_name = \"{RUNAME}\"\n{}", ebay::deletion_config());
    let rig = Rig::start_with("ebay", &extra).await;
    let key = EbayKey::generate();
    mount_keys(&rig.stand, (CLIENT_ID, "another-secret"), &key, None).await;
    // WHEN a correctly signed deletion arrives
    let body = notification("n-401", USER_ID, 30, 5);
    let (status, v) = deliver(&rig, &body, &key.sign(&body)).await;
    // THEN it is 503 unavailable, not blamed on the signature
    assert_eq!((status, v["error"].as_str()), (503, Some("unavailable")));
}

#[tokio::test]
async fn one_application_token_serves_the_keys_of_several_key_ids() {
    // GIVEN a connection, and three keys of eBay under ids not fetched yet
    let key = EbayKey::generate();
    let (rig, _, _) = connected(&key).await;
    let keys: Vec<EbayKey> = (0..3).map(|_| EbayKey::generate()).collect();
    for k in &keys {
        mount_keys(&rig.stand, (CLIENT_ID, CLIENT_SECRET), k, Some(1)).await;
    }
    // WHEN a notification signed with each arrives
    for (i, k) in keys.iter().enumerate() {
        let body = notification(&format!("n-t{i}"), "someoneElse1", 30, 5);
        let (status, v) = deliver(&rig, &body, &k.sign(&body)).await;
        assert_eq!(status, 200, "{v}");
    }
    // THEN eBay was asked for an application token once
    let asked = app_token_requests(&rig.stand).await;
    assert_eq!(asked, 1);
}

#[tokio::test]
async fn a_key_answer_refusing_our_token_is_503_and_the_next_notification_asks_for_another() {
    // GIVEN a connection, and a key whose first fetch eBay refuses as unauthorized (401)
    let key = EbayKey::generate();
    let (rig, _, id) = connected(&key).await;
    let next = EbayKey::generate();
    Mock::given(method("GET"))
        .and(path(public_key_path(&next.kid)))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&rig.stand)
        .await;
    mount_keys(&rig.stand, (CLIENT_ID, CLIENT_SECRET), &next, None).await;
    let body = notification("n-401-key", USER_ID, 30, 5);
    let signature = next.sign(&body);
    // WHEN the deletion arrives, then again
    let (first, v) = deliver(&rig, &body, &signature).await;
    // THEN the first is 503 (not blamed on the signature) and changed nothing
    assert_eq!((first, v["error"].as_str()), (503, Some("unavailable")));
    assert_eq!(rig.token_status(&id).await, 200);
    // AND the retry, with a new application token, is handled
    let (again, v) = deliver(&rig, &body, &signature).await;
    assert_eq!((again, &v["revoked"]), (200, &json!(1)), "{v}");
    let asked = app_token_requests(&rig.stand).await;
    assert_eq!(asked, 2);
}
