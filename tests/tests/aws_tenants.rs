//! Warehouses kept as data (issue 12) on the AWS adapters against moto: the `cartlink` CLI
//! drives the admin and warehouse handlers through the Lambda glue, on DynamoDB, KMS and SES.
//!
//! API Gateway is not part of moto's in-process stand-ins, so a small HTTP front stands in for
//! it: every request becomes an HTTP API (payload 2.0) event for the function the template
//! routes it to, and an `/admin/` request passes only with the admin credential, as the
//! `AWS_IAM` authorizer passes only a signed request (the template test checks that
//! authorizer is on every admin route).

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use cartlink_e2e::aws::{invoke, World};
use cartlink_e2e::{cli_binary, ADMIN_KEY, CART};
use serde_json::Value;
use shared::service::Services;

/// Serves `svc` on a free port as API Gateway would route to the functions; answers its URL.
async fn front(svc: Arc<Services>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let svc = svc.clone();
        async move { forward(&svc, req).await }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn forward(svc: &Services, req: axum::extract::Request) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let header_refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let path = parts.uri.path_and_query().unwrap().as_str().to_owned();
    let method = parts.method.as_str().to_owned();
    let body = (!body.is_empty()).then_some(body.as_str());
    let signed = headers
        .iter()
        .any(|(k, v)| k == "authorization" && *v == format!("Bearer {ADMIN_KEY}"));
    let resp = if path.starts_with("/admin/") {
        if !signed {
            let mut denied = axum::response::Response::new(axum::body::Body::from("Forbidden"));
            *denied.status_mut() = axum::http::StatusCode::FORBIDDEN;
            return denied;
        }
        invoke(
            |r| admin_api::handle(svc, r),
            &method,
            &path,
            &header_refs,
            &[],
            body,
        )
        .await
    } else if path.starts_with("/v1/") {
        invoke(
            |r| warehouse_api::handle(svc, r),
            &method,
            &path,
            &header_refs,
            &[],
            body,
        )
        .await
    } else {
        invoke(
            |r| grant_page::handle(svc, r),
            &method,
            &path,
            &header_refs,
            &[],
            body,
        )
        .await
    };
    let (parts, bytes) = resp.into_parts();
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

fn cartlink(base: &str, api_key: &str, args: &[String]) -> (i32, String, String) {
    let out = Command::new(cli_binary())
        .args(args)
        .env("CARTLINK_URL", base)
        .env("CARTLINK_ADMIN_KEY", ADMIN_KEY)
        .env("CARTLINK_API_KEY", api_key)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test]
async fn the_cli_onboards_a_warehouse_on_moto_whose_key_works_until_revoked_and_is_stored_hashed() {
    // GIVEN the functions on moto behind the API Gateway stand-in
    let world = World::new().await;
    let base = front(Arc::new(world.services())).await;
    let run = |key: String, args: Vec<&str>| {
        let base = base.clone();
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        async move {
            tokio::task::spawn_blocking(move || cartlink(&base, &key, &args))
                .await
                .unwrap()
        }
    };
    // WHEN the operator creates a warehouse and a key with the CLI
    let (code, _, err) = run(
        "x".into(),
        vec![
            "admin",
            "warehouses",
            "create",
            "--id",
            "wh-moto",
            "--name",
            "Moto Ltd",
            "--notify-email",
            "ops@moto.test",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(
        "x".into(),
        vec!["admin", "keys", "create", "wh-moto", "--json"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let issued = json_of(&out);
    let key = issued["key"].as_str().unwrap().to_owned();
    // THEN the key creates an invite
    let (code, out, err) = run(
        key.clone(),
        vec![
            "invites",
            "create",
            "--cart",
            CART,
            "--email",
            "moto-tenant@shop.test",
            "--json",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(json_of(&out)["status"], "emailed");
    // AND the table holds the key's hash and never the key
    let scan = world.scan_text().await;
    assert!(!scan.contains(&key), "the key is in the table");
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(key.as_bytes()));
    assert!(scan.contains(&hash), "the key's hash is not in the table");
    // WHEN the key is revoked
    let key_id: &'static str =
        Box::leak(issued["id"].as_str().unwrap().to_owned().into_boxed_str());
    let (code, _, err) = run(
        "x".into(),
        vec!["admin", "keys", "revoke", "wh-moto", key_id],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    // THEN its next call answers 401
    let (code, _, err) = run(key, vec!["carts"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("(401 unauthorized)"), "{err}");
}

#[tokio::test]
async fn disabling_a_warehouse_on_moto_withdraws_its_pending_link() {
    // GIVEN a warehouse onboarded with the CLI on moto and an invite of it
    let world = World::new().await;
    let base = front(Arc::new(world.services())).await;
    let run = |key: String, args: Vec<&str>| {
        let base = base.clone();
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        async move {
            tokio::task::spawn_blocking(move || cartlink(&base, &key, &args))
                .await
                .unwrap()
        }
    };
    run(
        "x".into(),
        vec![
            "admin",
            "warehouses",
            "create",
            "--id",
            "wh-gone",
            "--name",
            "Gone Ltd",
            "--notify-email",
            "ops@gone.test",
        ],
    )
    .await;
    let (_, out, _) = run(
        "x".into(),
        vec!["admin", "keys", "create", "wh-gone", "--json"],
    )
    .await;
    let key = json_of(&out)["key"].as_str().unwrap().to_owned();
    let (_, out, _) = run(
        key,
        vec![
            "invites",
            "create",
            "--cart",
            CART,
            "--email",
            "gone@shop.test",
            "--json",
        ],
    )
    .await;
    let setup_url = json_of(&out)["setup_url"].as_str().unwrap().to_owned();
    // WHEN the operator disables it
    let (code, out, err) = run(
        "x".into(),
        vec!["admin", "warehouses", "disable", "wh-gone", "--json"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(json_of(&out)["invites_withdrawn"], 1);
    // THEN the merchant's link shows the withdrawn page
    let path = setup_url.strip_prefix(&world.base).unwrap().to_owned();
    let page = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("This request was withdrawn"));
}
