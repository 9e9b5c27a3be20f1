//! `DELETE /v1/connections/{id}` on the local server (SQLite, local key, outbox) with
//! oidc-provider as the cart: routed beside the token API as the template routes it, the
//! tokens gone from the SQLite file, one revocation, one email in the outbox.

use cartlink_e2e::{at_cart, browser, location, Peers, API_KEY, CART};
use serde_json::{json, Value};

async fn api(p: &Peers, method: reqwest::Method, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .request(method, format!("{}{path}", p.base))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// An invite granted at the cart through the browser; answers the connection's id.
async fn connected(p: &Peers) -> String {
    let (status, v) = p
        .create_invite(&json!({"cart": CART, "merchant_email": "merchant@shop.test"}))
        .await;
    assert_eq!(status, 201, "{v}");
    let setup_url = v["setup_url"].as_str().unwrap();
    let b = browser();
    let resp = b.post(format!("{setup_url}/grant")).send().await.unwrap();
    let callback = at_cart(
        &b,
        &location(&resp, setup_url),
        &format!("{}/oauth/callback/{CART}", p.base),
        false,
    )
    .await;
    assert_eq!(b.get(&callback).send().await.unwrap().status(), 200);
    let (_, invite) = api(
        p,
        reqwest::Method::GET,
        &format!("/v1/invites/{}", v["id"].as_str().unwrap()),
    )
    .await;
    invite["connection"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_disconnect_on_the_local_server_deletes_the_tokens_revokes_once_and_emails_once() {
    // GIVEN a connection on the local server whose token the warehouse can fetch
    let p = Peers::start();
    let id = connected(&p).await;
    let tokens = format!("/v1/connections/{id}/tokens");
    assert_eq!(api(&p, reqwest::Method::GET, &tokens).await.0, 200);
    // WHEN the warehouse disconnects it, twice
    let path = format!("/v1/connections/{id}");
    let first = api(&p, reqwest::Method::DELETE, &path).await;
    let again = api(&p, reqwest::Method::DELETE, &path).await;
    // THEN both answers are 200 with the same body, revoked at the cart
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(first, again);
    assert_eq!(first.1["revocation"], "revoked");
    // AND the token API answers 404, and the SQLite file holds no row of the connection
    assert_eq!(api(&p, reqwest::Method::GET, &tokens).await.0, 404);
    let rows: i64 = p
        .sql()
        .query_row(
            "SELECT COUNT(*) FROM connections WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0);
    // AND the cart was asked once, and the outbox holds one disconnect email
    assert_eq!(p.cart_stats().await["revocations"], 1);
    let mails = p.wait_for_emails(4).await;
    let disconnected: Vec<_> = mails.iter().filter(|m| m.kind == "disconnected").collect();
    assert_eq!(disconnected.len(), 1);
    assert_eq!(disconnected[0].to, "merchant@shop.test");
}
