//! Webhooks on the local server (SQLite queue and step feed, a polling worker), received by a
//! receiver written with the Standard Webhooks reference library (`tests/peers/
//! webhook_receiver.py`): a whole merchant flow verified, retries with one `webhook-id`, a
//! receiver down for the whole schedule, a retry through the API, and a SIGKILL mid-delivery.

use cartlink_e2e::{Peers, Receiver, API_KEY};
use serde_json::{json, Value};

async fn api(p: &Peers, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", p.base))
        .bearer_auth(API_KEY);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The local server with a schedule of `schedule` (seconds) and an endpoint at a fresh
/// receiver that knows its secret.
async fn setup(schedule: &str) -> (Peers, Receiver) {
    let p = Peers::start_with_env(&[("CARTLINK_WEBHOOK_SCHEDULE", schedule)]);
    let r = Receiver::start();
    let (status, made) = api(
        &p,
        reqwest::Method::POST,
        "/v1/webhooks/endpoints",
        Some(json!({"url": r.url})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let secret = made["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    r.control(json!({"secrets": [secret]})).await;
    (p, r)
}

fn types(log: &[Value]) -> Vec<String> {
    log.iter()
        .map(|d| d["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn test_message(p: &Peers) -> Value {
    let (status, sent) = api(p, reqwest::Method::POST, "/v1/webhooks/test", None).await;
    assert_eq!(status, 202, "{sent}");
    sent["data"][0].clone()
}

async fn delivery(p: &Peers, id: &str) -> Value {
    let (_, page) = api(
        p,
        reqwest::Method::GET,
        "/v1/webhooks/deliveries?limit=100",
        None,
    )
    .await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_delivery_of_a_whole_merchant_flow_verifies_with_the_reference_library() {
    // GIVEN an endpoint hearing every type
    let (p, r) = setup("1,1").await;
    // WHEN a merchant connects and the warehouse then disconnects the store
    let (invite, connection) = p.connect_merchant("merchant@shop.test").await;
    let (_, tokens) = api(
        &p,
        reqwest::Method::GET,
        &format!("/v1/connections/{connection}/tokens"),
        None,
    )
    .await;
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    let (status, _) = api(
        &p,
        reqwest::Method::DELETE,
        &format!("/v1/connections/{connection}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let wanted = [
        "invite.created",
        "invite.emailed",
        "connection.authorized",
        "connection.disconnected",
    ];
    let log = r
        .wait_until(20, |log| {
            let seen = types(log);
            wanted.iter().all(|w| seen.iter().any(|s| s == w))
        })
        .await;
    // THEN each type arrived, every delivery verified with the endpoint's secret
    let seen = types(&log);
    for w in wanted {
        assert!(seen.iter().any(|s| s == w), "{w} missing from {seen:?}");
    }
    assert!(log.iter().all(|d| d["verified"] == true), "{log:?}");
    // AND each message is about this flow, with the API's view as its data
    for d in &log {
        let body: Value = serde_json::from_str(d["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["id"], d["id"]);
        let about = if body["type"].as_str().unwrap().starts_with("invite.") {
            &body["data"]["id"]
        } else {
            &body["data"]["invite_id"]
        };
        assert_eq!(about, &json!(invite), "{body}");
    }
    // AND no log line of the whole flow holds the merchant's address
    assert!(!p.log().contains("merchant@shop.test"), "{}", p.log());
    // AND no body holds a link, an access code or a token
    let code = p.outbox()[0].access_code().unwrap();
    for d in &log {
        let body = d["body"].as_str().unwrap();
        for secret in [access_token.as_str(), code.as_str(), "/setup/"] {
            assert!(!body.contains(secret), "{body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_failing_four_times_gets_the_message_on_the_fifth_try_with_one_id() {
    // GIVEN a receiver that answers 500 to its first four deliveries
    let (p, r) = setup("0,0,0,0,0").await;
    let secret_control = r.log().await;
    assert!(secret_control.is_empty());
    let (_, endpoints) = api(&p, reqwest::Method::GET, "/v1/webhooks/endpoints", None).await;
    assert_eq!(endpoints["data"].as_array().unwrap().len(), 1);
    r.control(json!({"fail_first": 4})).await;
    // WHEN a message is sent
    let sent = test_message(&p).await;
    let log = r.wait_until(20, |log| log.len() >= 5).await;
    // THEN it arrived five times with one webhook-id, the fifth delivered
    assert_eq!(log.len(), 5, "{log:?}");
    assert!(log.iter().all(|d| d["id"] == sent["message_id"]), "{log:?}");
    let d = delivery(&p, sent["id"].as_str().unwrap()).await;
    assert_eq!(d["status"], "delivered", "{d}");
    let codes: Vec<_> = d["tries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status_code"].clone())
        .collect();
    assert_eq!(
        codes,
        vec![json!(500), json!(500), json!(500), json!(500), json!(200)]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_down_for_the_whole_schedule_leaves_a_failed_delivery_a_retry_delivers() {
    // GIVEN a receiver that answers 503 to everything, and a schedule of three tries
    let (p, r) = setup("0,0").await;
    r.control(json!({"always_status": 503})).await;
    let sent = test_message(&p).await;
    let id = sent["id"].as_str().unwrap().to_owned();
    // WHEN the schedule is spent
    r.wait_until(20, |log| log.len() >= 3).await;
    let mut d = delivery(&p, &id).await;
    for _ in 0..50 {
        if d["status"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        d = delivery(&p, &id).await;
    }
    // THEN the delivery lists as failed with three tries
    assert_eq!(d["status"], "failed", "{d}");
    assert_eq!(d["tries"].as_array().unwrap().len(), 3);
    let (_, failed) = api(
        &p,
        reqwest::Method::GET,
        "/v1/webhooks/deliveries?status=failed",
        None,
    )
    .await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 1);
    // AND once the receiver is back, a retry through the API delivers it with the same id
    r.control(json!({"always_status": null})).await;
    let (status, retried) = api(
        &p,
        reqwest::Method::POST,
        &format!("/v1/webhooks/deliveries/{id}/retry"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{retried}");
    let log = r.wait_until(20, |log| log.len() >= 4).await;
    assert_eq!(log.len(), 4);
    assert_eq!(log[3]["id"], sent["message_id"]);
    let mut d = delivery(&p, &id).await;
    for _ in 0..50 {
        if d["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        d = delivery(&p, &id).await;
    }
    assert_eq!(d["status"], "delivered", "{d}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_cut_by_sigkill_is_posted_again_with_the_same_id_after_restart() {
    // GIVEN a receiver that holds its first delivery for five seconds
    let (mut p, r) = setup("0,0").await;
    r.control(json!({"hang_first": 1, "hang_secs": 5})).await;
    let sent = test_message(&p).await;
    let first = r.wait_until(20, |log| !log.is_empty()).await;
    assert_eq!(first.len(), 1);
    // WHEN cartlink dies with SIGKILL while the post is open, and starts again
    p.kill_cartlink();
    p.restart_cartlink();
    // THEN (once the dead worker's lease ran out) it is posted again with the same id
    let log = r.wait_until(60, |log| log.len() >= 2).await;
    assert!(log.len() >= 2, "{log:?}");
    assert!(log.iter().all(|d| d["id"] == sent["message_id"]), "{log:?}");
    let id = sent["id"].as_str().unwrap();
    let mut d = delivery(&p, id).await;
    for _ in 0..50 {
        if d["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        d = delivery(&p, id).await;
    }
    assert_eq!(d["status"], "delivered", "{d}");
}
