//! Wix's App Instance Removed webhook (issue 13, item 1) at `POST /cart-events/wix`, against a
//! connection made through Wix's stand-in (the install's signed instance names the site's
//! `instanceId`, which the connection records as its account). Each webhook is signed here as
//! Wix documents it: the body is a JWT signed RS256 with the app's key (a fixture key pair in
//! `tests/fixtures`, its public half written in `[wix_webhooks]`), claims `data` (a JSON string
//! with `eventType` `AppRemoved` and the `instanceId`), `iat` and `exp`. A valid webhook revokes
//! the instance's connection (token record deleted, `revoked_at_cart`), records the history
//! step behind `connection.revoked` and emails the warehouse; a bad signature, a stale token and
//! a replay are refused and change nothing.

#[path = "common/rig.rs"]
mod common;

use std::collections::HashMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::{now, Rig, CLIENT_ID, CLIENT_SECRET};
use hmac::{Hmac, Mac};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::{json, Value};
use sha2::Sha256;
use shared::domain::{ConnectionId, InviteId};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request as Seen, ResponseTemplate};

const INSTANCE: &str = "5f2a9a0e-1c1d-4b7e-9a55-0d3b8c8e7f10";
const APP_KEY: &str = include_str!("../fixtures/wix-webhook-signing-key.pem");
const OTHER_KEY: &str = include_str!("../fixtures/wix-other-signing-key.pem");
const PUBLIC_KEY: &str = include_str!("../fixtures/wix-webhook-public-key.pem");

/// A webhook as Wix sends it.
struct Event {
    kind: &'static str,
    instance: &'static str,
    issued_secs_ago: i64,
    valid_secs: i64,
    key: &'static str,
}

impl Event {
    fn removed() -> Event {
        Event {
            kind: "AppRemoved",
            instance: INSTANCE,
            issued_secs_ago: 5,
            valid_secs: 300_000,
            key: APP_KEY,
        }
    }

    /// The JWT: header, claims, RS256 signature with the event's key.
    fn token(&self) -> String {
        let iat = now() - self.issued_secs_ago;
        let data = json!({"eventType": self.kind, "instanceId": self.instance,
            "data": json!({"appId": CLIENT_ID}).to_string()});
        let claims = json!({"data": data.to_string(), "iat": iat, "exp": iat + self.valid_secs});
        let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!(
            "{}.{}",
            part(json!({"kid": "qG1kD2dz", "alg": "RS256"})),
            part(claims)
        );
        let der: String = self
            .key
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let pair = RsaKeyPair::from_pkcs8(&STANDARD.decode(der).unwrap()).unwrap();
        let mut sig = vec![0; pair.public().modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

async fn deliver_token(rig: &Rig, token: String) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/cart-events/wix", rig.base))
        .header("content-type", "text/plain")
        .body(token)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn deliver(rig: &Rig, e: &Event) -> (u16, Value) {
    deliver_token(rig, e.token()).await
}

/// The signed instance Wix's installer returns: `<base64url HMAC-SHA256>.<base64url JSON>`.
fn signed_instance() -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(now())
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let data =
        URL_SAFE_NO_PAD.encode(json!({"instanceId": INSTANCE, "signDate": date}).to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    format!(
        "{}.{data}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// A Wix site connected through Wix's stand-in (its installer returns the signed instance,
/// Create Access Token mints a token for it).
async fn connected_rig() -> (Rig, InviteId, ConnectionId) {
    let extra = format!("\n[wix_webhooks]\npublic_key = \"\"\"\n{PUBLIC_KEY}\"\"\"\n");
    let rig = Rig::start_with("wix", &extra).await;
    Mock::given(method("GET"))
        .and(path("/www.wix.com/app-installer"))
        .respond_with(move |req: &Seen| {
            let q: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
            let mut back = Url::parse(&q["postInstallationUrl"]).unwrap();
            back.query_pairs_mut()
                .append_pair("appId", CLIENT_ID)
                .append_pair("instanceId", INSTANCE)
                .append_pair("signedInstance", &signed_instance());
            ResponseTemplate::new(302).insert_header("location", back.as_str())
        })
        .mount(&rig.stand)
        .await;
    Mock::given(method("POST"))
        .and(path("/www.wixapis.com/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "OAUTH2.wix-minted", "token_type": "Bearer", "expires_in": 14400
        })))
        .mount(&rig.stand)
        .await;
    let (invite, conn) = rig.connect_storeless("wix").await;
    assert_eq!(conn.account.as_deref(), Some(INSTANCE));
    (rig, invite, conn.id)
}

#[tokio::test]
async fn a_signed_removal_deletes_the_tokens_and_marks_the_connection_revoked_at_cart() {
    // GIVEN a connected Wix site
    let (rig, _, id) = connected_rig().await;
    // WHEN Wix delivers App Instance Removed for that instance
    let (status, v) = deliver(&rig, &Event::removed()).await;
    // THEN it is handled, the sealed tokens are gone and the record says the cart revoked it
    assert_eq!((status, &v["revoked"]), (200, &json!(1)), "{v}");
    rig.assert_revoked_by_cart(&id).await;
}

#[tokio::test]
async fn a_signed_removal_tells_the_warehouse_by_history_and_email() {
    // GIVEN a connected Wix site
    let (rig, invite, _) = connected_rig().await;
    // WHEN Wix delivers App Instance Removed for that instance
    deliver(&rig, &Event::removed()).await;
    // THEN the history has the step behind `connection.revoked`, and the warehouse got one email
    assert_eq!(rig.revoked_steps(&invite).await, 1);
    let emails = rig.emails_of_kind("revoked_at_cart");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, "ops@scope-warehouse.test");
}

#[tokio::test]
async fn a_removal_signed_with_another_key_is_refused_and_changes_nothing() {
    // GIVEN a connected Wix site
    let (rig, invite, id) = connected_rig().await;
    // WHEN a removal signed with a key that is not the app's arrives
    let forged = Event {
        key: OTHER_KEY,
        ..Event::removed()
    };
    let (status, v) = deliver(&rig, &forged).await;
    // THEN it is 401 bad_signature and the connection still serves tokens, with no step
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_signature")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_removal_past_its_exp_is_refused_and_changes_nothing() {
    // GIVEN a connected Wix site
    let (rig, invite, id) = connected_rig().await;
    // WHEN a genuine removal whose exp passed a minute ago arrives
    let old = Event {
        issued_secs_ago: 300_060,
        ..Event::removed()
    };
    let (status, v) = deliver(&rig, &old).await;
    // THEN it is 400 stale and nothing changed
    assert_eq!((status, v["error"].as_str()), (400, Some("stale")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_replayed_removal_is_refused_and_changes_nothing() {
    // GIVEN a site whose removal was handled
    let (rig, invite, _) = connected_rig().await;
    let token = Event::removed().token();
    deliver_token(&rig, token.clone()).await;
    // WHEN the same token arrives again
    let (status, v) = deliver_token(&rig, token).await;
    // THEN it is 409 replayed, and there is still one step and one email
    assert_eq!((status, v["error"].as_str()), (409, Some("replayed")));
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn a_removal_from_another_site_leaves_this_one_connected() {
    // GIVEN a connected Wix site
    let (rig, invite, id) = connected_rig().await;
    // WHEN Wix removes the app from another site's instance
    let other = Event {
        instance: "0b6c1f6e-9d2a-4c8e-8f11-2a7d5e9c3b40",
        ..Event::removed()
    };
    let (status, v) = deliver(&rig, &other).await;
    // THEN it is handled with nothing revoked, and this site still serves tokens
    assert_eq!((status, &v["revoked"]), (200, &json!(0)), "{v}");
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn an_event_of_another_type_is_answered_and_changes_nothing() {
    // GIVEN a connected Wix site
    let (rig, invite, id) = connected_rig().await;
    // WHEN Wix delivers a genuine App Instance Installed for that instance
    let installed = Event {
        kind: "AppInstalled",
        ..Event::removed()
    };
    let (status, v) = deliver(&rig, &installed).await;
    // THEN it is answered with nothing revoked, and the site still serves tokens
    assert_eq!((status, &v["revoked"]), (200, &json!(0)), "{v}");
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn twenty_identical_removals_at_once_make_one_step_and_one_email() {
    // GIVEN a connected Wix site
    let (rig, invite, _) = connected_rig().await;
    // WHEN the same removal arrives twenty times at once
    let token = Event::removed().token();
    let answers =
        futures::future::join_all((0..20).map(|_| deliver_token(&rig, token.clone()))).await;
    // THEN one handled it, the others were replays, and there is one step and one email
    let handled = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(handled, 1, "{answers:?}");
    rig.assert_told_once(&invite).await;
}
