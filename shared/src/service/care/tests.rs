//! Proactive care against the file store, the local vault, a recording mailer and a strict
//! rotating token endpoint, with time made to pass on the test clock.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures::future::join_all;

use super::*;
use crate::carts::{Catalog, Reauthorize, RefreshWithin};
use crate::clock::Clock;
use crate::domain::{Connection, ConnectionStatus};
use crate::mailer::OutgoingEmail;
use crate::store::{ConnectionStore, InviteEvents, InviteStore};
use crate::testing::faults::{
    until_crash, Fault, FaultPlan, FaultPoint, FaultyMailer, FaultyStore, Port,
};
use crate::testing::TestKit;

const DAY: i64 = 24 * 3600;

/// A kit whose test cart has a 7-day inactivity limit (Square's) and, with `deadline`, a
/// 365-day re-authorization period (Amazon's).
fn kit_with(refresh_within: bool, deadline: bool) -> TestKit {
    let mut kit = TestKit::new();
    let mut config = kit.services.config.clone();
    let cart = &mut config.carts[0];
    cart.refresh_within = refresh_within.then(|| RefreshWithin {
        secs: 7 * DAY,
        source: "test".into(),
    });
    cart.reauthorize = deadline.then(|| Reauthorize {
        after_secs: 365 * DAY,
        source: "test".into(),
    });
    kit.services.catalog = Catalog::from_config(&config);
    kit.services.config = config;
    kit
}

async fn connected(kit: &TestKit) -> Connection {
    let invite = kit.authorized().await;
    kit.store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap()
}

/// The reconnect invites emailed (a first email, or one with replaced secrets).
fn reconnect_emails(kit: &TestKit) -> Vec<OutgoingEmail> {
    kit.mailer
        .messages()
        .into_iter()
        .filter(|m| {
            m.tags
                .iter()
                .any(|(k, v)| k == "kind" && v == EmailKind::ReconnectInvite.as_str())
        })
        .collect()
}

/// The warehouse's deadline emails.
fn warehouse_emails(kit: &TestKit) -> Vec<OutgoingEmail> {
    kit.mailer
        .messages()
        .into_iter()
        .filter(|m| {
            m.tags
                .iter()
                .any(|(k, v)| k == "kind" && v == EmailKind::ReauthorizationDue.as_str())
        })
        .collect()
}

async fn due_steps(kit: &TestKit, c: &Connection) -> usize {
    kit.store
        .events_of(&c.invite_id)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == InviteEventKind::ReauthorizationDue)
        .count()
}

/// Moves the clock to `days` days after the connection was made.
fn days_after(kit: &TestKit, c: &Connection, days: i64) {
    let now = kit.clock.now().0;
    kit.clock.advance(c.created_at.0 + days * DAY - now);
}

/// The kit's services on `store` and `mailer` (a process with faults).
fn process_on(kit: &TestKit, plan: &Arc<FaultPlan>) -> Arc<Services> {
    let s = &kit.services;
    Arc::new(Services {
        config: s.config.clone(),
        catalog: s.catalog.clone(),
        warehouses: s.warehouses.clone(),
        store: Arc::new(FaultyStore::new(s.store.clone(), plan.clone())),
        vault: s.vault.clone(),
        mailer: Arc::new(FaultyMailer::new(s.mailer.clone(), plan.clone())),
        clock: s.clock.clone(),
        oauth: s.oauth.clone(),
        events: s.events.clone(),
        refreshing: Default::default(),
        webhooks: s.webhooks.clone(),
        notification_keys: Default::default(),
        grant_pages: Default::default(),
    })
}

#[tokio::test]
async fn a_square_like_connection_idle_for_six_days_is_refreshed() {
    // GIVEN a connection to a cart that must be refreshed every 7 days, idle for 6 days
    let kit = kit_with(true, false);
    let c = connected(&kit).await;
    days_after(&kit, &c, 6);
    // WHEN care runs
    let run = kit.services.run_care().await.unwrap();
    // THEN its tokens were refreshed once, and its next care is 6 days after that refresh
    assert_eq!((run.due, run.refreshed), (1, 1), "{run:?}");
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 1);
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(stored.refreshed_at, Some(kit.clock.now()));
    assert_eq!(stored.care_at, Some(kit.clock.now().plus_secs(6 * DAY)));
    // AND the refreshed tokens open and are the ones served
    let open = kit.services.fresh_connection(&c.id).await.unwrap();
    assert_ne!(open.tokens.access_token.expose(), "CANARY_AT_C");
}

#[tokio::test]
async fn a_connection_not_yet_due_is_neither_read_nor_refreshed() {
    // GIVEN a Square-like connection idle for 5 days
    let kit = kit_with(true, false);
    let c = connected(&kit).await;
    days_after(&kit, &c, 5);
    // WHEN care runs THEN nothing is due and the cart is not asked
    let run = kit.services.run_care().await.unwrap();
    assert_eq!(run, CareRun::default());
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_run_out_of_time_leaves_the_rest_due_for_the_next() {
    // GIVEN a Square-like connection idle for 6 days
    let kit = kit_with(true, false);
    let c = connected(&kit).await;
    days_after(&kit, &c, 6);
    // WHEN a run has no time left THEN it takes nothing on, and the connection stays due
    let run = kit
        .services
        .run_care_within(std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(run, CareRun::default());
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 0);
    // AND the next run with time refreshes it
    assert_eq!(kit.services.run_care().await.unwrap().refreshed, 1);
}

#[tokio::test]
async fn a_failed_care_refresh_leaves_the_connection_due_for_the_next_run() {
    // GIVEN a Square-like connection idle for 6 days and a cart that cannot be reached
    let kit = kit_with(true, false);
    let c = connected(&kit).await;
    days_after(&kit, &c, 6);
    kit.oauth.refresh_unreachable.store(true, Ordering::SeqCst);
    // WHEN care runs
    let run = kit.services.run_care().await.unwrap();
    // THEN it failed, the connection is still active and still due
    assert_eq!((run.due, run.failed), (1, 1), "{run:?}");
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    assert_eq!(stored.care_at, c.care_at);
    // AND once the cart answers, the next run refreshes it
    kit.oauth.refresh_unreachable.store(false, Ordering::SeqCst);
    let run = kit.services.run_care().await.unwrap();
    assert_eq!(run.refreshed, 1, "{run:?}");
}

#[tokio::test]
async fn an_amazon_like_connection_thirty_days_from_its_deadline_gets_one_reconnect_invite() {
    // GIVEN a connection to a cart whose grants end after 365 days, 30 days before that
    let kit = kit_with(false, true);
    let c = connected(&kit).await;
    days_after(&kit, &c, 335);
    // WHEN care runs, again, and again a week later
    let first = kit.services.run_care().await.unwrap();
    kit.services.run_care().await.unwrap();
    kit.clock.advance(7 * DAY);
    kit.services.run_care().await.unwrap();
    // THEN the merchant got exactly one reconnect invite, for this connection
    assert_eq!(first.noticed, 1, "{first:?}");
    let emails = reconnect_emails(&kit);
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, "Merchant@shop.test");
    let deadline = c
        .reauthorize_by(&kit.services.care_limits(&c.cart))
        .unwrap();
    let date = crate::i18n::date(crate::domain::Locale::En, deadline);
    assert!(
        emails[0].text.contains(&format!("ends on {date}")),
        "{}",
        emails[0].text
    );
    let invite = kit
        .store
        .invite(&care_invite_id(&c.id, c.created_at.plus_secs(365 * DAY)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invite.reconnects.as_ref(), Some(&c.id));
    assert_eq!(invite.status, InviteStatus::Emailed);
    // AND the warehouse's history has one `reauthorization_due` step (its webhook), and its
    // notify address one email naming the connection and the date
    assert_eq!(due_steps(&kit, &c).await, 1);
    let told = warehouse_emails(&kit);
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].to, "ops@warehouse.test");
    assert!(told[0].text.contains(c.id.as_str()), "{}", told[0].text);
    assert!(
        told[0].subject.contains(&deadline.human()),
        "{}",
        told[0].subject
    );
    // AND the connection is off the schedule (nothing else to care for), still active
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(stored.care_at, None);
    assert_eq!(
        stored.care_noticed,
        c.reauthorize_by(&kit.services.care_limits(&c.cart))
    );
    assert_eq!(stored.status, ConnectionStatus::Active);
}

#[tokio::test]
async fn a_deadline_further_than_thirty_days_is_not_noticed() {
    // GIVEN an Amazon-like connection 31 days from its deadline
    let kit = kit_with(false, true);
    let c = connected(&kit).await;
    days_after(&kit, &c, 334);
    // WHEN care runs THEN nobody is emailed
    kit.services.run_care().await.unwrap();
    assert!(reconnect_emails(&kit).is_empty());
    assert_eq!(due_steps(&kit, &c).await, 0);
}

#[tokio::test]
async fn twenty_runs_at_once_send_one_reconnect_invite() {
    // GIVEN an Amazon-like connection 30 days from its deadline, and 20 processes
    let kit = kit_with(false, true);
    let c = connected(&kit).await;
    days_after(&kit, &c, 335);
    let plan = FaultPlan::new();
    let processes: Vec<_> = (0..20).map(|_| process_on(&kit, &plan)).collect();
    // WHEN all of them run care at once
    let runs = join_all(processes.iter().map(|p| p.run_care())).await;
    // THEN every run ended, and the merchant got one invite and the warehouse one step
    assert!(runs.iter().all(Result::is_ok));
    assert_eq!(reconnect_emails(&kit).len(), 1);
    assert_eq!(warehouse_emails(&kit).len(), 1);
    assert_eq!(due_steps(&kit, &c).await, 1);
    // AND a run after them sends nothing more
    kit.services.run_care().await.unwrap();
    assert_eq!(reconnect_emails(&kit).len(), 1);
}

#[tokio::test]
async fn a_run_that_dies_anywhere_is_finished_by_the_next_without_a_duplicate() {
    // GIVEN the calls one notice run makes (counted on a clean run)
    let calls = {
        let kit = kit_with(false, true);
        let c = connected(&kit).await;
        days_after(&kit, &c, 335);
        let plan = FaultPlan::new();
        plan.arm(None);
        process_on(&kit, &plan).run_care().await.unwrap();
        plan.calls()
    };
    let points: Vec<FaultPoint> = calls
        .into_iter()
        .flat_map(|(port, call, n)| {
            (1..=n).flat_map(move |occurrence| {
                [Fault::CrashBefore, Fault::CrashAfter]
                    .into_iter()
                    .map(move |fault| FaultPoint {
                        port,
                        call,
                        occurrence,
                        fault,
                    })
            })
        })
        .collect();
    assert!(points.len() > 10, "{points:?}");
    for point in points {
        // WHEN a run dies at this point, and a later run (past the leases) runs
        let kit = kit_with(false, true);
        let c = connected(&kit).await;
        days_after(&kit, &c, 335);
        let plan = FaultPlan::new();
        plan.arm(Some(point));
        let dying = process_on(&kit, &plan);
        let _ = until_crash(&plan, async move { dying.run_care().await }).await;
        kit.clock.advance(SEND_LEASE_SECS.max(CARE_LEASE_SECS) + 1);
        kit.services.run_care().await.unwrap();
        kit.services.run_care().await.unwrap();
        // THEN the merchant got exactly one reconnect invite (two when the run died after the
        // mail service took it and before its send record said so: SES is at least once,
        // docs/guarantees.md), and the last one's link opens
        let emails = reconnect_emails(&kit);
        // The merchant's email is the run's first send, the warehouse's its second.
        let after_send = |n: usize| {
            point.occurrence == n
                && matches!(
                    (point.port, point.call, point.fault),
                    (Port::Mailer, "send", Fault::CrashAfter)
                        | (Port::Store, "finish_send", Fault::CrashBefore)
                )
        };
        assert_eq!(emails.len(), if after_send(1) { 2 } else { 1 }, "{point:?}");
        // AND the warehouse was emailed once (twice past its own send, as above)
        let told = warehouse_emails(&kit).len();
        assert_eq!(told, if after_send(2) { 2 } else { 1 }, "{point:?}");
        let link = reconnect_link(&kit);
        let opened = kit
            .store
            .invite_by_link(&crate::domain::TokenHash::of(&link))
            .await
            .unwrap();
        assert!(
            opened.is_some_and(|i| i.reconnects.as_ref() == Some(&c.id)),
            "{point:?}"
        );
        // AND the warehouse's step is recorded once, and the connection is off the schedule
        assert_eq!(due_steps(&kit, &c).await, 1, "{point:?}");
        let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
        assert_eq!(stored.care_at, None, "{point:?}");
    }
}

#[tokio::test]
async fn a_connection_needing_reauthorization_leaves_the_schedule() {
    // GIVEN a Square-like connection whose refresh token the cart refuses, 6 days idle
    let kit = kit_with(true, false);
    let c = connected(&kit).await;
    days_after(&kit, &c, 6);
    *kit.oauth.live_refresh_token.lock().unwrap() = Some("another".into());
    // WHEN care runs
    kit.services.run_care().await.unwrap();
    // THEN the connection needs re-authorization, is off the schedule, and a second run reads
    // nothing
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::NeedsReauth);
    assert_eq!(stored.care_at, None);
    assert_eq!(kit.services.run_care().await.unwrap().due, 0);
}

/// The setup link token of the last reconnect email.
fn reconnect_link(kit: &TestKit) -> String {
    let emails = reconnect_emails(kit);
    emails
        .last()
        .expect("a reconnect email")
        .text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("https://cartlink.test/setup/"))
        .expect("a setup link")
        .to_owned()
}

#[tokio::test]
async fn a_granted_reconnect_restarts_the_deadline() {
    // GIVEN an Amazon-like connection noticed 30 days before its deadline
    let kit = kit_with(false, true);
    let c = connected(&kit).await;
    days_after(&kit, &c, 335);
    kit.services.run_care().await.unwrap();
    // WHEN the merchant grants the reconnect invite
    let g = kit.start(&reconnect_link(&kit)).await;
    kit.callback(
        "acme",
        &[
            ("code", "C2"),
            ("state", &g.state),
            crate::testing::ACME_ISS,
        ],
        Some(&g.binding),
    )
    .await
    .unwrap();
    // THEN the same connection counts its deadline from this grant: next care in 335 days
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    let now = kit.clock.now();
    assert_eq!(stored.granted_at, Some(now));
    assert_eq!(stored.care_at, Some(now.plus_secs(335 * DAY)));
    // AND care 335 days on invites the merchant again, once
    kit.clock.advance(335 * DAY);
    let run = kit.services.run_care().await.unwrap();
    assert_eq!(run.noticed, 1, "{run:?}");
    assert_eq!(reconnect_emails(&kit).len(), 2);
}

#[tokio::test]
async fn the_warehouse_hears_of_the_deadline_by_one_webhook() {
    // GIVEN an endpoint hearing every type, and an Amazon-like connection 30 days from its
    // deadline
    let mut kit = kit_with(false, true);
    kit.services.config.webhook_schedule = crate::domain::RetrySchedule(vec![0, 0]);
    kit.services
        .create_endpoint(
            &crate::domain::WarehouseId::parse("wh-test").unwrap(),
            crate::service::webhooks::NewEndpoint {
                url: "https://hooks.example.com/in".into(),
                events: vec![],
            },
        )
        .await
        .unwrap();
    let c = connected(&kit).await;
    days_after(&kit, &c, 335);
    // WHEN care runs twice and the webhook worker after each
    for _ in 0..2 {
        kit.services.run_care().await.unwrap();
        kit.services.fan_out_pending_steps(100).await.unwrap();
        let due = crate::webhooks::WebhookQueue::due(kit.store.as_ref(), kit.clock.now(), 100)
            .await
            .unwrap();
        for d in due {
            kit.services.deliver_webhook(&d).await.unwrap();
        }
    }
    // THEN the endpoint got one connection.reauthorization_due about this connection, whose
    // data names the deadline
    let posts = kit.sender.posts.lock().unwrap().clone();
    let due: Vec<serde_json::Value> = posts
        .iter()
        .map(|(_, _, body)| serde_json::from_str::<serde_json::Value>(body).unwrap())
        .filter(|m| m["type"] == "connection.reauthorization_due")
        .collect();
    assert_eq!(due.len(), 1, "{posts:?}");
    assert_eq!(due[0]["data"]["id"], c.id.as_str());
    let deadline = c
        .reauthorize_by(&kit.services.care_limits(&c.cart))
        .unwrap();
    assert_eq!(due[0]["data"]["reauthorize_by"], deadline.rfc3339());
}

#[tokio::test]
async fn a_run_that_finds_another_emailing_the_invite_leaves_it_to_that_one() {
    // GIVEN an Amazon-like connection 30 days from its deadline, and a run that has stored the
    // merchant's invite and is about to email it when a second run starts
    let kit = kit_with(false, true);
    let c = connected(&kit).await;
    days_after(&kit, &c, 335);
    let plan = FaultPlan::new();
    let second = process_on(&kit, &FaultPlan::new());
    let seen = Arc::new(std::sync::Mutex::new(None));
    let (second_run, seen_in) = (second.clone(), seen.clone());
    plan.before_next(Port::Mailer, "send", async move {
        *seen_in.lock().unwrap() = Some(second_run.run_care().await.unwrap());
    });
    // WHEN both run
    let first = process_on(&kit, &plan).run_care().await.unwrap();
    // THEN the second left the connection to the first (its care lease), the merchant got one
    // email, and its link is the one that opens the invite
    let second = seen.lock().unwrap().expect("the second run ran");
    assert_eq!((second.busy, second.noticed), (1, 0), "{second:?}");
    assert_eq!(first.noticed, 1, "{first:?}");
    assert_eq!(reconnect_emails(&kit).len(), 1);
    let link = reconnect_link(&kit);
    let opened = kit
        .store
        .invite_by_link(&crate::domain::TokenHash::of(&link))
        .await
        .unwrap();
    assert!(opened.is_some_and(|i| i.reconnects.as_ref() == Some(&c.id)));
}
