//! The Lambda functions' wiring: configuration and every AWS client come from the process
//! environment once (`AWS_ENDPOINT_URL` included), so the same binaries run against moto.
//! One test in its own binary, since it sets process-wide environment variables.

use cartlink_e2e::aws::{create_invite, moto, World};
use cartlink_e2e::CLIENT_SECRET;
use shared::domain::InviteId;
use shared::service::Services;

#[tokio::test]
async fn the_lambda_services_read_everything_from_the_environment() {
    // GIVEN a table, key and sender on moto
    let world = World::new().await;
    // AND an environment as the SAM template sets it, without CARTLINK_TABLE at first
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), world.cart.config_toml()).unwrap();
    let vars = [
        ("AWS_ENDPOINT_URL", moto().endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("CARTLINK_PUBLIC_BASE_URL", world.base.as_str()),
        ("CARTLINK_KMS_KEY_ID", world.key_id.as_str()),
        ("CARTLINK_MAIL_FROM", "cartlink <no-reply@cartlink.test>"),
        ("CARTLINK_CONFIG", config.path().to_str().unwrap()),
        ("E2E_CART_SECRET", CLIENT_SECRET),
    ];
    for (k, v) in vars {
        std::env::set_var(k, v);
    }
    // WHEN a function starts without its table
    let missing = Services::for_lambda().await;
    // THEN it says what is missing
    assert_eq!(
        missing.err().map(|e| e.to_string()),
        Some("cannot start: CARTLINK_TABLE is not set".into())
    );

    // WHEN it starts with everything set
    std::env::set_var("CARTLINK_TABLE", &world.table);
    let svc = Services::for_lambda().await.unwrap();
    let (status, v) = create_invite(&svc, &world).await;
    // THEN the invite landed in moto's table and its email in moto's SES
    assert_eq!(status, 201, "{v}");
    let id = InviteId::parse(v["id"].as_str().unwrap()).unwrap();
    let stored = world.services().store.invite(&id).await.unwrap();
    assert!(stored.is_some());
    assert_eq!(world.emails_to(&world.merchant_email).await.len(), 1);
}
