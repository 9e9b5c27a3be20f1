//! Reconnect on the local server (SQLite, local key, outbox) with oidc-provider as the cart:
//! `POST /v1/connections/{id}/reconnect`, and the reconnect a refused refresh starts by itself;
//! granting the re-authorization invite renews the same connection.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cartlink_e2e::{
    at_cart, browser, location, Email, Peers, API_KEY, CART, CLIENT_ID, CLIENT_SECRET, DEV_API_KEY,
};
use serde_json::{json, Value};

/// One warehouse API call with `key`, and an `Idempotency-Key` when given; answers (status,
/// body).
async fn call(
    p: &Peers,
    key: &str,
    method: reqwest::Method,
    path: &str,
    idempotency: Option<&str>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", p.base))
        .bearer_auth(key);
    if let Some(k) = idempotency {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn get(p: &Peers, path: &str) -> (u16, Value) {
    call(p, API_KEY, reqwest::Method::GET, path, None).await
}

async fn reconnect(p: &Peers, key: &str, id: &str, idempotency: Option<&str>) -> (u16, Value) {
    let path = format!("/v1/connections/{id}/reconnect");
    call(p, key, reqwest::Method::POST, &path, idempotency).await
}

/// The merchant grants the invite behind `setup_url` at the cart, in a browser of their own.
async fn grant(p: &Peers, setup_url: &str) {
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
}

/// An invite granted at the cart; answers (invite id, connection id).
async fn connected(p: &Peers) -> (String, String) {
    let (status, v) = p
        .create_invite(&json!({"cart": CART, "merchant_email": "merchant@shop.test"}))
        .await;
    assert_eq!(status, 201, "{v}");
    grant(p, v["setup_url"].as_str().unwrap()).await;
    let id = v["id"].as_str().unwrap().to_owned();
    let (_, invite) = get(p, &format!("/v1/invites/{id}")).await;
    (id, invite["connection"]["id"].as_str().unwrap().to_owned())
}

/// The outbox's messages of `kind`.
fn of_kind(p: &Peers, kind: &str) -> Vec<Email> {
    p.outbox().into_iter().filter(|m| m.kind == kind).collect()
}

/// Waits (up to 10 s) until the outbox holds `n` messages of `kind`.
async fn wait_for_kind(p: &Peers, kind: &str, n: usize) -> Vec<Email> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = of_kind(p, kind);
        if found.len() >= n || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The merchant revokes, at the cart, the last refresh token it issued (RFC 7009).
async fn revoke_refresh_token(p: &Peers) {
    let issued = p.cart_stats().await["issued"].as_array().unwrap().clone();
    let refresh = issued.last().unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = reqwest::Client::new()
        .post(format!("{}/token/revocation", p.cart_base))
        .form(&[
            ("token", refresh.as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

/// Waits until the connection's access token has expired (the clock of a running server
/// cannot be moved).
async fn until_expired(p: &Peers, connection: &str) {
    let expires = p
        .sql()
        .query_row(
            "SELECT token_expires_at FROM connections WHERE id = ?1",
            [connection],
            |r| r.get::<_, i64>(0),
        )
        .unwrap();
    let expired = UNIX_EPOCH + Duration::from_secs(u64::try_from(expires).unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while SystemTime::now() < expired {
        assert!(Instant::now() < deadline, "the token never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_refused_refresh_emails_one_reconnect_invite_that_renews_the_same_connection() {
    // GIVEN a connection whose first access token lives 2 s, and whose refresh token the
    // merchant revoked at the cart
    let p = Peers::start_with_access_ttl(2);
    let (invite_id, conn) = connected(&p).await;
    revoke_refresh_token(&p).await;
    until_expired(&p, &conn).await;
    let tokens = format!("/v1/connections/{conn}/tokens");
    // WHEN the warehouse asks for its token five times at once, then twice more
    let asks = (0..5).map(|_| get(&p, &tokens));
    let mut answers = futures::future::join_all(asks).await;
    answers.push(get(&p, &tokens).await);
    answers.push(get(&p, &tokens).await);
    // THEN every answer is needs-reauthorization
    for (status, v) in &answers {
        assert_eq!(*status, 409, "{v}");
        assert_eq!(v["type"], "urn:cartlink:problem:needs-reauthorization");
    }
    // AND (both are sent before the refused answer) the merchant got exactly one reconnect
    // email, and the warehouse its one notice
    let reconnects = of_kind(&p, "reconnect_invite");
    assert_eq!(reconnects.len(), 1, "{reconnects:?}");
    assert_eq!(of_kind(&p, "reauthorization_needed").len(), 1);
    let mail = &reconnects[0];
    assert_eq!(mail.to, "merchant@shop.test");
    assert!(
        mail.text.contains("keeps the existing connection"),
        "{}",
        mail.text
    );
    // AND the original invite's history records the reconnect request, naming the new invite
    let (_, events) = get(&p, &format!("/v1/invites/{invite_id}/events")).await;
    let requested: Vec<&Value> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "reconnect_requested")
        .collect();
    assert_eq!(requested.len(), 1, "{events}");

    // WHEN the merchant grants the reconnect invite from the email
    let link = mail.link(&format!("{}/setup/", p.base)).unwrap();
    grant(&p, &link).await;
    // THEN the same connection is active again and serves the new access token
    let (status, shown) = get(&p, &format!("/v1/connections/{conn}")).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["status"], "active");
    let issued = p.cart_stats().await["issued"].as_array().unwrap().clone();
    let (status, served) = get(&p, &tokens).await;
    assert_eq!(status, 200, "{served}");
    assert_eq!(
        served["access_token"],
        issued.last().unwrap()["access_token"]
    );
    // AND no second connection was made; the reconnect invite leads to the same one
    let rows: i64 = p
        .sql()
        .query_row("SELECT COUNT(*) FROM connections", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
    let (_, reconnect_invite) = get(&p, &format!("/v1/invites/{}", mail.invite_id)).await;
    assert_eq!(reconnect_invite["connection"]["id"], conn.as_str());
    // AND both confirmations of the reconnect invite went out
    let confirmations = wait_for_kind(&p, "merchant_confirmation", 2).await;
    assert!(confirmations.iter().any(|m| m.invite_id == mail.invite_id));
}

#[tokio::test]
async fn the_warehouse_asks_for_a_reconnect_and_retries_answer_the_same_invite() {
    // GIVEN a connection
    let p = Peers::start();
    let (invite_id, conn) = connected(&p).await;
    // WHEN the warehouse asks for a reconnect under an Idempotency-Key
    let (status, first) = reconnect(&p, API_KEY, &conn, Some("rc-1")).await;
    // THEN it is a 201 with the invite and the connection it renews
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["connection_id"], conn.as_str());
    assert_eq!(first["status"], "emailed");
    assert!(first["setup_url"].as_str().unwrap().starts_with(&p.base));
    // AND (sent before the answer) the merchant got one email that says it renews the
    // existing connection
    let mails = of_kind(&p, "reconnect_invite");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "merchant@shop.test");
    assert!(
        mails[0].subject.starts_with("Renew "),
        "{}",
        mails[0].subject
    );
    assert!(mails[0].text.contains("keeps the existing connection"));
    assert_eq!(mails[0].invite_id, first["id"].as_str().unwrap());

    // WHEN the same request is replayed under its key, and asked again without one
    let (replay_status, replay) = reconnect(&p, API_KEY, &conn, Some("rc-1")).await;
    let (again_status, again) = reconnect(&p, API_KEY, &conn, None).await;
    // THEN the replay is the stored answer, and the new request answers the same open invite
    assert_eq!((replay_status, &replay), (201, &first));
    assert_eq!(again_status, 201, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["connection_id"], conn.as_str());
    // AND nothing more was emailed, and the history holds one reconnect request
    assert_eq!(of_kind(&p, "reconnect_invite").len(), 1);
    let (_, events) = get(&p, &format!("/v1/invites/{invite_id}/events")).await;
    let requested = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "reconnect_requested")
        .count();
    assert_eq!(requested, 1, "{events}");
}

#[tokio::test]
async fn another_warehouses_connection_is_not_found_and_a_disconnected_one_is_a_conflict() {
    // GIVEN a connection of the e2e warehouse
    let p = Peers::start();
    let (_, conn) = connected(&p).await;
    // WHEN another warehouse asks to reconnect it, and to reconnect an id nobody was given
    let theirs = reconnect(&p, DEV_API_KEY, &conn, None).await;
    let nobodys = reconnect(
        &p,
        DEV_API_KEY,
        "con-0000000000000000000000000000000000000000",
        None,
    )
    .await;
    // THEN both are the same 404
    assert_eq!(theirs.0, 404, "{}", theirs.1);
    assert_eq!(theirs, nobodys);
    assert_eq!(theirs.1["type"], "urn:cartlink:problem:not-found");
    // WHEN its own warehouse disconnects it and then asks to reconnect it
    let path = format!("/v1/connections/{conn}");
    let (status, _) = call(&p, API_KEY, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 200);
    let (status, v) = reconnect(&p, API_KEY, &conn, None).await;
    // THEN it is a 409 connection-disconnected, and no reconnect email went out
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["type"], "urn:cartlink:problem:connection-disconnected");
    assert!(of_kind(&p, "reconnect_invite").is_empty());
}

#[tokio::test]
async fn a_reconnect_granted_after_a_disconnect_stores_no_tokens() {
    // GIVEN a reconnect invite the merchant has, then the connection disconnected
    let p = Peers::start();
    let (_, conn) = connected(&p).await;
    let (status, v) = reconnect(&p, API_KEY, &conn, None).await;
    assert_eq!(status, 201, "{v}");
    let path = format!("/v1/connections/{conn}");
    assert_eq!(
        call(&p, API_KEY, reqwest::Method::DELETE, &path, None)
            .await
            .0,
        200
    );
    // WHEN the merchant grants the reconnect invite
    let b = browser();
    let setup_url = v["setup_url"].as_str().unwrap();
    let resp = b.post(format!("{setup_url}/grant")).send().await.unwrap();
    let callback = at_cart(
        &b,
        &location(&resp, setup_url),
        &format!("{}/oauth/callback/{CART}", p.base),
        false,
    )
    .await;
    let answer = b.get(&callback).send().await.unwrap();
    // THEN the callback is refused, no connection row holds tokens, and the token API is 404
    assert_ne!(answer.status().as_u16(), 200);
    let rows: i64 = p
        .sql()
        .query_row("SELECT COUNT(*) FROM connections", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
    assert_eq!(get(&p, &format!("{path}/tokens")).await.0, 404);
}

/// One run of the `cartlink` CLI with the e2e warehouse's key: (exit code, stdout, stderr).
fn cartlink(p: &Peers, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(cartlink_e2e::cli_binary())
        .args(args)
        .env("CARTLINK_URL", &p.base)
        .env("CARTLINK_API_KEY", API_KEY)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test]
async fn the_cli_reconnects_a_connection_and_explains_a_disconnected_one() {
    // GIVEN a connection
    let p = Peers::start();
    let (_, conn) = connected(&p).await;
    // WHEN the operator asks for a reconnect with the CLI
    let (code, out, err) = cartlink(&p, &["connections", "reconnect", &conn]);
    // THEN it succeeds and shows the invite with the connection it renews and its link
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("connection_id") && out.contains(&conn),
        "{out}"
    );
    assert!(out.contains(&format!("{}/setup/", p.base)), "{out}");
    // WHEN the connection is disconnected and the operator asks again
    assert_eq!(cartlink(&p, &["connections", "disconnect", &conn]).0, 0);
    let (code, _, err) = cartlink(&p, &["connections", "reconnect", &conn]);
    // THEN it fails with the problem and a hint on what to do
    assert_ne!(code, 0);
    assert!(err.contains("connection-disconnected"), "{err}");
    assert!(err.contains("hint: "), "{err}");
}
