//! A `credentials` cart's grant page: the fields with where to find them, and the form's post.

use std::sync::atomic::Ordering;

use http::{HeaderValue, Method, StatusCode};
use shared::store::ConnectionStore;
use shared::testing::{new_invite, typed_cart, TestKit};
use shared::web::Request;

use super::handle;

const KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

async fn invited() -> (TestKit, shared::domain::InviteId, String) {
    let mut kit = TestKit::new();
    kit.services.catalog.add(typed_cart());
    let (id, token) = kit.invite_with(new_invite("keyshop")).await;
    (kit, id, token)
}

fn body(resp: &shared::web::Response) -> String {
    String::from_utf8(resp.body().to_vec()).unwrap()
}

fn post(token: &str, form: &str, site: &'static str) -> Request {
    let mut req = Request::new(Method::POST, &format!("/setup/{token}/credentials"));
    req.headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    req.headers
        .insert("sec-fetch-site", HeaderValue::from_static(site));
    req.body = form.to_owned().into();
    req
}

#[tokio::test]
async fn the_page_asks_for_each_field_with_where_to_find_it_and_no_popup() {
    // GIVEN an invite for a credentials cart
    let (kit, _, token) = invited().await;
    // WHEN the merchant opens the link
    let resp = handle(
        &kit.services,
        Request::new(Method::GET, &format!("/setup/{token}")),
    )
    .await;
    // THEN the page asks for the key, says where to find it, and posts to our own origin
    assert_eq!(resp.status(), StatusCode::OK);
    let html = body(&resp);
    for needle in [
        "Webservice key",
        "Advanced Parameters &gt; Webservice",
        &format!("action=\"https://cartlink.test/setup/{token}/credentials\""),
        "type=\"password\"",
        "Connect my store",
    ] {
        assert!(html.contains(needle), "{needle}: {html}");
    }
    // AND no popup script or grant button of the OAuth flow
    assert!(
        !html.contains("grant.js") && !html.contains("grant-form"),
        "{html}"
    );
}

#[tokio::test]
async fn working_credentials_answer_successful_authorization() {
    // GIVEN the page's form with a key the store accepts
    let (kit, id, token) = invited().await;
    // WHEN it is posted
    let resp = handle(
        &kit.services,
        post(&token, &format!("key={KEY}"), "same-origin"),
    )
    .await;
    // THEN the page says so, and the connection is stored
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(body(&resp).contains("Successful Authorization"));
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn refused_credentials_say_so_and_are_never_written_back_into_the_page() {
    // GIVEN a store that refuses the key
    let (kit, id, token) = invited().await;
    *kit.oauth.refuse.lock().unwrap() = Some("keys_refused_http_401".into());
    // WHEN it is posted
    let resp = handle(
        &kit.services,
        post(&token, &format!("key={KEY}"), "same-origin"),
    )
    .await;
    // THEN the page is shown again with what went wrong, without the key, nothing stored
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(&resp);
    assert!(html.contains("did not accept these credentials"), "{html}");
    assert!(!html.contains(KEY));
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_malformed_key_names_its_field_and_calls_nobody() {
    // GIVEN a key of the wrong shape
    let (kit, _, token) = invited().await;
    // WHEN it is posted
    let resp = handle(&kit.services, post(&token, "key=not-a-key", "same-origin")).await;
    // THEN the field is named, the value not echoed, and the store never asked
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = body(&resp);
    assert!(
        html.contains("“Webservice key” does not look right"),
        "{html}"
    );
    assert!(!html.contains("not-a-key"));
    assert_eq!(kit.oauth.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn credentials_posted_from_another_site_are_refused_unread() {
    // GIVEN a post from another site
    let (kit, id, token) = invited().await;
    // WHEN it arrives
    let resp = handle(
        &kit.services,
        post(&token, &format!("key={KEY}"), "cross-site"),
    )
    .await;
    // THEN it is refused, nothing called or stored
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(kit.oauth.calls.load(Ordering::SeqCst), 0);
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_none());
}
