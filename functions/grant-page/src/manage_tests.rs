use http::{HeaderValue, Method, StatusCode};
use shared::store::ConnectionStore;
use shared::testing::TestKit;
use shared::web::{Request, Response};

use crate::handle;

/// A kit with one confirmed connection; the manage token from its merchant confirmation.
async fn confirmed() -> (TestKit, shared::domain::Connection, String) {
    let kit = TestKit::new();
    let invite = kit.authorized().await;
    kit.services.confirm(&invite).await.unwrap();
    let conn = kit
        .store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap();
    let text = kit
        .mailer
        .messages()
        .into_iter()
        .find(|m| m.text.contains("/manage/"))
        .expect("a confirmation with a manage link")
        .text;
    let at = text.find("/manage/").unwrap() + "/manage/".len();
    (kit, conn, text[at..at + 43].to_owned())
}

fn body(resp: &Response) -> String {
    String::from_utf8(resp.body().to_vec()).unwrap()
}

fn post(path: &str, form: &str, origin: &str) -> Request {
    let mut req = Request::new(Method::POST, path);
    req.headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    req.headers
        .insert("origin", HeaderValue::from_str(origin).unwrap());
    req.body = form.to_owned().into();
    req
}

#[tokio::test]
async fn the_manage_page_shows_the_connection_and_a_withdraw_button() {
    // GIVEN a confirmed connection
    let (kit, _, token) = confirmed().await;
    // WHEN its manage link is opened
    let resp = handle(
        &kit.services,
        Request::new(Method::GET, &format!("/manage/{token}")),
    )
    .await;
    // THEN the page names warehouse, cart, since when, the last fetch and what it can do
    assert_eq!(resp.status(), StatusCode::OK);
    let html = body(&resp);
    for needle in [
        "Test Warehouse has access to your Acme Cart store",
        "Connected since",
        "1 December 2026",
        "Last token fetch",
        "Not yet",
        "read your orders",
        &format!("/manage/{token}/withdraw"),
    ] {
        assert!(html.contains(needle), "{needle}");
    }
}

#[tokio::test]
async fn get_and_head_of_every_manage_page_change_nothing() {
    // GIVEN a confirmed connection
    let (kit, conn, token) = confirmed().await;
    let sent = kit.mailer.messages().len();
    // WHEN a mail scanner fetches the page and the confirmation step with GET and HEAD
    for (method, path) in [
        (Method::HEAD, format!("/manage/{token}")),
        (Method::GET, format!("/manage/{token}")),
        (Method::GET, format!("/manage/{token}/withdraw")),
    ] {
        let resp = handle(&kit.services, Request::new(method, &path)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
    // THEN the connection is there and nobody was emailed
    assert_eq!(kit.store.connection(&conn.id).await.unwrap(), Some(conn));
    assert_eq!(kit.mailer.messages().len(), sent);
}

#[tokio::test]
async fn a_confirmed_post_withdraws_and_the_page_then_says_so() {
    // GIVEN a confirmed connection
    let (kit, conn, token) = confirmed().await;
    // WHEN the confirmation step's button is pressed
    let resp = handle(
        &kit.services,
        post(
            &format!("/manage/{token}/withdraw"),
            "confirm=yes",
            "https://cartlink.test",
        ),
    )
    .await;
    // THEN it answers 303 to the manage page, the connection is gone
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()["location"],
        format!("https://cartlink.test/manage/{token}").as_str()
    );
    assert_eq!(kit.store.connection(&conn.id).await.unwrap(), None);
    // AND the manage page says access was withdrawn
    let page = handle(
        &kit.services,
        Request::new(Method::GET, &format!("/manage/{token}")),
    )
    .await;
    assert!(body(&page).contains("You withdrew the access of"));
}

#[tokio::test]
async fn a_post_without_the_confirmation_or_from_another_site_withdraws_nothing() {
    // GIVEN a confirmed connection
    let (kit, conn, token) = confirmed().await;
    let path = format!("/manage/{token}/withdraw");
    // WHEN the withdraw form is posted without `confirm=yes`, and from another origin
    let bare = handle(&kit.services, post(&path, "", "https://cartlink.test")).await;
    let foreign = handle(
        &kit.services,
        post(&path, "confirm=yes", "https://evil.example"),
    )
    .await;
    // THEN the first shows the confirmation step, the second is refused, nothing changed
    assert_eq!(bare.status(), StatusCode::BAD_REQUEST);
    assert!(body(&bare).contains("confirm-withdraw"));
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(kit.store.connection(&conn.id).await.unwrap(), Some(conn));
}

#[tokio::test]
async fn an_altered_or_unknown_manage_link_gets_the_access_code_page() {
    // GIVEN a confirmed connection
    let (kit, conn, token) = confirmed().await;
    let altered = format!(
        "{}{}",
        &token[..42],
        if token.ends_with('A') { "B" } else { "A" }
    );
    for path in [
        format!("/manage/{altered}"),
        format!("/manage/{}", &token[..20]),
        format!("/manage/{altered}/withdraw"),
    ] {
        // WHEN it is opened
        let resp = handle(&kit.services, Request::new(Method::GET, &path)).await;
        // THEN it is the access-code page (404)
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(body(&resp).contains("Enter your access code"));
    }
    // AND a withdraw posted with an altered link changes nothing
    let resp = handle(
        &kit.services,
        post(
            &format!("/manage/{altered}/withdraw"),
            "confirm=yes",
            "https://cartlink.test",
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(kit.store.connection(&conn.id).await.unwrap(), Some(conn));
}

#[tokio::test]
async fn an_unserved_method_on_a_manage_path_is_405() {
    // GIVEN a confirmed connection
    let (kit, _, token) = confirmed().await;
    // WHEN the manage page is posted to, or deleted
    for (method, path) in [
        (Method::POST, format!("/manage/{token}")),
        (Method::DELETE, format!("/manage/{token}/withdraw")),
    ] {
        let resp = handle(&kit.services, Request::new(method, &path)).await;
        // THEN it is 405
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
}
