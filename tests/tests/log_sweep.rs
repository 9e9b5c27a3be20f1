//! The local server's whole log after every kind of flow a warehouse and a merchant run (a
//! store onboarded through the admin API, an invite resent, a grant, a token fetched, a webhook
//! endpoint and message, a disconnect), swept for personal data and secrets: no email address
//! and none of the secrets the flows handed out or that passed by (the grant's state, code and
//! PKCE verifier, the access token, the refresh token the cart issued) appear in any line.

use cartlink_e2e::{Peers, Receiver, ADMIN_KEY, API_KEY, CART};
use serde_json::{json, Value};

async fn call(
    p: &Peers,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", p.base))
        .bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

/// Every `local@domain.tld` in `text`.
fn email_addresses(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || "\"'<>(),;=[]{}".contains(c))
        .filter(|w| {
            let Some((local, domain)) = w.split_once('@') else {
                return false;
            };
            !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_address_finder_finds_addresses_and_nothing_else() {
    assert_eq!(
        email_addresses(r#"sent to="m.x@shop.test" at 10:00, id=inv-1 user@localhost"#),
        vec!["m.x@shop.test".to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_log_line_of_every_flow_holds_an_address_or_a_secret() {
    let p = Peers::start();
    let mut secrets: Vec<String> = Vec::new();
    // GIVEN a warehouse onboarded through the admin API, with a minted key, inviting a merchant
    call(
        &p,
        ADMIN_KEY,
        reqwest::Method::POST,
        "/admin/v1/warehouses",
        Some(json!({"id": "wh-sweep", "display_name": "Sweep Ltd", "notify_email": "ops.sweep@wh.test"})),
    )
    .await;
    let key = call(
        &p,
        ADMIN_KEY,
        reqwest::Method::POST,
        "/admin/v1/warehouses/wh-sweep/keys",
        Some(json!({})),
    )
    .await;
    let minted = key["key"].as_str().unwrap().to_owned();
    secrets.push(minted.clone());
    let invite = call(
        &p,
        &minted,
        reqwest::Method::POST,
        "/v1/invites",
        Some(json!({"cart": CART, "merchant_email": "sweep.one@shop.test"})),
    )
    .await;
    secrets.push(
        invite["setup_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned(),
    );
    // AND that invite resent (a new link and code)
    let resent = call(
        &p,
        &minted,
        reqwest::Method::POST,
        &format!("/v1/invites/{}/resend", invite["id"].as_str().unwrap()),
        None,
    )
    .await;
    secrets.push(
        resent["setup_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned(),
    );
    // AND a webhook endpoint of the dev warehouse, and a merchant who connects
    let r = Receiver::start();
    let endpoint = call(
        &p,
        API_KEY,
        reqwest::Method::POST,
        "/v1/webhooks/endpoints",
        Some(json!({"url": r.url})),
    )
    .await;
    secrets.push(endpoint["secret"].as_str().unwrap().to_owned());
    r.control(json!({"secrets": [endpoint["secret"]]})).await;
    let merchant = p.connect_merchant_seen("sweep.two@shop.test").await;
    let connection = merchant.connection.clone();
    secrets.extend([merchant.state, merchant.code, merchant.verifier]);
    // AND its token fetched, then the store disconnected
    let tokens = call(
        &p,
        API_KEY,
        reqwest::Method::GET,
        &format!("/v1/connections/{connection}/tokens"),
        None,
    )
    .await;
    secrets.push(tokens["access_token"].as_str().unwrap().to_owned());
    call(
        &p,
        API_KEY,
        reqwest::Method::DELETE,
        &format!("/v1/connections/{connection}"),
        None,
    )
    .await;
    r.wait_until(20, |log| {
        log.iter().any(|d| d["type"] == "connection.disconnected")
    })
    .await;
    for mail in p.outbox() {
        if let Some(code) = mail.access_code() {
            secrets.push(code);
        }
    }
    // AND every token the cart issued, the refresh tokens cartlink never hands out among them
    let issued = p.cart_stats().await["issued"].clone();
    let refresh_tokens: Vec<String> = issued
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["refresh_token"].as_str().map(str::to_owned))
        .collect();
    assert!(
        !refresh_tokens.is_empty(),
        "the cart issued refresh tokens: {issued}"
    );
    secrets.extend(refresh_tokens);
    // WHEN every log line is swept (the lines the service logged; the start banner's example
    // command, printed to the terminal, is not one)
    let log: String = p
        .log()
        .lines()
        .filter(|l| l.starts_with("20"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(log.lines().count() > 20, "the flows logged: {log}");
    // THEN no line holds an email address
    assert_eq!(email_addresses(&log), Vec::<String>::new(), "{log}");
    // AND none of the secrets handed out
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret in the log: {log}");
    }
}
