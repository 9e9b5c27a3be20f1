//! Paths of the warehouse API and the merchant's pages run on the AWS adapters (moto), beside
//! their runs on the embedded store: a resend, a webhook endpoint removed, an access code typed
//! and a lost manage link asked for. Each shows its outcome; together they are also what the
//! template tests compare the functions' roles with (`infra/tests/test_operations.py`).

use cartlink_e2e::aws::{invoke, World};
use cartlink_e2e::{API_KEY, CART};
use serde_json::{json, Value};
use shared::service::Services;

async fn warehouse(svc: &Services, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let auth = format!("Bearer {API_KEY}");
    let body = body.map(|b| b.to_string());
    let resp = invoke(
        |req| warehouse_api::handle(svc, req),
        method,
        path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &[],
        body.as_deref(),
    )
    .await;
    let v = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    (resp.status().as_u16(), v)
}

async fn page(svc: &Services, method: &str, path: &str, form: Option<&str>) -> (u16, String) {
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("sec-fetch-site", "same-origin"),
    ];
    let resp = invoke(
        |req| grant_page::handle(svc, req),
        method,
        path,
        &headers,
        &[],
        form,
    )
    .await;
    (
        resp.status().as_u16(),
        String::from_utf8_lossy(resp.body()).into_owned(),
    )
}

async fn new_invite(svc: &Services, world: &World) -> Value {
    let body = json!({"cart": CART, "merchant_email": world.merchant_email});
    let (status, v) = warehouse(svc, "POST", "/v1/invites", Some(body)).await;
    assert_eq!(status, 201, "{v}");
    v
}

fn token_of(v: &Value) -> String {
    v["setup_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_resend_on_dynamodb_leaves_the_old_link_dead_and_the_new_one_open() {
    // GIVEN an invite on DynamoDB
    let world = World::new().await;
    let svc = world.services();
    let first = new_invite(&svc, &world).await;
    // WHEN the warehouse resends it
    let path = format!("/v1/invites/{}/resend", first["id"].as_str().unwrap());
    let (status, second) = warehouse(&svc, "POST", &path, None).await;
    assert_eq!(status, 200, "{second}");
    // THEN the old link gets the access-code page and the new one the grant page
    let (old, _) = page(&svc, "GET", &format!("/setup/{}", token_of(&first)), None).await;
    let (new, html) = page(&svc, "GET", &format!("/setup/{}", token_of(&second)), None).await;
    assert_eq!((old, new), (404, 200));
    assert!(html.contains("Grant API Access"));
}

#[tokio::test]
async fn a_webhook_endpoint_removed_on_dynamodb_is_no_longer_listed() {
    // GIVEN an endpoint of the warehouse on DynamoDB
    let world = World::new().await;
    let svc = world.services();
    let url = json!({"url": "https://hooks.example.com/in"});
    let (status, made) = warehouse(&svc, "POST", "/v1/webhooks/endpoints", Some(url)).await;
    assert_eq!(status, 201, "{made}");
    // WHEN it is removed
    let path = format!("/v1/webhooks/endpoints/{}", made["id"].as_str().unwrap());
    let (removed, _) = warehouse(&svc, "DELETE", &path, None).await;
    // THEN the list no longer holds it
    let (_, list) = warehouse(&svc, "GET", "/v1/webhooks/endpoints", None).await;
    assert_eq!(removed, 204);
    assert!(
        !list.to_string().contains(made["id"].as_str().unwrap()),
        "{list}"
    );
}

#[tokio::test]
async fn an_access_code_typed_on_dynamodb_opens_the_grant_page() {
    // GIVEN an invite on DynamoDB, and the access code its email carries
    let world = World::new().await;
    let svc = world.services();
    new_invite(&svc, &world).await;
    let emails = world.emails_to(&world.merchant_email).await;
    let html = &emails.last().expect("the invite email").1;
    let code = html
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| w.len() == 11 && w.as_bytes()[5] == b'-')
        .expect("an access code")
        .to_owned();
    // WHEN the merchant types it
    let (status, page_html) = page(&svc, "POST", "/setup", Some(&format!("code={code}"))).await;
    // THEN the grant page opens
    assert_eq!(status, 200, "{page_html}");
    assert!(page_html.contains("Grant API Access"));
}

#[tokio::test]
async fn a_lost_manage_link_asked_for_on_dynamodb_gets_the_same_answer() {
    // GIVEN the AWS adapters, and an address that manages nothing yet
    let world = World::new().await;
    let svc = world.services();
    // WHEN a merchant asks for their manage links by address
    let form = format!("email={}", world.merchant_email.replace('@', "%40"));
    let (status, html) = page(&svc, "POST", "/manage", Some(&form)).await;
    // THEN the answer is the one every address gets
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Check your email"), "{html}");
}
