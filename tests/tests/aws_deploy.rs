//! What the deployment adds on AWS, against moto: the Lambda configuration read from an SSM
//! SecureString parameter (warehouse key hashes and cart client secrets never in plain
//! environment variables), and SES bounce feedback marking an invite undeliverable in DynamoDB.

use std::collections::HashMap;

use aws_sdk_ssm::types::ParameterType;
use cartlink_e2e::aws::{create_invite, invoke, CheckingMoto, World};
use cartlink_e2e::aws_ops::as_handler;
use cartlink_e2e::{API_KEY, CART, CLIENT_SECRET};
use serde_json::json;
use shared::carts::Catalog;
use shared::domain::{CartId, InviteId, InviteStatus};
use shared::service::Services;
use shared::store::{InviteFilter, PageRequest};
use shared::wiring::{load_lambda_config, sdk_http_client};

/// The world's configuration with the cart secret inline, as the SSM parameter holds it.
fn parameter_toml(world: &World) -> String {
    world.cart.config_toml().replace(
        "client_secret_env = \"E2E_CART_SECRET\"",
        &format!("client_secret = \"{CLIENT_SECRET}\""),
    )
}

async fn put_parameter(world: &World, name: &str, value: &str, kind: ParameterType) {
    aws_sdk_ssm::Client::new(&world.sdk)
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(kind)
        .overwrite(true)
        .send()
        .await
        .expect("put parameter");
}

/// The environment the SAM template gives a function: names and ids only, no secret.
fn lambda_env(world: &World, parameter: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("CARTLINK_CONFIG_PARAMETER", parameter.to_owned()),
        ("CARTLINK_PUBLIC_BASE_URL", world.base.clone()),
        ("CARTLINK_TABLE", world.table.clone()),
        ("CARTLINK_KMS_KEY_ID", world.key_id.clone()),
        (
            "CARTLINK_MAIL_FROM",
            format!("cartlink <no-reply@{}>", cartlink_e2e::aws::VERIFIED_DOMAIN),
        ),
    ])
}

#[tokio::test]
async fn a_function_reads_its_secrets_from_the_securestring_parameter() {
    // GIVEN the configuration (warehouse key hash, cart client secret) in a SecureString
    let world = World::new().await;
    let name = format!("/cartlink/e2e/{}/config", world.table);
    put_parameter(
        &world,
        &name,
        &parameter_toml(&world),
        ParameterType::SecureString,
    )
    .await;
    let env = lambda_env(&world, &name);
    // WHEN a function loads its configuration
    let config = load_lambda_config(&|k| env.get(k).cloned(), &world.sdk)
        .await
        .expect("configuration from the parameter");
    // THEN the cart's secret came from the parameter, not from any environment variable
    let catalog = Catalog::from_config(&config);
    let cart = catalog
        .get(&CartId::new(CART))
        .expect("the cart is configured");
    let secret = cart
        .credentials
        .as_ref()
        .and_then(|c| c.client_secret.as_ref())
        .expect("a client secret");
    assert_eq!(secret.expose(), CLIENT_SECRET);
    assert!(env.values().all(|v| !v.contains(CLIENT_SECRET)));
    // AND the warehouse's key from the parameter authenticates an invite on moto
    let svc = Services::aws(config, catalog, &world.sdk).unwrap();
    let (status, v) = create_invite(&svc, &world).await;
    assert_eq!(status, 201, "{v}");
}

#[tokio::test]
async fn a_plain_string_a_missing_parameter_or_two_sources_refuse_to_start() {
    let world = World::new().await;
    // GIVEN the same configuration in a plain String parameter
    let plain = format!("/cartlink/e2e/{}/plain", world.table);
    put_parameter(
        &world,
        &plain,
        &parameter_toml(&world),
        ParameterType::String,
    )
    .await;
    let env = lambda_env(&world, &plain);
    let err = load_lambda_config(&|k| env.get(k).cloned(), &world.sdk)
        .await
        .expect_err("a plain String is refused")
        .to_string();
    // THEN the function does not start, and the error holds no secret
    assert!(err.contains("must be a SecureString"), "{err}");
    assert!(!err.contains(CLIENT_SECRET));

    // GIVEN a parameter that does not exist
    let env = lambda_env(&world, "/cartlink/e2e/none");
    let err = load_lambda_config(&|k| env.get(k).cloned(), &world.sdk)
        .await
        .expect_err("a missing parameter is refused")
        .to_string();
    assert!(err.contains("/cartlink/e2e/none"), "{err}");

    // GIVEN a parameter whose TOML is broken on a line that holds a secret
    let broken = format!("/cartlink/e2e/{}/broken", world.table);
    put_parameter(
        &world,
        &broken,
        "[[carts]]\nclient_secret = \"sk-live-canary\" oops\n",
        ParameterType::SecureString,
    )
    .await;
    let env = lambda_env(&world, &broken);
    let err = load_lambda_config(&|k| env.get(k).cloned(), &world.sdk)
        .await
        .expect_err("broken TOML is refused")
        .to_string();
    // THEN the error says where, not what
    assert!(err.contains("line 2"), "{err}");
    assert!(!err.contains("sk-live-canary"), "{err}");

    // GIVEN both a parameter and a file
    let mut env = lambda_env(&world, "/cartlink/e2e/x");
    env.insert("CARTLINK_CONFIG", "/etc/cartlink.toml".into());
    let err = load_lambda_config(&|k| env.get(k).cloned(), &world.sdk)
        .await
        .expect_err("two sources are refused")
        .to_string();
    assert!(err.contains("not both"), "{err}");
}

/// A function's `SdkConfig` on `moto` with the credentials Lambda gives it (`secret` may be
/// spoiled), as `lambda_sdk_config` builds it from the environment.
fn function_sdk(moto: &CheckingMoto, [key, secret, token]: [String; 3]) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(key, secret, Some(token), None, "lambda"),
            ),
        )
        .http_client(sdk_http_client())
        .build()
}

/// The environment of a function whose configuration is in `parameter`.
fn parameter_env(parameter: &str) -> impl Fn(&str) -> Option<String> + '_ {
    move |k| match k {
        "CARTLINK_CONFIG_PARAMETER" => Some(parameter.to_owned()),
        "CARTLINK_PUBLIC_BASE_URL" => Some("https://cartlink.example.com".to_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn the_configuration_read_passes_aws_signature_session_token_and_policy_checks() {
    // GIVEN a peer that checks requests as AWS does, a SecureString, and a role that may only
    // GetParameter, whose temporary credentials (with a session token) the function holds
    let name = "/cartlink/e2e/signed/config";
    let (moto, credentials) = CheckingMoto::with_lambda_role(name, "http_timeout_secs = 7\n");
    let sdk = function_sdk(&moto, credentials);
    // WHEN the function reads its configuration
    let config = load_lambda_config(&parameter_env(name), &sdk)
        .await
        .expect("the signed read is accepted");
    // THEN the value came back decrypted through the checked request
    assert_eq!(config.http_timeout, std::time::Duration::from_secs(7));
}

#[tokio::test]
async fn a_read_whose_signature_does_not_match_is_refused_at_once() {
    // GIVEN the same peer, and credentials whose secret key is wrong
    let name = "/cartlink/e2e/signed/config";
    let (moto, [key, _, token]) =
        CheckingMoto::with_lambda_role(name, "http_timeout_secs = 7 # sk-live-canary\n");
    let sdk = function_sdk(&moto, [key, "not-the-secret".into(), token]);
    // WHEN the function reads its configuration
    let err = load_lambda_config(&parameter_env(name), &sdk)
        .await
        .expect_err("a bad signature is refused")
        .to_string();
    // THEN it does not start, names the parameter and the refusal, and quotes nothing
    assert!(err.contains(name), "{err}");
    assert!(err.contains("(HTTP 403)"), "{err}");
    assert!(!err.contains("sk-live-canary"), "{err}");
}

#[tokio::test]
async fn a_hard_bounce_from_sns_marks_the_invite_undeliverable_in_dynamodb() {
    // GIVEN an invite created and emailed on the AWS adapters
    let world = World::new().await;
    let svc = world.services();
    let body = json!({"cart": CART, "merchant_email": world.merchant_email}).to_string();
    let auth = format!("Bearer {API_KEY}");
    let resp = invoke(
        |req| warehouse_api::handle(&svc, req),
        "POST",
        "/v1/invites",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &[],
        Some(&body),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    let id = InviteId::parse(v["id"].as_str().unwrap()).unwrap();
    // WHEN SNS delivers SES's permanent bounce of the invite email (tags as the mailer set them)
    let ses = json!({
        "eventType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bounceSubType": "NoEmail",
                   "bouncedRecipients": [{"emailAddress": world.merchant_email}]},
        "mail": {"messageId": "m-1", "tags": {"invite-id": [id.as_str()], "kind": ["invite"]}}
    });
    let event: mail_events::SnsEvent = serde_json::from_value(json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:cartlink-mail-events:x",
            "Sns": {
                "Type": "Notification",
                "MessageId": "sns-1",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:cartlink-mail-events",
                "Message": ses.to_string(),
                "Timestamp": "2026-11-29T10:00:02.000Z",
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
                "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
            }
        }]
    }))
    .unwrap();
    let out = as_handler(mail_events::handle_sns(&svc, event.clone()))
        .await
        .unwrap();
    // THEN the stored invite is undeliverable, its reason names no address
    assert_eq!(out.undeliverable, 1);
    let stored = svc.store.invite(&id).await.unwrap().unwrap();
    assert_eq!(stored.status, InviteStatus::Undeliverable);
    assert!(!stored.status_reason.unwrap_or_default().contains('@'));
    // AND the warehouse's index lists it under its new status
    let wh = stored.warehouse.id.clone();
    let listed = svc
        .store
        .list_invites(
            &wh,
            &InviteFilter::status(InviteStatus::Undeliverable),
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert!(listed.iter().any(|i| i.id == id));
    // AND a second delivery changes nothing
    let again = as_handler(mail_events::handle_sns(&svc, event))
        .await
        .unwrap();
    assert_eq!(again.undeliverable, 0);
}
