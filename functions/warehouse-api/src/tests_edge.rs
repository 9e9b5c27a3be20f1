//! `Idempotency-Key` and the rate limits, through the handler.

use http::{HeaderValue, Method, StatusCode};
use serde_json::Value;
use shared::domain::{TokenHash, Warehouse, WarehouseDirectory, WarehouseId};
use shared::service::idempotency::{Answer, CanonicalRequest, LEASE_SECS};
use shared::testing::{TestKit, TEST_API_KEY};
use shared::web::{Request, Response};

use super::handle;

const BODY: &str = r#"{"cart":"acme","merchant_email":"m@shop.test"}"#;
const OTHER_KEY: &str = "other-api-key";

fn post_with(body: &str, api_key: &str, idempotency_key: Option<&str>) -> Request {
    let mut req = Request::new(Method::POST, "/v1/invites");
    req.headers
        .insert("content-type", HeaderValue::from_static("application/json"));
    req.headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {api_key}")).unwrap(),
    );
    if let Some(k) = idempotency_key {
        req.headers
            .insert("idempotency-key", HeaderValue::from_str(k).unwrap());
    }
    req.body = body.to_owned().into();
    req
}

fn keyed(body: &str, key: &str) -> Request {
    post_with(body, TEST_API_KEY, Some(key))
}

fn json(resp: &Response) -> Value {
    serde_json::from_slice(resp.body()).unwrap()
}

fn problem(resp: &Response) -> String {
    json(resp)["type"].as_str().unwrap_or_default().to_owned()
}

async fn invites(kit: &TestKit) -> usize {
    kit.store.invite_count().await.unwrap()
}

/// A kit with a second warehouse (`wh-other`, key [`OTHER_KEY`]).
fn two_warehouses() -> TestKit {
    let mut kit = TestKit::new();
    let test = kit
        .services
        .warehouses
        .authenticate(TEST_API_KEY)
        .unwrap()
        .clone();
    let other = Warehouse {
        id: WarehouseId::parse("wh-other").unwrap(),
        display_name: "Other".into(),
        notify_email: "ops@other.test".into(),
        api_key_hashes: vec![TokenHash::of(OTHER_KEY)],
        brand: Default::default(),
        locale: None,
    };
    kit.services.warehouses = WarehouseDirectory::new(vec![test, other]);
    kit
}

#[tokio::test]
async fn a_replay_returns_the_stored_answer_and_sends_nothing() {
    // GIVEN an invite created under a key
    let kit = TestKit::new();
    let first = handle(&kit.services, keyed(BODY, "k-1")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    // WHEN the same request is sent again with the key, its JSON laid out otherwise
    let again = handle(
        &kit.services,
        keyed(
            r#"{ "merchant_email": "m@shop.test", "cart": "acme" }"#,
            "k-1",
        ),
    )
    .await;
    // THEN the answer is the first one, marked replayed, and nothing more was made or sent
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.body(), first.body());
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert!(!first.headers().contains_key("idempotent-replayed"));
    assert_eq!(invites(&kit).await, 1);
    assert_eq!(kit.mailer.messages().len(), 1);
}

#[tokio::test]
async fn the_kept_answer_holds_no_setup_link_in_plain_text() {
    // GIVEN an invite created under a key
    let kit = TestKit::new();
    let first = handle(&kit.services, keyed(BODY, "k-secret")).await;
    let link = json(&first)["setup_url"].as_str().unwrap().to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    // WHEN the store's file is read
    let db = std::fs::read(kit.dir.path().join("cartlink.db")).unwrap();
    let wal = std::fs::read(kit.dir.path().join("cartlink.db-wal")).unwrap_or_default();
    // THEN the link token is in neither (the answer is sealed)
    for bytes in [db, wal] {
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    }
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_mismatch() {
    // GIVEN an invite created under a key
    let kit = TestKit::new();
    handle(&kit.services, keyed(BODY, "k-2")).await;
    // WHEN the key comes again with another merchant
    let resp = handle(
        &kit.services,
        keyed(r#"{"cart":"acme","merchant_email":"n@shop.test"}"#, "k-2"),
    )
    .await;
    // THEN 422 idempotency-mismatch, and nothing more was made or sent
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(&resp), "urn:cartlink:problem:idempotency-mismatch");
    assert_eq!(invites(&kit).await, 1);
    assert_eq!(kit.mailer.messages().len(), 1);
}

#[tokio::test]
async fn a_duplicate_while_the_first_runs_is_told_to_retry() {
    // GIVEN a first request under the key that is still running
    let kit = TestKit::new();
    let wh = kit
        .services
        .warehouses
        .authenticate(TEST_API_KEY)
        .unwrap()
        .id
        .clone();
    let request = CanonicalRequest {
        method: "POST",
        path: "/v1/invites",
        body: BODY.as_bytes(),
    };
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let (finish_tx, finish_rx) = tokio::sync::oneshot::channel::<()>();
    let first = kit
        .services
        .idempotent(&wh, "k-3", request, |_| async move {
            started_tx.send(()).unwrap();
            finish_rx.await.unwrap();
            Answer {
                status: 201,
                content_type: "application/json".into(),
                body: b"{}".to_vec(),
            }
        });
    let second = async {
        started_rx.await.unwrap();
        // WHEN the duplicate comes
        let resp = handle(&kit.services, keyed(BODY, "k-3")).await;
        finish_tx.send(()).unwrap();
        resp
    };
    let (first, resp) = tokio::join!(first, second);
    // THEN it is 409 idempotency-in-progress with Retry-After, and it ran nothing
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(
        problem(&resp),
        "urn:cartlink:problem:idempotency-in-progress"
    );
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    assert!(first.is_ok());
    assert_eq!(invites(&kit).await, 0);
    assert!(kit.mailer.messages().is_empty());
}

#[tokio::test]
async fn a_retry_after_the_first_died_finds_its_invite_and_sends_no_second_email() {
    // GIVEN a first request that stored and emailed its invite, then died before answering
    let kit = TestKit::new();
    let wh = kit
        .services
        .warehouses
        .authenticate(TEST_API_KEY)
        .unwrap()
        .clone();
    let request = CanonicalRequest {
        method: "POST",
        path: "/v1/invites",
        body: BODY.as_bytes(),
    };
    let (made_tx, made_rx) = tokio::sync::oneshot::channel::<String>();
    let dying = kit.services.idempotent(&wh.id, "k-4", request, |seed| {
        let svc = &kit.services;
        let wh = wh.clone();
        async move {
            let body = serde_json::from_str(BODY).unwrap();
            let made = svc
                .create_invite_once(&wh, body, Some(&seed))
                .await
                .unwrap();
            made_tx.send(made.invite.id.to_string()).unwrap();
            std::future::pending::<Answer>().await
        }
    });
    let first_id = tokio::select! {
        _ = dying => unreachable!("the first request never answers"),
        id = made_rx => id.unwrap(),
    };
    assert_eq!(kit.mailer.messages().len(), 1);
    // WHEN its lease lapses and the warehouse retries with the key
    kit.clock.advance(LEASE_SECS);
    let resp = handle(&kit.services, keyed(BODY, "k-4")).await;
    // THEN the retry answers that invite, with a working link, and sends no second email
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v = json(&resp);
    assert_eq!(v["id"], first_id.as_str());
    assert_eq!(v["status"], "emailed");
    assert!(v["setup_url"]
        .as_str()
        .unwrap()
        .starts_with("https://cartlink.test/setup/"));
    assert_eq!(invites(&kit).await, 1);
    assert_eq!(kit.mailer.messages().len(), 1);
    // AND a further retry replays that answer
    let again = handle(&kit.services, keyed(BODY, "k-4")).await;
    assert_eq!(again.body(), resp.body());
}

#[tokio::test]
async fn a_5xx_is_not_kept_so_a_retry_runs_again() {
    // GIVEN a mail service that cannot be reached
    let kit = TestKit::new();
    *kit.mailer.unavailable.lock().unwrap() = Some("down".into());
    let resp = handle(&kit.services, keyed(BODY, "k-5")).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));
    // WHEN it is back and the request is retried with the key
    *kit.mailer.unavailable.lock().unwrap() = None;
    let resp = handle(&kit.services, keyed(BODY, "k-5")).await;
    // THEN the retry ran: created and emailed
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(!resp.headers().contains_key("idempotent-replayed"));
    assert_eq!(kit.mailer.messages().len(), 1);
}

#[tokio::test]
async fn a_4xx_is_kept_and_replayed() {
    // GIVEN a request refused for a wrong field under a key
    let kit = TestKit::new();
    let bad = r#"{"cart":"acme","merchant_email":"not an address"}"#;
    let first = handle(&kit.services, keyed(bad, "k-6")).await;
    assert_eq!(first.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // WHEN it is sent again
    let again = handle(&kit.services, keyed(bad, "k-6")).await;
    // THEN the refusal is replayed as it was
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.headers()["content-type"], "application/problem+json");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.body(), first.body());
}

#[tokio::test]
async fn keys_are_scoped_to_the_warehouse() {
    // GIVEN an invite created by one warehouse under a key
    let kit = two_warehouses();
    let first = handle(&kit.services, keyed(BODY, "shared-key")).await;
    // WHEN another warehouse uses the same key and body
    let other = handle(
        &kit.services,
        post_with(BODY, OTHER_KEY, Some("shared-key")),
    )
    .await;
    // THEN it gets an invite of its own, not a replay
    assert_eq!(other.status(), StatusCode::CREATED);
    assert!(!other.headers().contains_key("idempotent-replayed"));
    assert_ne!(json(&other)["id"], json(&first)["id"]);
    assert_eq!(invites(&kit).await, 2);
}

#[tokio::test]
async fn a_key_kept_past_24_hours_is_a_new_key() {
    // GIVEN an invite created under a key, a day ago
    let kit = TestKit::new();
    let first = handle(&kit.services, keyed(BODY, "k-7")).await;
    kit.clock.advance(24 * 3600);
    // WHEN the key comes again with another body
    let resp = handle(
        &kit.services,
        keyed(r#"{"cart":"acme","merchant_email":"n@shop.test"}"#, "k-7"),
    )
    .await;
    // THEN it runs as new
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_ne!(json(&resp)["id"], json(&first)["id"]);
    assert_eq!(kit.mailer.messages().len(), 2);
}

#[tokio::test]
async fn an_invalid_key_is_422_and_nothing_runs() {
    // GIVEN keys that are empty, too long, or not printable ASCII
    let kit = TestKit::new();
    let long = "k".repeat(256);
    for key in ["", long.as_str(), "tab\there"] {
        // WHEN a POST carries one
        let resp = handle(&kit.services, keyed(BODY, key)).await;
        // THEN 422 invalid-idempotency-key
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{key:?}");
        assert_eq!(
            problem(&resp),
            "urn:cartlink:problem:invalid-idempotency-key"
        );
    }
    assert_eq!(invites(&kit).await, 0);
}

#[tokio::test]
async fn a_post_without_a_key_behaves_as_before() {
    // GIVEN the same body posted twice without a key
    let kit = TestKit::new();
    let a = handle(&kit.services, post_with(BODY, TEST_API_KEY, None)).await;
    let b = handle(&kit.services, post_with(BODY, TEST_API_KEY, None)).await;
    // THEN two invites, two emails
    assert_eq!(
        (a.status(), b.status()),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert_eq!(invites(&kit).await, 2);
    assert_eq!(kit.mailer.messages().len(), 2);
}

#[tokio::test]
async fn the_invite_after_the_hourly_limit_is_429_until_the_hour_ends() {
    // GIVEN a limit of 2 invites per warehouse per hour, 10 minutes into an hour
    let mut kit = TestKit::new();
    kit.services.config.limits.invites_per_warehouse_per_hour = 2;
    let into_hour = kit.services.clock.now().0.rem_euclid(3600);
    kit.clock.advance(600 - into_hour);
    for n in 0..2 {
        let body = format!(r#"{{"cart":"acme","merchant_email":"m{n}@shop.test"}}"#);
        let resp = handle(&kit.services, post_with(&body, TEST_API_KEY, None)).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    // WHEN a third is asked
    let resp = handle(&kit.services, post_with(BODY, TEST_API_KEY, None)).await;
    // THEN 429 rate-limited, Retry-After to the end of the hour, nothing made or sent
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(problem(&resp), "urn:cartlink:problem:rate-limited");
    assert_eq!(resp.headers()["retry-after"], "3000");
    assert_eq!(invites(&kit).await, 2);
    assert_eq!(kit.mailer.messages().len(), 2);
    // AND in the next hour it is made
    kit.clock.advance(3000);
    let resp = handle(&kit.services, post_with(BODY, TEST_API_KEY, None)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn two_warehouses_together_reach_the_limit_of_one_address() {
    // GIVEN a limit of 3 emails per address per day
    let mut kit = two_warehouses();
    kit.services.config.limits.emails_per_address_per_day = 3;
    // WHEN two warehouses invite the same merchant, written differently, four times
    let bodies = [
        (TEST_API_KEY, "m@shop.test"),
        (OTHER_KEY, "M@Shop.TEST"),
        (TEST_API_KEY, "m@SHOP.test"),
        (OTHER_KEY, "m@shop.test"),
    ];
    let mut statuses = Vec::new();
    for (key, address) in bodies {
        let body = format!(r#"{{"cart":"acme","merchant_email":"{address}"}}"#);
        statuses.push(
            handle(&kit.services, post_with(&body, key, None))
                .await
                .status(),
        );
    }
    // THEN the fourth is 429 and the address got three emails
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(kit.mailer.messages().len(), 3);
}

#[tokio::test]
async fn a_429_is_not_kept_so_a_retry_after_the_window_runs() {
    // GIVEN a limit of 1 invite per hour, used
    let mut kit = TestKit::new();
    kit.services.config.limits.invites_per_warehouse_per_hour = 1;
    handle(&kit.services, post_with(BODY, TEST_API_KEY, None)).await;
    let resp = handle(&kit.services, keyed(BODY, "k-8")).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // WHEN the keyed request is retried in the next hour
    kit.clock.advance(3600);
    let resp = handle(&kit.services, keyed(BODY, "k-8")).await;
    // THEN it runs
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(!resp.headers().contains_key("idempotent-replayed"));
}
