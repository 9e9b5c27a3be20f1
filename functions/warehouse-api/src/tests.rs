use http::{HeaderValue, Method, StatusCode};
use serde_json::Value;
use shared::store::{ConnectionStore, InviteStore};
use shared::testing::{TestKit, TEST_API_KEY};
use shared::web::Request;

use super::handle;

fn post(body: &str, key: Option<&str>) -> Request {
    let mut req = Request::new(Method::POST, "/v1/invites");
    req.headers
        .insert("content-type", HeaderValue::from_static("application/json"));
    if let Some(k) = key {
        req.headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {k}")).unwrap(),
        );
    }
    req.body = body.to_owned().into();
    req
}

fn problem_type(resp: &shared::web::Response) -> String {
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    v["type"].as_str().unwrap().to_owned()
}

async fn invites_stored(kit: &TestKit) -> usize {
    kit.store.invite_count().await.unwrap()
}

#[tokio::test]
async fn a_warehouse_creates_an_invite_and_gets_the_link_once() {
    // GIVEN a warehouse with a valid key
    let kit = TestKit::new();
    // WHEN it posts an invite
    let resp = handle(&kit.services, post(r#"{"cart":"acme","merchant_email":"m@shop.test","functions":["orders"],"expires_in_hours":48}"#, Some(TEST_API_KEY))).await;
    // THEN it gets 201 with the id, status, link, code hint and expiry
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert!(v["id"].as_str().unwrap().starts_with("inv-"));
    assert_eq!(v["status"], "emailed");
    assert!(v["setup_url"]
        .as_str()
        .unwrap()
        .starts_with("https://cartlink.test/setup/"));
    assert!(v["access_code_hint"].as_str().unwrap().starts_with('…'));
    assert_eq!(v["expires_at"], "2026-12-03T00:00:00Z");
    assert_eq!(kit.mailer.messages().len(), 1);
}

#[tokio::test]
async fn the_warehouse_comes_from_the_key_never_from_the_body() {
    let kit = TestKit::new();
    let resp = handle(
        &kit.services,
        post(
            r#"{"cart":"acme","merchant_email":"m@shop.test","warehouse_id":"wh-evil"}"#,
            Some(TEST_API_KEY),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem_type(&resp), "urn:cartlink:problem:invalid-json");
    assert_eq!(invites_stored(&kit).await, 0);
}

#[tokio::test]
async fn missing_or_wrong_keys_get_401_and_nothing_is_stored() {
    let kit = TestKit::new();
    for key in [None, Some("wrong-key"), Some("")] {
        let resp = handle(
            &kit.services,
            post(r#"{"cart":"acme","merchant_email":"m@shop.test"}"#, key),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        assert_eq!(problem_type(&resp), "urn:cartlink:problem:unauthorized");
    }
    assert_eq!(invites_stored(&kit).await, 0);
    assert!(kit.mailer.messages().is_empty());
}

#[tokio::test]
async fn bad_bodies_get_a_stable_problem_type() {
    let kit = TestKit::new();
    let cases = [
        ("{not json", StatusCode::BAD_REQUEST, "invalid-json"),
        (
            r#"{"cart":"acme"}"#,
            StatusCode::BAD_REQUEST,
            "invalid-json",
        ),
        (
            r#"{"cart":"acme","merchant_email":"m@shop.test","surprise":1}"#,
            StatusCode::BAD_REQUEST,
            "invalid-json",
        ),
        (
            r#"{"cart":"acme","merchant_email":"not an email"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            r#"{"cart":"acme","merchant_email":"m@shop.test","functions":["teleport"]}"#,
            StatusCode::BAD_REQUEST,
            "invalid-json",
        ),
        (
            r#"{"cart":"nowhere","merchant_email":"m@shop.test"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown-cart",
        ),
    ];
    for (body, status, code) in cases {
        let resp = handle(&kit.services, post(body, Some(TEST_API_KEY))).await;
        assert_eq!(resp.status(), status, "{body}");
        assert_eq!(
            problem_type(&resp),
            format!("urn:cartlink:problem:{code}"),
            "{body}"
        );
        let v: Value = serde_json::from_slice(resp.body()).unwrap();
        assert!(
            !v["detail"].as_str().unwrap().contains("Error("),
            "no Debug output in {v}"
        );
    }
    assert_eq!(invites_stored(&kit).await, 0);
    // (A body over the limit never reaches the handler: both edges refuse it, see the tests of
    // shared::lambda and of the local server.)
}

#[tokio::test]
async fn other_routes_methods_and_media_types_are_refused() {
    let kit = TestKit::new();
    let resp = handle(&kit.services, Request::new(Method::PUT, "/v1/invites")).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let resp = handle(&kit.services, Request::new(Method::POST, "/v1/other")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let mut req = post(
        r#"{"cart":"acme","merchant_email":"m@shop.test"}"#,
        Some(TEST_API_KEY),
    );
    req.headers
        .insert("content-type", HeaderValue::from_static("text/plain"));
    assert_eq!(
        handle(&kit.services, req).await.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[tokio::test]
async fn links_use_the_configured_origin_whatever_the_host_header_says() {
    let kit = TestKit::new();
    let mut req = post(
        r#"{"cart":"acme","merchant_email":"m@shop.test"}"#,
        Some(TEST_API_KEY),
    );
    req.headers
        .insert("host", HeaderValue::from_static("evil.example"));
    req.headers
        .insert("x-forwarded-host", HeaderValue::from_static("evil.example"));
    let resp = handle(&kit.services, req).await;
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert!(v["setup_url"]
        .as_str()
        .unwrap()
        .starts_with("https://cartlink.test/"));
    let mail = &kit.mailer.messages()[0];
    assert!(!mail.html.contains("evil.example") && !mail.text.contains("evil.example"));
}

#[tokio::test]
async fn the_catalog_lists_every_cart_with_functions_inputs_and_whether_enabled() {
    // GIVEN the fifteen built-in carts and one generic cart (acme, configured)
    let kit = TestKit::new();
    let mut req = Request::new(Method::GET, "/v1/carts");
    // WHEN it is listed without a key THEN 401
    let resp = handle(&kit.services, req.clone()).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // WHEN it is listed with a key
    req.headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {TEST_API_KEY}")).unwrap(),
    );
    let resp = handle(&kit.services, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    let carts = v["carts"].as_array().unwrap();
    // THEN every built-in cart and the test cart are there, each with functions and inputs
    assert_eq!(carts.len(), shared::carts::builtin::all().len() + 1);
    for c in carts {
        assert!(!c["functions"].as_array().unwrap().is_empty(), "{c}");
        assert!(c["inputs"].is_array(), "{c}");
    }
    let acme = carts.iter().find(|c| c["id"] == "acme").unwrap();
    assert_eq!(acme["enabled"], true);
    let lightspeed = carts
        .iter()
        .find(|c| c["id"] == "lightspeed-retail")
        .unwrap();
    assert_eq!(lightspeed["enabled"], false);
    assert_eq!(
        lightspeed["inputs"][0]["choices"],
        serde_json::json!(["r", "x"])
    );
}

fn get_invite(id: &str, key: Option<&str>) -> Request {
    let mut req = Request::new(Method::GET, &format!("/v1/invites/{id}"));
    if let Some(k) = key {
        req.headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {k}")).unwrap(),
        );
    }
    req
}

#[tokio::test]
async fn a_warehouse_sees_where_its_invite_stands_and_its_connection_once_granted() {
    // GIVEN an emailed invite and an authorized one
    let kit = TestKit::new();
    let (waiting, _) = kit.invite().await;
    let granted = kit.authorized().await;
    // WHEN the warehouse looks at the waiting one
    let resp = handle(
        &kit.services,
        get_invite(waiting.as_str(), Some(TEST_API_KEY)),
    )
    .await;
    // THEN it sees its status and no connection, and no secret of the invite
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(v["status"], "emailed");
    assert_eq!(v["expired"], false);
    assert!(v["connection"].is_null());
    assert!(v.get("setup_url").is_none() && v.get("access_code_hash").is_none());
    // WHEN it looks at the granted one
    let resp = handle(
        &kit.services,
        get_invite(granted.as_str(), Some(TEST_API_KEY)),
    )
    .await;
    // THEN it finds the connection to ask tokens of, and no token
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(v["status"], "authorized");
    assert_eq!(v["connection"]["status"], "active");
    assert!(v["connection"]["id"].as_str().unwrap().starts_with("con-"));
    assert!(!String::from_utf8_lossy(resp.body()).contains("CANARY"));
    // AND once its time is up, a waiting invite says it expired
    kit.clock.advance(400 * 24 * 3600);
    let resp = handle(
        &kit.services,
        get_invite(waiting.as_str(), Some(TEST_API_KEY)),
    )
    .await;
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(v["expired"], true);
}

#[tokio::test]
async fn an_unknown_or_malformed_invite_id_and_a_wrong_key_learn_nothing() {
    let kit = TestKit::new();
    let (id, _) = kit.invite().await;
    for bad in ["inv-00000000000000000000000000", "x", "..%2F.."] {
        let resp = handle(&kit.services, get_invite(bad, Some(TEST_API_KEY))).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(problem_type(&resp), "urn:cartlink:problem:not-found");
    }
    let resp = handle(&kit.services, get_invite(id.as_str(), Some("wrong"))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let mut put = get_invite(id.as_str(), Some(TEST_API_KEY));
    put.method = Method::PUT;
    assert_eq!(
        handle(&kit.services, put).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

fn delete_invite(id: &str) -> Request {
    let mut req = get_invite(id, Some(TEST_API_KEY));
    req.method = Method::DELETE;
    req
}

#[tokio::test]
async fn a_warehouse_withdraws_an_invite_and_its_link_starts_nothing_after() {
    // GIVEN an emailed invite and its link
    let kit = TestKit::new();
    let (id, token) = kit.invite().await;
    // WHEN the warehouse withdraws it, twice
    let first = handle(&kit.services, delete_invite(id.as_str())).await;
    let second = handle(&kit.services, delete_invite(id.as_str())).await;
    // THEN both answer the withdrawn invite
    for resp in [first, second] {
        assert_eq!(resp.status(), StatusCode::OK);
        let v: Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(v["status"], "revoked");
    }
    // AND its link shows the withdrawn page, and no grant can start from it
    assert!(matches!(
        kit.services.open_link(&token).await,
        Err(shared::service::setup::SetupError::Revoked { .. })
    ));
    assert!(kit.services.start_grant(&token).await.is_err());
}

#[tokio::test]
async fn a_connected_invite_cannot_be_withdrawn_and_nothing_changes() {
    // GIVEN an invite whose store is connected
    let kit = TestKit::new();
    let id = kit.authorized().await;
    // WHEN the warehouse tries to withdraw it
    let resp = handle(&kit.services, delete_invite(id.as_str())).await;
    // THEN it is told so, and the invite and its connection stay
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(
        problem_type(&resp),
        "urn:cartlink:problem:already-connected"
    );
    let invite = kit.store.invite(&id).await.unwrap().unwrap();
    assert_eq!(invite.status, shared::domain::InviteStatus::Authorized);
    assert!(kit
        .store
        .connection_for_invite(&id)
        .await
        .unwrap()
        .is_some());
    // AND an unknown invite is not found
    let resp = handle(
        &kit.services,
        delete_invite("inv-00000000000000000000000000"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_mail_service_outage_answers_503_and_no_invite_reads_as_failed() {
    // GIVEN a mail service that cannot be reached
    let kit = TestKit::new();
    *kit.mailer.unavailable.lock().unwrap() = Some("throttled".into());
    // WHEN a warehouse posts an invite
    let resp = handle(
        &kit.services,
        post(
            r#"{"cart":"acme","merchant_email":"m@shop.test"}"#,
            Some(TEST_API_KEY),
        ),
    )
    .await;
    // THEN it is told to try again shortly, and gets no link
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "2");
    assert_eq!(problem_type(&resp), "urn:cartlink:problem:unavailable");
    assert!(!String::from_utf8_lossy(resp.body()).contains("/setup/"));
    // AND no email went out, and the stored invite was not marked as a failed email: it
    // stays pending, its link known to nobody
    assert!(kit.mailer.messages().is_empty());
    let wh = shared::domain::WarehouseId::parse("wh-test").unwrap();
    let stored = kit
        .store
        .list_invites(
            &wh,
            &shared::store::InviteFilter::default(),
            &shared::store::PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].status, shared::domain::InviteStatus::Pending);
    assert!(stored[0].status_reason.is_none());
    // AND once the mail service is back, the same post makes an emailed invite
    *kit.mailer.unavailable.lock().unwrap() = None;
    let resp = handle(
        &kit.services,
        post(
            r#"{"cart":"acme","merchant_email":"m@shop.test"}"#,
            Some(TEST_API_KEY),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(v["status"], "emailed");
}
