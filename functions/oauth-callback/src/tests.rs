use http::{HeaderValue, Method, StatusCode};
use shared::store::{ConnectionStore, InviteStore};
use shared::testing::TestKit;
use shared::web::Request;

use super::handle;

struct Grant {
    state: String,
    cookie: String,
}

async fn started(kit: &TestKit) -> (shared::domain::InviteId, Grant) {
    let (id, token) = kit.invite().await;
    let g = kit.start(&token).await;
    let cookie = format!("__Host-cartlink-grant={}", g.binding);
    (
        id,
        Grant {
            state: g.state,
            cookie,
        },
    )
}

fn callback(query: &str, cookie: Option<&str>) -> Request {
    let mut req = Request::new(Method::GET, &format!("/oauth/callback/acme?{query}"));
    if let Some(c) = cookie {
        req.headers
            .insert("cookie", HeaderValue::from_str(c).unwrap());
    }
    req
}

fn text(resp: &shared::web::Response) -> String {
    String::from_utf8(resp.body().to_vec()).unwrap()
}

#[tokio::test]
async fn a_good_callback_shows_successful_authorization_without_the_code() {
    // GIVEN a grant started in this browser
    let kit = TestKit::new();
    let (id, g) = started(&kit).await;
    // WHEN the cart calls back with a code
    let resp = handle(
        &kit.services,
        callback(
            &format!(
                "code=SECRETCODE&state={}&iss=https%3A%2F%2Fauth.acme.test",
                g.state
            ),
            Some(&g.cookie),
        ),
    )
    .await;
    // THEN the page says so, carries no code, and the connection is stored
    assert_eq!(resp.status(), StatusCode::OK);
    let html = text(&resp);
    assert!(html.contains("Successful Authorization"));
    assert!(!html.contains("SECRETCODE"));
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
    assert!(resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    // AND the page keeps its opener (it arrives in the grant page's popup), so it can tell it
    assert_eq!(resp.headers()["cross-origin-opener-policy"], "unsafe-none");
    assert!(html.contains("<script type=\"application/json\" id=\"callback-data\">{\"origin\":\"https://cartlink.test\",\"status\":\"authorized\"}</script>"));
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_some());
    // AND a replay (a reload of the popup) shows the same success without a second exchange
    let again = handle(
        &kit.services,
        callback(
            &format!(
                "code=SECRETCODE&state={}&iss=https%3A%2F%2Fauth.acme.test",
                g.state
            ),
            Some(&g.cookie),
        ),
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert!(text(&again).contains("Successful Authorization"));
    assert_eq!(kit.oauth.calls(), 1);
}

#[test]
fn a_callback_another_load_is_still_finishing_says_almost_done_and_keeps_the_grant_page_waiting() {
    // GIVEN the service's answer that another request holds the attempt and is not done yet
    let page = super::CallbackPage::from(shared::service::callback::CallbackError::InProgress);
    // WHEN it is rendered
    let status = page.status();
    let html = super::pages::render(&english(), "https://cartlink.test", &page);
    // THEN it says the window may be closed, and tells the opener the word that keeps it polling
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(html.contains("Almost done") && html.contains("This window can be closed."));
    assert!(html.contains("{\"origin\":\"https://cartlink.test\",\"status\":\"waiting\"}"));
}

#[test]
fn a_delivery_posted_again_while_the_first_is_undecided_gets_a_stable_conflict() {
    // GIVEN the service's answer to a delivery whose attempt another delivery holds
    let r = Err(shared::service::callback::CallbackError::InProgress);
    // WHEN it is answered
    let resp = super::delivery_answer(r, "keys_not_verified");
    // THEN it is 409 with a stable code, so the store deletes this delivery's own keys
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(text(&resp), "{\"error\":\"delivery_in_progress\"}");
}

#[tokio::test]
async fn a_callback_from_another_browser_is_refused_with_a_plain_page() {
    let kit = TestKit::new();
    let (id, g) = started(&kit).await;
    let resp = handle(
        &kit.services,
        callback(
            &format!("code=C&state={}&iss=https%3A%2F%2Fauth.acme.test", g.state),
            None,
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(text(&resp).contains("could not be completed"));
    assert_eq!(kit.oauth.calls(), 0);
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_callback_repeating_its_code_is_refused_before_the_cart_is_asked() {
    // GIVEN a grant started in this browser
    let kit = TestKit::new();
    let (id, g) = started(&kit).await;
    // WHEN the callback carries two codes (which one the cart meant cannot be told)
    let resp = handle(
        &kit.services,
        callback(
            &format!(
                "code=FIRST&state={}&code=SECOND&iss=https%3A%2F%2Fauth.acme.test",
                g.state
            ),
            Some(&g.cookie),
        ),
    )
    .await;
    // THEN it is refused, no code went to the cart, and nothing is stored
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(kit.oauth.calls(), 0);
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_callback_repeating_its_state_is_refused_and_the_grant_can_still_complete() {
    // GIVEN a grant started in this browser
    let kit = TestKit::new();
    let (id, g) = started(&kit).await;
    let iss = "iss=https%3A%2F%2Fauth.acme.test";
    // WHEN a callback repeating `state` is refused, then the cart's own callback arrives
    let twice = format!("code=C&state={}&state=other&{iss}", g.state);
    handle(&kit.services, callback(&twice, Some(&g.cookie))).await;
    let once = format!("code=C&state={}&{iss}", g.state);
    let resp = handle(&kit.services, callback(&once, Some(&g.cookie))).await;
    // THEN the refusal used up nothing: the grant completes once
    assert!(text(&resp).contains("Successful Authorization"));
    assert_eq!(kit.oauth.calls(), 1);
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_decline_shows_an_escaped_message_and_a_retry_link() {
    let kit = TestKit::new();
    let (_, g) = started(&kit).await;
    let q = format!(
        "error=access_denied&error_description=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&error_uri=https%3A%2F%2Fevil.example&state={}&iss=https%3A%2F%2Fauth.acme.test",
        g.state
    );
    let resp = handle(&kit.services, callback(&q, Some(&g.cookie))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = text(&resp);
    assert!(html.contains("Access was not granted"));
    assert!(
        !html.contains("onerror") && !html.contains("<img src=x") && !html.contains("evil.example")
    );
    assert!(html.contains("href=\"https://cartlink.test/setup/"));
    assert_eq!(kit.oauth.calls(), 0);
}

#[tokio::test]
async fn only_get_on_a_cart_path_is_a_callback() {
    let kit = TestKit::new();
    let resp = handle(
        &kit.services,
        Request::new(Method::POST, "/oauth/callback/acme"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = handle(&kit.services, Request::new(Method::GET, "/oauth/callback")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_cart_error_shows_a_retry_link_and_says_the_merchant_was_emailed() {
    // GIVEN a started grant
    let kit = TestKit::new();
    let (id, g) = started(&kit).await;
    // WHEN the cart answers an error that is not a decline
    let q = format!(
        "error=server_error&state={}&iss=https%3A%2F%2Fauth.acme.test",
        g.state
    );
    let resp = handle(&kit.services, callback(&q, Some(&g.cookie))).await;
    // THEN the page says it did not complete, offers a retry, and says an email went out
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    let html = text(&resp);
    assert!(html.contains("The connection did not complete"));
    assert!(html.contains("We have also emailed you a link to try again later."));
    assert!(html.contains("href=\"https://cartlink.test/setup/"));
    assert!(html.contains("\"status\":\"failed\""));
    assert_eq!(kit.oauth.calls(), 0);
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        kit.mailer.messages().len(),
        2,
        "the invite and the failure email"
    );
}

#[test]
fn every_callback_page_loads_only_our_script_and_holds_nothing_inline() {
    use super::CallbackPage;
    // GIVEN every page the callback answers, with markup in the names
    let pages = [
        CallbackPage::Authorized {
            warehouse: "<b>W</b>".into(),
            cart: "C".into(),
        },
        CallbackPage::AlreadyConnected {
            at: shared::domain::Timestamp(0),
        },
        CallbackPage::AlmostDone,
        CallbackPage::Refused,
        CallbackPage::Expired,
        CallbackPage::Declined {
            retry_url: Some("https://cartlink.test/setup/R".into()),
        },
        CallbackPage::CartFailed {
            retry_url: None,
            emailed: false,
        },
        CallbackPage::NotFound,
        CallbackPage::Unavailable,
    ];
    for page in &pages {
        let html = super::pages::render(&english(), "https://cartlink.test", page);
        // THEN it has no inline style, and its only scripts are ours and the data island
        assert!(
            !html.contains("style=") && !html.contains("<style"),
            "{page:?}"
        );
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert_eq!(scripts.len(), 2, "{page:?}");
        assert!(scripts[0].starts_with(" type=\"application/json\" id=\"callback-data\">"));
        assert!(scripts[1].starts_with(" src=\"https://cartlink.test/assets/callback.js\">"));
        assert!(!html.contains("<b>W</b>"));
    }
}

#[test]
fn a_hostile_warehouse_or_cart_name_is_written_as_text_on_the_callback_page() {
    for name in shared::testing::HOSTILE_TEXTS {
        // GIVEN a warehouse and a cart whose names are markup
        let page = super::CallbackPage::Authorized {
            warehouse: (*name).into(),
            cart: (*name).into(),
        };
        // WHEN the page that names them is rendered
        let html = super::pages::render(&english(), "https://cartlink.test", &page);
        // THEN the name is there, escaped, and never as markup
        let escaped = maud::html! { (name) }.into_string();
        assert!(html.contains(&escaped), "{name}: the name is shown");
        assert!(!html.contains(name), "{name}: written unescaped");
        assert_eq!(
            html.matches("<script").count(),
            2,
            "{name}: island and callback.js only"
        );
    }
}

#[tokio::test]
async fn a_state_cookie_serves_one_callback_and_is_cleared_whatever_the_outcome() {
    // GIVEN a browser that carries a state cookie (as for BigCommerce) to a refused callback
    let kit = TestKit::new();
    let (_, g) = started(&kit).await;
    let cookies = format!("{}; __Host-cartlink-state=stale", g.cookie);
    // WHEN the callback is answered
    let resp = handle(
        &kit.services,
        callback("code=C&state=forged", Some(&cookies)),
    )
    .await;
    // THEN it is refused and the state cookie is removed
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let cleared: Vec<_> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        cleared,
        ["__Host-cartlink-state=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"]
    );
}

// ---------------------------------------------------------------- admin integrations (Magento)

const CK: &str = "k1234567890abcdefghijklmnopqrstu";
const CS: &str = "s1234567890abcdefghijklmnopqrstu";
const VERIFIER: &str = "v1234567890abcdefghijklmnopqrstu";

fn magento_kit() -> TestKit {
    let mut kit = TestKit::new();
    let mut magento = shared::carts::builtin::get("magento").unwrap();
    magento.credentials = Some(shared::carts::ClientCredentials::new("cartlink", None));
    kit.services.catalog.add(magento);
    kit
}

/// A started Magento integration: the invite and the attempt's nonce.
async fn integration(kit: &TestKit) -> (shared::domain::InviteId, String) {
    let (id, token) = kit
        .invite_with(shared::service::invites::NewInvite {
            store: Some("https://shop.example.com".into()),
            ..shared::testing::new_invite("magento")
        })
        .await;
    let started = kit.services.start_grant(&token).await.unwrap();
    let shared::service::setup::GrantNext::AdminIntegration(s) = started.next else {
        panic!("integration settings");
    };
    (id, s.callback_url.rsplit('/').next().unwrap().to_owned())
}

fn activation(nonce: &str, store: &str) -> Request {
    let mut req = Request::new(Method::POST, &format!("/oauth/integration/magento/{nonce}"));
    req.headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    req.body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("oauth_consumer_key", CK),
            ("oauth_consumer_secret", CS),
            ("store_base_url", store),
            ("oauth_verifier", VERIFIER),
        ])
        .finish()
        .into();
    req
}

fn identity(nonce: &str, success_call_back: &str) -> Request {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("oauth_consumer_key", CK),
            ("success_call_back", success_call_back),
        ])
        .finish();
    Request::new(
        Method::GET,
        &format!("/oauth/identity/magento/{nonce}?{query}"),
    )
}

#[tokio::test]
async fn an_activation_post_is_answered_200_only_once_the_tokens_are_stored() {
    // GIVEN a started integration
    let kit = magento_kit();
    let (id, nonce) = integration(&kit).await;
    // WHEN the store posts the credentials
    let resp = handle(
        &kit.services,
        activation(&nonce, "https://shop.example.com/"),
    )
    .await;
    // THEN it is told they were stored, and the connection is there
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(text(&resp), r#"{"stored":true}"#);
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_some());
    // AND a second post of the same nonce is answered 409 without a call
    let again = handle(
        &kit.services,
        activation(&nonce, "https://shop.example.com/"),
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(kit.oauth.calls(), 2);
}

#[tokio::test]
async fn refused_activation_posts_get_a_stable_code_and_no_secret() {
    // GIVEN a started integration
    let kit = magento_kit();
    let (id, nonce) = integration(&kit).await;
    let other = shared::domain::GrantState::generate();
    // WHEN posts come for an unknown nonce, or name another store
    for (req, code) in [
        (
            activation(other.expose(), "https://shop.example.com/"),
            "nonce_unknown",
        ),
        (
            activation(&nonce, "https://evil.example.net/"),
            "store_mismatch",
        ),
        (activation(&nonce, "https://127.0.0.1/"), "store_mismatch"),
    ] {
        let resp = handle(&kit.services, req).await;
        // THEN each is a 400 with a stable code that repeats no value posted
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{code}");
        let body = text(&resp);
        assert_eq!(body, format!(r#"{{"error":"{code}"}}"#));
    }
    assert_eq!(kit.oauth.calls(), 0);
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_none());
    // AND a store that refuses the token calls gets 400 integration_not_verified
    *kit.oauth.refuse.lock().unwrap() = Some("oauth1_refused_http_401".into());
    let resp = handle(
        &kit.services,
        activation(&nonce, "https://shop.example.com/"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(text(&resp), r#"{"error":"integration_not_verified"}"#);
    // AND the activation route takes only POST
    let get = handle(
        &kit.services,
        Request::new(Method::GET, &format!("/oauth/integration/magento/{nonce}")),
    )
    .await;
    assert_eq!(get.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_identity_link_waits_then_sends_the_browser_back_to_the_store_only() {
    // GIVEN a started integration
    let kit = magento_kit();
    let (_, nonce) = integration(&kit).await;
    let back = "https://shop.example.com/admin/admin/integration/tokensExchange/id/1/";
    // WHEN the identity link opens before the credentials are stored THEN it says so
    let resp = handle(&kit.services, identity(&nonce, back)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(text(&resp).contains("Finishing the connection"));
    // WHEN it opens once they are stored THEN it sends the browser to the store's callback
    handle(
        &kit.services,
        activation(&nonce, "https://shop.example.com/"),
    )
    .await;
    let resp = handle(&kit.services, identity(&nonce, back)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], back);
    // AND a success_call_back elsewhere gets the page, with no redirect and no secret
    for elsewhere in [
        "https://evil.example.net/x",
        "http://shop.example.com/admin",
    ] {
        let resp = handle(&kit.services, identity(&nonce, elsewhere)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{elsewhere}");
        assert!(resp.headers().get("location").is_none());
        let html = text(&resp);
        assert!(html.contains("Successful Authorization"));
        assert!(!html.contains(CK) && !html.contains(&nonce));
    }
    // AND an unknown nonce is refused
    let other = shared::domain::GrantState::generate();
    let resp = handle(&kit.services, identity(other.expose(), back)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
}

#[tokio::test]
async fn the_identity_link_of_a_failed_integration_says_so() {
    let kit = magento_kit();
    let (_, nonce) = integration(&kit).await;
    *kit.oauth.refuse.lock().unwrap() = Some("oauth1_refused_http_401".into());
    handle(
        &kit.services,
        activation(&nonce, "https://shop.example.com/"),
    )
    .await;
    let resp = handle(
        &kit.services,
        identity(&nonce, "https://shop.example.com/admin/cb"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert!(resp.headers().get("location").is_none());
    assert!(text(&resp).contains("The connection did not complete"));
}

#[tokio::test]
async fn a_key_service_outage_at_the_seal_shows_try_again_and_marks_nothing_failed() {
    // GIVEN a started grant, and a key service that cannot seal
    let mut kit = TestKit::new();
    let (id, g) = started(&kit).await;
    let before = kit.store.invite(&id).await.unwrap().unwrap().status;
    let vault = shared::testing::SwitchedVault::over(kit.services.vault.clone());
    vault
        .seal_off
        .store(true, std::sync::atomic::Ordering::SeqCst);
    kit.services.vault = vault;
    // WHEN the cart calls back with a code
    let q = format!(
        "code=SECRETCODE&state={}&iss=https%3A%2F%2Fauth.acme.test",
        g.state
    );
    let resp = handle(&kit.services, callback(&q, Some(&g.cookie))).await;
    // THEN the page says something failed on our side and to try again, not that the grant
    // failed
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let html = text(&resp);
    assert!(html.contains("Something went wrong on our side"), "{html}");
    assert!(!html.contains("SECRETCODE"));
    // AND no connection is stored, the invite's status is as it was, and no failure email
    // went out (the only email is the invite)
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(kit.store.invite(&id).await.unwrap().unwrap().status, before);
    assert_eq!(kit.mailer.messages().len(), 1);
}

/// The callback pages' rendering in English.
fn english() -> shared::web::page::Ui {
    shared::web::page::Ui {
        base: "https://cartlink.test".into(),
        locale: shared::domain::Locale::En,
        here: None,
    }
}

#[tokio::test]
async fn the_callback_page_speaks_the_merchants_language() {
    // GIVEN a browser that asks for German, and one whose switcher chose Japanese
    let kit = TestKit::new();
    let mut german = Request::new(Method::GET, "/oauth/callback/acme");
    german.headers.insert(
        "accept-language",
        HeaderValue::from_static("de-DE,de;q=0.9"),
    );
    let mut japanese = Request::new(Method::GET, "/oauth/callback/acme");
    japanese
        .headers
        .insert("cookie", HeaderValue::from_static("cartlink-lang=ja"));
    // WHEN each loads a callback that carries nothing
    let de = handle(&kit.services, german).await;
    let ja = handle(&kit.services, japanese).await;
    // THEN each page is in its language
    let text = |r: &shared::web::Response| String::from_utf8(r.body().to_vec()).unwrap();
    assert!(text(&de).contains("<html lang=\"de\">"), "{}", text(&de));
    assert!(text(&ja).contains("<html lang=\"ja\">"), "{}", text(&ja));
}
