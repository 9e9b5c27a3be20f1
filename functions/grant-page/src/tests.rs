use http::{HeaderValue, Method, StatusCode};
use shared::domain::InviteId;
use shared::service::invites::NewInvite;
use shared::store::Store;
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

#[tokio::test]
async fn unknown_expired_and_used_links_look_the_same() {
    let kit = TestKit::new();
    let (_, expired) = invite(&kit).await;
    let unknown = "A".repeat(43);
    kit.clock.advance(2 * 3600);
    let pages: Vec<_> = futures_bodies(&kit, &[&unknown, &expired, "short"]).await;
    for (status, html) in &pages {
        assert_eq!(*status, StatusCode::NOT_FOUND);
        assert!(html.contains("This link is invalid or incomplete"));
        assert!(html.contains("Access Code"));
        assert_eq!(html, &pages[0].1);
    }
}

async fn futures_bodies(kit: &TestKit, tokens: &[&str]) -> Vec<(StatusCode, String)> {
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
    let mut req = form_post(&format!("/setup/{token}/grant"), "");
    req.headers
        .insert("origin", HeaderValue::from_static("https://evil.example"));
    let resp = handle(&kit.services, req).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(kit.store.latest_attempt(&id).await.unwrap().is_none());
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
async fn markup_in_names_is_escaped_and_the_data_island_cannot_be_closed() {
    let kit = TestKit::new();
    let (_, token) = invite_with(&kit, Some("</script><script>alert(1)</script>")).await;
    let resp = handle(
        &kit.services,
        Request::new(Method::GET, &format!("/setup/{token}")),
    )
    .await;
    let html = body(&resp);
    assert_eq!(
        html.matches("<script").count(),
        2,
        "only the data island and grant.js"
    );
    let island = super::pages::data_island("x", &serde_json::json!({"w": "</script><b>&"}));
    let island = island.into_string();
    assert!(island.contains("\\u003c/script\\u003e\\u003cb\\u003e\\u0026"));
}

#[tokio::test]
async fn our_assets_are_served_and_nothing_else() {
    let kit = TestKit::new();
    for name in ["cartlink.css", "grant.js", "callback.js"] {
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
