use http::{HeaderValue, Method, StatusCode};
use serde_json::Value;
use shared::testing::{TestKit, TEST_API_KEY};
use shared::web::Request;

use super::handle;

fn call(method: Method, path: &str, body: Option<&str>) -> Request {
    let mut req = Request::new(method, path);
    req.headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {TEST_API_KEY}")).unwrap(),
    );
    if let Some(b) = body {
        req.headers
            .insert("content-type", HeaderValue::from_static("application/json"));
        req.body = b.to_owned().into();
    }
    req
}

async fn send(kit: &TestKit, req: Request) -> (StatusCode, Value) {
    let resp = handle(&kit.services, req).await;
    let v = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    (resp.status(), v)
}

async fn made(kit: &TestKit) -> Value {
    let (status, v) = send(
        kit,
        call(
            Method::POST,
            "/v1/webhooks/endpoints",
            Some(r#"{"url":"https://hooks.example.com/in","events":["connection.authorized"]}"#),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

#[tokio::test]
async fn an_endpoint_is_made_with_its_secret_shown_once() {
    // GIVEN an endpoint made
    let kit = TestKit::new();
    let v = made(&kit).await;
    // THEN the answer holds its secret, and the list never does
    assert!(v["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(v["events"], serde_json::json!(["connection.authorized"]));
    let (status, list) = send(&kit, call(Method::GET, "/v1/webhooks/endpoints", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"][0]["id"], v["id"]);
    assert!(list["data"][0].get("secret").is_none(), "{list}");
}

#[tokio::test]
async fn a_private_url_is_an_invalid_field_in_production() {
    let kit = TestKit::new();
    let (status, v) = send(
        &kit,
        call(
            Method::POST,
            "/v1/webhooks/endpoints",
            Some(r#"{"url":"https://192.168.1.10/in"}"#),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["type"], "urn:cartlink:problem:invalid-field");
}

#[tokio::test]
async fn an_unknown_field_is_invalid_json() {
    let kit = TestKit::new();
    let (status, v) = send(
        &kit,
        call(
            Method::POST,
            "/v1/webhooks/endpoints",
            Some(r#"{"url":"https://hooks.example.com/in","secret":"mine"}"#),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["type"], "urn:cartlink:problem:invalid-json");
}

#[tokio::test]
async fn a_test_without_an_endpoint_is_a_conflict_naming_why() {
    let kit = TestKit::new();
    let (status, v) = send(&kit, call(Method::POST, "/v1/webhooks/test", None)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(v["type"], "urn:cartlink:problem:no-webhook-endpoint");
}

#[tokio::test]
async fn a_pending_delivery_is_not_retried() {
    // GIVEN a test message queued and not yet tried
    let kit = TestKit::new();
    made(&kit).await;
    let (status, sent) = send(&kit, call(Method::POST, "/v1/webhooks/test", None)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = sent["data"][0]["id"].as_str().unwrap();
    // WHEN a retry is asked for THEN it is refused
    let (status, v) = send(
        &kit,
        call(
            Method::POST,
            &format!("/v1/webhooks/deliveries/{id}/retry"),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(v["type"], "urn:cartlink:problem:delivery-not-retryable");
    // AND it lists as pending
    let (_, page) = send(
        &kit,
        call(Method::GET, "/v1/webhooks/deliveries?status=pending", None),
    )
    .await;
    assert_eq!(page["data"][0]["id"], id);
}

#[tokio::test]
async fn a_rotation_answers_a_new_secret_and_a_delete_removes_the_endpoint() {
    let kit = TestKit::new();
    let v = made(&kit).await;
    let id = v["id"].as_str().unwrap();
    let (status, rotated) = send(
        &kit,
        call(
            Method::POST,
            &format!("/v1/webhooks/endpoints/{id}/rotate-secret"),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(rotated["secret"], v["secret"]);
    assert_eq!(rotated["secrets"].as_array().unwrap().len(), 2);
    let path = format!("/v1/webhooks/endpoints/{id}");
    let (status, _) = send(&kit, call(Method::DELETE, &path, None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(&kit, call(Method::DELETE, &path, None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unknown_event_filter_is_an_invalid_field() {
    let kit = TestKit::new();
    let (status, v) = send(
        &kit,
        call(
            Method::GET,
            "/v1/webhooks/deliveries?event=invite.nothing",
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["detail"].as_str().unwrap().starts_with("event"), "{v}");
}

#[tokio::test]
async fn another_method_on_a_webhook_route_is_405() {
    let kit = TestKit::new();
    let (status, _) = send(&kit, call(Method::GET, "/v1/webhooks/test", None)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}
