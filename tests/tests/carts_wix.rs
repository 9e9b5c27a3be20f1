//! Wix's external install flow with client credentials per app instance, against a stand-in
//! that accepts only what Wix documents: the installer at `www.wix.com/app-installer` with our
//! `appId` and a `postInstallationUrl` (its own query kept, Wix's parameters appended), and
//! Create Access Token, a JSON `POST` to `www.wixapis.com/oauth2/token` of exactly
//! `grant_type=client_credentials`, `client_id`, `client_secret` and `instance_id` (anything else
//! 400). The redirect's `signedInstance` is signed here, by an HMAC written in the test, not by
//! the code under test. Refusals end with zero token calls and no connection. (A loopback
//! `base_url_override` moves `https://host/path` to `<stand-in>/host/path`.)

#[path = "common/rig.rs"]
mod common;

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cartlink_e2e::{browser, LogCapture};
use common::{now, Rig, CLIENT_ID, CLIENT_SECRET, KEY};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use shared::domain::{InviteId, Timestamp, TokenSet};
use url::Url;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, Request as Seen, ResponseTemplate};

const INSTANCE: &str = "5f2a9a0e-1c1d-4b7e-9a55-0d3b8c8e7f10";
const OTHER_SITE: &str = "0b6c1f6e-9d2a-4c8e-8f11-2a7d5e9c3b40";
const TENANT: &str = "7d1e2f30-4a5b-4c6d-8e9f-0a1b2c3d4e5f";

/// What the stand-in's installer sends back after the install.
#[derive(Clone, Copy)]
enum Back {
    /// As Wix does: our query kept, `appId`, `tenantId`, `instanceId` and a `signedInstance`
    /// for that instance signed with our app secret.
    Signed,
    /// The instance signed with another app's secret.
    OtherSecret,
    /// No `signedInstance`.
    Unsigned,
    /// A genuine signed instance of our site beside another site's `instanceId`.
    OtherInstance,
    /// The `state` inside our callback URL replaced.
    OtherState,
    /// Our callback URL's path turned to another cart's.
    OtherCartPath,
}

/// The signed instance as the test signs it: `<base64url HMAC-SHA256>.<base64url JSON>`.
fn signed_instance(secret: &str, instance: &str) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(now())
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let data = URL_SAFE_NO_PAD.encode(
        json!({"instanceId": instance, "signDate": date, "permissions": "OWNER"}).to_string(),
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{sig}.{data}")
}

/// Where the installer sends the browser back: the `postInstallationUrl` with Wix's parameters
/// appended (its own query kept), shaped by `back`.
fn redirect_back(post_installation: &str, back: Back) -> String {
    let mut url = Url::parse(post_installation).unwrap();
    if let Back::OtherState = back {
        url.set_query(Some(&format!("state={}", "A".repeat(43))));
    }
    if let Back::OtherCartPath = back {
        url.set_path("/oauth/callback/wix-legacy");
    }
    let (signer, named) = match back {
        Back::OtherSecret => ("another-apps-secret", INSTANCE),
        Back::OtherInstance => (CLIENT_SECRET, OTHER_SITE),
        _ => (CLIENT_SECRET, INSTANCE),
    };
    let mut q = url.query_pairs_mut();
    q.append_pair("appId", CLIENT_ID)
        .append_pair("tenantId", TENANT)
        .append_pair("instanceId", named);
    if !matches!(back, Back::Unsigned) {
        q.append_pair("signedInstance", &signed_instance(signer, INSTANCE));
    }
    drop(q);
    url.into()
}

/// cartlink with the Wix entry pointed at a stand-in whose installer answers as `back` says
/// and whose token endpoint expects `token_calls` documented requests for `INSTANCE`.
async fn wix(back: Back, token_calls: u64) -> Rig {
    let rig = Rig::start("wix").await;
    let callback = rig.callback("wix");
    Mock::given(method("GET"))
        .and(path("/www.wix.com/app-installer"))
        .and(query_param("appId", CLIENT_ID))
        .respond_with(move |req: &Seen| {
            let q: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
            match q.get("postInstallationUrl") {
                Some(to) if to.starts_with(&format!("{callback}?state=")) => {
                    ResponseTemplate::new(302)
                        .insert_header("location", redirect_back(to, back).as_str())
                }
                _ => ResponseTemplate::new(400),
            }
        })
        .mount(&rig.stand)
        .await;
    let minted = std::sync::atomic::AtomicU64::new(0);
    Mock::given(method("POST"))
        .and(path("/www.wixapis.com/oauth2/token"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "grant_type": "client_credentials", "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "instance_id": INSTANCE
        })))
        .respond_with(move |_: &Seen| {
            let n = minted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": format!("OAUTH2.wix-minted-{n}"),
                "token_type": "Bearer", "expires_in": 14400
            }))
        })
        .expect(token_calls)
        .mount(&rig.stand)
        .await;
    // Anything else at the token endpoint is what Wix refuses.
    Mock::given(method("POST"))
        .and(path("/www.wixapis.com/oauth2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_request"})))
        .expect(0)
        .with_priority(10)
        .mount(&rig.stand)
        .await;
    rig
}

/// A Wix invite (no store input) and its setup link.
async fn invite(rig: &Rig) -> (InviteId, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/invites", rig.base))
        .bearer_auth(KEY)
        .json(&json!({"cart": "wix", "merchant_email": "merchant@shop.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    (
        InviteId::parse(v["id"].as_str().unwrap()).unwrap(),
        v["setup_url"].as_str().unwrap().to_owned(),
    )
}

/// The grant page → the installer → our callback: the callback's status and page.
async fn install(rig: &Rig) -> (InviteId, u16, String) {
    let (invite, setup) = invite(rig).await;
    let (status, page) = rig.grant(&browser(), &setup).await;
    (invite, status, page)
}

async fn tokens(rig: &Rig, invite: &InviteId) -> TokenSet {
    let conn = rig.connection(invite).await.expect("a connection");
    let svc = &rig.app.services;
    let plain = svc.vault.open(&conn.context(), &conn.tokens).await.unwrap();
    TokenSet::from_plaintext(&plain).unwrap()
}

#[tokio::test]
async fn wix_installs_and_mints_a_token_for_the_signed_instance() {
    // GIVEN a Wix invite and the Wix stand-in, which signs the instance it installed
    let rig = wix(Back::Signed, 1).await;
    // WHEN the merchant installs the app from the grant page's popup
    let (invite, status, page) = install(&rig).await;
    // THEN the page says so, and the connection holds a token minted for that instance
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Successful Authorization"), "{page}");
    let conn = rig.connection(&invite).await.expect("a connection");
    assert_eq!(conn.account.as_deref(), Some(INSTANCE));
    let tokens = tokens(&rig, &invite).await;
    assert_eq!(tokens.access_token.expose(), "OAUTH2.wix-minted-1");
    assert!(tokens.refresh_token.is_none());
    let expires = tokens.expires_at.expect("an expiry").0 - now();
    assert!((14_300..=14_400).contains(&expires), "{expires}");
}

/// Installs with the stand-in answering as `back` and checks that the callback is refused with
/// `reason`, with no token asked for (the stand-in's `expect(0)`) and nothing stored.
async fn refused(back: Back, reason: &str) {
    let rig = wix(back, 0).await;
    let logs = LogCapture::start();
    let (invite, status, page) = install(&rig).await;
    assert!(status >= 400, "{status}: {page}");
    assert!(!page.contains("Successful Authorization"), "{page}");
    assert!(rig.connection(&invite).await.is_none(), "no connection");
    let events = logs.lines_with("callback refused");
    assert_eq!(events.len(), 1, "{}", logs.text());
    assert!(
        events[0].contains(&format!("reason=\"{reason}\"")),
        "{}",
        events[0]
    );
}

#[tokio::test]
async fn a_wix_instance_signed_with_another_secret_mints_nothing() {
    // GIVEN an installer whose signed instance is signed with another app's secret
    // WHEN the browser comes back THEN no token is asked for and nothing is stored
    refused(Back::OtherSecret, "hmac_invalid").await;
}

#[tokio::test]
async fn a_wix_callback_without_a_signed_instance_mints_nothing() {
    // GIVEN an installer that sends back only a plain instanceId
    // WHEN the browser comes back THEN no token is asked for and nothing is stored
    refused(Back::Unsigned, "hmac_missing").await;
}

#[tokio::test]
async fn another_sites_instance_beside_a_signed_one_mints_nothing() {
    // GIVEN a callback naming another site's instance beside our site's signed instance
    // WHEN the browser comes back THEN no token is asked for (for either site)
    refused(Back::OtherInstance, "hmac_invalid").await;
}

#[tokio::test]
async fn a_wix_callback_with_another_state_mints_nothing() {
    // GIVEN an installer that returns to our callback with a state nobody issued
    // WHEN the browser comes back THEN no token is asked for and nothing is stored
    refused(Back::OtherState, "state_unknown").await;
}

#[tokio::test]
async fn a_wix_callback_on_another_carts_path_mints_nothing() {
    // GIVEN an installer that returns to the legacy Wix entry's callback path
    // WHEN the browser comes back THEN the attempt is not that cart's: nothing is asked for
    refused(Back::OtherCartPath, "cart_mix_up").await;
}

#[tokio::test]
async fn a_wix_token_near_its_end_is_minted_again_with_client_credentials() {
    // GIVEN a Wix connection whose token is an hour from its end... a minute from it
    let rig = wix(Back::Signed, 2).await;
    let (invite, status, page) = install(&rig).await;
    assert_eq!(status, 200, "{page}");
    let conn = rig.connection(&invite).await.unwrap();
    let svc = &rig.app.services;
    let mut sealed = tokens(&rig, &invite).await;
    sealed.expires_at = Some(Timestamp(now() + 60));
    sealed.issued_at = Some(Timestamp(now() - 14_340));
    let blob = svc
        .vault
        .seal(&conn.context(), &sealed.to_plaintext())
        .await
        .unwrap();
    svc.store
        .update_tokens(&conn.id, &blob, sealed.expires_at, None, None, conn.version)
        .await
        .unwrap();
    // WHEN the warehouse asks for the token
    let resp = reqwest::Client::new()
        .get(format!("{}/v1/connections/{}/tokens", rig.base, conn.id))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    // THEN a new token was minted for the instance (the stand-in saw the same documented
    // request a second time) and is the one answered and sealed
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["access_token"], "OAUTH2.wix-minted-2");
    assert_eq!(v["account"], INSTANCE);
    assert_eq!(
        tokens(&rig, &invite).await.access_token.expose(),
        "OAUTH2.wix-minted-2"
    );
}

#[tokio::test]
async fn twenty_loads_of_one_wix_callback_mint_one_token() {
    // GIVEN a Wix install that has come back to our callback URL
    let rig = wix(Back::Signed, 1).await;
    let (invite, setup) = invite(&rig).await;
    let b = browser();
    b.get(&setup).send().await.unwrap();
    let resp = b.post(format!("{setup}/grant")).send().await.unwrap();
    let installer = resp.headers()["location"].to_str().unwrap().to_owned();
    let resp = b.get(&installer).send().await.unwrap();
    let back = resp.headers()["location"].to_str().unwrap().to_owned();
    // WHEN the browser loads it twenty times at once
    let loads = futures::future::join_all((0..20).map(|_| b.get(&back).send())).await;
    // THEN Create Access Token was asked once (the stand-in's expect(1)), every load shows the
    // connection, which is stored
    for load in loads {
        let page = load.unwrap().text().await.unwrap();
        assert!(
            page.contains("Successful Authorization") || page.contains("already"),
            "{page}"
        );
    }
    assert!(rig.connection(&invite).await.is_some());
}

#[tokio::test]
async fn a_wix_connection_granted_by_the_code_flow_is_not_minted_for_but_reconnected() {
    // GIVEN a Wix connection as the code flow left it before the entry changed: a refresh token
    // beside an instance id nobody proved, its access token a minute from its end
    let rig = wix(Back::Signed, 1).await;
    let (invite, status, page) = install(&rig).await;
    assert_eq!(status, 200, "{page}");
    let conn = rig.connection(&invite).await.unwrap();
    let svc = &rig.app.services;
    let mut legacy = tokens(&rig, &invite).await;
    legacy.refresh_token = Some(shared::domain::Secret::new("OAUTH2.legacy-refresh"));
    legacy.expires_at = Some(Timestamp(now() + 60));
    legacy.issued_at = Some(Timestamp(now() - 240));
    let blob = svc
        .vault
        .seal(&conn.context(), &legacy.to_plaintext())
        .await
        .unwrap();
    svc.store
        .update_tokens(&conn.id, &blob, legacy.expires_at, None, None, conn.version)
        .await
        .unwrap();
    // WHEN the warehouse asks for the token
    let resp = reqwest::Client::new()
        .get(format!("{}/v1/connections/{}/tokens", rig.base, conn.id))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    // THEN no token is minted for that instance (the stand-in saw only the install's request),
    // and the connection needs re-authorization, with a reconnect invite to the merchant
    assert_ne!(resp.status(), 200);
    let stored = rig.connection(&invite).await.unwrap();
    assert_eq!(stored.status, shared::domain::ConnectionStatus::NeedsReauth);
    assert_eq!(rig.emails_of_kind("reconnect_invite").len(), 1);
}
