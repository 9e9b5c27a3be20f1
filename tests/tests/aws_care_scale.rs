//! Proactive care reads only what is due: 10,000 connections on moto, 10 of them due, cost the
//! `care` function one Query and no Scan (every request its handler makes is counted,
//! `cartlink_e2e::aws_ops::requests_of`). Alone in its test binary, so the count is its own.

use std::sync::Arc;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use cartlink_e2e::aws::{connected, World};
use cartlink_e2e::aws_ops::{as_handler, requests_of};
use cartlink_e2e::CART;
use serde_json::{json, Value};
use shared::carts::{Catalog, RefreshWithin};
use shared::clock::{Clock, ManualClock, SystemClock};
use shared::domain::{ConnectionId, Timestamp};
use shared::service::Services;

const DAY: i64 = 24 * 3600;
const ALL: usize = 10_000;
const DUE: usize = 10;

fn scheduled() -> Value {
    json!({
        "version": "0",
        "id": "5f1c0c57-2d8f-4c9e-a3c6-9b0f2e7d4a11",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-30T14:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/care"],
        "detail": {}
    })
}

/// The services on moto with the test cart refreshed within 7 days, on `clock`.
fn services(world: &World, clock: Arc<ManualClock>) -> Services {
    let mut svc = world.services();
    let mut config = svc.config.clone();
    for cart in config.carts.iter_mut().filter(|c| c.id.as_str() == CART) {
        cart.refresh_within = Some(RefreshWithin {
            secs: 7 * DAY,
            source: "e2e".into(),
        });
    }
    svc.catalog = Catalog::from_config(&config);
    svc.config = config;
    svc.clock = clock;
    svc
}

/// Writes `n` connection items straight into the table, 25 to a batch: every other one on the
/// care schedule a month or more ahead of `now`, the others off it.
async fn fill(world: &World, n: usize, now: Timestamp) {
    let ddb = aws_sdk_dynamodb::Client::new(&world.sdk);
    let s = |v: String| AttributeValue::S(v);
    let items: Vec<WriteRequest> = (0..n)
        .map(|i| {
            let id = ConnectionId::generate();
            let mut item = std::collections::HashMap::from([
                ("pk".to_owned(), s(format!("CON#{id}"))),
                ("sk".to_owned(), s("CON".into())),
                ("entity".to_owned(), s("connection".into())),
                ("status".to_owned(), s("active".into())),
            ]);
            if i % 2 == 0 {
                let at = now.0 + 30 * DAY + i as i64;
                item.insert("care_at".into(), AttributeValue::N(at.to_string()));
                item.insert("gsi1pk".into(), s("CARE".into()));
                item.insert("gsi1sk".into(), s(format!("{at:012}#{id}")));
            }
            let put = PutRequest::builder().set_item(Some(item)).build().unwrap();
            WriteRequest::builder().put_request(put).build()
        })
        .collect();
    for batch in items.chunks(25) {
        ddb.batch_write_item()
            .request_items(&world.table, batch.to_vec())
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn ten_thousand_connections_with_ten_due_cost_one_query_and_no_scan() {
    // GIVEN 10 connections granted through the flow, and 9,990 more written into the table
    // (half of them on the schedule, a month or more ahead)
    let world = World::new().await;
    let clock = Arc::new(ManualClock::at(SystemClock.now()));
    let svc = services(&world, clock.clone());
    let mut due = Vec::new();
    for _ in 0..DUE {
        due.push(connected(&svc, &world).await);
    }
    fill(&world, ALL - DUE, clock.now()).await;
    let tokens_before = world.cart.token_requests().await;
    // WHEN 6 days pass and the schedule invokes care
    clock.advance(6 * DAY + 1);
    let run = as_handler(care::handle_scheduled(&svc, scheduled()))
        .await
        .unwrap();
    // THEN its handler made one Query and no Scan
    assert_eq!(requests_of("care", "dynamodb:Query"), 1);
    assert_eq!(requests_of("care", "dynamodb:Scan"), 0);
    // AND the 10 due were cared for: each refreshed at the cart, once
    assert_eq!(run["due"], DUE, "{run}");
    assert_eq!(run["refreshed"], DUE, "{run}");
    assert_eq!(
        world.cart.token_requests().await,
        tokens_before + DUE as u64
    );
    for id in &due {
        let c = svc.store.connection(id).await.unwrap().unwrap();
        assert_eq!(c.refreshed_at, Some(clock.now()), "{id}");
    }
}
