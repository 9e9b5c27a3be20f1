//! No route answers a cross-origin read (E5 of the security checklist): a preflight or a request
//! from another site's page gets no `Access-Control-Allow-Origin`, so a browser keeps that page
//! from reading any answer.

use cartlink_e2e::{Peers, API_KEY};

#[tokio::test(flavor = "multi_thread")]
async fn no_route_allows_a_cross_origin_read() {
    // GIVEN the local server
    let p = Peers::start();
    let client = reqwest::Client::new();
    for path in [
        "/v1/invites",
        "/v1/openapi.json",
        "/v1/webhooks/endpoints",
        "/setup",
        "/setup/anything",
        "/oauth/callback/oidc-cart",
        "/manage",
        "/admin/v1/warehouses",
    ] {
        for method in [reqwest::Method::OPTIONS, reqwest::Method::GET] {
            // WHEN another site's page asks (a preflight, and the request itself)
            let resp = client
                .request(method.clone(), format!("{}{path}", p.base))
                .header("origin", "https://evil.example")
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "authorization")
                .bearer_auth(API_KEY)
                .send()
                .await
                .unwrap();
            // THEN no answer lets it read
            let allowed: Vec<_> = resp
                .headers()
                .keys()
                .filter(|k| k.as_str().starts_with("access-control-allow"))
                .map(|k| k.to_string())
                .collect();
            assert!(allowed.is_empty(), "{method} {path}: {allowed:?}");
        }
    }
}
