//! The callback routes under arbitrary requests (proptest, a bounded number of cases per run):
//! whatever arrives, with or without a browser that started a grant, the answer is a page or a
//! refusal (never a 5xx, never a panic), and nothing that is not the grant's own callback makes
//! a token call or stores a connection.

use http::{HeaderValue, Method};
use proptest::prelude::*;
use shared::store::ConnectionStore;
use shared::testing::TestKit;
use shared::web::Request;

use super::handle;

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::HEAD),
        Just(Method::PUT)
    ]
}

/// Paths near the real routes, with carts and nonces of every shape.
fn path() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        Just("callback"),
        Just("keys"),
        Just("integration"),
        Just("identity"),
        Just("return"),
        Just("other"),
    ];
    let cart = prop_oneof![Just("acme".to_owned()), "[a-z0-9%._-]{0,20}"];
    let nonce = prop::option::of("[A-Za-z0-9_%-]{0,50}");
    (kind, cart, nonce).prop_map(|(k, c, n)| match n {
        Some(n) => format!("/oauth/{k}/{c}/{n}"),
        None => format!("/oauth/{k}/{c}"),
    })
}

/// Queries of the callback's own names with values of every shape, repeated or not, and junk.
fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("code"),
        Just("state"),
        Just("iss"),
        Just("error"),
        Just("error_description"),
        Just("hmac"),
        Just("shop"),
        Just("timestamp"),
        Just("scope"),
        Just("x"),
    ];
    let pair = (name, "[ -~]{0,40}").prop_map(|(n, v)| {
        format!(
            "{n}={}",
            url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
        )
    });
    prop_oneof![
        prop::collection::vec(pair, 0..6).prop_map(|p| p.join("&")),
        "\\PC{0,60}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_callback_request_gets_a_page_or_a_refusal_and_redeems_nothing(
        method in method(),
        path in path(),
        query in query(),
        body in prop::collection::vec(any::<u8>(), 0..200),
        with_cookie in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let kit = TestKit::new();
        rt.block_on(async {
            // GIVEN a grant started in this browser (its state is never in the query)
            let (id, token) = kit.invite().await;
            let grant = kit.start(&token).await;
            let mut req = Request::new(method, &path);
            req.query = query;
            req.body = body.into();
            if with_cookie {
                let cookie = format!("__Host-cartlink-grant={}", grant.binding);
                req.headers.insert("cookie", HeaderValue::from_str(&cookie).unwrap());
            }
            // WHEN the request arrives
            let resp = handle(&kit.services, req).await;
            // THEN it gets a page, a redirect or a refusal, and no code is redeemed
            let status = resp.status();
            prop_assert!(!status.is_server_error(), "{status}");
            prop_assert_eq!(kit.oauth.calls(), 0);
            prop_assert!(kit.store.connection_for_invite(&id).await.unwrap().is_none());
            Ok(())
        })?;
    }
}
