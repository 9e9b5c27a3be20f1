//! The merchant's pages and forms under arbitrary requests (proptest, a bounded number of cases
//! per run): whatever arrives, the answer is a page, a redirect or a refusal (never a 5xx, never
//! a panic), and a request that does not hold the invite's link changes nothing of it.

use http::{HeaderValue, Method};
use proptest::prelude::*;
use shared::store::InviteStore;
use shared::testing::TestKit;
use shared::web::Request;

use super::handle;

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::HEAD),
        Just(Method::DELETE)
    ]
}

/// Paths near the real routes, with links of every shape (never the invite's own).
fn path() -> impl Strategy<Value = String> {
    let root = prop_oneof![Just("setup"), Just("manage"), Just("assets"), Just("x")];
    let token = prop::option::of("[A-Za-z0-9_%.-]{0,50}");
    let action = prop::option::of(prop_oneof![
        Just("grant"),
        Just("opened"),
        Just("status"),
        Just("withdraw"),
        Just("confirm"),
    ]);
    (root, token, action).prop_map(|(r, t, a)| match (t, a) {
        (Some(t), Some(a)) => format!("/{r}/{t}/{a}"),
        (Some(t), None) => format!("/{r}/{t}"),
        (None, _) => format!("/{r}"),
    })
}

/// Form bodies of the pages' own fields with values of every shape, and junk.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        Just("code"),
        Just("email"),
        Just("confirm"),
        Just("lang"),
        Just("x")
    ];
    let pair = (field, "[ -~]{0,40}").prop_map(|(n, v)| {
        format!(
            "{n}={}",
            url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
        )
    });
    prop_oneof![
        prop::collection::vec(pair, 0..4).prop_map(|p| p.join("&").into_bytes()),
        prop::collection::vec(any::<u8>(), 0..200),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_page_request_gets_an_answer_and_changes_no_invite_it_does_not_hold(
        method in method(),
        path in path(),
        query in "[a-z_=&%0-9.-]{0,30}",
        body in body(),
        form in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let kit = TestKit::new();
        rt.block_on(async {
            // GIVEN an invite, emailed
            let (id, _) = kit.invite().await;
            let before = kit.store.invite(&id).await.unwrap().unwrap();
            let mut req = Request::new(method, &path);
            req.query = query;
            req.body = body.into();
            if form {
                req.headers.insert(
                    "content-type",
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
            }
            // WHEN the request arrives
            let resp = handle(&kit.services, req).await;
            // THEN it gets an answer that is no server error, and the invite is as it was
            prop_assert!(!resp.status().is_server_error(), "{}", resp.status());
            let after = kit.store.invite(&id).await.unwrap().unwrap();
            prop_assert_eq!(after.version, before.version);
            Ok(())
        })?;
    }
}
