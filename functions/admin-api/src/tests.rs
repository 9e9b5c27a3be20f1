use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use serde_json::{json, Value};
use shared::testing::TestKit;
use shared::web::Request;

use super::{admin_key_matches, handle, serve_logo};

fn request(method: Method, path: &str, body: &[u8]) -> Request {
    let mut req = Request::new(method, path);
    req.body = Bytes::copy_from_slice(body);
    req
}

/// Answers the status and the JSON body (or its problem).
async fn call(kit: &TestKit, method: Method, path: &str, body: &[u8]) -> (StatusCode, Value) {
    let resp = handle(&kit.services, request(method, path, body)).await;
    let status = resp.status();
    (
        status,
        serde_json::from_slice(resp.body()).unwrap_or(Value::Null),
    )
}

/// A kit with the stored warehouse `wh-a`.
async fn kit() -> TestKit {
    let kit = TestKit::new();
    let body = json!({"id": "wh-a", "display_name": "A", "notify_email": "ops@a.test"});
    let (status, _) = call(
        &kit,
        Method::POST,
        "/admin/v1/warehouses",
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    kit
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = png::Encoder::new(&mut out, w, h);
    e.set_color(png::ColorType::Rgba);
    let mut writer = e.write_header().unwrap();
    writer
        .write_image_data(&vec![90; (w * h * 4) as usize])
        .unwrap();
    writer.finish().unwrap();
    out
}

#[test]
fn the_admin_key_is_compared_whole_and_an_empty_one_lets_nobody_in() {
    // GIVEN requests with the right key, a prefix of it, and an empty expected key
    let with = |auth: &'static str| {
        let mut r = Request::new(Method::GET, "/admin/v1/warehouses");
        r.headers
            .insert("authorization", HeaderValue::from_static(auth));
        r
    };
    // THEN only the whole key matches, and an empty configured key matches nothing
    assert!(admin_key_matches(
        &with("Bearer admin-secret"),
        "admin-secret"
    ));
    assert!(!admin_key_matches(
        &with("Bearer admin-secre"),
        "admin-secret"
    ));
    assert!(!admin_key_matches(&with("Bearer "), ""));
    assert!(!admin_key_matches(
        &Request::new(Method::GET, "/admin/v1/warehouses"),
        "admin-secret"
    ));
}

#[tokio::test]
async fn each_refusal_is_its_own_problem_type() {
    // GIVEN a stored warehouse
    let kit = kit().await;
    let dup = json!({"id": "wh-a", "display_name": "A", "notify_email": "ops@a.test"}).to_string();
    let light = json!({"accent": "#f0f0f0"}).to_string();
    let cases: Vec<(Method, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            Method::POST,
            "/admin/v1/warehouses",
            dup.into_bytes(),
            StatusCode::CONFLICT,
            "warehouse-exists",
        ),
        (
            Method::PUT,
            "/admin/v1/warehouses/wh-a/branding",
            light.into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "accent-contrast",
        ),
        (
            Method::PUT,
            "/admin/v1/warehouses/wh-a/logo",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "logo-unsupported",
        ),
        (
            Method::PUT,
            "/admin/v1/warehouses/wh-a/logo",
            b"\x89PNG\r\n\x1a\nbroken".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "logo-invalid",
        ),
        (
            Method::PUT,
            "/admin/v1/warehouses/wh-a/logo",
            vec![0; 65 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "logo-too-large",
        ),
        (
            Method::POST,
            "/admin/v1/warehouses",
            b"{".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid-json",
        ),
        (
            Method::GET,
            "/admin/v1/warehouses/wh-none",
            vec![],
            StatusCode::NOT_FOUND,
            "not-found",
        ),
        (
            Method::PATCH,
            "/admin/v1/warehouses/wh-a",
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
        ),
        (
            Method::GET,
            "/admin/v2/else",
            vec![],
            StatusCode::NOT_FOUND,
            "not-found",
        ),
    ];
    for (method, path, body, status, code) in cases {
        // WHEN each is sent  THEN its status and problem type come back
        let (got, v) = call(&kit, method.clone(), path, &body).await;
        assert_eq!(
            (got, v["type"].as_str()),
            (
                status,
                Some(format!("urn:cartlink:problem:{code}").as_str())
            ),
            "{method} {path}: {v}"
        );
    }
    // AND the contrast problem says the ratio it reached
    let light = json!({"accent": "#f0f0f0"}).to_string();
    let (_, v) = call(
        &kit,
        Method::PUT,
        "/admin/v1/warehouses/wh-a/branding",
        light.as_bytes(),
    )
    .await;
    assert!(v["detail"].as_str().unwrap().contains(":1"), "{v}");
}

#[tokio::test]
async fn a_valid_logo_is_served_from_our_origin_as_the_png_we_wrote() {
    // GIVEN a stored warehouse
    let kit = kit().await;
    // WHEN a PNG logo is uploaded
    let (status, v) = call(
        &kit,
        Method::PUT,
        "/admin/v1/warehouses/wh-a/logo",
        &png(4, 4),
    )
    .await;
    // THEN the warehouse names its logo URL on our origin, and that route serves a PNG
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["logo_url"],
        "https://cartlink.test/brand/wh-a/logo.png?v=1"
    );
    let served = serve_logo(
        &kit.services,
        &Request::new(Method::GET, "/brand/wh-a/logo.png"),
    )
    .await
    .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert!(served.body().starts_with(b"\x89PNG"));
    // AND a warehouse without one is 404, another path is not the logo route's
    let none = serve_logo(
        &kit.services,
        &Request::new(Method::GET, "/brand/wh-b/logo.png"),
    )
    .await
    .unwrap();
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    assert!(
        serve_logo(&kit.services, &Request::new(Method::GET, "/brand/wh-a"))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_key_is_shown_at_creation_and_never_in_the_listing() {
    // GIVEN a stored warehouse
    let kit = kit().await;
    // WHEN a key is created, then the keys listed
    let (status, created) = call(&kit, Method::POST, "/admin/v1/warehouses/wh-a/keys", b"").await;
    let (_, listed) = call(&kit, Method::GET, "/admin/v1/warehouses/wh-a/keys", b"").await;
    // THEN the creation shows the key once; the listing shows its id and prefix only
    assert_eq!(status, StatusCode::CREATED);
    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with("clk_live_"));
    assert_eq!(listed["keys"][0]["id"], created["id"]);
    assert!(!listed.to_string().contains(key));
    assert!(listed["keys"][0].get("key").is_none() && listed["keys"][0].get("hash").is_none());
}

#[tokio::test]
async fn a_store_outage_is_a_503_problem() {
    // GIVEN a stored warehouse whose store then fails every call
    let mut kit = kit().await;
    let plan = shared::testing::faults::FaultPlan::new();
    plan.arm(Some(shared::testing::faults::FaultPoint {
        port: shared::testing::faults::Port::Store,
        call: "tenants",
        occurrence: 1,
        fault: shared::testing::faults::Fault::Error,
    }));
    let inner: std::sync::Arc<dyn shared::store::Store> = kit.store.clone();
    kit.services.store =
        std::sync::Arc::new(shared::testing::faults::FaultyStore::new(inner, plan));
    // WHEN the warehouses are listed  THEN 503 unavailable
    let (status, v) = call(&kit, Method::GET, "/admin/v1/warehouses", b"").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["type"], "urn:cartlink:problem:unavailable");
}
