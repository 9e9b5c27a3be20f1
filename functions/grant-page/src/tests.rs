use http::{HeaderValue, Method, StatusCode};
use shared::domain::InviteId;
use shared::domain::InviteStatus;
use shared::service::invites::NewInvite;
use shared::store::{AttemptStore, InviteStore};
use shared::testing::{new_invite, TestKit};
use shared::web::Request;

use super::handle;

async fn invite_with(kit: &TestKit, merchant_name: Option<&str>) -> (InviteId, String) {
    kit.invite_with(NewInvite {
        merchant_name: merchant_name.map(Into::into),
        expires_in_hours: Some(2),
        ..new_invite("acme")
    })
    .await
}

async fn invite(kit: &TestKit) -> (InviteId, String) {
    invite_with(kit, None).await
}

fn body(resp: &shared::web::Response) -> String {
    String::from_utf8(resp.body().to_vec()).unwrap()
}

fn form_post(path: &str, form: &str) -> Request {
    let mut req = Request::new(Method::POST, path);
    req.headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    req.body = form.to_owned().into();
    req
}

#[tokio::test]
async fn the_grant_page_says_who_asks_for_what_with_one_button() {
    // GIVEN an invite
    let kit = TestKit::new();
    let (_, token) = invite(&kit).await;
    // WHEN the merchant opens the link
    let resp = handle(
        &kit.services,
        Request::new(Method::GET, &format!("/setup/{token}")),
    )
    .await;
    // THEN the page names the warehouse, the cart, what is shared, the promise and the button
    assert_eq!(resp.status(), StatusCode::OK);
    let html = body(&resp);
    for needle in [
        "Test Warehouse",
        "Acme Cart",
        "read your orders",
        "ever sees your password",
        "Grant API Access",
        &format!("/setup/{token}/grant"),
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    // AND it carries the security headers, admitting the cart's origin as a form target
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("form-action 'self' https://auth.acme.test"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
    assert_eq!(resp.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn get_and_head_of_a_link_change_nothing() {
    // GIVEN an invite and its stored state
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    let before = kit.store.invite(&id).await.unwrap().unwrap();
    // WHEN a mail scanner fetches the link with HEAD and GET, and polls the status
    for method in [Method::HEAD, Method::GET, Method::GET] {
        let resp = handle(
            &kit.services,
            Request::new(method.clone(), &format!("/setup/{token}")),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK);
        if method == Method::HEAD {
            assert!(resp.body().is_empty());
        }
    }
    handle(
        &kit.services,
        Request::new(Method::GET, &format!("/setup/{token}/status")),
    )
    .await;
    // THEN the invite is exactly as it was and no attempt exists
    assert_eq!(kit.store.invite(&id).await.unwrap().unwrap(), before);
    assert!(kit.store.latest_attempt(&id).await.unwrap().is_none());
}

/// Opens each link; answers status and page of each.
async fn open_links(kit: &TestKit, tokens: &[&str]) -> Vec<(StatusCode, String)> {
    let mut out = Vec::new();
    for t in tokens {
        let resp = handle(
            &kit.services,
            Request::new(Method::GET, &format!("/setup/{t}")),
        )
        .await;
        out.push((resp.status(), body(&resp)));
    }
    out
}

#[tokio::test]
async fn unknown_and_malformed_links_get_the_same_access_code_page() {
    // GIVEN links nobody issued: a well-formed unknown token, a short one, a truncated real one
    let kit = TestKit::new();
    let (_, token) = invite(&kit).await;
    let unknown = "A".repeat(43);
    let truncated = &token[..token.len() - 5];
    // WHEN each is opened
    let pages = open_links(&kit, &[&unknown, "short", truncated]).await;
    // THEN each gets the access-code page, with the same status and the same words
    for (status, html) in &pages {
        assert_eq!(*status, StatusCode::NOT_FOUND);
        assert!(html.contains("This link is invalid or incomplete"));
        assert!(html.contains("Access Code"));
        assert_eq!(html, &pages[0].1);
    }
}

#[tokio::test]
async fn a_known_link_of_an_expired_invite_says_when_and_whom_to_ask() {
    // GIVEN an invite that expired (2 hours, 1 December 2026 02:00 UTC)
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    kit.clock.advance(2 * 3600);
    // WHEN its link is opened, or its grant form posted
    let (status, html) = open_links(&kit, &[&token]).await.remove(0);
    let post = handle(
        &kit.services,
        form_post(&format!("/setup/{token}/grant"), ""),
    )
    .await;
    // THEN both say it expired on that date and to ask the warehouse, and start nothing
    assert_eq!(status, StatusCode::GONE);
    assert!(
        html.contains("This link expired on <strong>1 December 2026, 02:00 UTC</strong>: ask Test Warehouse for a new one."),
        "{html}"
    );
    assert!(!html.contains("Grant API Access") && !html.contains("Access Code"));
    assert_eq!(post.status(), StatusCode::GONE);
    assert!(body(&post).contains("This link expired on"));
    // AND the answer to the form, shown in the grant page's popup, keeps its opener
    assert_eq!(post.headers()["cross-origin-opener-policy"], "unsafe-none");
    assert_eq!(
        handle(
            &kit.services,
            Request::new(Method::GET, &format!("/setup/{token}"))
        )
        .await
        .headers()["cross-origin-opener-policy"],
        "same-origin-allow-popups"
    );
    assert!(kit.store.latest_attempt(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_known_link_of_a_connected_invite_says_so_with_the_date() {
    // GIVEN an invite whose store was connected an hour after it was made
    let kit = TestKit::new();
    let (_, token) = invite(&kit).await;
    kit.clock.advance(3600);
    let g = kit.start(&token).await;
    kit.callback(
        "acme",
        &[
            ("code", "C"),
            ("state", &g.state),
            shared::testing::ACME_ISS,
        ],
        Some(&g.binding),
    )
    .await
    .unwrap();
    // WHEN the link is opened again, even after the invite would have expired
    kit.clock.advance(3 * 3600);
    let (status, html) = open_links(&kit, &[&token]).await.remove(0);
    // THEN the page says the store is connected, since when, and offers no button
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Your Acme Cart store is already connected"));
    assert!(html
        .contains("You gave Test Warehouse access on <strong>1 December 2026, 01:00 UTC</strong>"));
    assert!(!html.contains("Grant API Access"));
}

#[tokio::test]
async fn a_known_link_of_a_withdrawn_invite_says_it_was_withdrawn() {
    // GIVEN an invite the warehouse withdrew
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    kit.store
        .set_invite_status(&id, InviteStatus::Revoked, None, shared::testing::T0)
        .await
        .unwrap();
    // WHEN its link is opened, its grant form posted, and its status polled
    let (status, html) = open_links(&kit, &[&token]).await.remove(0);
    let post = handle(
        &kit.services,
        form_post(&format!("/setup/{token}/grant"), ""),
    )
    .await;
    let poll = handle(
        &kit.services,
        Request::new(Method::GET, &format!("/setup/{token}/status")),
    )
    .await;
    // THEN each says so, and nothing was started
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("Test Warehouse withdrew this request"));
    assert_eq!(post.status(), StatusCode::GONE);
    assert!(body(&post).contains("withdrew this request"));
    assert_eq!(body(&poll), r#"{"status":"revoked"}"#);
    assert!(kit.store.latest_attempt(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn granting_redirects_to_the_cart_with_a_host_bound_cookie() {
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    let resp = handle(
        &kit.services,
        form_post(&format!("/setup/{token}/grant"), ""),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()["location"].to_str().unwrap();
    assert!(location
        .starts_with("https://auth.acme.test/authorize?response_type=code&client_id=acme-app"));
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-cartlink-grant="));
    for attr in [
        "Path=/",
        "Max-Age=900",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
    ] {
        assert!(cookie.contains(attr), "{attr}");
    }
    assert!(!cookie.contains("Domain"));
    assert!(kit.store.latest_attempt(&id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_grant_form_posted_from_another_site_is_refused() {
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    // GIVEN posts from another site: by fetch metadata, and by Origin from an older browser,
    // and `Origin: null` without fetch metadata (a sandboxed frame elsewhere)
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
        ("origin", "null"),
    ] {
        let mut req = form_post(&format!("/setup/{token}/grant"), "");
        req.headers.insert(name, HeaderValue::from_static(value));
        let resp = handle(&kit.services, req).await;
        // THEN each is refused and nothing is started
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{name}");
    }
    assert!(kit.store.latest_attempt(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn our_own_form_post_passes_although_a_no_referrer_page_sends_origin_null() {
    // GIVEN the post a browser sends from our own grant page (Referrer-Policy: no-referrer
    // makes it say `Origin: null`; fetch metadata says same-origin)
    let kit = TestKit::new();
    let (id, token) = invite(&kit).await;
    let mut req = form_post(&format!("/setup/{token}/grant"), "");
    req.headers
        .insert("origin", HeaderValue::from_static("null"));
    req.headers
        .insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
    // WHEN it arrives
    let resp = handle(&kit.services, req).await;
    // THEN the grant starts
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(kit.store.latest_attempt(&id).await.unwrap().is_some());
}

#[tokio::test]
async fn the_status_endpoint_reports_progress_as_json() {
    let kit = TestKit::new();
    let (_, token) = invite(&kit).await;
    let status = |t: String| {
        let svc = &kit.services;
        async move {
            let resp = handle(
                svc,
                Request::new(Method::GET, &format!("/setup/{t}/status")),
            )
            .await;
            assert_eq!(resp.headers()["content-type"], "application/json");
            let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
            v["status"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(status(token.clone()).await, "ready");
    handle(
        &kit.services,
        form_post(&format!("/setup/{token}/grant"), ""),
    )
    .await;
    assert_eq!(status(token.clone()).await, "waiting");
    assert_eq!(status("B".repeat(43)).await, "invalid");
}

#[tokio::test]
async fn a_typed_access_code_shows_the_grant_page_and_a_wrong_one_says_so() {
    let kit = TestKit::new();
    invite(&kit).await;
    let code = kit.access_code();
    let resp = handle(&kit.services, form_post("/setup", &format!("code={code}"))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(body(&resp).contains("Grant API Access"));
    let resp = handle(&kit.services, form_post("/setup", "code=00000-00000")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(body(&resp).contains("That code did not work"));
}

#[tokio::test]
async fn the_data_island_cannot_be_closed_by_its_values() {
    // GIVEN a value that would close the script element and open markup
    // WHEN it is written into a data island
    let island = super::pages::data_island("x", &serde_json::json!({"w": "</script><b>&"}));
    // THEN every character that could end the element is a JSON escape
    let island = island.into_string();
    assert!(island.contains("\\u003c/script\\u003e\\u003cb\\u003e\\u0026"));
}

#[tokio::test]
async fn a_hostile_warehouse_name_is_written_as_text_on_the_grant_page() {
    for name in shared::testing::HOSTILE_TEXTS {
        // GIVEN a warehouse whose name is markup, and its invite
        let kit = TestKit::with_warehouse_named(name);
        let (_, token) = invite(&kit).await;
        // WHEN the merchant opens the grant page, then its status after a started grant
        let grant = body(
            &handle(
                &kit.services,
                Request::new(Method::GET, &format!("/setup/{token}")),
            )
            .await,
        );
        // THEN the name is there, escaped, and never as markup
        let escaped = maud::html! { (name) }.into_string();
        assert!(grant.contains(&escaped), "{name}: the name is shown");
        assert!(!grant.contains(name), "{name}: written unescaped");
        assert_eq!(
            grant.matches("<script").count(),
            2,
            "{name}: only the island and grant.js"
        );
    }
}

#[tokio::test]
async fn our_assets_are_served_and_nothing_else() {
    let kit = TestKit::new();
    for name in [
        "cartlink.css",
        "grant.js",
        "callback.js",
        "cartlink-mark.svg",
    ] {
        let resp = handle(
            &kit.services,
            Request::new(Method::GET, &format!("/assets/{name}")),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    }
    let resp = handle(
        &kit.services,
        Request::new(Method::GET, "/assets/../../etc/passwd"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// Every `<script>` of a page: each must load our file or be a JSON data island.
fn scripts_are_ours_or_data(html: &str) -> bool {
    html.split("<script").skip(1).all(|tag| {
        let open = &tag[..tag.find('>').unwrap()];
        open.contains("src=\"https://cartlink.test/assets/")
            || open.contains("type=\"application/json\"")
    })
}

#[tokio::test]
async fn every_setup_page_sends_the_security_headers_and_nothing_inline() {
    // GIVEN one page of every kind the grant-page function answers
    let kit = TestKit::new();
    let (_, token) = invite(&kit).await;
    let (revoked_id, revoked) = invite(&kit).await;
    kit.store
        .set_invite_status(
            &revoked_id,
            InviteStatus::Revoked,
            None,
            shared::testing::T0,
        )
        .await
        .unwrap();
    let code = kit.access_code();
    let requests = vec![
        Request::new(Method::GET, &format!("/setup/{token}")),
        Request::new(Method::GET, "/setup"),
        form_post("/setup", &format!("code={code}")),
        form_post("/setup", "code=00000-00000"),
        Request::new(Method::GET, &format!("/setup/{}", "C".repeat(43))),
        Request::new(Method::GET, &format!("/setup/{revoked}")),
        Request::new(Method::PUT, &format!("/setup/{token}")),
        Request::new(Method::GET, "/nope"),
    ];
    let mut statuses = Vec::new();
    for req in requests {
        let resp = handle(&kit.services, req).await;
        statuses.push(resp.status().as_u16());
        let h = resp.headers();
        // THEN each carries the full header set
        let csp = h["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(directive), "{directive} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
        assert!(h["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age="));
        // AND no inline style or script
        let html = body(&resp);
        assert!(!html.contains("style=") && !html.contains("<style"));
        assert!(scripts_are_ours_or_data(&html));
    }
    assert_eq!(statuses, [200, 200, 200, 400, 404, 410, 405, 404]);
}

#[tokio::test]
async fn the_grant_page_shows_the_expiry_the_marks_and_one_button() {
    // GIVEN an invite that works for 2 hours from 1 December 2026 00:00 UTC
    let kit = TestKit::new();
    let (_, token) = invite(&kit).await;
    // WHEN its page is shown
    let html = body(
        &handle(
            &kit.services,
            Request::new(Method::GET, &format!("/setup/{token}")),
        )
        .await,
    );
    // THEN it names the expiry, carries a letter mark for both sides, and has one button
    assert!(html.contains("This link works until <strong>1 December 2026, 02:00 UTC</strong>"));
    assert!(html.contains("aria-hidden=\"true\">T</span>"));
    assert!(html.contains("aria-hidden=\"true\">A</span>"));
    assert_eq!(html.matches("Grant API Access</button>").count(), 1);
    assert_eq!(html.matches("<form").count(), 1);
    // AND the data island gives the script what it says, and nothing secret beyond the link
    let island = html
        .split("id=\"grant-data\">")
        .nth(1)
        .unwrap()
        .split("</script>")
        .next()
        .unwrap();
    let data: serde_json::Value = serde_json::from_str(island).unwrap();
    // (each message whole with its places, filled in by the script as grant.js does)
    let filled = |message: &serde_json::Value| {
        let mut words = message.as_str().unwrap().to_owned();
        for place in ["warehouse", "cart", "date"] {
            words = words.replace(
                &format!("{{{place}}}"),
                data["values"][place].as_str().unwrap(),
            );
        }
        words
    };
    assert_eq!(
        filled(&data["messages"]["success"]["text"]),
        "Test Warehouse can now work with your Acme Cart store. We have emailed you a \
         confirmation. You can close this page."
    );
    assert_eq!(data["origin"], "https://cartlink.test");
    assert_eq!(
        filled(&data["messages"]["expired"]["text"]),
        "This link expired on 1 December 2026, 02:00 UTC: ask Test Warehouse for a new one."
    );
    assert_eq!(
        data["statusUrl"],
        format!("https://cartlink.test/setup/{token}/status")
    );
}

#[test]
fn a_letter_mark_is_stable_per_name_and_decorative() {
    let a = super::pages::letter_mark("Northwind").into_string();
    assert_eq!(a, super::pages::letter_mark("Northwind").into_string());
    assert!(a.contains(">N</span>") && a.contains("aria-hidden=\"true\""));
    assert!(super::pages::letter_mark("<b>")
        .into_string()
        .contains(">B</span>"));
    assert!(super::pages::letter_mark("")
        .into_string()
        .contains(">?</span>"));
}

// ---------------------------------------------------------------- admin integrations (Magento)

fn magento_kit() -> TestKit {
    let mut kit = TestKit::new();
    let mut magento = shared::carts::builtin::get("magento").unwrap();
    magento.credentials = Some(shared::carts::ClientCredentials::new("cartlink", None));
    kit.services.catalog.add(magento);
    kit
}

async fn magento_invite(kit: &TestKit) -> (InviteId, String) {
    kit.invite_with(NewInvite {
        store: Some("https://shop.example.com".into()),
        ..new_invite("magento")
    })
    .await
}

#[tokio::test]
async fn a_magento_grant_page_offers_the_integration_settings_not_a_popup() {
    // GIVEN a Magento invite
    let kit = magento_kit();
    let (id, token) = magento_invite(&kit).await;
    // WHEN the merchant opens the link
    let resp = handle(
        &kit.services,
        Request::new(Method::GET, &format!("/setup/{token}")),
    )
    .await;
    // THEN one button asks for the integration settings, posted to us only, with no popup script
    assert_eq!(resp.status(), StatusCode::OK);
    let html = body(&resp);
    assert!(html.contains("Show my integration settings"));
    assert!(html.contains(&format!(
        "action=\"https://cartlink.test/setup/{token}/grant\""
    )));
    assert!(!html.contains("Grant API Access"));
    assert!(!html.contains("grant.js"));
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.ends_with("form-action 'self'"), "{csp}");
    // AND opening it started nothing
    assert!(kit.store.latest_attempt(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn pressing_it_shows_the_steps_with_this_attempts_two_urls_and_polls() {
    // GIVEN a Magento invite
    let kit = magento_kit();
    let (id, token) = magento_invite(&kit).await;
    // WHEN the merchant presses the button
    let resp = handle(
        &kit.services,
        form_post(&format!("/setup/{token}/grant"), ""),
    )
    .await;
    // THEN the answer is the page itself (no redirect, no cookie: nothing comes back to it)
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("set-cookie").is_none());
    assert!(resp.headers().get("location").is_none());
    let html = body(&resp);
    let attempt = kit
        .store
        .latest_attempt(&id)
        .await
        .unwrap()
        .expect("started");
    assert_eq!(attempt.expires_at.0 - attempt.created_at.0, 3600);
    // AND it shows the numbered steps with the Callback URL and Identity link URL, readable and
    // copyable, each carrying the attempt's nonce
    let nonce_at = html
        .find("https://cartlink.test/oauth/integration/magento/")
        .expect("the callback URL");
    let nonce: String = html[nonce_at + "https://cartlink.test/oauth/integration/magento/".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(
        shared::domain::GrantState::parse(&nonce).unwrap().hash(),
        attempt.state_hash
    );
    for needle in [
        "<ol class=\"steps\">",
        "System › Extensions › Integrations",
        "<label for=\"callback-url\">Callback URL</label>",
        &format!("id=\"callback-url\" type=\"text\" readonly value=\"https://cartlink.test/oauth/integration/magento/{nonce}\""),
        "<label for=\"identity-url\">Identity link URL</label>",
        &format!("id=\"identity-url\" type=\"text\" readonly value=\"https://cartlink.test/oauth/identity/magento/{nonce}\""),
        "data-copy=\"callback-url\"",
        "Activate",
        "integration.js",
        "id=\"integration-data\"",
        &format!("https://cartlink.test/setup/{token}/status"),
        // without JavaScript: a link back to the grant page, which says when it is connected
        &format!("href=\"https://cartlink.test/setup/{token}\""),
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(!html.contains("{callback_url}") && !html.contains("{identity_url}"));
    // AND the status poll waits for the store
    let poll = handle(
        &kit.services,
        Request::new(Method::GET, &format!("/setup/{token}/status")),
    )
    .await;
    assert_eq!(body(&poll), r#"{"status":"waiting"}"#);
}

#[tokio::test]
async fn the_integration_script_is_served_from_our_origin() {
    let kit = TestKit::new();
    let resp = handle(
        &kit.services,
        Request::new(Method::GET, "/assets/integration.js"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(body(&resp).contains("Successful Authorization"));
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn an_integration_form_posted_from_another_site_starts_nothing() {
    let kit = magento_kit();
    let (id, token) = magento_invite(&kit).await;
    let mut req = form_post(&format!("/setup/{token}/grant"), "");
    req.headers
        .insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
    let resp = handle(&kit.services, req).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(kit.store.latest_attempt(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_client_walking_unknown_links_gets_429_and_the_access_code_page() {
    // GIVEN a client that opened as many unknown links as it may
    let kit = TestKit::new();
    let get = |i: u32| {
        let mut req = Request::new(Method::GET, &format!("/setup/{i:0>43}"));
        req.client_ip = Some("203.0.113.7".parse().unwrap());
        req
    };
    for i in 0..shared::service::link_guard::UNKNOWN_LINKS_PER_CLIENT {
        assert_eq!(
            handle(&kit.services, get(i)).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    // WHEN it opens one more
    let resp = handle(&kit.services, get(999)).await;
    // THEN it is told to wait, on the access-code page
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(body(&resp).contains("Access Code"));
}
