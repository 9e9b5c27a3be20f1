//! Every warehouse route under arbitrary requests (proptest, a bounded number of cases per
//! run): whatever arrives, the answer is one of the documented statuses, never a 500, and every
//! error is a problem+json with a stable type; nothing panics.

use http::{HeaderValue, Method, StatusCode};
use proptest::prelude::*;
use serde_json::Value;
use shared::testing::{TestKit, TEST_API_KEY};
use shared::web::Request;

use super::handle;

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::DELETE),
        Just(Method::PUT),
        Just(Method::PATCH),
        Just(Method::HEAD),
    ]
}

/// Paths near the real routes: their segments, ids of every shape, and junk.
fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("v1".to_owned()),
        Just("invites".to_owned()),
        Just("connections".to_owned()),
        Just("webhooks".to_owned()),
        Just("endpoints".to_owned()),
        Just("deliveries".to_owned()),
        Just("retry".to_owned()),
        Just("test".to_owned()),
        Just("events".to_owned()),
        Just("resend".to_owned()),
        Just("reconnect".to_owned()),
        Just("rotate-secret".to_owned()),
        Just("carts".to_owned()),
        "inv-[a-z0-9]{0,30}",
        "[a-zA-Z0-9%._~-]{0,40}",
        "\\PC{0,12}",
    ];
    prop::collection::vec(segment, 0..6).prop_map(|s| format!("/v1/{}", s.join("/")))
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(br#"{"url":"https://hooks.example.com/in"}"#.to_vec()),
        Just(br#"{"cart":"acme","merchant_email":"m@shop.test"}"#.to_vec()),
        "\\PC{0,200}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..300),
    ]
}

const DOCUMENTED: [u16; 12] = [200, 201, 202, 204, 400, 401, 404, 405, 409, 415, 422, 503];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_request_gets_a_documented_answer(
        method in method(),
        path in path(),
        query in "[a-z_=&%0-9.-]{0,40}",
        body in body(),
        authorized in any::<bool>(),
        json in any::<bool>(),
        key in prop::option::of("[ -~]{0,40}"),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let kit = TestKit::new();
        let mut req = Request::new(method, &path);
        req.query = query;
        req.body = body.into();
        if authorized {
            req.headers.insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {TEST_API_KEY}")).unwrap(),
            );
        }
        if json {
            req.headers.insert("content-type", HeaderValue::from_static("application/json"));
        }
        if let Some(k) = key.and_then(|k| HeaderValue::from_str(&k).ok()) {
            req.headers.insert("idempotency-key", k);
        }
        // WHEN it is handled
        let resp = rt.block_on(handle(&kit.services, req));
        // THEN the status is documented, never a 500
        let status = resp.status();
        prop_assert!(DOCUMENTED.contains(&status.as_u16()), "{status}");
        // AND an error is a problem with a stable type
        if status.is_client_error() || status.is_server_error() {
            prop_assert_eq!(
                resp.headers().get("content-type").map(|v| v.to_str().unwrap_or("")),
                Some("application/problem+json")
            );
            let v: Value = serde_json::from_slice(resp.body()).unwrap();
            prop_assert!(v["type"].as_str().unwrap_or("").starts_with("urn:cartlink:problem:"), "{v}");
            prop_assert_eq!(v["status"].as_u64(), Some(u64::from(status.as_u16())));
        }
        prop_assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
