//! `DELETE /v1/connections/{id}` on the AWS adapters (moto: DynamoDB, KMS, SES, through the
//! real SDK clients) with oidc-provider as the cart, whose RFC 7009 revocation endpoint the
//! test catalog entry names and which counts the revocation requests it gets.

use cartlink_e2e::aws::{connected, invoke, World};
use cartlink_e2e::{API_KEY, CLIENT_ID, CLIENT_SECRET};
use serde_json::Value;
use shared::domain::ConnectionId;
use shared::service::Services;

async fn call(
    svc: &Services,
    handler: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let auth = format!("Bearer {API_KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let resp = match handler {
        "warehouse-api" => {
            invoke(
                |req| warehouse_api::handle(svc, req),
                method,
                path,
                &headers,
                &[],
                body,
            )
            .await
        }
        _ => {
            invoke(
                |req| connection_tokens::handle(svc, req),
                method,
                path,
                &headers,
                &[],
                body,
            )
            .await
        }
    };
    let value = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    (resp.status().as_u16(), value)
}

async fn disconnected_emails(world: &World) -> usize {
    world
        .emails_to(&world.merchant_email)
        .await
        .iter()
        .filter(|(subject, _)| subject.contains("no longer has access"))
        .count()
}

async fn revocations(world: &World) -> (u64, u64) {
    let stats = world.cart.stats().await;
    (
        stats["revocations"].as_u64().unwrap(),
        stats["revoked"].as_u64().unwrap(),
    )
}

/// The status the cart answers a refresh with the last refresh token it issued.
async fn refresh_at_cart(world: &World) -> u16 {
    let stats = world.cart.stats().await;
    let issued = stats["issued"].as_array().unwrap();
    let refresh = issued.last().unwrap()["refresh_token"].as_str().unwrap();
    reqwest::Client::new()
        .post(format!("{}/token", world.cart.base))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_disconnect_revokes_at_the_cart_deletes_the_sealed_record_and_tells_the_merchant_once() {
    // GIVEN a connection on moto whose token the warehouse can fetch
    let world = World::new().await;
    let svc = world.services();
    let id = connected(&svc, &world).await;
    let tokens = format!("/v1/connections/{id}/tokens");
    assert_eq!(
        call(&svc, "connection-tokens", "GET", &tokens, None)
            .await
            .0,
        200
    );
    // WHEN the warehouse disconnects it
    let path = format!("/v1/connections/{id}");
    let (status, first) = call(&svc, "warehouse-api", "DELETE", &path, None).await;
    // THEN the answer says it is disconnected and revoked at the cart
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["status"], "disconnected");
    assert_eq!(first["revocation"], "revoked");
    // AND the cart's revocation endpoint was called once, and took it: the refresh token it
    // issued no longer refreshes
    assert_eq!(revocations(&world).await, (1, 1));
    assert_eq!(refresh_at_cart(&world).await, 400);
    // AND the token API answers 404, and no item of the table holds the connection
    assert_eq!(
        call(&svc, "connection-tokens", "GET", &tokens, None)
            .await
            .0,
        404
    );
    let scan = world.scan_text().await;
    assert!(
        !scan.contains(&format!("CON#{id}")),
        "the sealed record is gone"
    );
    // AND the merchant got one email
    assert_eq!(disconnected_emails(&world).await, 1);
    // WHEN the warehouse disconnects it again
    let (status, again) = call(&svc, "warehouse-api", "DELETE", &path, None).await;
    // THEN the answer is the same, and nothing more reached the cart or the merchant
    assert_eq!((status, &again), (200, &first));
    assert_eq!(revocations(&world).await, (1, 1));
    assert_eq!(disconnected_emails(&world).await, 1);
}

#[tokio::test]
async fn two_instances_disconnecting_at_once_revoke_once_and_email_once() {
    // GIVEN a connection, and two instances of the warehouse API on one table
    let world = World::new().await;
    let (a, b) = (world.services(), world.services());
    let id = connected(&a, &world).await;
    let path = format!("/v1/connections/{id}");
    // WHEN both disconnect it at once
    let (one, two) = tokio::join!(
        call(&a, "warehouse-api", "DELETE", &path, None),
        call(&b, "warehouse-api", "DELETE", &path, None),
    );
    // THEN both answer 200 with the same body
    assert_eq!(one.0, 200, "{}", one.1);
    assert_eq!(one, two);
    // AND the cart was asked once, the merchant told once
    assert_eq!(revocations(&world).await, (1, 1));
    assert_eq!(disconnected_emails(&world).await, 1);
}

#[tokio::test]
async fn another_warehouses_or_an_unknown_connection_is_404() {
    // GIVEN a connection
    let world = World::new().await;
    let svc = world.services();
    let id = connected(&svc, &world).await;
    // WHEN an unknown connection is disconnected, or one without a key
    let unknown = format!("/v1/connections/{}", ConnectionId::generate());
    let (status, v) = call(&svc, "warehouse-api", "DELETE", &unknown, None).await;
    // THEN 404 problem+json, and the connection, the cart and the inbox are untouched
    assert_eq!(status, 404);
    assert_eq!(v["type"], "urn:cartlink:problem:not-found");
    let anonymous = invoke(
        |req| warehouse_api::handle(&svc, req),
        "DELETE",
        &format!("/v1/connections/{id}"),
        &[],
        &[],
        None,
    )
    .await;
    assert_eq!(anonymous.status(), 401);
    assert!(svc.store.connection(&id).await.unwrap().is_some());
    assert_eq!(revocations(&world).await, (0, 0));
    assert_eq!(disconnected_emails(&world).await, 0);
}
