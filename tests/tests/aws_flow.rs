//! The merchant flow a second time, on the AWS adapters: the real SDK clients against a moto
//! server (DynamoDB with its stream, KMS, SES), oidc-provider as the cart, the HTTP handlers
//! invoked with API Gateway HTTP API (payload 2.0) events and the confirmation handler with the
//! records the DynamoDB Streams API returns.

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::EventRecord;
use cartlink_e2e::aws::{callback, consent, invoke, Consented, World};
use cartlink_e2e::aws_ops::as_handler;
use cartlink_e2e::{LogCapture, API_KEY, CART};
use serde_json::{json, Value};
use shared::clock::{Clock, ManualClock, SystemClock};
use shared::domain::{ConnectionStatus, InviteId, InviteStatus, WarehouseId};
use shared::service::connections::ConnectionError;
use shared::service::Services;
use shared::store::dynamo::stream::{self, StreamChange};
use shared::store::{InviteFilter, PageRequest};

fn text(resp: &shared::web::Response) -> String {
    String::from_utf8_lossy(resp.body()).into_owned()
}

async fn create_invite(svc: &Services, world: &World) -> (u16, Value) {
    let body = json!({"cart": CART, "merchant_email": world.merchant_email, "merchant_name": "Alice's Shop"}).to_string();
    let auth = format!("Bearer {API_KEY}");
    let resp = invoke(
        |req| warehouse_api::handle(svc, req),
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
    (
        resp.status().as_u16(),
        serde_json::from_slice(resp.body()).unwrap(),
    )
}

/// Creates an invite and grants it; answers the invite id, the link token and the consent.
async fn authorized(svc: &Services, world: &World) -> (InviteId, String, Consented) {
    let (status, v) = create_invite(svc, world).await;
    assert_eq!(status, 201, "{v}");
    let token = v["setup_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let c = consent(svc, world, &token).await;
    let resp = callback(svc, &c).await;
    assert_eq!(resp.status(), 200);
    assert!(text(&resp).contains("Successful Authorization"));
    (
        InviteId::parse(v["id"].as_str().unwrap()).unwrap(),
        token,
        c,
    )
}

fn access_code_in(html: &str) -> String {
    let bytes = html.as_bytes();
    (0..bytes.len().saturating_sub(11))
        .map(|i| &html[i..i + 11])
        .find(|w| {
            w.as_bytes()[5] == b'-'
                && w.bytes()
                    .enumerate()
                    .all(|(i, b)| i == 5 || b.is_ascii_digit() || b.is_ascii_uppercase())
        })
        .expect("an access code in the email")
        .to_owned()
}

/// Whether a stream record is the one of `invite` changing into `authorized`, as the table's
/// own reader sees it.
fn authorizes(record: &EventRecord, invite: &InviteId) -> bool {
    stream::classify(
        &record.event_name,
        &record.change.old_image,
        &record.change.new_image,
    )
    .ok()
        == Some(StreamChange::InviteAuthorized(invite.clone()))
}

async fn confirmations(world: &World, invite: &InviteId) -> (usize, usize) {
    let merchant = world
        .emails_to(&world.merchant_email)
        .await
        .iter()
        .filter(|(s, _)| s.starts_with("You gave"))
        .count();
    let warehouse = world
        .emails_to("ops@e2e-warehouse.test")
        .await
        .iter()
        .filter(|(_, body)| body.contains(invite.as_str()))
        .count();
    (merchant, warehouse)
}

#[tokio::test]
async fn the_merchant_flow_runs_on_the_aws_adapters() {
    // GIVEN the AWS adapters on moto and a real OAuth 2.0 cart
    let world = World::new().await;
    let svc = world.services();
    // WHEN the warehouse creates an invite through an API Gateway event
    let (status, v) = create_invite(&svc, &world).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["status"], "emailed");
    let setup_url = v["setup_url"].as_str().unwrap().to_owned();
    let token = setup_url.rsplit('/').next().unwrap().to_owned();
    // THEN SES carried the invite email, with the link and the access code
    let mails = world.emails_to(&world.merchant_email).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].0,
        "E2E Fulfilment asks for access to your OIDC Cart store"
    );
    assert!(mails[0].1.contains(&setup_url));
    let code = access_code_in(&mails[0].1);

    // WHEN the merchant opens the link (GET changes nothing), grants, and the cart calls back
    let page = invoke(
        |req| grant_page::handle(&svc, req),
        "GET",
        &format!("/setup/{token}"),
        &[],
        &[],
        None,
    )
    .await;
    assert_eq!(page.status(), 200);
    assert!(text(&page).contains("Grant API Access"));
    let c = consent(&svc, &world, &token).await;
    assert_eq!(world.cart.token_requests().await, 0);
    let resp = callback(&svc, &c).await;
    // THEN the page says so and the invite is authorized
    assert!(text(&resp).contains("Successful Authorization"));
    assert_eq!(world.cart.token_requests().await, 1);
    let id = InviteId::parse(v["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        svc.store.invite(&id).await.unwrap().unwrap().status,
        InviteStatus::Authorized
    );

    // WHEN the confirmation function gets the table's stream records
    let event = world.stream_event().await;
    assert!(event.records.iter().any(|r| r.event_name == "MODIFY"));
    let resp = as_handler(confirmation::handle_stream(&svc, event.clone())).await;
    // THEN it finished every record, both sides were told once, and the invite is confirmed
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(confirmations(&world, &id).await, (1, 1));
    assert_eq!(
        svc.store.invite(&id).await.unwrap().unwrap().status,
        InviteStatus::Confirmed
    );
    // AND the same records delivered again send nothing more
    assert!(as_handler(confirmation::handle_stream(&svc, event))
        .await
        .batch_item_failures
        .is_empty());
    assert_eq!(confirmations(&world, &id).await, (1, 1));

    // AND no secret is in any attribute of the table
    let issued = world.cart.stats().await["issued"][0].clone();
    let callback_code = url::Url::parse(&format!("{}{}", world.base, c.callback))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let scan = world.scan_text().await;
    for (what, secret) in [
        ("link token", token.as_str()),
        ("access code", code.as_str()),
        ("access code (bare)", &code.replace('-', "")),
        ("state", c.state.as_str()),
        ("authorization code", callback_code.as_str()),
        ("PKCE verifier", c.verifier.as_str()),
        ("access token", issued["access_token"].as_str().unwrap()),
        ("refresh token", issued["refresh_token"].as_str().unwrap()),
        (
            "merchant email in a key",
            &format!("#{}", world.merchant_email),
        ),
    ] {
        assert!(!scan.contains(secret), "{what} found in the table");
    }
    // AND the connection opens back to exactly what the cart issued
    let conn = svc.store.connection_for_invite(&id).await.unwrap().unwrap();
    let open = svc.open_connection(&conn.id).await.unwrap();
    assert_eq!(
        open.tokens.access_token.expose(),
        issued["access_token"].as_str().unwrap()
    );
    // AND the warehouse's list of invites, filtered by status, holds it under its new status
    let wh = WarehouseId::parse("wh-e2e").unwrap();
    let confirmed = svc
        .store
        .list_invites(
            &wh,
            &InviteFilter::status(InviteStatus::Confirmed),
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        confirmed.iter().map(|i| &i.id).collect::<Vec<_>>(),
        vec![&id]
    );
    assert!(svc
        .store
        .list_invites(
            &wh,
            &InviteFilter::status(InviteStatus::Emailed),
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items
        .is_empty());
}

#[tokio::test]
async fn the_same_stream_record_twice_and_twice_at_once_sends_one_email_of_each_kind() {
    let world = World::new().await;
    let svc = world.services();
    let (id, _, _) = authorized(&svc, &world).await;
    let event = world.stream_event().await;
    // WHEN the same records arrive twice at the same time, then once more
    let (a, b) = tokio::join!(
        as_handler(confirmation::handle_stream(&svc, event.clone())),
        as_handler(confirmation::handle_stream(&svc, event.clone())),
    );
    let authorized_seq = event
        .records
        .iter()
        .find(|r| authorizes(r, &id))
        .and_then(|r| r.change.sequence_number.clone())
        .unwrap();
    let last = as_handler(confirmation::handle_stream(&svc, event)).await;
    // THEN each email went out once; a delivery that met the other's lease asked, by that
    // record's sequence number, to be delivered again
    for failure in a.batch_item_failures.iter().chain(&b.batch_item_failures) {
        assert_eq!(failure.item_identifier.as_ref(), Some(&authorized_seq));
    }
    assert!(last.batch_item_failures.is_empty());
    assert_eq!(confirmations(&world, &id).await, (1, 1));
}

#[tokio::test]
async fn an_ses_rejection_is_a_batch_item_failure_and_a_later_delivery_sends_once() {
    let world = World::new().await;
    let svc = world.services();
    let (id, _, _) = authorized(&svc, &world).await;
    let event = world.stream_event().await;
    // GIVEN a confirmation function whose sender is not verified
    let domain = format!("unverified-{}.test", id.as_str().trim_start_matches("inv-"));
    let unverified = world.services_from(&format!("no-reply@{domain}"));
    // WHEN it gets the records
    let resp = as_handler(confirmation::handle_stream(&unverified, event.clone())).await;
    // THEN the authorized record is reported, nothing was sent, the invite is still authorized
    assert_eq!(resp.batch_item_failures.len(), 1);
    let reported = resp.batch_item_failures[0].item_identifier.clone().unwrap();
    let authorized_record = event.records.iter().find(|r| authorizes(r, &id)).unwrap();
    assert_eq!(
        Some(reported),
        authorized_record.change.sequence_number.clone()
    );
    assert_eq!(confirmations(&world, &id).await, (0, 0));
    assert_eq!(
        svc.store.invite(&id).await.unwrap().unwrap().status,
        InviteStatus::Authorized
    );
    // WHEN the sender is verified and the record is delivered again
    aws_sdk_sesv2::Client::new(&world.sdk)
        .create_email_identity()
        .email_identity(&domain)
        .send()
        .await
        .unwrap();
    let resp = as_handler(confirmation::handle_stream(&unverified, event.clone())).await;
    // THEN it sends each confirmation once
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(confirmations(&world, &id).await, (1, 1));
}

#[tokio::test]
async fn a_failed_invite_email_keeps_the_invite_marked_not_emailed() {
    let world = World::new().await;
    let unverified = world.services_from("no-reply@never-verified.test");
    let (status, v) = create_invite(&unverified, &world).await;
    // THEN the invite is stored, the warehouse is told the email did not go out, and why
    assert_eq!(status, 201);
    assert_eq!(v["status"], "email_failed");
    // (a stable code: SES's own words stay in the log)
    assert_eq!(v["email_error"], "mail_rejected");
    let id = InviteId::parse(v["id"].as_str().unwrap()).unwrap();
    let stored = unverified.store.invite(&id).await.unwrap().unwrap();
    assert_eq!(stored.status, InviteStatus::EmailFailed);
    assert!(stored.status_reason.is_some());
    assert!(world.emails_to(&world.merchant_email).await.is_empty());
    // AND it can still be retried: a resend moves it to emailed
    unverified
        .store
        .set_invite_status(
            &id,
            InviteStatus::Emailed,
            None,
            shared::domain::Timestamp(1),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_envelope_copied_onto_another_connection_does_not_open() {
    let world = World::new().await;
    let svc = world.services();
    let (a, _, _) = authorized(&svc, &world).await;
    let (b, _, _) = authorized(&svc, &world).await;
    let ca = svc.store.connection_for_invite(&a).await.unwrap().unwrap();
    let cb = svc.store.connection_for_invite(&b).await.unwrap().unwrap();
    // WHEN someone with table access copies A's sealed tokens onto B's item
    let ddb = aws_sdk_dynamodb::Client::new(&world.sdk);
    let item = ddb
        .get_item()
        .table_name(&world.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("CON#{}", ca.id)),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("CON".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    ddb.update_item()
        .table_name(&world.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("CON#{}", cb.id)),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("CON".into()),
        )
        .update_expression("SET tokens = :t")
        .expression_attribute_values(":t", item["tokens"].clone())
        .send()
        .await
        .unwrap();
    // THEN B is not served: KMS refuses the context, B is marked as needing re-authorization
    let r = svc.open_connection(&cb.id).await;
    assert!(
        matches!(r, Err(ConnectionError::NeedsReauthorization)),
        "{r:?}"
    );
    assert_eq!(
        svc.store.connection(&cb.id).await.unwrap().unwrap().status,
        ConnectionStatus::NeedsReauth
    );
    // AND A still opens
    assert!(svc.open_connection(&ca.id).await.is_ok());
}

#[tokio::test]
async fn two_concurrent_callbacks_for_one_invite_leave_one_connection() {
    let world = World::new().await;
    let svc = world.services();
    let (status, v) = create_invite(&svc, &world).await;
    assert_eq!(status, 201);
    let token = v["setup_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    // GIVEN two grants of one invite, consented in two browsers
    let first = consent(&svc, &world, &token).await;
    let second = consent(&svc, &world, &token).await;
    // WHEN both callbacks arrive at once
    let (r1, r2) = tokio::join!(callback(&svc, &first), callback(&svc, &second));
    // THEN one connects and the other is told the store is already connected
    let pages = [text(&r1), text(&r2)];
    assert_eq!(
        pages
            .iter()
            .filter(|p| p.contains("Successful Authorization"))
            .count(),
        1,
        "{pages:?}"
    );
    assert_eq!(
        pages
            .iter()
            .filter(|p| p.contains("Already connected"))
            .count(),
        1
    );
    // AND exactly one connection item exists for it
    let scan = aws_sdk_dynamodb::Client::new(&world.sdk)
        .scan()
        .table_name(&world.table)
        .send()
        .await
        .unwrap();
    let id = v["id"].as_str().unwrap();
    let connections = scan
        .items()
        .iter()
        .filter(|i| {
            i.get("entity")
                .and_then(|e| e.as_s().ok())
                .map(String::as_str)
                == Some("connection")
        })
        .filter(|i| {
            i.get("invite_id")
                .and_then(|e| e.as_s().ok())
                .map(String::as_str)
                == Some(id)
        })
        .count();
    assert_eq!(connections, 1);
}

async fn warehouse_get<'a, F, Fut>(handler: F, path: &str) -> (u16, Value)
where
    F: FnOnce(shared::web::Request) -> Fut,
    Fut: std::future::Future<Output = shared::web::Response> + 'a,
{
    let auth = format!("Bearer {API_KEY}");
    let resp = invoke(handler, "GET", path, &[("authorization", &auth)], &[], None).await;
    (
        resp.status().as_u16(),
        serde_json::from_slice(resp.body()).unwrap(),
    )
}

#[tokio::test]
async fn the_token_api_refreshes_once_across_two_lambda_instances_on_dynamodb_and_kms() {
    // GIVEN the AWS adapters on moto, a cart whose first access token lives 100 s (refreshed
    // ones live an hour) and whose refresh tokens rotate, Lambda instances on one clock that
    // moves only when told, and a store connected to that cart
    let world = World::with_access_ttl(100).await;
    let clock = Arc::new(ManualClock::at(SystemClock.now()));
    let mut svc = world.services();
    svc.clock = clock.clone();
    let (invite, _, _) = authorized(&svc, &world).await;
    // WHEN the warehouse finds the connection through warehouse-api
    let (status, v) = warehouse_get(
        |req| warehouse_api::handle(&svc, req),
        &format!("/v1/invites/{invite}"),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let path = format!(
        "/v1/connections/{}/tokens",
        v["connection"]["id"].as_str().unwrap()
    );
    // AND, 80 s later (the token is due: 20 s left), two connection-tokens instances (each
    // with its own in-process locks) ask at once
    clock.advance(80);
    let mut other = world.services();
    other.clock = clock.clone();
    let (a, b) = tokio::join!(
        warehouse_get(|req| connection_tokens::handle(&svc, req), &path),
        warehouse_get(|req| connection_tokens::handle(&other, req), &path),
    );
    // THEN the cart saw one refresh (the DynamoDB lease), and both got its access token
    assert_eq!(world.cart.token_requests().await, 2);
    let issued = world.cart.stats().await["issued"]
        .as_array()
        .unwrap()
        .clone();
    for (status, v) in [a, b] {
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["access_token"], issued[1]["access_token"]);
        assert!(v.get("refresh_token").is_none());
    }
    // AND the rotated tokens were sealed with KMS and stored: the connection opens to them,
    // and no token of either pair is in the table in plain text
    let conn = svc
        .store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap();
    let open = svc.open_connection(&conn.id).await.unwrap();
    assert_eq!(
        open.tokens.refresh_token.unwrap().expose(),
        issued[1]["refresh_token"].as_str().unwrap()
    );
    let scan = world.scan_text().await;
    for t in &issued {
        for secret in [&t["access_token"], &t["refresh_token"]] {
            assert!(!scan.contains(secret.as_str().unwrap()));
        }
    }
    // AND the lease was given back
    assert!(!scan.contains("LEASE#"), "{scan}");
}

/// Twenty overlapping token calls, alternately on `a` and `b` (two Lambda instances), each
/// starting 25 ms after the one before (as a warehouse's workers do), so that some start while
/// the refresh is under way and some after it is stored.
async fn twenty_token_calls(a: &Services, b: &Services, path: &str) -> Vec<(u16, Value)> {
    futures::future::join_all((0..20u64).map(|i| async move {
        tokio::time::sleep(std::time::Duration::from_millis(25 * i)).await;
        let svc = if i % 2 == 0 { a } else { b };
        warehouse_get(|req| connection_tokens::handle(svc, req), path).await
    }))
    .await
}

/// The access tokens the cart issued, oldest first.
async fn issued_access_tokens(world: &World) -> Vec<String> {
    world.cart.stats().await["issued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["access_token"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn sixty_second_tokens_are_refreshed_once_per_expiry_by_twenty_token_calls_on_two_instances()
{
    // GIVEN the AWS adapters on moto, a cart whose access tokens (from the code and refreshed)
    // live 60 s and whose refresh tokens rotate, two connection-tokens instances on one clock
    // that moves only when told, and a store connected to that cart
    let world = World::with_token_ttls(60, 60).await;
    let clock = Arc::new(ManualClock::at(SystemClock.now()));
    let mut svc = world.services();
    svc.clock = clock.clone();
    let mut other = world.services();
    other.clock = clock.clone();
    let (invite, _, _) = authorized(&svc, &world).await;
    let conn = svc.store.connection_for_invite(&invite).await.unwrap();
    let path = format!("/v1/connections/{}/tokens", conn.unwrap().id);
    // WHEN the access token has expired and twenty token calls arrive together, then one more
    clock.advance(61);
    let mut first = twenty_token_calls(&svc, &other, &path).await;
    first.push(warehouse_get(|req| connection_tokens::handle(&other, req), &path).await);
    // THEN the cart saw exactly one refresh (after the code exchange), and every call got
    // the access token that refresh issued
    assert_eq!(world.cart.token_requests().await, 2);
    let issued = issued_access_tokens(&world).await;
    for (status, v) in &first {
        assert_eq!(*status, 200, "{v}");
        assert_eq!(v["access_token"], issued[1].as_str());
    }
    // WHEN that token has expired in turn and twenty calls arrive together again, then one more
    clock.advance(61);
    let mut second = twenty_token_calls(&svc, &other, &path).await;
    second.push(warehouse_get(|req| connection_tokens::handle(&svc, req), &path).await);
    // THEN the cart saw exactly one refresh more, and every call got its token
    assert_eq!(world.cart.token_requests().await, 3);
    let issued = issued_access_tokens(&world).await;
    for (status, v) in &second {
        assert_eq!(*status, 200, "{v}");
        assert_eq!(v["access_token"], issued[2].as_str());
    }
}

/// A token call as the warehouse makes it, answered in full (status, headers, body).
async fn token_call(svc: &Services, path: &str) -> shared::web::Response {
    let auth = format!("Bearer {API_KEY}");
    invoke(
        |req| connection_tokens::handle(svc, req),
        "GET",
        path,
        &[("authorization", &auth)],
        &[],
        None,
    )
    .await
}

/// Asserts a 503 `unavailable` problem with `Retry-After`, carrying no token.
fn assert_unavailable(resp: &shared::web::Response) {
    assert_eq!(resp.status(), 503, "{}", text(resp));
    assert_eq!(resp.headers()["retry-after"], "2");
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(v["type"], "urn:cartlink:problem:unavailable");
    assert!(v.get("access_token").is_none());
}

#[tokio::test]
async fn a_disabled_key_answers_503_and_the_connection_is_served_once_the_key_is_enabled() {
    // GIVEN the AWS adapters on moto and a connected store
    let world = World::new().await;
    let svc = world.services();
    let (invite, _, _) = authorized(&svc, &world).await;
    let conn = svc.store.connection_for_invite(&invite).await.unwrap();
    let conn = conn.unwrap();
    let path = format!("/v1/connections/{}/tokens", conn.id);
    let kms = aws_sdk_kms::Client::new(&world.sdk);
    // WHEN the key is disabled and the warehouse asks for the token
    kms.disable_key()
        .key_id(&world.key_id)
        .send()
        .await
        .unwrap();
    let logs = LogCapture::start();
    let resp = token_call(&svc, &path).await;
    // THEN it is told to try again later, and one line an alarm matches is logged, naming
    // KMS's reason and no secret
    assert_unavailable(&resp);
    let alarms = logs.lines_with(r#"alarm="key_service_unavailable""#);
    assert_eq!(alarms.len(), 1, "{}", logs.text());
    assert!(alarms[0].contains("DisabledException"), "{}", alarms[0]);
    let issued = issued_access_tokens(&world).await;
    assert!(!logs.text().contains(&issued[0]));
    // AND the connection is still active
    let stored = svc.store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    // WHEN the key is enabled again
    kms.enable_key().key_id(&world.key_id).send().await.unwrap();
    let resp = token_call(&svc, &path).await;
    // THEN the token is served
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(v["access_token"], issued[0].as_str());
}

#[tokio::test]
async fn a_key_policy_that_denies_decrypt_answers_503_and_marks_nothing() {
    // GIVEN the AWS adapters on moto and a connected store
    let world = World::new().await;
    let svc = world.services();
    let (invite, _, _) = authorized(&svc, &world).await;
    let conn = svc.store.connection_for_invite(&invite).await.unwrap();
    let conn = conn.unwrap();
    let path = format!("/v1/connections/{}/tokens", conn.id);
    // WHEN a key-policy mistake denies kms:Decrypt (KMS answers AccessDeniedException) and
    // the warehouse asks for the token
    let kms = aws_sdk_kms::Client::new(&world.sdk);
    let policy = kms
        .get_key_policy()
        .key_id(&world.key_id)
        .policy_name("default")
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Sid": "mistake",
        "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"], "Resource": "*"}]});
    let put = |p: String| {
        kms.put_key_policy()
            .key_id(&world.key_id)
            .policy_name("default")
            .policy(p)
            .send()
    };
    put(deny.to_string()).await.unwrap();
    let logs = LogCapture::start();
    let resp = token_call(&svc, &path).await;
    // THEN it is told to try again later, with one alarm line naming KMS's reason
    assert_unavailable(&resp);
    let alarms = logs.lines_with(r#"alarm="key_service_unavailable""#);
    assert_eq!(alarms.len(), 1, "{}", logs.text());
    assert!(alarms[0].contains("AccessDeniedException"), "{}", alarms[0]);
    // AND the connection is still active
    let stored = svc.store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    // WHEN the policy is put right
    put(policy).await.unwrap();
    let resp = token_call(&svc, &path).await;
    // THEN the token is served
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(
        v["access_token"],
        issued_access_tokens(&world).await[0].as_str()
    );
}
