//! Squarespace's `extension.uninstall` (issue 13, item 1) at `POST /cart-events/squarespace`,
//! against a connection made through Squarespace's stand-in (the grant reads the site's id from
//! the Authorization API). The stand-in also plays the Webhook Subscriptions API as Squarespace
//! documents it, answering only the documented requests made with the merchant's bearer token,
//! and keeps the site's subscriptions: care creates cartlink's, and every notification is signed
//! with the secret the stand-in holds, as Squarespace signs (`Squarespace-Signature` = hex
//! HMAC-SHA256 of the raw body keyed with the secret's bytes). A valid uninstall revokes the
//! site's connection (token record deleted, `revoked_at_cart`), records the history step behind
//! `connection.revoked` and emails the warehouse; a bad signature, a stale notification and a
//! replay are refused and change nothing; a care run whose creation answer was lost recovers
//! the subscription by rotating its secret.

#[path = "common/rig.rs"]
mod common;

use std::sync::{Arc, Mutex};

use common::Rig;
use serde_json::{json, Value};
use shared::domain::{ConnectionId, InviteId};
use shared::service::lifecycle::squarespace::signature_of;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use url::Url;
use wiremock::matchers::{body_json, header, method, path, path_regex};
use wiremock::{Mock, Request as Seen, ResponseTemplate};

const WEBSITE: &str = "5f3c3d55ac435e1a051f77b3";
const ACCESS: &str = "sqsp-access";
const SUBSCRIPTIONS: &str = "/api.squarespace.com/1.0/webhook_subscriptions";

/// The site's subscriptions as the stand-in keeps them: (id, endpointUrl, secret).
#[derive(Default)]
struct Site {
    subscriptions: Vec<(String, String, String)>,
    /// When set, the next creation is made but its answer is lost (a 502), as when cartlink
    /// dies after Squarespace created the subscription and before its secret was stored.
    lose_next_answer: bool,
    made: usize,
}

type Shared = Arc<Mutex<Site>>;

fn new_secret(n: usize) -> String {
    hex::encode(format!("secret-number-{n:03}-of-the-stand").as_bytes())
}

/// A notification as Squarespace sends it.
struct Notification {
    topic: &'static str,
    id: String,
    created_secs_ago: i64,
    website: &'static str,
}

impl Notification {
    fn uninstall(id: &str) -> Notification {
        Notification {
            topic: "extension.uninstall",
            id: id.to_owned(),
            created_secs_ago: 5,
            website: WEBSITE,
        }
    }

    fn body(&self) -> String {
        let at = OffsetDateTime::now_utc() - time::Duration::seconds(self.created_secs_ago);
        json!({
            "id": self.id, "websiteId": self.website, "subscriptionId": "sub-any",
            "topic": self.topic, "createdOn": at.format(&Rfc3339).unwrap(), "data": {}
        })
        .to_string()
    }
}

/// Delivers `n` signed with `secret` (hex), as Squarespace does.
async fn deliver_signed(rig: &Rig, n: &Notification, secret: &str) -> (u16, Value) {
    let body = n.body();
    let resp = reqwest::Client::new()
        .post(format!("{}/cart-events/squarespace", rig.base))
        .header("content-type", "application/json")
        .header("user-agent", "Squarespace/1.0")
        .header(
            "squarespace-signature",
            signature_of(secret, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// Delivers `n` signed with the secret the stand-in's subscription holds now.
async fn deliver(rig: &Rig, site: &Shared, n: &Notification) -> (u16, Value) {
    let secret = site.lock().unwrap().subscriptions[0].2.clone();
    deliver_signed(rig, n, &secret).await
}

/// Squarespace's OAuth and Authorization API: the grant, and the site the token belongs to.
async fn mount_grant(rig: &Rig) {
    let back = rig.callback("squarespace");
    Mock::given(method("GET"))
        .and(path(
            "/login.squarespace.com/api/1/login/oauth/provider/authorize",
        ))
        .respond_with(move |req: &Seen| {
            let q: std::collections::HashMap<String, String> =
                req.url.query_pairs().into_owned().collect();
            let mut to = Url::parse(&back).unwrap();
            to.query_pairs_mut()
                .append_pair("code", "sqsp-code")
                .append_pair("state", &q["state"]);
            ResponseTemplate::new(302).insert_header("location", to.as_str())
        })
        .mount(&rig.stand)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/login.squarespace.com/api/1/login/oauth/provider/tokens",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "bearer", "access_token": ACCESS,
            "access_token_expires_at": 4_000_000_000.5_f64, "refresh_token": "sqsp-refresh",
            "refresh_token_expires_at": 4_000_600_000.5_f64
        })))
        .mount(&rig.stand)
        .await;
    Mock::given(method("GET"))
        .and(path("/api.squarespace.com/1.0/authorization/website"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": WEBSITE, "siteId": "acme", "title": "Acme", "url": "https://acme.example"
        })))
        .mount(&rig.stand)
        .await;
}

/// The Webhook Subscriptions API, only as documented, with the merchant's token.
async fn mount_subscriptions(rig: &Rig, site: &Shared) {
    let bearer = format!("Bearer {ACCESS}");
    let endpoint_url = format!("{}/cart-events/squarespace", rig.base);
    let s = site.clone();
    Mock::given(method("GET"))
        .and(path(SUBSCRIPTIONS))
        .and(header("authorization", bearer.as_str()))
        .respond_with(move |_: &Seen| {
            let listed: Vec<Value> = s
                .lock()
                .unwrap()
                .subscriptions
                .iter()
                .map(|(id, url, _)| {
                    json!({"id": id, "endpointUrl": url,
                    "topics": ["extension.uninstall"], "createdOn": "2026-11-30T10:00+00:00"})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({"webhookSubscriptions": listed}))
        })
        .mount(&rig.stand)
        .await;
    let s = site.clone();
    Mock::given(method("POST"))
        .and(path(SUBSCRIPTIONS))
        .and(header("authorization", bearer.as_str()))
        .and(body_json(
            json!({"endpointUrl": endpoint_url, "topics": ["extension.uninstall"]}),
        ))
        .respond_with(move |_: &Seen| {
            let mut site = s.lock().unwrap();
            site.made += 1;
            let (id, secret) = (format!("sub-{}", site.made), new_secret(site.made));
            site.subscriptions
                .push((id.clone(), endpoint_url.clone(), secret.clone()));
            if std::mem::take(&mut site.lose_next_answer) {
                return ResponseTemplate::new(502);
            }
            ResponseTemplate::new(200).set_body_json(json!({"id": id,
                "endpointUrl": endpoint_url, "topics": ["extension.uninstall"], "secret": secret}))
        })
        .mount(&rig.stand)
        .await;
    let s = site.clone();
    Mock::given(method("POST"))
        .and(path_regex(
            r"^/api\.squarespace\.com/1\.0/webhook_subscriptions/[^/]+/actions/rotateSecret$",
        ))
        .and(header("authorization", bearer.as_str()))
        .respond_with(move |req: &Seen| {
            let id = req.url.path().split('/').nth(4).unwrap().to_owned();
            let mut site = s.lock().unwrap();
            site.made += 1;
            let secret = new_secret(site.made);
            match site.subscriptions.iter_mut().find(|(sid, _, _)| *sid == id) {
                Some(found) => {
                    found.2 = secret.clone();
                    ResponseTemplate::new(200).set_body_json(json!({"secret": secret}))
                }
                None => ResponseTemplate::new(404),
            }
        })
        .mount(&rig.stand)
        .await;
}

/// A merchant connected through Squarespace's stand-in, not yet cared for.
async fn connected_rig() -> (Rig, Shared, InviteId, ConnectionId) {
    let rig = Rig::start("squarespace").await;
    let site = Shared::default();
    mount_grant(&rig).await;
    mount_subscriptions(&rig, &site).await;
    let (invite, conn) = rig.connect_storeless("squarespace").await;
    assert_eq!(conn.account.as_deref(), Some(WEBSITE));
    (rig, site, invite, conn.id)
}

/// A connected merchant whose site care has subscribed.
async fn subscribed_rig() -> (Rig, Shared, InviteId, ConnectionId) {
    let (rig, site, invite, id) = connected_rig().await;
    rig.app.services.run_care().await.unwrap();
    assert_eq!(site.lock().unwrap().subscriptions.len(), 1);
    (rig, site, invite, id)
}

#[tokio::test]
async fn a_new_connection_is_subscribed_at_its_site_by_the_next_care_run() {
    // GIVEN a merchant who just connected
    let (rig, site, _, id) = connected_rig().await;
    // WHEN care runs (the connection is due at once)
    let run = rig.app.services.run_care().await.unwrap();
    // THEN the site holds one subscription to cartlink's route, and the connection is recorded
    // as subscribed, off the schedule until its refresh
    assert_eq!((run.due, run.failed), (1, 0), "{run:?}");
    let subs = site.lock().unwrap().subscriptions.clone();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].1, format!("{}/cart-events/squarespace", rig.base));
    let stored = rig
        .app
        .services
        .store
        .connection(&id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.subscribed_at.is_some());
    assert!(stored.care_at.unwrap().0 > common::now() + 24 * 3600);
}

#[tokio::test]
async fn the_subscription_secret_is_stored_sealed_never_plain() {
    // GIVEN a site care subscribed
    let (rig, site, _, _) = subscribed_rig().await;
    // WHEN the store's files are read byte for byte
    let secret = site.lock().unwrap().subscriptions[0].2.clone();
    let mut found = false;
    for entry in walk(&rig.dir_path.join("data")) {
        let bytes = std::fs::read(&entry).unwrap();
        found |= bytes
            .windows(secret.len())
            .any(|w| w.eq_ignore_ascii_case(secret.as_bytes()));
    }
    // THEN the secret appears nowhere in them
    assert!(!found, "the subscription secret is stored in plain text");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let p = entry.path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

#[tokio::test]
async fn a_signed_uninstall_deletes_the_tokens_and_marks_the_connection_revoked_at_cart() {
    // GIVEN a connected merchant whose site care subscribed
    let (rig, site, _, id) = subscribed_rig().await;
    // WHEN Squarespace delivers extension.uninstall for that site
    let (status, v) = deliver(&rig, &site, &Notification::uninstall("n-1")).await;
    // THEN it is handled, the sealed tokens are gone and the record says the cart revoked it
    assert_eq!((status, &v["revoked"]), (200, &json!(1)), "{v}");
    rig.assert_revoked_by_cart(&id).await;
}

#[tokio::test]
async fn a_signed_uninstall_tells_the_warehouse_by_history_and_email() {
    // GIVEN a connected merchant whose site care subscribed
    let (rig, site, invite, _) = subscribed_rig().await;
    // WHEN Squarespace delivers extension.uninstall for that site
    deliver(&rig, &site, &Notification::uninstall("n-1")).await;
    // THEN the history has the step behind `connection.revoked`, and the warehouse got one email
    assert_eq!(rig.revoked_steps(&invite).await, 1);
    let emails = rig.emails_of_kind("revoked_at_cart");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, "ops@scope-warehouse.test");
}

#[tokio::test]
async fn a_notification_signed_with_another_secret_is_refused_and_changes_nothing() {
    // GIVEN a connected merchant whose site care subscribed
    let (rig, _, invite, id) = subscribed_rig().await;
    // WHEN an uninstall signed with another secret arrives
    let forged = Notification::uninstall("n-forged");
    let (status, v) = deliver_signed(&rig, &forged, &new_secret(999)).await;
    // THEN it is 401 bad_signature and the connection still serves tokens, with no step
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_signature")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_notification_for_a_site_cartlink_never_subscribed_is_refused() {
    // GIVEN a merchant connected, whose site care has not subscribed yet
    let (rig, _, invite, id) = connected_rig().await;
    // WHEN an uninstall for that site arrives, signed with some secret
    let n = Notification::uninstall("n-early");
    let (status, v) = deliver_signed(&rig, &n, &new_secret(1)).await;
    // THEN there is nothing to verify it with: 401, and nothing changed
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_signature")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_stale_notification_is_refused_and_changes_nothing() {
    // GIVEN a connected merchant whose site care subscribed
    let (rig, site, invite, id) = subscribed_rig().await;
    // WHEN an uninstall made four days ago arrives, signed
    let old = Notification {
        created_secs_ago: 4 * 24 * 3600,
        ..Notification::uninstall("n-old")
    };
    let (status, v) = deliver(&rig, &site, &old).await;
    // THEN it is 400 stale and nothing changed
    assert_eq!((status, v["error"].as_str()), (400, Some("stale")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn a_replayed_notification_is_refused_and_changes_nothing() {
    // GIVEN a site whose uninstall was handled
    let (rig, site, invite, _) = subscribed_rig().await;
    deliver(&rig, &site, &Notification::uninstall("n-1")).await;
    // WHEN the same notification arrives again
    let (status, v) = deliver(&rig, &site, &Notification::uninstall("n-1")).await;
    // THEN it is 409 replayed, and there is still one step and one email
    assert_eq!((status, v["error"].as_str()), (409, Some("replayed")));
    rig.assert_told_once(&invite).await;
}

#[tokio::test]
async fn an_uninstall_of_another_site_is_refused_and_leaves_this_one_connected() {
    // GIVEN a connected merchant whose site care subscribed
    let (rig, site, invite, id) = subscribed_rig().await;
    // WHEN an uninstall naming another site arrives, signed with this site's secret
    let other = Notification {
        website: "5f3c3d55ac435e1a051f0000",
        ..Notification::uninstall("n-other")
    };
    let (status, v) = deliver(&rig, &site, &other).await;
    // THEN cartlink holds no secret for that site: refused, and this merchant still serves tokens
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_signature")));
    rig.assert_untouched(&invite, &id).await;
}

#[tokio::test]
async fn twenty_identical_notifications_at_once_end_the_connection_once() {
    // GIVEN a connected merchant whose site care subscribed
    let (rig, site, invite, id) = subscribed_rig().await;
    // WHEN the same uninstall arrives twenty times at once
    let n = Notification::uninstall("n-many");
    let answers = futures::future::join_all((0..20).map(|_| deliver(&rig, &site, &n))).await;
    // THEN one revoked it, the others were replays, and there is one step and one email
    let handled: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(handled.len(), 1, "{answers:?}");
    assert_eq!(handled[0].1["revoked"], json!(1));
    rig.assert_told_once(&invite).await;
    rig.assert_revoked_by_cart(&id).await;
}

#[tokio::test]
async fn a_run_that_lost_the_created_subscription_recovers_it_by_rotating_its_secret() {
    // GIVEN a merchant just connected, and a first care run whose creation Squarespace made
    // but whose answer (with the secret) never reached cartlink
    let (rig, site, _, id) = connected_rig().await;
    site.lock().unwrap().lose_next_answer = true;
    let first = rig.app.services.run_care().await.unwrap();
    assert_eq!(first.failed, 1, "{first:?}");
    // WHEN care runs again
    let second = rig.app.services.run_care().await.unwrap();
    // THEN it found cartlink's subscription and rotated its secret instead of making another,
    // and a notification signed with the rotated secret ends the connection
    assert_eq!(second.failed, 0, "{second:?}");
    assert_eq!(site.lock().unwrap().subscriptions.len(), 1);
    assert_eq!(site.lock().unwrap().made, 2);
    let (status, v) = deliver(&rig, &site, &Notification::uninstall("n-after")).await;
    assert_eq!((status, &v["revoked"]), (200, &json!(1)), "{v}");
    rig.assert_revoked_by_cart(&id).await;
}

#[tokio::test]
async fn two_connections_at_one_site_cared_for_at_once_share_one_subscription() {
    // GIVEN two connections at the same site (two grants), neither cared for yet
    let (rig, site, _, first) = connected_rig().await;
    let (_, second) = rig.connect_storeless("squarespace").await;
    // WHEN two care runs go at once, then one more
    let runs =
        futures::future::join(rig.app.services.run_care(), rig.app.services.run_care()).await;
    runs.0.unwrap();
    runs.1.unwrap();
    rig.app.services.run_care().await.unwrap();
    // THEN the site got one subscription, made once, and both connections are recorded as
    // subscribed with it
    assert_eq!(site.lock().unwrap().made, 1);
    assert_eq!(site.lock().unwrap().subscriptions.len(), 1);
    for id in [&first, &second.id] {
        let stored = rig
            .app
            .services
            .store
            .connection(id)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.subscribed_at.is_some(), "{id} not subscribed");
    }
}
