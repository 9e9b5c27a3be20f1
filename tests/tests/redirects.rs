//! No open redirector (B8 of the security checklist): every route kind, asked with the
//! parameters other services redirect by (`next`, `return_to`, `redirect_uri`,
//! `success_call_back`, …) pointing at another site, answers no redirect there. Our own
//! redirects go to the configured cart (a grant), the cart's documented finish URL, or a
//! store's own host (checked in `shared/src/service/integration`).

use cartlink_e2e::{browser, Peers, CART};
use serde_json::json;

const EVIL: &str = "https://evil.example/landing";

/// The redirect-shaped parameters, each naming the other site.
fn lures() -> String {
    [
        "next",
        "return_to",
        "returnTo",
        "redirect",
        "redirect_uri",
        "redirect_url",
        "url",
        "continue",
        "success_call_back",
        "amazon_callback_uri",
        "finish_url",
    ]
    .iter()
    .map(|k| {
        format!(
            "{k}={}",
            url::form_urlencoded::byte_serialize(EVIL.as_bytes()).collect::<String>()
        )
    })
    .collect::<Vec<_>>()
    .join("&")
}

#[tokio::test(flavor = "multi_thread")]
async fn no_route_redirects_to_a_site_a_request_names() {
    // GIVEN the local server and a real setup link
    let p = Peers::start();
    let (status, created) = p
        .create_invite(&json!({"cart": CART, "merchant_email": "lure@shop.test"}))
        .await;
    assert_eq!(status, 201, "{created}");
    let token = created["setup_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let b = browser();
    let lures = lures();
    let gets = [
        "/setup".to_owned(),
        format!("/setup/{token}"),
        format!("/setup/{token}/status"),
        "/setup/not-a-link".to_owned(),
        "/manage".to_owned(),
        "/manage/not-a-link".to_owned(),
        format!("/oauth/callback/{CART}"),
        format!("/oauth/return/{CART}"),
        format!("/oauth/identity/{CART}/nonce"),
        "/v1/invites".to_owned(),
    ];
    let posts = [
        format!("/setup/{token}/grant"),
        "/setup".to_owned(),
        "/manage".to_owned(),
        "/manage/not-a-link/withdraw".to_owned(),
    ];
    let mut answers = Vec::new();
    for path in &gets {
        // WHEN each route is asked with the lures in its query (and a form, for posts)
        let resp = b
            .get(format!("{}{path}?{lures}", p.base))
            .send()
            .await
            .unwrap();
        answers.push((format!("GET {path}"), resp));
    }
    for path in &posts {
        let resp = b
            .post(format!("{}{path}?{lures}", p.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(format!(
                "{lures}&code=ABCDE-FGHJK&email=lure%40shop.test&confirm=yes"
            ))
            .send()
            .await
            .unwrap();
        answers.push((format!("POST {path}"), resp));
    }
    // THEN no answer redirects to the site the lures name; the grant's goes to the cart
    let mut redirects = 0;
    for (what, resp) in &answers {
        if let Some(location) = resp.headers().get("location") {
            redirects += 1;
            let location = location.to_str().unwrap();
            assert!(!location.contains("evil.example"), "{what} -> {location}");
            if what.ends_with("/grant") {
                assert!(location.starts_with(&p.cart_base), "{what} -> {location}");
            }
        }
        assert!(
            !resp.status().is_server_error(),
            "{what}: {}",
            resp.status()
        );
    }
    assert!(redirects >= 1, "the grant redirects to the cart");
}
