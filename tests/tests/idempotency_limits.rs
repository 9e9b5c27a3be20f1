//! `Idempotency-Key` and the rate limits of `POST /v1/invites`, end to end on the local server
//! (cartlink-local on SQLite, the outbox as the mail service).

use cartlink_e2e::{Peers, API_KEY, CART};
use futures::future::join_all;
use serde_json::{json, Value};

/// A POST of `body` to `/v1/invites`, with `key` as its `Idempotency-Key` if any: answers the
/// status, the `Retry-After` and `Idempotent-Replayed` headers, and the body.
async fn post(
    peers: &Peers,
    body: &Value,
    key: Option<&str>,
) -> (u16, Option<String>, bool, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/invites", peers.base))
        .bearer_auth(API_KEY)
        .json(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let retry_after = header("retry-after");
    let replayed = header("idempotent-replayed").as_deref() == Some("true");
    (status, retry_after, replayed, resp.json().await.unwrap())
}

fn invite(address: &str) -> Value {
    json!({"cart": CART, "merchant_email": address})
}

fn invites_stored(peers: &Peers) -> i64 {
    peers
        .sql()
        .query_row("SELECT COUNT(*) FROM invites", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_replay_returns_the_first_answer_and_the_outbox_holds_one_email() {
    // GIVEN an invite created with an Idempotency-Key
    let peers = Peers::start();
    let body = invite("replay@shop.test");
    let (status, _, replayed, first) = post(&peers, &body, Some("order-1001")).await;
    assert_eq!((status, replayed), (201, false), "{first}");
    // WHEN the same request is sent again with the key
    let (status, _, replayed, again) = post(&peers, &body, Some("order-1001")).await;
    // THEN the first answer comes back, marked replayed, and one email went out
    assert_eq!((status, replayed), (201, true));
    assert_eq!(again, first);
    assert_eq!(invites_stored(&peers), 1);
    assert_eq!(peers.outbox().len(), 1);
}

#[tokio::test]
async fn the_key_with_another_body_is_422_and_sends_nothing() {
    // GIVEN an invite created with an Idempotency-Key
    let peers = Peers::start();
    let (status, ..) = post(&peers, &invite("first@shop.test"), Some("order-1002")).await;
    assert_eq!(status, 201);
    // WHEN the key comes with another merchant
    let (status, _, _, problem) =
        post(&peers, &invite("second@shop.test"), Some("order-1002")).await;
    // THEN 422 idempotency-mismatch, and still one invite and one email
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "urn:cartlink:problem:idempotency-mismatch");
    assert_eq!(invites_stored(&peers), 1);
    assert_eq!(peers.outbox().len(), 1);
}

#[tokio::test]
async fn twenty_duplicates_at_once_make_one_invite_and_the_others_wait_or_replay() {
    // GIVEN the local server
    let peers = Peers::start();
    let body = invite("burst@shop.test");
    // WHEN twenty requests with one key arrive at once
    let answers = join_all((0..20).map(|_| post(&peers, &body, Some("order-1003")))).await;
    // THEN one ran, and each other one is 409 idempotency-in-progress with Retry-After, or
    // (once the first finished) its answer replayed
    let ran: Vec<_> = answers.iter().filter(|a| a.0 == 201 && !a.2).collect();
    assert_eq!(ran.len(), 1, "{answers:?}");
    let id = &ran[0].3["id"];
    let mut waited = 0;
    for (status, retry_after, replayed, v) in &answers {
        match status {
            409 => {
                assert_eq!(v["type"], "urn:cartlink:problem:idempotency-in-progress");
                let secs: u64 = retry_after.as_deref().unwrap().parse().unwrap();
                assert!((1..=2).contains(&secs), "{secs}");
                waited += 1;
            }
            201 => assert!(&v["id"] == id && (*replayed || v == &ran[0].3), "{v}"),
            other => panic!("unexpected {other}: {v}"),
        }
    }
    // AND some came while the first was still running
    assert!(waited > 0, "{answers:?}");
    // AND one invite was made and one email sent
    assert_eq!(invites_stored(&peers), 1);
    assert_eq!(peers.wait_for_emails(1).await.len(), 1);
}

#[tokio::test]
async fn twenty_invites_at_once_under_a_limit_of_five_make_exactly_five() {
    // GIVEN the local server with 5 invites per warehouse per hour
    let mut peers = Peers::start();
    peers.kill_cartlink();
    peers.start_cartlink(&[("CARTLINK_INVITES_PER_WAREHOUSE_PER_HOUR", "5")]);
    // WHEN twenty invites (to twenty merchants) are asked at once
    let answers = join_all((0..20).map(|i| {
        let body = invite(&format!("m{i}@shop.test"));
        let peers = &peers;
        async move { post(peers, &body, None).await }
    }))
    .await;
    // THEN exactly five are made and emailed, and fifteen are 429 with a Retry-After within
    // the hour
    let made = answers.iter().filter(|a| a.0 == 201).count();
    let limited: Vec<_> = answers.iter().filter(|a| a.0 == 429).collect();
    assert_eq!((made, limited.len()), (5, 15), "{answers:?}");
    for (_, retry_after, _, v) in limited {
        assert_eq!(v["type"], "urn:cartlink:problem:rate-limited");
        let secs: u64 = retry_after.as_deref().unwrap().parse().unwrap();
        assert!((1..=3600).contains(&secs), "{secs}");
    }
    assert_eq!(invites_stored(&peers), 5);
    assert_eq!(peers.outbox().len(), 5);
}

#[tokio::test]
async fn the_daily_limit_of_one_address_holds_across_warehouses() {
    // GIVEN the local server with 2 emails per address per day, and two warehouses (the e2e
    // warehouse and the dev warehouse)
    let mut peers = Peers::start();
    peers.kill_cartlink();
    peers.start_cartlink(&[("CARTLINK_EMAILS_PER_ADDRESS_PER_DAY", "2")]);
    let as_dev = |address: &str| {
        reqwest::Client::new()
            .post(format!("{}/v1/invites", peers.base))
            .bearer_auth(cartlink_e2e::DEV_API_KEY)
            .json(&invite(address))
            .send()
    };
    // WHEN each warehouse invites the merchant once, and then the dev warehouse again
    let (first, ..) = post(&peers, &invite("shared@shop.test"), None).await;
    let second = as_dev("Shared@Shop.test").await.unwrap().status().as_u16();
    let third = as_dev("shared@shop.test").await.unwrap();
    // THEN the third is 429 with Retry-After, and the address got two emails
    assert_eq!((first, second), (201, 201));
    assert_eq!(third.status().as_u16(), 429);
    assert!(third.headers().contains_key("retry-after"));
    assert_eq!(peers.outbox().len(), 2);
}
