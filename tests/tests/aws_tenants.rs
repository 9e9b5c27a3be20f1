//! Warehouses kept as data (issue 12) on the AWS adapters against moto: the `cartlink` CLI
//! drives the admin and warehouse handlers through the Lambda glue, on DynamoDB, KMS and SES.
//!
//! API Gateway is not part of moto's in-process stand-ins, so a small HTTP front stands in for
//! it: every request becomes an HTTP API (payload 2.0) event for the function the template
//! routes it to, and an `/admin/` request passes only with a valid SigV4 signature (service
//! `execute-api`) of the one principal allowed to invoke it, as the `AWS_IAM` authorizer does
//! (the template test checks that authorizer is on the admin route). The CLI signs with the
//! AWS credentials of its environment, as an operator's would.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use cartlink_e2e::aws::{invoke, World};
use cartlink_e2e::{cli_binary, CART};
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
    let body = (!body.is_empty()).then_some(body);
    let body = body.as_deref();
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
    let raw_body = body.unwrap_or_default().as_bytes();
    let signed = signature_holds(&method, &path, &headers, raw_body);
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

/// The one principal allowed to invoke the admin route.
const OPERATOR_KEY_ID: &str = "AKIDCARTLINKOPERATOR";
const OPERATOR_SECRET: &str = "operator-secret-access-key";
const REGION: &str = "us-east-1";

/// Whether the request carries a SigV4 signature of the operator for `execute-api` over its
/// method, path, signed headers and body, made within five minutes.
fn signature_holds(method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> bool {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(auth), Some(date), Some(host)) = (
        header("authorization"),
        header("x-amz-date"),
        header("host"),
    ) else {
        return false;
    };
    let Some(signed_headers) = auth
        .split(", ")
        .find_map(|p| p.strip_prefix("SignedHeaders="))
    else {
        return false;
    };
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let Ok(at) = time::PrimitiveDateTime::parse(date, format) else {
        return false;
    };
    let at = at.assume_utc();
    if (time::OffsetDateTime::now_utc() - at).abs() > time::Duration::minutes(5) {
        return false;
    }
    // The headers the client signed, except those the signer writes itself.
    let covered: Vec<(&str, &str)> = signed_headers
        .split(';')
        .filter(|h| !["host", "x-amz-date", "x-amz-security-token"].contains(h))
        .filter_map(|h| header(h).map(|v| (h, v)))
        .collect();
    let identity =
        aws_credential_types::Credentials::new(OPERATOR_KEY_ID, OPERATOR_SECRET, None, None, "iam")
            .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("execute-api")
        .time(at.into())
        .settings(aws_sigv4::http_request::SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = format!("http://{host}{path}");
    let Ok(request) = aws_sigv4::http_request::SignableRequest::new(
        method,
        url.as_str(),
        covered.into_iter(),
        aws_sigv4::http_request::SignableBody::Bytes(body),
    ) else {
        return false;
    };
    let Ok(output) = aws_sigv4::http_request::sign(request, &params) else {
        return false;
    };
    let (instructions, _) = output.into_parts();
    let (expected, _) = instructions.into_parts();
    expected
        .iter()
        .any(|h| h.name() == "authorization" && h.value() == auth)
}

fn cartlink(base: &str, api_key: &str, args: &[String]) -> (i32, String, String) {
    cartlink_signing_as(base, api_key, OPERATOR_SECRET, args)
}

/// Runs the CLI with the operator's key id and `secret` in its AWS environment (no admin key).
fn cartlink_signing_as(
    base: &str,
    api_key: &str,
    secret: &str,
    args: &[String],
) -> (i32, String, String) {
    let out = Command::new(cli_binary())
        .args(args)
        .env("CARTLINK_URL", base)
        .env_remove("CARTLINK_ADMIN_KEY")
        .env("AWS_ACCESS_KEY_ID", OPERATOR_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_REGION", REGION)
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

#[tokio::test]
async fn an_admin_call_signed_with_another_secret_or_unsigned_is_refused_before_the_function() {
    // GIVEN the functions on moto behind the API Gateway stand-in
    let world = World::new().await;
    let base = front(Arc::new(world.services())).await;
    // WHEN the CLI signs with a wrong secret, and when a request comes unsigned
    let args: Vec<String> = ["admin", "warehouses", "list"].map(String::from).to_vec();
    let b = base.clone();
    let (code, _, err) =
        tokio::task::spawn_blocking(move || cartlink_signing_as(&b, "x", "not-the-secret", &args))
            .await
            .unwrap();
    let bare = reqwest::get(format!("{base}/admin/v1/warehouses"))
        .await
        .unwrap();
    // THEN both are refused: nothing reached the admin function
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("403"), "{err}");
    assert_eq!(bare.status(), 403);
}
