//! One redemption per code, end to end. A slow cart (oidc-provider whose token endpoint answers
//! after 800 ms) and one callback URL loaded many times at once, or reloaded while the first
//! load waits: the code goes to the cart once, whatever instance each load reaches. And a claim
//! whose holder is killed mid-exchange lapses, and the merchant retries from the grant page.
//! On the local server (cartlink-local on SQLite) and on the AWS adapters (moto, two
//! oauth-callback instances).

use std::future::Future;
use std::time::{Duration, Instant};

use cartlink_e2e::aws::{callback, consent, invoke, World};
use cartlink_e2e::aws_ops::as_handler;
use cartlink_e2e::{at_cart, browser, location, Peers, API_KEY, CART};
use futures::future::join_all;
use serde_json::{json, Value};
use shared::domain::InviteId;
use shared::service::Services;

/// How long the cart takes to answer a token request.
const TOKEN_DELAY_MS: u32 = 800;

/// How one callback URL is loaded.
#[derive(Clone, Copy, Debug)]
enum Loads {
    /// This many loads at once.
    Together(usize),
    /// A load, and a reload 200 ms after it, while the first still waits for the cart.
    Reload,
}

/// The cases of the acceptance: 2, 6 and 20 simultaneous loads, and a reload.
const CASES: [Loads; 4] = [
    Loads::Together(2),
    Loads::Together(6),
    Loads::Together(20),
    Loads::Reload,
];

/// Runs the loads, `load(n)` being the n-th; answers each one's status and page.
async fn run<F, Fut>(loads: Loads, load: F) -> Vec<(u16, String)>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = (u16, String)>,
{
    match loads {
        Loads::Together(n) => join_all((0..n).map(&load)).await,
        Loads::Reload => {
            let (first, reload) = tokio::join!(load(0), async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                load(1).await
            });
            vec![first, reload]
        }
    }
}

/// Every page shows the grant's success, or says it is almost done; none shows a failure.
fn assert_success_or_almost_done(loads: Loads, pages: &[(u16, String)]) {
    for (status, page) in pages {
        let success = *status == 200 && page.contains("Successful Authorization");
        let almost_done = *status == 202 && page.contains("Almost done");
        assert!(success || almost_done, "{loads:?}: {status} {page}");
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An invite for `merchant`, granted in a fresh browser up to the cart's redirect back:
/// answers the invite id, its link, the browser and the callback URL (not yet loaded).
async fn consented_locally(p: &Peers, merchant: &str) -> (String, String, reqwest::Client, String) {
    let (status, v) = p
        .create_invite(&json!({"cart": CART, "merchant_email": merchant}))
        .await;
    assert_eq!(status, 201, "{v}");
    let link = v["setup_url"].as_str().unwrap().to_owned();
    let b = browser();
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
    (v["id"].as_str().unwrap().to_owned(), link, b, callback)
}

async fn load_locally(b: &reqwest::Client, url: &str) -> (u16, String) {
    let resp = b.get(url).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn grant_status(b: &reqwest::Client, link: &str) -> String {
    let v: Value = b
        .get(format!("{link}/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["status"].as_str().unwrap().to_owned()
}

fn local_connections(p: &Peers, invite: &str) -> i64 {
    p.sql()
        .query_row(
            "SELECT COUNT(*) FROM connections WHERE invite_id = ?1",
            [invite],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test]
async fn loads_of_one_callback_at_once_or_reloaded_redeem_its_code_once_on_the_local_server() {
    // GIVEN cartlink-local and a cart whose token endpoint answers after 800 ms
    let p = Peers::start_with_token_delay(TOKEN_DELAY_MS);
    let mut granted = Vec::new();
    for (i, loads) in CASES.into_iter().enumerate() {
        // AND a grant consented at the cart, its callback not loaded yet
        let merchant = format!("merchant-{i}@shop.test");
        let (id, link, b, url) = consented_locally(&p, &merchant).await;
        let before = p.token_requests().await;
        // WHEN the merchant's browser loads the callback URL that way
        let pages = run(loads, |_| load_locally(&b, &url)).await;
        // THEN the cart saw one token request, and every page shows success or almost done
        assert_eq!(p.token_requests().await - before, 1, "{loads:?}");
        assert_success_or_almost_done(loads, &pages);
        // AND the invite has one connection, and the grant page says so
        assert_eq!(local_connections(&p, &id), 1, "{loads:?}");
        assert_eq!(grant_status(&b, &link).await, "authorized");
        granted.push((id, merchant));
    }
    // AND each merchant and the warehouse got one confirmation of each grant
    let mails = p.wait_for_emails(CASES.len() * 3).await;
    for (id, merchant) in &granted {
        let to_merchant = mails
            .iter()
            .filter(|m| &m.to == merchant && m.subject.starts_with("You gave"))
            .count();
        let to_warehouse = mails
            .iter()
            .filter(|m| m.to == "ops@e2e-warehouse.test" && m.text.contains(id.as_str()))
            .count();
        assert_eq!((to_merchant, to_warehouse), (1, 1), "{id}");
    }
}

#[tokio::test]
async fn a_claim_whose_holder_was_killed_lapses_and_the_merchant_retries_from_the_grant_page() {
    // GIVEN cartlink-local, a cart whose token endpoint answers after 800 ms, and a grant
    // consented at the cart
    let mut p = Peers::start_with_token_delay(TOKEN_DELAY_MS);
    let (id, link, b, url) = consented_locally(&p, "merchant@shop.test").await;
    // WHEN the callback is loaded and cartlink-local is killed while the code is at the cart
    let first = tokio::spawn({
        let (b, url) = (b.clone(), url.clone());
        async move { b.get(&url).send().await }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while p.token_requests().await == 0 {
        assert!(Instant::now() < deadline, "the code never reached the cart");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    p.kill_cartlink();
    assert!(
        first.await.unwrap().is_err(),
        "the load died with the server"
    );
    // AND it is started again on the same data dir
    p.restart_cartlink();
    // THEN while the claim lasts the grant page keeps waiting
    assert_eq!(grant_status(&b, &link).await, "waiting");
    // WHEN the claim deadline passes (time passes: the deadline is now)
    let lapsed = p
        .sql()
        .execute(
            "UPDATE attempts SET claim_until = ?1 WHERE invite_id = ?2 AND status = 'exchanging'",
            rusqlite::params![now(), id],
        )
        .unwrap();
    assert_eq!(lapsed, 1, "the killed load held the claim");
    // THEN the grant page offers a retry, and a reload of the old callback shows the failure
    // without calling the cart
    assert_eq!(grant_status(&b, &link).await, "failed");
    let (status, page) = load_locally(&b, &url).await;
    assert_eq!(status, 502);
    assert!(page.contains("The connection did not complete"), "{page}");
    assert_eq!(p.token_requests().await, 1);
    // WHEN the merchant retries from the grant page and consents again
    let resp = b.post(format!("{link}/grant")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let retry = at_cart(
        &b,
        &location(&resp, &link),
        &format!("{}/oauth/callback/{CART}", p.base),
        false,
    )
    .await;
    let (status, page) = load_locally(&b, &retry).await;
    // THEN the retry completes, with one connection
    assert_eq!(status, 200);
    assert!(page.contains("Successful Authorization"));
    assert_eq!(p.token_requests().await, 2);
    assert_eq!(local_connections(&p, &id), 1);
    assert_eq!(grant_status(&b, &link).await, "authorized");
}

fn text(resp: &shared::web::Response) -> String {
    String::from_utf8_lossy(resp.body()).into_owned()
}

/// Creates an invite for `merchant` through warehouse-api; answers its id and link token.
async fn aws_invite(svc: &Services, merchant: &str) -> (InviteId, String) {
    let body = json!({"cart": CART, "merchant_email": merchant}).to_string();
    let auth = format!("Bearer {API_KEY}");
    let resp = invoke(
        |req| warehouse_api::handle(svc, req),
        "POST",
        "/v1/invites",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &[],
        Some(&body),
    )
    .await;
    assert_eq!(resp.status(), 201, "{}", text(&resp));
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    let token = v["setup_url"].as_str().unwrap().rsplit('/').next().unwrap();
    (
        InviteId::parse(v["id"].as_str().unwrap()).unwrap(),
        token.to_owned(),
    )
}

/// How many connection items the table holds for `invite`.
async fn aws_connections(world: &World, invite: &InviteId) -> usize {
    let scan = aws_sdk_dynamodb::Client::new(&world.sdk)
        .scan()
        .table_name(&world.table)
        .send()
        .await
        .unwrap();
    let attr = |item: &std::collections::HashMap<_, _>, k: &str| {
        item.get(k)
            .and_then(|v: &aws_sdk_dynamodb::types::AttributeValue| v.as_s().ok())
            .cloned()
    };
    scan.items()
        .iter()
        .filter(|i| attr(i, "entity").as_deref() == Some("connection"))
        .filter(|i| attr(i, "invite_id").as_deref() == Some(invite.as_str()))
        .count()
}

#[tokio::test]
async fn loads_of_one_callback_at_once_or_reloaded_redeem_its_code_once_on_the_aws_adapters() {
    // GIVEN the AWS adapters on moto, two oauth-callback instances (each its own services, as
    // two Lambda execution environments), and a cart whose token endpoint answers after 800 ms
    let world = World::with_token_delay(TOKEN_DELAY_MS).await;
    let instances = [world.services(), world.services()];
    let mut granted = Vec::new();
    for (i, loads) in CASES.into_iter().enumerate() {
        // AND a grant consented at the cart, its callback not loaded yet
        let merchant = format!("{i}-{}", world.merchant_email);
        let (id, token) = aws_invite(&instances[0], &merchant).await;
        let c = consent(&instances[0], &world, &token).await;
        let before = world.cart.token_requests().await;
        // WHEN the callback is loaded that way, the loads shared between the two instances
        let pages = run(loads, |n| {
            let svc = &instances[n % 2];
            let c = &c;
            async move {
                let resp = callback(svc, c).await;
                (resp.status().as_u16(), text(&resp))
            }
        })
        .await;
        // THEN the cart saw one token request, and every page shows success or almost done
        assert_eq!(world.cart.token_requests().await - before, 1, "{loads:?}");
        assert_success_or_almost_done(loads, &pages);
        // AND the invite has one connection, and the grant page says so
        assert_eq!(aws_connections(&world, &id).await, 1, "{loads:?}");
        let status = invoke(
            |req| grant_page::handle(&instances[1], req),
            "GET",
            &format!("/setup/{token}/status"),
            &[],
            &[],
            None,
        )
        .await;
        let status: Value = serde_json::from_slice(status.body()).unwrap();
        assert_eq!(status["status"], "authorized");
        granted.push((id, merchant));
    }
    // WHEN the confirmation function gets the table's stream
    let resp = as_handler(confirmation::handle_stream(
        &instances[0],
        world.stream_event().await,
    ))
    .await;
    assert!(resp.batch_item_failures.is_empty());
    // THEN each merchant and the warehouse got one confirmation of each grant
    let to_warehouse = world.emails_to("ops@e2e-warehouse.test").await;
    for (id, merchant) in &granted {
        let to_merchant = world
            .emails_to(merchant)
            .await
            .iter()
            .filter(|(subject, _)| subject.starts_with("You gave"))
            .count();
        let about = to_warehouse
            .iter()
            .filter(|(_, body)| body.contains(id.as_str()))
            .count();
        assert_eq!((to_merchant, about), (1, 1), "{id}");
    }
}
