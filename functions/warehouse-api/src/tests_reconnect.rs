//! `POST /v1/connections/{id}/reconnect` through the handler: the answers the local server tests
//! (tests/tests/reconnect.rs) do not reach.

use http::{HeaderValue, Method, StatusCode};
use serde_json::Value;
use shared::domain::InviteStatus;
use shared::service::reconnect::{reconnect_invite_id, MAX_ROUNDS};
use shared::store::{ConnectionStore, InviteStore};
use shared::testing::{TestKit, T0, TEST_API_KEY};
use shared::web::{Request, Response};

use super::handle;

fn reconnect(id: &str) -> Request {
    let mut req = Request::new(Method::POST, &format!("/v1/connections/{id}/reconnect"));
    req.headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {TEST_API_KEY}")).unwrap(),
    );
    req
}

fn json(resp: &Response) -> Value {
    serde_json::from_slice(resp.body()).unwrap()
}

async fn connection_id(kit: &TestKit) -> String {
    let invite = kit.authorized().await;
    let c = kit
        .store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap();
    c.id.to_string()
}

#[tokio::test]
async fn a_reconnect_answers_201_with_the_invite_and_its_connection() {
    // GIVEN a connection
    let kit = TestKit::new();
    let id = connection_id(&kit).await;
    // WHEN the warehouse posts a reconnect
    let resp = handle(&kit.services, reconnect(&id)).await;
    // THEN it is 201 with the invite creation's fields and the connection
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v = json(&resp);
    assert_eq!(v["connection_id"], id.as_str());
    assert_eq!(v["status"], "emailed");
    for field in ["id", "setup_url", "access_code_hint", "expires_at"] {
        assert!(v[field].is_string(), "{field}: {v}");
    }
}

#[tokio::test]
async fn the_address_limit_answers_429_with_retry_after() {
    // GIVEN a connection whose merchant address used its one email of the day
    let mut kit = TestKit::new();
    let id = connection_id(&kit).await;
    kit.services.config.limits.emails_per_address_per_day = 1;
    // WHEN the warehouse posts a reconnect
    let resp = handle(&kit.services, reconnect(&id)).await;
    // THEN it is 429 rate-limited with Retry-After
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json(&resp)["type"], "urn:cartlink:problem:rate-limited");
    assert!(resp.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_mail_outage_answers_503() {
    // GIVEN a connection and a mail service that cannot be reached
    let kit = TestKit::new();
    let id = connection_id(&kit).await;
    *kit.mailer.unavailable.lock().unwrap() = Some("down".into());
    // WHEN the warehouse posts a reconnect
    let resp = handle(&kit.services, reconnect(&id)).await;
    // THEN it is 503 unavailable, with no link
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(&resp)["type"], "urn:cartlink:problem:unavailable");
    assert!(!String::from_utf8_lossy(resp.body()).contains("/setup/"));
}

#[tokio::test]
async fn every_round_used_answers_409_reconnect_limit() {
    // GIVEN a connection whose every reconnect round was made and withdrawn
    let kit = TestKit::new();
    let id = connection_id(&kit).await;
    let c = kit
        .store
        .connection(&shared::domain::ConnectionId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    for round in 0..MAX_ROUNDS {
        let resp = handle(&kit.services, reconnect(&id)).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let made = reconnect_invite_id(&c.id, c.version, round);
        kit.store
            .set_invite_status(&made, InviteStatus::Revoked, None, T0)
            .await
            .unwrap();
    }
    // WHEN the warehouse posts another reconnect
    let resp = handle(&kit.services, reconnect(&id)).await;
    // THEN it is 409 reconnect-limit
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(json(&resp)["type"], "urn:cartlink:problem:reconnect-limit");
}
