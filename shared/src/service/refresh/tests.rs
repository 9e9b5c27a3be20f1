//! The refresh checklist (security.md C8–C11) against the file store, the local vault and a
//! strict rotating token endpoint (it answers `invalid_grant` to any refresh token but the
//! newest).

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::future::join_all;

use super::*;
use crate::clock::Clock;
use crate::domain::{Secret, Timestamp, TokenSet};
use crate::store::{ConnectionStore, Leases};
use crate::testing::{CountingVault, SwitchedVault, TestKit};

/// The fake's exchange hands out tokens expiring at this time.
const EXCHANGED_EXPIRY: i64 = 2_000_000_000;

pub(super) async fn connected(kit: &TestKit) -> Connection {
    let invite = kit.authorized().await;
    kit.store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap()
}

/// Moves the clock to a minute before the access token expires.
pub(super) fn near_expiry(kit: &TestKit) {
    let now = kit.clock.now().0;
    kit.clock.advance(EXCHANGED_EXPIRY - 60 - now);
}

fn is_reauth(m: &crate::mailer::OutgoingEmail) -> bool {
    m.tags
        .iter()
        .any(|(k, v)| k == "kind" && v == EmailKind::ReauthorizationNeeded.as_str())
}

/// A second process on the same store: its own services, its own in-process locks.
pub(super) fn other_process(kit: &TestKit) -> Services {
    let s = &kit.services;
    Services {
        config: s.config.clone(),
        catalog: s.catalog.clone(),
        warehouses: s.warehouses.clone(),
        store: s.store.clone(),
        vault: s.vault.clone(),
        mailer: s.mailer.clone(),
        clock: s.clock.clone(),
        oauth: s.oauth.clone(),
        events: s.events.clone(),
        refreshing: RefreshFlights::default(),
        webhooks: s.webhooks.clone(),
        notification_keys: Default::default(),
        grant_pages: Default::default(),
    }
}

/// Writes tokens onto a connection as another worker would.
async fn write_tokens(kit: &TestKit, c: &Connection, access: &str, refresh: &str) -> u64 {
    let lifetime = 4_000_000_000 - kit.clock.now().0;
    write_tokens_living(kit, c, access, refresh, lifetime, lifetime).await
}

/// Writes tokens issued `lifetime` seconds before they expire, `left` seconds from now.
async fn write_tokens_living(
    kit: &TestKit,
    c: &Connection,
    access: &str,
    refresh: &str,
    lifetime: i64,
    left: i64,
) -> u64 {
    let (sealed, expires_at) = sealed_tokens(kit, c, access, refresh, lifetime, left).await;
    let current = kit.store.connection(&c.id).await.unwrap().unwrap();
    kit.store
        .update_tokens(&c.id, &sealed, expires_at, None, None, current.version)
        .await
        .unwrap()
}

/// Tokens sealed for `c` as another worker would seal them, and their expiry.
async fn sealed_tokens(
    kit: &TestKit,
    c: &Connection,
    access: &str,
    refresh: &str,
    lifetime: i64,
    left: i64,
) -> (crate::domain::SealedBlob, Option<Timestamp>) {
    let now = kit.clock.now();
    let tokens = TokenSet {
        access_token: Secret::new(access),
        refresh_token: Some(Secret::new(refresh)),
        expires_at: Some(now.plus_secs(left)),
        issued_at: Some(now.plus_secs(left - lifetime)),
        scope: None,
        account: None,
        key_secret: None,
        consumer_key: None,
        consumer_secret: None,
    };
    let sealed = kit
        .services
        .vault
        .seal(&c.context(), &tokens.to_plaintext())
        .await
        .unwrap();
    (sealed, tokens.expires_at)
}

#[tokio::test]
async fn a_refresh_landing_between_the_refusals_reread_and_its_mark_is_served_not_marked() {
    // GIVEN a connection whose refresh token the cart refuses (another worker rotated it), and
    // that worker storing its newer tokens right before this refresh marks the connection
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    *kit.oauth.live_refresh_token.lock().unwrap() = Some("CANARY_RT_OTHER".into());
    let lifetime = 4_000_000_000 - kit.clock.now().0;
    let (sealed, expires_at) = sealed_tokens(
        &kit,
        &c,
        "CANARY_AT_OTHER",
        "CANARY_RT_OTHER",
        lifetime,
        lifetime,
    )
    .await;
    let plan = crate::testing::faults::FaultPlan::new();
    let (store, id, version) = (kit.services.store.clone(), c.id.clone(), c.version);
    plan.before_next(
        crate::testing::faults::Port::Store,
        "set_connection_status",
        async move {
            store
                .update_tokens(&id, &sealed, expires_at, None, None, version)
                .await
                .unwrap();
        },
    );
    let mut svc = other_process(&kit);
    svc.store = std::sync::Arc::new(crate::testing::faults::FaultyStore::new(
        kit.services.store.clone(),
        plan,
    ));
    // WHEN a fresh token is asked for
    let result = svc.fresh_connection(&c.id).await;
    // THEN the newer tokens are served, the connection stays active, and nobody is emailed
    assert_eq!(
        result.unwrap().tokens.access_token.expose(),
        "CANARY_AT_OTHER"
    );
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    assert!(kit.mailer.messages().iter().all(|m| !is_reauth(m)));
}

#[tokio::test]
async fn a_token_good_for_a_while_is_handed_out_without_a_refresh() {
    // GIVEN a connection whose access token is good for years
    let kit = TestKit::new();
    let c = connected(&kit).await;
    // WHEN a fresh token is asked for
    let open = kit.services.fresh_connection(&c.id).await.unwrap();
    // THEN the stored one comes back, and the cart was not asked
    assert_eq!(open.tokens.access_token.expose(), "CANARY_AT_C");
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_expiring_token_is_refreshed_and_the_rotation_stored_before_it_is_used() {
    // GIVEN a connection a minute from expiry
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    // WHEN a fresh token is asked for
    let open = kit.services.fresh_connection(&c.id).await.unwrap();
    // THEN the cart's new pair comes back and is what the store holds now
    assert_eq!(open.tokens.access_token.expose(), "CANARY_AT_R1");
    assert_eq!(
        open.tokens.refresh_token.as_ref().unwrap().expose(),
        "CANARY_RT_1"
    );
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(stored.version, c.version + 1);
    assert_eq!(stored.token_expires_at, Some(Timestamp(4_000_000_000)));
    let reopened = kit.services.open_connection(&c.id).await.unwrap();
    assert_eq!(reopened.tokens.access_token.expose(), "CANARY_AT_R1");
    // AND the next call uses it without another refresh; the lease is free again
    kit.services.fresh_connection(&c.id).await.unwrap();
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 1);
    assert!(kit
        .store
        .take_lease(&format!("refresh:{}", c.id), "probe", kit.clock.now(), 1)
        .await
        .unwrap());
}

#[tokio::test]
async fn twenty_concurrent_callers_in_two_processes_share_one_refresh() {
    // GIVEN an expiring connection, a slow rotating cart, and a second process on the store
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    *kit.oauth.refresh_delay.lock().unwrap() = Some(Duration::from_millis(150));
    let other = other_process(&kit);
    // WHEN twenty callers ask at once, half of them in each process
    let calls = (0..20).map(|i| {
        let svc = if i % 2 == 0 { &kit.services } else { &other };
        svc.fresh_connection(&c.id)
    });
    let results = join_all(calls).await;
    // THEN the cart was asked once, and every caller got the same new token
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 1);
    for r in results {
        assert_eq!(r.unwrap().tokens.access_token.expose(), "CANARY_AT_R1");
    }
    let stored = kit.services.open_connection(&c.id).await.unwrap();
    assert_eq!(
        stored.tokens.refresh_token.unwrap().expose(),
        "CANARY_RT_1",
        "the newest refresh token is stored"
    );
}

#[tokio::test]
async fn a_refused_refresh_token_marks_the_connection_and_tells_the_warehouse_once() {
    // GIVEN a connection whose refresh token the cart no longer honours (revoked)
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    *kit.oauth.live_refresh_token.lock().unwrap() = Some("revoked-elsewhere".into());
    // WHEN a fresh token is asked for, twice
    let first = kit.services.fresh_connection(&c.id).await;
    let second = kit.services.fresh_connection(&c.id).await;
    // THEN both are refused, the second without asking the cart again
    assert!(matches!(first, Err(ConnectionError::NeedsReauthorization)));
    assert!(matches!(second, Err(ConnectionError::NeedsReauthorization)));
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 1);
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::NeedsReauth);
    // AND the warehouse got exactly one email about it, with no token in it
    let mails: Vec<_> = kit
        .mailer
        .messages()
        .into_iter()
        .filter(is_reauth)
        .collect();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "ops@warehouse.test");
    assert!(mails[0].text.contains(c.id.as_str()));
    assert!(!mails[0].text.contains("CANARY"));
}

#[tokio::test]
async fn the_reauthorization_email_is_named_by_its_invite_and_kind() {
    // GIVEN a connection whose refresh token the cart no longer honours
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    *kit.oauth.live_refresh_token.lock().unwrap() = Some("revoked-elsewhere".into());
    // WHEN a fresh token is asked for and the warehouse is told
    let r = kit.services.fresh_connection(&c.id).await;
    assert!(matches!(r, Err(ConnectionError::NeedsReauthorization)));
    // THEN the email carries the idempotency key `<invite>-<kind>`, as confirmations do, so an
    // outbox keeps one copy even when a sender whose lease lapsed is taken over
    let mails: Vec<_> = kit
        .mailer
        .messages()
        .into_iter()
        .filter(is_reauth)
        .collect();
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].idempotency_key.as_deref(),
        Some(format!("{}-reauthorization_needed", c.invite_id).as_str())
    );
}

#[tokio::test]
async fn a_refusal_after_another_worker_rotated_uses_the_newer_tokens() {
    // GIVEN another worker rotated the tokens while this refresh was at the cart
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    *kit.oauth.live_refresh_token.lock().unwrap() = Some("CANARY_RT_OTHER".into());
    *kit.oauth.refresh_delay.lock().unwrap() = Some(Duration::from_millis(200));
    let refresh = kit.services.fresh_connection(&c.id);
    let rotate_meanwhile = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        write_tokens(&kit, &c, "CANARY_AT_OTHER", "CANARY_RT_OTHER").await
    };
    // WHEN the cart refuses the old refresh token
    let (result, _) = tokio::join!(refresh, rotate_meanwhile);
    // THEN the caller gets the newer tokens; the connection stays active; nobody is emailed
    assert_eq!(
        result.unwrap().tokens.access_token.expose(),
        "CANARY_AT_OTHER"
    );
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    assert!(kit.mailer.messages().iter().all(|m| !is_reauth(m)));
}

#[tokio::test]
async fn a_refresh_that_loses_the_write_race_never_overwrites_the_winner() {
    // GIVEN another writer stores tokens while this refresh is at the cart
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    *kit.oauth.refresh_delay.lock().unwrap() = Some(Duration::from_millis(200));
    let refresh = kit.services.fresh_connection(&c.id);
    let write_meanwhile = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        write_tokens(&kit, &c, "CANARY_AT_WINNER", "CANARY_RT_WINNER").await
    };
    // WHEN this refresh's version-conditional write comes second
    let (result, winner_version) = tokio::join!(refresh, write_meanwhile);
    // THEN the winner's tokens stay and are what the caller gets
    assert_eq!(
        result.unwrap().tokens.access_token.expose(),
        "CANARY_AT_WINNER"
    );
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(stored.version, winner_version);
}

#[tokio::test]
async fn an_unreachable_cart_leaves_the_tokens_and_the_status_as_they_were() {
    // GIVEN an expiring connection and a cart that cannot be reached
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    kit.oauth.refresh_unreachable.store(true, Ordering::SeqCst);
    // WHEN a fresh token is asked for
    let r = kit.services.fresh_connection(&c.id).await;
    // THEN the caller is told to try later, and nothing changed
    assert!(
        matches!(r, Err(ConnectionError::CartUnavailable(_))),
        "{r:?}"
    );
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.version, stored.status),
        (c.version, ConnectionStatus::Active)
    );
    // AND once the cart is back, the same refresh token works
    kit.oauth.refresh_unreachable.store(false, Ordering::SeqCst);
    let open = kit.services.fresh_connection(&c.id).await.unwrap();
    assert_eq!(open.tokens.access_token.expose(), "CANARY_AT_R2");
}

#[tokio::test]
async fn a_lease_held_elsewhere_is_waited_for_and_its_result_used() {
    // GIVEN another process holds the refresh lease and stores new tokens a moment later
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    let lease = format!("refresh:{}", c.id);
    assert!(kit
        .store
        .take_lease(&lease, "elsewhere", kit.clock.now(), REFRESH_LEASE_SECS)
        .await
        .unwrap());
    let refresh = kit.services.fresh_connection(&c.id);
    let other_finishes = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let v = write_tokens(&kit, &c, "CANARY_AT_ELSEWHERE", "CANARY_RT_ELSEWHERE").await;
        kit.store.release_lease(&lease, "elsewhere").await.unwrap();
        v
    };
    // WHEN this process asks meanwhile
    let (result, _) = tokio::join!(refresh, other_finishes);
    // THEN it waits and uses the other process's tokens, without a refresh of its own
    assert_eq!(
        result.unwrap().tokens.access_token.expose(),
        "CANARY_AT_ELSEWHERE"
    );
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn rotated_tokens_that_cannot_be_stored_are_never_handed_out() {
    // GIVEN an expiring connection, and a store whose token writes fail (reads still work)
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    let db = rusqlite::Connection::open(kit.dir.path().join("cartlink.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER fail_token_writes BEFORE UPDATE OF tokens ON connections
         BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;",
    )
    .unwrap();
    // WHEN a fresh token is asked for
    let r = kit.services.fresh_connection(&c.id).await;
    // THEN the caller gets an error, not the new token, and the store is as it was
    assert!(matches!(r, Err(ConnectionError::Store(_))), "{r:?}");
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.version, stored.status),
        (c.version, ConnectionStatus::Active)
    );
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 1);
    // WHEN the store works again, but this (strict) cart already rotated the refresh token
    // the lost write held
    db.execute_batch("DROP TRIGGER fail_token_writes").unwrap();
    let again = kit.services.fresh_connection(&c.id).await;
    let later = kit.services.fresh_connection(&c.id).await;
    // THEN the connection needs re-authorization, the warehouse is told once, and there is
    // no retry loop: the cart was asked once more, not again
    assert!(matches!(again, Err(ConnectionError::NeedsReauthorization)));
    assert!(matches!(later, Err(ConnectionError::NeedsReauthorization)));
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 2);
    assert_eq!(
        kit.mailer
            .messages()
            .iter()
            .filter(|m| is_reauth(m))
            .count(),
        1
    );
}

#[test]
fn the_margin_is_two_minutes_or_a_quarter_of_the_lifetime() {
    // GIVEN tokens of several lifetimes, issued at 1000
    let tokens = |lifetime: i64| TokenSet {
        access_token: Secret::new("AT"),
        refresh_token: Some(Secret::new("RT")),
        expires_at: Some(Timestamp(1000 + lifetime)),
        issued_at: Some(Timestamp(1000)),
        scope: None,
        account: None,
        key_secret: None,
        consumer_key: None,
        consumer_secret: None,
    };
    // WHEN their margins are asked for
    // THEN an hour-long token has two minutes, a five-minute one 75 s, a 60-second one 15 s
    assert_eq!(refresh_margin(&tokens(3600)), 120);
    assert_eq!(refresh_margin(&tokens(300)), 75);
    assert_eq!(refresh_margin(&tokens(60)), 15);
    // AND a 60-second token is due in its last 15 seconds only
    let t = tokens(60);
    assert!(!refresh_due(&t, Timestamp(1000), false), "just received");
    assert!(!refresh_due(&t, Timestamp(1044), false));
    assert!(refresh_due(&t, Timestamp(1045), false));
    // AND tokens sealed before issue times were recorded keep the two-minute margin
    let old = TokenSet {
        issued_at: None,
        ..tokens(60)
    };
    assert_eq!(refresh_margin(&old), REFRESH_MARGIN_SECS);
    // AND tokens without an expiry are never due
    let forever = TokenSet {
        expires_at: None,
        ..tokens(60)
    };
    assert!(!refresh_due(&forever, Timestamp(i64::MAX), false));
}

#[test]
fn tokens_written_while_a_caller_waited_are_used_inside_their_margin_but_not_once_expired() {
    // GIVEN an hour-long token written by another caller, ten seconds from expiry
    let t = TokenSet {
        access_token: Secret::new("AT"),
        refresh_token: Some(Secret::new("RT")),
        expires_at: Some(Timestamp(4600)),
        issued_at: Some(Timestamp(1000)),
        scope: None,
        account: None,
        key_secret: None,
        consumer_key: None,
        consumer_secret: None,
    };
    // WHEN a caller that waited for that write looks at it
    // THEN it uses it although it is inside its margin (a first reader would refresh)
    assert!(refresh_due(&t, Timestamp(4590), false));
    assert!(!refresh_due(&t, Timestamp(4590), true));
    // AND once it has expired, it is refreshed anyway
    assert!(refresh_due(&t, Timestamp(4600), true));
}

#[tokio::test]
async fn sixty_second_tokens_are_refreshed_once_per_rotation_by_twenty_callers_in_two_processes() {
    // GIVEN a connection holding a 60-second token, a cart whose refreshed tokens live 60 s
    // too, and a second process on the same store
    let kit = TestKit::new();
    let c = connected(&kit).await;
    write_tokens_living(&kit, &c, "CANARY_AT_SHORT", "CANARY_RT", 60, 60).await;
    *kit.oauth.refreshed_ttl.lock().unwrap() = Some(60);
    *kit.oauth.refresh_delay.lock().unwrap() = Some(Duration::from_millis(100));
    let other = other_process(&kit);
    let ask_twenty = || {
        join_all((0..20).map(|i| {
            let svc = if i % 2 == 0 { &kit.services } else { &other };
            svc.fresh_connection(&c.id)
        }))
    };
    let tokens = |results: Vec<Result<OpenConnection, ConnectionError>>| {
        results
            .into_iter()
            .map(|r| r.unwrap().tokens.access_token.expose().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    // WHEN the token has expired and twenty callers ask at once
    kit.clock.advance(61);
    let first = tokens(ask_twenty().await);
    // THEN the cart was asked once, and all twenty got its token
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(first, ["CANARY_AT_R1".to_owned()].into());
    // WHEN asked again 30 s later (inside the two-minute margin, outside the token's own)
    kit.clock.advance(30);
    let later = tokens(ask_twenty().await);
    // THEN nothing is refreshed
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(later, first);
    // WHEN the refreshed token has expired in turn and twenty callers ask at once
    kit.clock.advance(31);
    let second = tokens(ask_twenty().await);
    // THEN the cart was asked exactly once more
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 2);
    assert_eq!(second, ["CANARY_AT_R2".to_owned()].into());
}

#[tokio::test]
async fn a_caller_that_waited_for_another_process_uses_its_tokens_even_inside_the_margin() {
    // GIVEN another process holds the refresh lease and stores hour-long tokens that have
    // only 10 s left (inside the two-minute margin)
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    let lease = format!("refresh:{}", c.id);
    assert!(kit
        .store
        .take_lease(&lease, "elsewhere", kit.clock.now(), REFRESH_LEASE_SECS)
        .await
        .unwrap());
    let refresh = kit.services.fresh_connection(&c.id);
    let other_finishes = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        write_tokens_living(&kit, &c, "CANARY_AT_ELSEWHERE", "CANARY_RT", 3600, 10).await;
        kit.store.release_lease(&lease, "elsewhere").await.unwrap();
    };
    // WHEN this process asks meanwhile
    let (result, _) = tokio::join!(refresh, other_finishes);
    // THEN it uses the other process's tokens, without a refresh of its own
    assert_eq!(
        result.unwrap().tokens.access_token.expose(),
        "CANARY_AT_ELSEWHERE"
    );
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_key_service_that_cannot_seal_stops_the_refresh_before_the_cart_is_asked() {
    // GIVEN an expiring connection on a rotating cart, and a key service that opens but
    // cannot make data keys
    let mut kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    let vault = SwitchedVault::over(kit.services.vault.clone());
    vault.seal_off.store(true, Ordering::SeqCst);
    kit.services.vault = vault.clone();
    // WHEN a fresh token is asked for
    let r = kit.services.fresh_connection(&c.id).await;
    // THEN the caller is told the key service failed, the cart was not asked (its refresh
    // token is not retired), and the connection is as it was
    assert!(matches!(r, Err(ConnectionError::KeyService(_))), "{r:?}");
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 0);
    let stored = kit.store.connection(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.version, stored.status),
        (c.version, ConnectionStatus::Active)
    );
    // AND once the key service is back, the same refresh token still works
    vault.seal_off.store(false, Ordering::SeqCst);
    let open = kit.services.fresh_connection(&c.id).await.unwrap();
    assert_eq!(open.tokens.access_token.expose(), "CANARY_AT_R1");
}

#[tokio::test]
async fn a_store_failure_while_storing_rotated_tokens_is_tried_again() {
    // GIVEN an expiring connection, and a store whose next token write fails once
    let kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    let db = rusqlite::Connection::open(kit.dir.path().join("cartlink.db")).unwrap();
    db.execute_batch(
        "CREATE TABLE fail_next_token_write (x);
         INSERT INTO fail_next_token_write VALUES (1);
         CREATE TRIGGER fail_once BEFORE UPDATE OF tokens ON connections
         WHEN EXISTS (SELECT 1 FROM fail_next_token_write)
         BEGIN DELETE FROM fail_next_token_write; SELECT RAISE(FAIL, 'disk I/O error'); END;",
    )
    .unwrap();
    // WHEN a fresh token is asked for
    let open = kit.services.fresh_connection(&c.id).await.unwrap();
    // THEN the write was tried again: the rotated tokens are stored and handed out, after one
    // refresh, and the connection stays active
    assert_eq!(open.tokens.access_token.expose(), "CANARY_AT_R1");
    let failed_once: i64 = db
        .query_row("SELECT COUNT(*) FROM fail_next_token_write", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(failed_once, 0, "the first write failed");
    let reopened = kit.services.open_connection(&c.id).await.unwrap();
    assert_eq!(reopened.tokens.access_token.expose(), "CANARY_AT_R1");
    assert_eq!(reopened.connection.status, ConnectionStatus::Active);
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refresh_opens_the_sealed_tokens_once() {
    // GIVEN a connection due for a refresh, on a vault that counts how often tokens are opened
    let mut kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    let vault = CountingVault::over(kit.services.vault.clone());
    kit.services.vault = vault.clone();
    // WHEN a fresh token is asked for
    let open = kit.services.fresh_connection(&c.id).await.unwrap();
    // THEN the tokens were refreshed, and opened only by the first read: reading the connection
    // again under the lock and the lease found the same version, so nothing was decrypted again
    assert_eq!(open.tokens.access_token.expose(), "CANARY_AT_R1");
    assert_eq!(vault.opened(), 1);
}

#[tokio::test]
async fn a_caller_that_finds_another_callers_refresh_opens_only_the_new_tokens() {
    // GIVEN a connection due for a refresh, a slow cart, and a vault that counts opens
    let mut kit = TestKit::new();
    let c = connected(&kit).await;
    near_expiry(&kit);
    *kit.oauth.refresh_delay.lock().unwrap() = Some(Duration::from_millis(200));
    let vault = CountingVault::over(kit.services.vault.clone());
    kit.services.vault = vault.clone();
    // WHEN two callers in this process ask at once
    let (a, b) = tokio::join!(
        kit.services.fresh_connection(&c.id),
        kit.services.fresh_connection(&c.id)
    );
    // THEN the cart was asked once and both got its tokens
    assert_eq!(kit.oauth.refreshes.load(Ordering::SeqCst), 1);
    for open in [a.unwrap(), b.unwrap()] {
        assert_eq!(open.tokens.access_token.expose(), "CANARY_AT_R1");
    }
    // AND the tokens were opened three times: each caller's first read, and once more by the
    // caller that found the other's rotation (its version changed)
    assert_eq!(vault.opened(), 3);
}
