//! An invite's history over HTTP against the real local server and oidc-provider as the cart:
//! every step of a merchant's flow appears once, in order, however often the merchant's
//! browser repeats a step, and a mail scanner's fetch of the link records nothing.

use std::time::{Duration, Instant};

use cartlink_e2e::{at_cart, browser, location, Peers, API_KEY, CART};
use serde_json::{json, Value};

/// `GET path` with the e2e warehouse's key; answers (status, body).
async fn get(p: &Peers, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", p.base))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// A new invite: (its id, the setup link from the merchant's email).
async fn invite(p: &Peers) -> (String, String) {
    let (status, v) = p
        .create_invite(&json!({"cart": CART, "merchant_email": "merchant@shop.test"}))
        .await;
    assert_eq!(status, 201, "{v}");
    let link = p.wait_for_emails(1).await[0]
        .link(&format!("{}/setup/", p.base))
        .unwrap();
    (v["id"].as_str().unwrap().to_owned(), link)
}

/// The event types of an invite's history, oldest first, with their times in order.
async fn event_types(p: &Peers, id: &str) -> Vec<String> {
    let (status, v) = get(p, &format!("/v1/invites/{id}/events")).await;
    assert_eq!(status, 200, "{v}");
    let data = v["data"].as_array().unwrap();
    let times: Vec<&str> = data.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    data.iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

/// What the grant page's script does once the page is shown: report the open.
async fn script_reports_open(p: &Peers, b: &reqwest::Client, link: &str) -> u16 {
    b.post(format!("{link}/opened"))
        .header("origin", &p.base)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_merchants_flow_reads_as_its_events_in_order_once_each_though_steps_repeat() {
    // GIVEN an invite
    let p = Peers::start();
    let (id, link) = invite(&p).await;
    // WHEN the merchant opens the link twice (the page's script reporting each time), grants
    // at the cart, and the callback page is loaded twice
    let b = browser();
    for _ in 0..2 {
        assert_eq!(b.get(&link).send().await.unwrap().status(), 200);
        assert_eq!(script_reports_open(&p, &b, &link).await, 200);
    }
    let resp = b.post(format!("{link}/grant")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let authorize = location(&resp, &link);
    let callback = at_cart(
        &b,
        &authorize,
        &format!("{}/oauth/callback/{CART}", p.base),
        false,
    )
    .await;
    for _ in 0..2 {
        assert_eq!(b.get(&callback).send().await.unwrap().status(), 200);
    }
    // AND both confirmations went out
    p.wait_for_emails(3).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while get(&p, &format!("/v1/invites/{id}")).await.1["status"] != "confirmed" {
        assert!(Instant::now() < deadline, "the invite was never confirmed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // THEN its history is each step once, in order
    assert_eq!(
        event_types(&p, &id).await,
        vec![
            "created",
            "emailed",
            "opened",
            "grant_started",
            "authorized",
            "confirmed"
        ]
    );
}

#[tokio::test]
async fn a_scanners_fetch_of_the_link_records_no_open() {
    // GIVEN an invite
    let p = Peers::start();
    let (id, link) = invite(&p).await;
    // WHEN a mail scanner fetches the link (GET and HEAD, running no script), and a page of
    // another site posts the open report
    let scanner = reqwest::Client::new();
    assert_eq!(scanner.get(&link).send().await.unwrap().status(), 200);
    assert_eq!(scanner.head(&link).send().await.unwrap().status(), 200);
    let foreign = scanner
        .post(format!("{link}/opened"))
        .header("origin", "https://elsewhere.test")
        .send()
        .await
        .unwrap();
    // THEN the foreign report is refused, and the history has no "opened"
    assert_eq!(foreign.status(), 403);
    assert_eq!(event_types(&p, &id).await, vec!["created", "emailed"]);
    // AND the invite is as it was
    assert_eq!(
        get(&p, &format!("/v1/invites/{id}")).await.1["status"],
        "emailed"
    );
}
