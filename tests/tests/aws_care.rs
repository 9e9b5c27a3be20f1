//! Proactive care on the AWS adapters (moto: DynamoDB, KMS, SES, through the real SDK clients)
//! with oidc-provider as the cart: the `care` function's handler invoked with EventBridge's
//! scheduled event, on a clock made to run days ahead.

use std::sync::Arc;

use cartlink_e2e::aws::{connected, World};
use cartlink_e2e::aws_ops::as_handler;
use cartlink_e2e::CART;
use serde_json::{json, Value};
use shared::carts::{Catalog, Reauthorize, RefreshWithin};
use shared::clock::{Clock, ManualClock};
use shared::domain::Timestamp;
use shared::service::Services;
use shared::testing::faults::{until_crash, Fault, FaultPlan, FaultPoint, FaultyStore, Port};

const DAY: i64 = 24 * 3600;

/// EventBridge's scheduled event, as the `care` schedule sends it.
fn scheduled() -> Value {
    json!({
        "version": "0",
        "id": "0d1e1c9a-7c0f-4f59-9d0f-3a1f7c5e2b10",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-30T14:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/care"],
        "detail": {}
    })
}

/// The services on moto with the test cart refreshed within 7 days and re-authorized every
/// 365, on `clock`.
fn services(world: &World, clock: Arc<ManualClock>) -> Services {
    let mut svc = world.services();
    let mut config = svc.config.clone();
    let cart = config
        .carts
        .iter_mut()
        .find(|c| c.id.as_str() == CART)
        .expect("the test cart");
    cart.refresh_within = Some(RefreshWithin {
        secs: 7 * DAY,
        source: "e2e".into(),
    });
    cart.reauthorize = Some(Reauthorize {
        after_secs: 365 * DAY,
        source: "e2e".into(),
    });
    svc.catalog = Catalog::from_config(&config);
    svc.config = config;
    svc.clock = clock;
    svc
}

async fn reconnect_emails(world: &World) -> usize {
    world
        .emails_to(&world.merchant_email)
        .await
        .iter()
        .filter(|(subject, _)| subject.starts_with("Renew "))
        .count()
}

#[tokio::test]
async fn the_schedule_refreshes_an_idle_connection_and_invites_once_ahead_of_its_deadline() {
    // GIVEN a connection on moto to a cart refreshed within 7 days and re-authorized yearly
    let world = World::new().await;
    let clock = Arc::new(ManualClock::at(Timestamp(
        shared::clock::SystemClock.now().0,
    )));
    let svc = services(&world, clock.clone());
    let id = connected(&svc, &world).await;
    let made = svc.store.connection(&id).await.unwrap().unwrap();
    let tokens_before = world.cart.token_requests().await;
    // WHEN 6 days pass and the schedule invokes care
    clock.advance(6 * DAY + 1);
    let first = as_handler(care::handle_scheduled(&svc, scheduled()))
        .await
        .unwrap();
    // THEN the connection was refreshed at the cart, and its next care is 6 days on
    assert_eq!(first["refreshed"], 1, "{first}");
    assert_eq!(world.cart.token_requests().await, tokens_before + 1);
    let refreshed = svc.store.connection(&id).await.unwrap().unwrap();
    assert_eq!(refreshed.refreshed_at, Some(clock.now()));
    assert_eq!(refreshed.care_at, Some(clock.now().plus_secs(6 * DAY)));
    // WHEN the deadline is 30 days off and the schedule invokes care twice
    clock.advance(made.created_at.0 + 335 * DAY - clock.now().0);
    let second = as_handler(care::handle_scheduled(&svc, scheduled()))
        .await
        .unwrap();
    let third = as_handler(care::handle_scheduled(&svc, scheduled()))
        .await
        .unwrap();
    // THEN the merchant got one reconnect invite and the warehouse's history one step
    assert_eq!(second["noticed"], 1, "{second}");
    assert_eq!(third["due"], 0, "{third}");
    assert_eq!(reconnect_emails(&world).await, 1);
    let told = world
        .emails_to("ops@e2e-warehouse.test")
        .await
        .into_iter()
        .filter(|(subject, _)| {
            subject.contains(&world.merchant_email) && subject.contains("must be renewed by")
        })
        .count();
    assert_eq!(told, 1);
    let steps = svc.store.events_of(&made.invite_id).await.unwrap();
    let due = steps
        .iter()
        .filter(|e| e.kind == shared::domain::InviteEventKind::ReauthorizationDue)
        .count();
    assert_eq!(due, 1);
}

#[tokio::test]
async fn a_run_that_died_after_storing_the_invite_is_finished_by_the_next_with_one_email() {
    // GIVEN a connection on moto 30 days from its deadline, and a run of care that dies right
    // after storing the merchant's reconnect invite (before emailing it)
    let world = World::new().await;
    let clock = Arc::new(ManualClock::at(Timestamp(
        shared::clock::SystemClock.now().0,
    )));
    let svc = services(&world, clock.clone());
    let id = connected(&svc, &world).await;
    let made = svc.store.connection(&id).await.unwrap().unwrap();
    clock.advance(made.created_at.0 + 335 * DAY - clock.now().0);
    let plan = FaultPlan::new();
    plan.arm(Some(FaultPoint {
        port: Port::Store,
        call: "insert_invite",
        occurrence: 1,
        fault: Fault::CrashAfter,
    }));
    let mut dying = services(&world, clock.clone());
    dying.store = Arc::new(FaultyStore::new(dying.store.clone(), plan.clone()));
    let died = until_crash(&plan, async move {
        as_handler(care::handle_scheduled(&dying, scheduled())).await
    })
    .await;
    assert!(died.is_none() && reconnect_emails(&world).await == 0);
    // WHEN the schedule invokes care again once the run's leases have lapsed
    clock.advance(3600);
    let next = as_handler(care::handle_scheduled(&svc, scheduled()))
        .await
        .unwrap();
    // THEN the merchant got one reconnect invite, and the connection is off the schedule
    assert_eq!(next["noticed"], 1, "{next}");
    assert_eq!(reconnect_emails(&world).await, 1);
    let stored = svc.store.connection(&id).await.unwrap().unwrap();
    assert_eq!(stored.care_at.map(|t| t > clock.now()), Some(true));
}

/// The services on moto with the test cart declaring an uninstall subscription per site (as
/// Squarespace's entry does) and naming the site by an account lookup, both served by `stand`.
fn subscribing(world: &World, stand: &wiremock::MockServer) -> Services {
    let mut svc = world.services();
    let mut config = svc.config.clone();
    let cart = config
        .carts
        .iter_mut()
        .find(|c| c.id.as_str() == CART)
        .expect("the test cart");
    let stand_host = shared::carts::host_port(&url::Url::parse(&stand.uri()).unwrap()).unwrap();
    let pattern = format!("^{}$", stand_host.replace('.', "\\."));
    cart.hosts.push(shared::carts::HostRule::Pattern(
        shared::carts::Pattern::new(&pattern).unwrap(),
    ));
    cart.account_lookup = Some(
        toml::from_str(&format!(
            "url = \"{}/site\"\nfield = \"id\"\npattern = '^[0-9a-z-]{{1,64}}$'\nsource = \"e2e\"",
            stand.uri()
        ))
        .unwrap(),
    );
    cart.uninstall_subscription = Some(
        toml::from_str(&format!(
            "url = \"{}/webhook_subscriptions\"\ntopic = \"extension.uninstall\"\nroute = \"/cart-events/squarespace\"\nsource = \"e2e\"",
            stand.uri()
        ))
        .unwrap(),
    );
    svc.catalog = Catalog::from_config(&config);
    svc.config = config;
    svc
}

#[tokio::test]
async fn the_schedule_subscribes_a_new_connections_site_and_seals_its_secret_with_kms() {
    // GIVEN a connection on moto to a cart that needs a subscription per site, its site
    // answering an empty list and a creation with a secret
    let world = World::new().await;
    let stand = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/site"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(json!({"id": "site-moto"})),
        )
        .mount(&stand)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/webhook_subscriptions"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(json!({"webhookSubscriptions": []})),
        )
        .mount(&stand)
        .await;
    let secret = "0123456789abcdef".repeat(4);
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/webhook_subscriptions"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(json!({"id": "sub-moto-1", "secret": secret})),
        )
        .expect(1)
        .mount(&stand)
        .await;
    let svc = subscribing(&world, &stand);
    let id = connected(&svc, &world).await;
    // WHEN the schedule invokes care
    let run = as_handler(care::handle_scheduled(&svc, scheduled()))
        .await
        .unwrap();
    // THEN the site's subscription is stored, its secret sealed (nowhere plain in the table),
    // and the connection is recorded as subscribed
    assert_eq!(
        (run["due"].as_u64(), run["failed"].as_u64()),
        (Some(1), Some(0)),
        "{run}"
    );
    let cart = shared::carts::CartId::new(CART);
    let stored = svc
        .store
        .cart_subscription(&cart, "site-moto")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.subscription_id, "sub-moto-1");
    assert!(!world.scan_text().await.contains(&secret));
    let conn = svc.store.connection(&id).await.unwrap().unwrap();
    assert!(conn.subscribed_at.is_some());
}
