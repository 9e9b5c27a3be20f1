//! The whole merchant flow against real peers: `cartlink-local` on the embedded adapters, and
//! oidc-provider (a strict OAuth 2.0 server) as the generic cart. Plain HTTP with cookie jars.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cartlink_e2e::{at_cart, browser, location, Peers, API_KEY, CART};
use serde_json::{json, Value};
use shared::domain::{InviteId, TokenSet};
use shared::store::{ConnectionStore, SqliteStore};
use shared::vault::{LocalVault, Vault};
use url::Url;

struct Invite {
    id: String,
    setup_url: String,
}

async fn invite(p: &Peers, extra: Value) -> Invite {
    let mut body = json!({"cart": CART, "merchant_email": "merchant@shop.test", "merchant_name": "Alice's Shop"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, v) = p.create_invite(&body).await;
    assert_eq!(status, 201, "{v}");
    Invite {
        id: v["id"].as_str().unwrap().to_owned(),
        setup_url: v["setup_url"].as_str().unwrap().to_owned(),
    }
}

async fn start_grant(b: &reqwest::Client, setup_url: &str) -> String {
    let resp = b.post(format!("{setup_url}/grant")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    location(&resp, setup_url)
}

async fn connections(p: &Peers) -> usize {
    SqliteStore::open(&p.data())
        .unwrap()
        .connection_count()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_merchant_grants_access_and_both_sides_are_told() {
    // GIVEN cartlink and a real OAuth 2.0 cart
    let p = Peers::start();
    // WHEN the warehouse creates an invite
    let inv = invite(&p, json!({"functions": ["orders", "inventory"]})).await;
    // THEN the merchant's email carries the link
    let mails = p.wait_for_emails(1).await;
    assert_eq!(mails[0].to, "merchant@shop.test");
    assert_eq!(
        mails[0].subject,
        "E2E Fulfilment asks for access to your OIDC Cart store"
    );
    let link = mails[0].link(&format!("{}/setup/", p.base)).unwrap();
    assert_eq!(link, inv.setup_url);

    // WHEN the merchant opens it and presses the button
    let b = browser();
    let page = b.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("Grant API Access")
            && page.contains("E2E Fulfilment")
            && page.contains("OIDC Cart")
    );
    let authorize = start_grant(&b, &link).await;
    assert!(authorize.starts_with(&format!("{}/auth?", p.cart_base)));
    // AND signs in and consents at the cart
    let callback = at_cart(
        &b,
        &authorize,
        &format!("{}/oauth/callback/{CART}", p.base),
        false,
    )
    .await;
    assert_eq!(
        p.token_requests().await,
        0,
        "nothing is exchanged before the callback"
    );
    let resp = b.get(&callback).send().await.unwrap();
    // THEN the callback page says "Successful Authorization" and the status turns authorized
    assert_eq!(resp.status(), 200);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Successful Authorization"));
    let status: Value = b
        .get(format!("{link}/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "authorized");
    assert_eq!(p.token_requests().await, 1);

    // AND both confirmations arrive
    let mails = p.wait_for_emails(3).await;
    assert_eq!(mails.len(), 3, "invite + two confirmations");
    let to: Vec<&str> = mails[1..].iter().map(|m| m.to.as_str()).collect();
    assert!(
        to.contains(&"merchant@shop.test") && to.contains(&"ops@e2e-warehouse.test"),
        "{to:?}"
    );

    // AND the data dir holds the tokens nowhere in plain text, while the vault opens them back
    // to exactly what the cart issued
    let issued = p.cart_stats().await["issued"][0].clone();
    let access = issued["access_token"].as_str().unwrap();
    let refresh = issued["refresh_token"].as_str().unwrap();
    let everything = p.data_dir_bytes();
    for secret in [access, refresh] {
        assert!(
            !everything
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "plaintext token on disk"
        );
    }
    let store = SqliteStore::open(&p.data()).unwrap();
    let conn = store
        .connection_for_invite(&InviteId::parse(&inv.id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let vault = LocalVault::open(&p.data()).unwrap();
    let tokens =
        TokenSet::from_plaintext(&vault.open(&conn.context(), &conn.tokens).await.unwrap())
            .unwrap();
    assert_eq!(tokens.access_token.expose(), access);
    assert_eq!(tokens.refresh_token.unwrap().expose(), refresh);
    // AND the log names no token
    let log = p.log();
    assert!(!log.contains(access) && !log.contains(refresh));

    // WHEN the callback is replayed (the popup reloaded)
    let again = b.get(&callback).send().await.unwrap().text().await.unwrap();
    // THEN nothing changes and the page shows the same success
    assert!(again.contains("Successful Authorization"));
    assert_eq!(p.token_requests().await, 1);
    assert_eq!(connections(&p).await, 1);
}

#[tokio::test]
async fn callbacks_that_are_not_this_browsers_grant_store_nothing_and_exchange_nothing() {
    let p = Peers::start();
    let cb_prefix = format!("{}/oauth/callback/{CART}", p.base);
    let victim = browser();
    let attacker = browser();
    let a = invite(&p, json!({})).await;
    let b = invite(&p, json!({})).await;

    // GIVEN the victim's grant, completed at the cart
    let auth_a = start_grant(&victim, &a.setup_url).await;
    let callback_a = at_cart(&victim, &auth_a, &cb_prefix, false).await;
    // AND another grant, for another invite, in another browser
    let auth_b = start_grant(&attacker, &b.setup_url).await;
    let callback_b = at_cart(&attacker, &auth_b, &cb_prefix, false).await;

    // WHEN the victim's browser is sent a callback whose state was minted for the other invite
    let resp = victim.get(&callback_b).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    // AND the victim's callback arrives with no cookie, or with another browser's cookie
    assert_eq!(reqwest::get(&callback_a).await.unwrap().status(), 400);
    assert_eq!(
        attacker.get(&callback_a).send().await.unwrap().status(),
        400
    );
    // AND a callback comes with a state nobody minted
    let forged = callback_a.replace("state=", "state=x");
    assert_eq!(victim.get(&forged).send().await.unwrap().status(), 400);

    // THEN the cart's token endpoint was never called and no connection exists
    assert_eq!(p.token_requests().await, 0);
    assert_eq!(connections(&p).await, 0);
    // AND the real callback still completes in the right browser
    assert_eq!(victim.get(&callback_a).send().await.unwrap().status(), 200);
    assert_eq!(p.token_requests().await, 1);
}

#[tokio::test]
async fn an_invite_that_expires_during_the_grant_and_a_declined_grant_store_nothing() {
    let p = Peers::start();
    let cb_prefix = format!("{}/oauth/callback/{CART}", p.base);

    // GIVEN a grant started and consented at the cart
    let inv = invite(&p, json!({"expires_in_hours": 1})).await;
    let b = browser();
    let auth = start_grant(&b, &inv.setup_url).await;
    let callback = at_cart(&b, &auth, &cb_prefix, false).await;
    // WHEN the invite expires before the callback arrives (time passes: its expiry is now)
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    p.sql()
        .execute(
            "UPDATE invites SET expires_at = ?1 WHERE id = ?2",
            rusqlite::params![now - 1, inv.id],
        )
        .unwrap();
    // THEN the callback says it expired, and nothing is exchanged or stored
    let resp = b.get(&callback).send().await.unwrap();
    assert_eq!(resp.status(), 410);
    assert!(resp.text().await.unwrap().contains("expired"));
    assert_eq!(p.token_requests().await, 0);
    assert_eq!(connections(&p).await, 0);
    // AND the link itself now says when it expired and whom to ask, instead of a grant page
    let resp = b.get(&inv.setup_url).send().await.unwrap();
    assert_eq!(resp.status(), 410);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("This link expired on <strong>")
            && page.contains("ask E2E Fulfilment for a new one."),
        "{page}"
    );
    assert!(!page.contains("Grant API Access"));

    // GIVEN another invite, WHEN the merchant cancels at the cart (error=access_denied)
    let inv = invite(&p, json!({})).await;
    let b = browser();
    let auth = start_grant(&b, &inv.setup_url).await;
    let callback = at_cart(&b, &auth, &cb_prefix, true).await;
    assert!(callback.contains("error=access_denied"));
    let page = b.get(&callback).send().await.unwrap().text().await.unwrap();
    // THEN the page offers to try again, and nothing is exchanged or stored
    assert!(page.contains("Access was not granted") && page.contains("Try again"));
    let status: Value = b
        .get(format!("{}/status", inv.setup_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "declined");
    assert_eq!(p.token_requests().await, 0);
    assert_eq!(connections(&p).await, 0);
}

fn invite_row(p: &Peers, id: &str) -> Vec<String> {
    p.sql()
        .query_row("SELECT * FROM invites WHERE id = ?1", [id], |r| {
            (0..9)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i)
                        .map(|v| format!("{v:?}"))
                })
                .collect()
        })
        .unwrap()
}

#[tokio::test]
async fn links_codes_and_the_warehouse_api_answer_bad_input_clearly() {
    let p = Peers::start();
    let inv = invite(&p, json!({})).await;
    let b = browser();

    // GET and HEAD of a link (a mail scanner) leave the stored invite byte-for-byte unchanged
    let before = invite_row(&p, &inv.id);
    assert_eq!(b.head(&inv.setup_url).send().await.unwrap().status(), 200);
    for _ in 0..3 {
        assert_eq!(reqwest::get(&inv.setup_url).await.unwrap().status(), 200);
    }
    assert_eq!(invite_row(&p, &inv.id), before);

    // An unknown or truncated link lands on the access-code page (a known link whose invite
    // expired, is connected or was withdrawn has its own page instead)
    for bad in [
        format!("{}/setup/{}", p.base, "A".repeat(43)),
        inv.setup_url[..inv.setup_url.len() - 5].to_owned(),
    ] {
        let resp = reqwest::get(&bad).await.unwrap();
        assert_eq!(resp.status(), 404);
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("This link is invalid or incomplete") && html.contains("Access Code")
        );
    }
    // AND the access code from the email opens the grant page
    let code = p.wait_for_emails(1).await[0].access_code().unwrap();
    let page = b
        .post(format!("{}/setup", p.base))
        .form(&[("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Grant API Access"));

    // A wrong API key gets 401 problem+json and stores nothing
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/invites", p.base))
        .bearer_auth("not-the-key")
        .json(&json!({"cart": CART, "merchant_email": "m@shop.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    // Bad JSON and an unknown field get 400 problem+json with a stable type
    for body in [
        "{oops",
        r#"{"cart":"oidc-cart","merchant_email":"m@shop.test","warehouse_id":"wh-other"}"#,
    ] {
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/invites", p.base))
            .bearer_auth(cartlink_e2e::API_KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["type"], "urn:cartlink:problem:invalid-json");
    }
    let n: i64 = p
        .sql()
        .query_row("SELECT COUNT(*) FROM invites", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn the_readme_walk_through_works_with_the_sandbox_cart() {
    // GIVEN the local server (its built-in sandbox cart needs no account)
    let p = Peers::start();
    // WHEN the dev warehouse creates a sandbox invite, as the README's curl does
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/invites", p.base))
        .bearer_auth(cartlink_e2e::DEV_API_KEY)
        .json(&json!({"cart": "sandbox", "merchant_email": "merchant@example.com", "merchant_name": "Demo Merchant"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    let link = v["setup_url"].as_str().unwrap().to_owned();
    // AND the merchant grants at the sandbox's plain HTML login and consent form
    let b = browser();
    let authorize = start_grant(&b, &link).await;
    assert!(authorize.starts_with(&format!("{}/sandbox-cart/authorize?", p.base)));
    let login = b
        .get(&authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("Sign in to Sandbox Cart") && !login.contains("<script"));
    let mut form: Vec<(String, String)> = Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    form.extend([
        ("username".into(), "demo-merchant".into()),
        ("password".into(), "demo".into()),
        ("decision".into(), "allow".into()),
    ]);
    let resp = b
        .post(format!("{}/sandbox-cart/authorize", p.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    let callback = location(&resp, &p.base);
    // THEN the callback says "Successful Authorization" and both confirmations go out
    let page = b.get(&callback).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Successful Authorization"));
    let mails = p.wait_for_emails(3).await;
    assert_eq!(mails.len(), 3);
    assert!(mails
        .iter()
        .any(|m| m.subject == "You gave Dev Warehouse access to your Sandbox Cart store"));
    // AND the warehouse finds the connection and gets its access token, as the README's two
    // curls do
    let dev = cartlink_e2e::DEV_API_KEY;
    let invite_path = format!("/v1/invites/{}", v["id"].as_str().unwrap());
    let (status, inv) = warehouse_get(&p, dev, &invite_path).await;
    assert_eq!(status, 200, "{inv}");
    let conn = inv["connection"]["id"].as_str().unwrap();
    let (status, tokens) = warehouse_get(&p, dev, &format!("/v1/connections/{conn}/tokens")).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["cart"], "sandbox");
    assert!(!tokens["access_token"].as_str().unwrap().is_empty());
}

/// A warehouse API GET with `key`: status and JSON.
async fn warehouse_get(p: &Peers, key: &str, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", p.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn the_warehouse_gets_fresh_tokens_refreshed_once_at_the_cart_however_many_ask() {
    // GIVEN a real OAuth 2.0 cart whose first access token lives 2 s (refreshed ones live an
    // hour) and whose refresh tokens rotate, and a store connected to it
    let p = Peers::start_with_access_ttl(2);
    let inv = invite(&p, json!({})).await;
    let b = browser();
    b.get(&inv.setup_url).send().await.unwrap();
    let authorize = start_grant(&b, &inv.setup_url).await;
    let callback = at_cart(
        &b,
        &authorize,
        &format!("{}/oauth/callback/{CART}", p.base),
        false,
    )
    .await;
    assert_eq!(b.get(&callback).send().await.unwrap().status(), 200);
    // WHEN the warehouse looks its invite up
    let (status, v) = warehouse_get(&p, API_KEY, &format!("/v1/invites/{}", inv.id)).await;
    // THEN it finds the connection
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "authorized");
    let conn = v["connection"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/connections/{conn}/tokens");
    // AND its first access token has expired (the clock of a running server cannot be moved)
    let expires = p
        .sql()
        .query_row(
            "SELECT token_expires_at FROM connections WHERE id = ?1",
            [&conn],
            |r| r.get::<_, i64>(0),
        )
        .unwrap();
    let expired = UNIX_EPOCH + Duration::from_secs(u64::try_from(expires).unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while SystemTime::now() < expired {
        assert!(Instant::now() < deadline, "the token never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // WHEN five ask at once, while its first access token is due for refresh
    let asks = (0..5).map(|_| warehouse_get(&p, API_KEY, &path));
    let answers = futures::future::join_all(asks).await;
    // THEN the cart saw one refresh (after the code exchange), and all five got the refreshed
    // access token, never the refresh token
    assert_eq!(
        p.token_requests().await,
        2,
        "the code exchange and one refresh"
    );
    let issued = p.cart_stats().await["issued"].as_array().unwrap().clone();
    assert_eq!(issued.len(), 2, "the refresh succeeded");
    assert_ne!(issued[1]["access_token"], issued[0]["access_token"]);
    for (status, v) in answers {
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["access_token"], issued[1]["access_token"]);
        assert!(v.get("refresh_token").is_none());
    }
    // AND the refreshed token (good for an hour) is handed out again without a refresh
    let (status, v) = warehouse_get(&p, API_KEY, &path).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["access_token"], issued[1]["access_token"]);
    assert_eq!(p.token_requests().await, 2);
    // AND the connection's view says when it was refreshed
    let (_, shown) = warehouse_get(&p, API_KEY, &format!("/v1/connections/{conn}")).await;
    assert!(
        shown["last_refreshed_at"].as_str().unwrap().ends_with('Z'),
        "{shown}"
    );
    // AND the rotated refresh token is the one stored, sealed
    let store = SqliteStore::open(&p.data()).unwrap();
    let stored = store
        .connection_for_invite(&InviteId::parse(&inv.id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let vault = LocalVault::open(&p.data()).unwrap();
    let tokens =
        TokenSet::from_plaintext(&vault.open(&stored.context(), &stored.tokens).await.unwrap())
            .unwrap();
    assert_eq!(
        tokens.refresh_token.unwrap().expose(),
        issued[1]["refresh_token"].as_str().unwrap()
    );
    // AND the data dir holds the newest refresh token sealed, never in plain text, and the
    // log names none of them
    let everything = p.data_dir_bytes();
    let log = p.log();
    for t in &issued {
        for secret in [&t["access_token"], &t["refresh_token"]] {
            let secret = secret.as_str().unwrap();
            assert!(!everything
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()));
            assert!(!log.contains(secret));
        }
    }
    // AND another warehouse's key, or none, gets nothing
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", p.base))
        .bearer_auth("not-a-key")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
