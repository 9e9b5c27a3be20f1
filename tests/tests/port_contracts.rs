//! The store and vault ports' contracts, run against both adapters of each: the embedded ones
//! (SQLite file, local key) and the AWS ones (DynamoDB, KMS) on moto through the real SDK.
//!
//! The store's contract is one test per clause: each clause is a function of a fresh, empty
//! store, and `on_both_stores!` runs it as `<clause>::sqlite` (a temp dir) and
//! `<clause>::dynamodb` (a table of its own on moto).

use cartlink_e2e::aws::{create_table, sdk};
use shared::carts::CartId;
use shared::domain::{
    AttemptStatus, Connection, ConnectionId, ConnectionStatus, GrantAttempt, Invite, InviteEvent,
    InviteEventKind, InviteId, InviteStatus, Timestamp, TokenHash, WarehouseId, WarehouseRef,
};
use shared::domain::{Disconnection, Revocation};
use shared::store::{
    AttemptStore, AuthorizationCommit, ConnectionFilter, DynamoStore, EmailKind, InviteFilter,
    InviteStore, PageRequest, SendClaim, SqliteStore, Store, StoreError,
};
use shared::vault::{KmsVault, LocalVault, SealContext, Vault, VaultError};

/// A fresh SQLite store, with the temp dir that holds it (the store lives as long as the dir).
fn sqlite_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    (dir, store)
}

/// A fresh DynamoDB store: a table of its own on moto.
async fn dynamodb_store() -> DynamoStore {
    let sdk = sdk().await;
    let table = format!(
        "contract-{}",
        hex::encode(shared::domain::secrets::random_bytes::<4>())
    );
    create_table(&sdk, &table).await;
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table)
}

/// One test module per clause, each with a test per adapter.
macro_rules! on_both_stores {
    ($($clause:ident),+ $(,)?) => {$(
        mod $clause {
            #[tokio::test]
            async fn sqlite() {
                let (_dir, store) = super::sqlite_store();
                super::$clause(&store).await;
            }

            #[tokio::test]
            async fn dynamodb() {
                super::$clause(&super::dynamodb_store().await).await;
            }
        }
    )+};
}

on_both_stores!(
    an_invite_is_stored_once_with_its_link_and_code,
    a_status_change_the_state_machine_forbids_is_a_conflict,
    a_status_change_stores_its_reason_and_clears_an_old_one,
    an_invites_version_counts_its_writes,
    a_status_change_of_a_missing_invite_is_missing,
    links_are_added_to_existing_invites_only,
    an_expired_invite_takes_no_attempt,
    a_live_invite_takes_an_attempt_and_becomes_granting,
    an_expired_attempt_cannot_be_claimed,
    a_declined_attempt_cannot_be_closed_again_claimed_or_committed,
    an_unclaimed_attempt_does_not_commit,
    an_open_attempt_is_claimed_once_and_then_reads_exchanging,
    a_lapsed_claim_does_not_commit,
    a_commit_under_a_live_claim_completes_the_grant,
    a_second_commit_fails_whole,
    the_claim_holders_failure_closes_the_attempt_and_nothing_commits,
    of_twenty_concurrent_claims_exactly_one_wins,
    token_updates_are_conditional_on_the_version,
    a_connection_status_is_set_apart_from_its_tokens,
    the_status_of_a_missing_connection_is_missing,
    a_status_judged_from_replaced_tokens_is_a_conflict,
    a_send_record_is_leased_to_one_sender_at_a_time,
    a_sent_record_is_never_claimed_or_finished_again,
    a_warehouses_invites_are_listed_newest_first_by_status,
    two_hundred_fifty_invites_paged_by_seven_are_each_seen_once,
    a_filtered_page_is_full_while_more_match,
    invites_are_filtered_by_cart_and_merchant_address,
    a_warehouses_connections_are_paged_newest_first_and_filtered,
    an_event_of_one_step_is_stored_once_however_often_it_is_recorded,
    a_refresh_time_is_kept_until_the_next_refresh,
    an_invites_events_read_oldest_first_and_apart_from_other_invites,
    a_lease_has_one_owner_until_it_expires,
    only_the_owner_releases_a_lease,
    other_keys_are_other_leases,
    authorized_invites_are_listed_oldest_authorization_first_up_to_the_limit,
    invites_that_moved_on_leave_the_authorized_list,
    a_counter_counts_up_to_its_limit_in_each_window,
    counters_of_other_keys_count_apart,
    a_zero_limit_counts_nothing,
    concurrent_hits_never_count_past_the_limit,
    a_replacement_leaves_only_the_new_link_and_code_open,
    a_link_added_after_a_replacement_opens_the_invite,
    a_replacement_is_conditional_on_resends_and_status,
    of_twenty_concurrent_replacements_exactly_one_wins,
    every_resend_has_a_send_record_of_its_own,
    a_disconnect_replaces_the_connection_by_its_record,
    a_disconnect_is_conditional_on_the_version,
    of_twenty_concurrent_disconnects_exactly_one_wins,
    a_revocation_is_settled_once_over_pending,
);

fn invite(warehouse: &str, status: InviteStatus, created: i64) -> Invite {
    Invite {
        app: None,
        version: 1, // as stored
        id: InviteId::generate(),
        warehouse: WarehouseRef {
            id: WarehouseId::parse(warehouse).unwrap(),
            display_name: "W".into(),
            notify_email: "w@w.test".into(),
            brand: Default::default(),
        },
        cart: CartId::new("acme"),
        merchant_email: "m@m.test".into(),
        merchant_name: Some("M".into()),
        store: None,
        functions: vec![],
        status,
        status_reason: None,
        access_code_hash: TokenHash::of(&InviteId::generate().to_string()),
        access_code_hint: "…0000".into(),
        resends: 0,
        reconnects: None,
        locale: Default::default(),
        created_at: Timestamp(created),
        updated_at: Timestamp(created),
        expires_at: Timestamp(10_000),
    }
}

fn attempt(invite: &Invite, state: &str) -> GrantAttempt {
    GrantAttempt {
        app: None,
        state_hash: TokenHash::of(state),
        invite_id: invite.id.clone(),
        cart: invite.cart.clone(),
        binding_hash: TokenHash::of("binding"),
        redirect_uri: "https://cartlink.test/oauth/callback/acme".into(),
        store: None,
        status: AttemptStatus::Open,
        created_at: Timestamp(150),
        expires_at: Timestamp(1050),
        claim_until: None,
    }
}

fn connection(invite: &Invite) -> Connection {
    Connection {
        app: None,
        id: ConnectionId::generate(),
        invite_id: invite.id.clone(),
        warehouse_id: invite.warehouse.id.clone(),
        cart: invite.cart.clone(),
        account: None,
        scopes: vec!["orders:read".into()],
        tokens: shared::vault::SealedBlob {
            v: 1,
            key_id: "k".into(),
            edk: "e".into(),
            nonce: "n".into(),
            ct: "c".into(),
        },
        token_expires_at: Some(Timestamp(5000)),
        created_at: Timestamp(200),
        version: 1,
        refreshed_at: None,
        status: ConnectionStatus::Active,
        granted_at: None,
        care_at: None,
        care_noticed: None,
        subscribed_at: None,
        shops: Vec::new(),
    }
}

/// The first setup link of `invite`, as `stored` gives it.
fn link_of(invite: &Invite) -> TokenHash {
    TokenHash::of(&format!("link-{}", invite.id))
}

/// A new invite of `warehouse`, stored with its first link.
async fn stored(store: &dyn Store, warehouse: &str, status: InviteStatus, created: i64) -> Invite {
    let inv = invite(warehouse, status, created);
    store.insert_invite(&inv, &link_of(&inv)).await.unwrap();
    inv
}

/// An attempt of `inv` begun at 150 (it expires at 1050); answers its state's hash.
async fn begun(store: &dyn Store, inv: &Invite, state: &str) -> TokenHash {
    store
        .begin_attempt(&attempt(inv, state), Timestamp(150))
        .await
        .unwrap();
    TokenHash::of(state)
}

/// An attempt of `inv` begun, then claimed at 200 until 230; answers its state's hash.
async fn claimed(store: &dyn Store, inv: &Invite, state: &str) -> TokenHash {
    let hash = begun(store, inv, state).await;
    store
        .claim_attempt(&hash, Timestamp(200), Timestamp(230))
        .await
        .unwrap();
    hash
}

/// The callback's commit of `conn` under the claim on `state` at `now`, with the history's
/// `authorized` (the invite's creation time read from the store, as the callback has it).
async fn commit(
    store: &dyn Store,
    conn: &Connection,
    state: &TokenHash,
    now: Timestamp,
) -> Result<(), StoreError> {
    let invite_created = store
        .invite(&conn.invite_id)
        .await
        .unwrap()
        .map_or(now, |i| i.created_at);
    let event = InviteEvent {
        kind: InviteEventKind::Authorized,
        at: now,
        reason: None,
    };
    store
        .commit_authorization(&AuthorizationCommit {
            connection: conn,
            invite_created,
            state,
            now,
            step: ("authorized", &event),
        })
        .await
}

/// A connection committed for a new invite under a live claim; answers the connection.
async fn committed(store: &dyn Store) -> Connection {
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    let state = claimed(store, &inv, "committed").await;
    let conn = connection(&inv);
    commit(store, &conn, &state, Timestamp(229)).await.unwrap();
    conn
}

/// A new invite of `wh-owed` taken through a grant whose commit is at `at`.
async fn authorized_at(store: &dyn Store, at: i64, state: &str) -> Invite {
    let inv = stored(store, "wh-owed", InviteStatus::Emailed, 100).await;
    store
        .begin_attempt(&attempt(&inv, state), Timestamp(at - 1))
        .await
        .unwrap();
    store
        .claim_attempt(&TokenHash::of(state), Timestamp(at - 1), Timestamp(at + 30))
        .await
        .unwrap();
    commit(
        store,
        &connection(&inv),
        &TokenHash::of(state),
        Timestamp(at),
    )
    .await
    .unwrap();
    inv
}

// Invites.

async fn an_invite_is_stored_once_with_its_link_and_code(store: &dyn Store) {
    // GIVEN an invite stored with its link
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    // THEN it reads back by id, by link and by access code
    assert_eq!(store.invite(&inv.id).await.unwrap(), Some(inv.clone()));
    assert_eq!(
        store.invite_by_link(&link_of(&inv)).await.unwrap(),
        Some(inv.clone())
    );
    assert_eq!(
        store
            .invite_by_access_code(&inv.access_code_hash)
            .await
            .unwrap(),
        Some(inv.clone())
    );
    // WHEN it is inserted again, with another link
    let again = store.insert_invite(&inv, &TokenHash::of("other")).await;
    // THEN that is a conflict, and nothing of it was written
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert!(
        store
            .invite_by_link(&TokenHash::of("other"))
            .await
            .unwrap()
            .is_none(),
        "nothing half written"
    );
}

async fn a_status_change_the_state_machine_forbids_is_a_conflict(store: &dyn Store) {
    // GIVEN a pending invite
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    // WHEN it is moved straight to authorized
    let r = store
        .set_invite_status(&inv.id, InviteStatus::Authorized, None, Timestamp(101))
        .await;
    // THEN that is a conflict
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
}

async fn a_status_change_stores_its_reason_and_clears_an_old_one(store: &dyn Store) {
    // GIVEN a pending invite
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    // WHEN its email fails, with a reason
    store
        .set_invite_status(
            &inv.id,
            InviteStatus::EmailFailed,
            Some("mail down"),
            Timestamp(102),
        )
        .await
        .unwrap();
    // THEN the status and reason are stored
    let got = store.invite(&inv.id).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.status_reason.as_deref()),
        (InviteStatus::EmailFailed, Some("mail down"))
    );
    // WHEN it then moves on without a reason THEN the old reason is gone
    store
        .set_invite_status(&inv.id, InviteStatus::Emailed, None, Timestamp(103))
        .await
        .unwrap();
    assert_eq!(
        store.invite(&inv.id).await.unwrap().unwrap().status_reason,
        None
    );
}

async fn an_invites_version_counts_its_writes(store: &dyn Store) {
    // GIVEN a stored invite THEN its version is 1
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    assert_eq!(store.invite(&inv.id).await.unwrap().unwrap().version, 1);
    // WHEN its status changes twice, and a change is refused
    for to in [InviteStatus::Emailed, InviteStatus::Revoked] {
        store
            .set_invite_status(&inv.id, to, None, Timestamp(101))
            .await
            .unwrap();
    }
    let refused = store
        .set_invite_status(&inv.id, InviteStatus::Emailed, None, Timestamp(102))
        .await;
    assert!(refused.is_err());
    // THEN it counts the two writes made
    assert_eq!(store.invite(&inv.id).await.unwrap().unwrap().version, 3);
}

async fn a_status_change_of_a_missing_invite_is_missing(store: &dyn Store) {
    // GIVEN no invite WHEN an unknown one is moved
    let r = store
        .set_invite_status(
            &InviteId::generate(),
            InviteStatus::Emailed,
            None,
            Timestamp(1),
        )
        .await;
    // THEN it is missing
    assert!(matches!(r, Err(StoreError::Missing(_))), "{r:?}");
}

async fn links_are_added_to_existing_invites_only(store: &dyn Store) {
    // GIVEN an invite
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    // WHEN a second link is added to it THEN the link opens it
    let second = TokenHash::of(&format!("second-{}", inv.id));
    store
        .add_link(&inv.id, &second, Timestamp(104))
        .await
        .unwrap();
    assert_eq!(
        store.invite_by_link(&second).await.unwrap().map(|i| i.id),
        Some(inv.id.clone())
    );
    // WHEN a link is added to an unknown invite THEN it is refused
    assert!(store
        .add_link(
            &InviteId::generate(),
            &TokenHash::of(&format!("x-{}", inv.id)),
            Timestamp(1)
        )
        .await
        .is_err());
}

/// Replaces `inv`'s link and code from `expected` resends with the pair named by `tag`.
async fn replace(
    store: &dyn Store,
    inv: &Invite,
    expected: u32,
    tag: &str,
) -> Result<u32, StoreError> {
    store
        .replace_secrets(
            &inv.id,
            expected,
            &TokenHash::of(&format!("link-{tag}-{}", inv.id)),
            &TokenHash::of(&format!("code-{tag}-{}", inv.id)),
            &format!("…{tag}"),
            Timestamp(120),
        )
        .await
}

async fn a_replacement_leaves_only_the_new_link_and_code_open(store: &dyn Store) {
    // GIVEN an invite with its first link and a second one
    let inv = stored(store, "wh-one", InviteStatus::Emailed, 100).await;
    let second = TokenHash::of(&format!("second-{}", inv.id));
    store
        .add_link(&inv.id, &second, Timestamp(104))
        .await
        .unwrap();
    // WHEN its link and code are replaced
    assert_eq!(replace(store, &inv, 0, "new").await.unwrap(), 1);
    // THEN neither earlier link nor the old code opens it
    assert_eq!(store.invite_by_link(&link_of(&inv)).await.unwrap(), None);
    assert_eq!(store.invite_by_link(&second).await.unwrap(), None);
    assert_eq!(
        store
            .invite_by_access_code(&inv.access_code_hash)
            .await
            .unwrap(),
        None
    );
    // AND the new link and code open it, as read by id: one resend, the new code and hint
    let now = store.invite(&inv.id).await.unwrap().unwrap();
    assert_eq!(now.resends, 1);
    assert_eq!(
        now.access_code_hash,
        TokenHash::of(&format!("code-new-{}", inv.id))
    );
    assert_eq!(now.access_code_hint, "…new");
    let new_link = TokenHash::of(&format!("link-new-{}", inv.id));
    assert_eq!(
        store.invite_by_link(&new_link).await.unwrap(),
        Some(now.clone())
    );
    assert_eq!(
        store
            .invite_by_access_code(&now.access_code_hash)
            .await
            .unwrap(),
        Some(now)
    );
}

async fn a_link_added_after_a_replacement_opens_the_invite(store: &dyn Store) {
    // GIVEN an invite whose link and code were replaced once
    let inv = stored(store, "wh-one", InviteStatus::Emailed, 100).await;
    replace(store, &inv, 0, "new").await.unwrap();
    // WHEN a link is added (the access-code page's, or a retry's)
    let later = TokenHash::of(&format!("later-{}", inv.id));
    store
        .add_link(&inv.id, &later, Timestamp(130))
        .await
        .unwrap();
    // THEN it opens the invite
    assert_eq!(
        store
            .invite_by_link(&later)
            .await
            .unwrap()
            .map(|i| i.resends),
        Some(1)
    );
}

async fn a_replacement_is_conditional_on_resends_and_status(store: &dyn Store) {
    // GIVEN an invite replaced once
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    replace(store, &inv, 0, "first").await.unwrap();
    // WHEN a replacement still expects none THEN it is a conflict and its link opens nothing
    let stale = replace(store, &inv, 0, "stale").await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let stale_link = TokenHash::of(&format!("link-stale-{}", inv.id));
    assert_eq!(store.invite_by_link(&stale_link).await.unwrap(), None);
    // WHEN the invite is withdrawn, or connected, THEN a replacement is a conflict
    for status in [
        InviteStatus::Revoked,
        InviteStatus::Confirmed,
        InviteStatus::Undeliverable,
    ] {
        let closed = stored(store, "wh-one", status, 100).await;
        let refused = replace(store, &closed, 0, "closed").await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{status}: {refused:?}"
        );
        assert_eq!(
            store
                .invite_by_link(&link_of(&closed))
                .await
                .unwrap()
                .map(|i| i.id),
            Some(closed.id)
        );
    }
    // AND an unknown invite is missing
    let unknown = invite("wh-one", InviteStatus::Pending, 100);
    let missing = replace(store, &unknown, 0, "x").await;
    assert!(
        matches!(missing, Err(StoreError::Missing(_))),
        "{missing:?}"
    );
}

async fn of_twenty_concurrent_replacements_exactly_one_wins(store: &dyn Store) {
    // GIVEN an invite never resent
    let inv = stored(store, "wh-one", InviteStatus::Emailed, 100).await;
    // WHEN twenty replace its link and code at once, each with its own pair
    let tags: Vec<String> = (0..20).map(|i| format!("r{i}")).collect();
    let outcomes = futures::future::join_all(tags.iter().map(|t| replace(store, &inv, 0, t))).await;
    // THEN exactly one stored its pair, the others were conflicts
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .all(|r| matches!(r, Ok(1) | Err(StoreError::Conflict(_)))));
    // AND only the winner's link and code open the invite
    let mut open = 0;
    for (tag, outcome) in tags.iter().zip(&outcomes) {
        let link = TokenHash::of(&format!("link-{tag}-{}", inv.id));
        let code = TokenHash::of(&format!("code-{tag}-{}", inv.id));
        let by_link = store.invite_by_link(&link).await.unwrap().is_some();
        let by_code = store.invite_by_access_code(&code).await.unwrap().is_some();
        assert_eq!(
            (by_link, by_code),
            (outcome.is_ok(), outcome.is_ok()),
            "{tag}"
        );
        open += usize::from(by_link);
    }
    assert_eq!(open, 1);
}

async fn every_resend_has_a_send_record_of_its_own(store: &dyn Store) {
    // GIVEN the first resend's email sent
    let inv = stored(store, "wh-one", InviteStatus::Emailed, 100).await;
    let first = EmailKind::InviteResend(1);
    assert_eq!(
        store
            .claim_send(&inv.id, first, Timestamp(0), 120)
            .await
            .unwrap(),
        SendClaim::Claimed
    );
    store
        .finish_send(&inv.id, first, "m-1", Timestamp(1))
        .await
        .unwrap();
    // WHEN the second resend's email is claimed THEN it is this sender's to send
    let second = EmailKind::InviteResend(2);
    assert_eq!(
        store
            .claim_send(&inv.id, second, Timestamp(2), 120)
            .await
            .unwrap(),
        SendClaim::Claimed
    );
    // AND the first resend's stays sent, as does the invite's own record stay free
    assert_eq!(
        store
            .claim_send(&inv.id, first, Timestamp(3), 120)
            .await
            .unwrap(),
        SendClaim::AlreadySent("m-1".into())
    );
    assert_eq!(
        store
            .claim_send(&inv.id, EmailKind::Invite, Timestamp(3), 120)
            .await
            .unwrap(),
        SendClaim::Claimed
    );
}

fn disconnection_of(conn: &Connection) -> Disconnection {
    Disconnection {
        connection_id: conn.id.clone(),
        invite_id: conn.invite_id.clone(),
        warehouse_id: conn.warehouse_id.clone(),
        cart: conn.cart.clone(),
        disconnected_at: Timestamp(300),
        revocation: Revocation::Pending,
        by: Default::default(),
        account: conn.account.clone(),
    }
}

async fn a_disconnect_replaces_the_connection_by_its_record(store: &dyn Store) {
    // GIVEN a stored connection
    let conn = committed(store).await;
    // WHEN it is disconnected at its version
    let record = disconnection_of(&conn);
    store.disconnect(&record, conn.version).await.unwrap();
    // THEN the connection, with its sealed tokens, is gone, by id and by invite
    assert_eq!(store.connection(&conn.id).await.unwrap(), None);
    assert_eq!(
        store.connection_for_invite(&conn.invite_id).await.unwrap(),
        None
    );
    // AND its record reads back
    assert_eq!(store.disconnection(&conn.id).await.unwrap(), Some(record));
}

async fn a_disconnect_is_conditional_on_the_version(store: &dyn Store) {
    // GIVEN a connection whose tokens a refresh rewrote (version + 1)
    let conn = committed(store).await;
    let next = store
        .update_tokens(&conn.id, &conn.tokens, None, None, None, conn.version)
        .await
        .unwrap();
    // WHEN a disconnect read before the refresh is written
    let stale = store
        .disconnect(&disconnection_of(&conn), conn.version)
        .await;
    // THEN it is a conflict and nothing changed
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert!(store.connection(&conn.id).await.unwrap().is_some());
    assert_eq!(store.disconnection(&conn.id).await.unwrap(), None);
    // AND at the current version it is made
    store
        .disconnect(&disconnection_of(&conn), next)
        .await
        .unwrap();
    // AND a second one finds nothing to disconnect
    let again = store.disconnect(&disconnection_of(&conn), next).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

async fn of_twenty_concurrent_disconnects_exactly_one_wins(store: &dyn Store) {
    // GIVEN a stored connection
    let conn = committed(store).await;
    // WHEN twenty disconnect it at once, each at its own time
    let records: Vec<Disconnection> = (0..20)
        .map(|i| Disconnection {
            disconnected_at: Timestamp(300 + i),
            ..disconnection_of(&conn)
        })
        .collect();
    let outcomes =
        futures::future::join_all(records.iter().map(|r| store.disconnect(r, conn.version))).await;
    // THEN exactly one was written, and the stored record is the winner's
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict(_)))));
    let winner = outcomes.iter().position(|r| r.is_ok()).unwrap();
    assert_eq!(
        store.disconnection(&conn.id).await.unwrap(),
        Some(records[winner].clone())
    );
}

async fn a_revocation_is_settled_once_over_pending(store: &dyn Store) {
    // GIVEN a disconnected connection whose revocation is pending
    let conn = committed(store).await;
    store
        .disconnect(&disconnection_of(&conn), conn.version)
        .await
        .unwrap();
    // WHEN the cart's answer is recorded THEN it reads back
    store
        .settle_revocation(&conn.id, Revocation::Revoked)
        .await
        .unwrap();
    let read = store.disconnection(&conn.id).await.unwrap().unwrap();
    assert_eq!(read.revocation, Revocation::Revoked);
    // WHEN another answer is recorded THEN it is a conflict and the first stays
    let again = store.settle_revocation(&conn.id, Revocation::Failed).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(
        store
            .disconnection(&conn.id)
            .await
            .unwrap()
            .unwrap()
            .revocation,
        Revocation::Revoked
    );
    // AND an unknown connection has nothing to settle
    let missing = store
        .settle_revocation(&ConnectionId::generate(), Revocation::Revoked)
        .await;
    assert!(
        matches!(missing, Err(StoreError::Missing(_))),
        "{missing:?}"
    );
}

// Attempts.

async fn an_expired_invite_takes_no_attempt(store: &dyn Store) {
    // GIVEN an invite that expires at 10 000
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    // WHEN an attempt begins at its expiry
    let r = store
        .begin_attempt(&attempt(&inv, "a"), Timestamp(10_000))
        .await;
    // THEN that is a conflict and no attempt is stored
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(store.attempt(&TokenHash::of("a")).await.unwrap().is_none());
}

async fn a_live_invite_takes_an_attempt_and_becomes_granting(store: &dyn Store) {
    // GIVEN a live invite
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    // WHEN an attempt begins
    let a = begun(store, &inv, "a").await;
    // THEN the invite is granting and the attempt is its latest
    assert_eq!(
        store.invite(&inv.id).await.unwrap().unwrap().status,
        InviteStatus::Granting
    );
    assert_eq!(
        store
            .latest_attempt(&inv.id)
            .await
            .unwrap()
            .unwrap()
            .state_hash,
        a
    );
}

async fn an_expired_attempt_cannot_be_claimed(store: &dyn Store) {
    // GIVEN an attempt that expires at 1050
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    let a = begun(store, &inv, "a").await;
    // WHEN it is claimed at its expiry
    let r = store
        .claim_attempt(&a, Timestamp(1050), Timestamp(1080))
        .await;
    // THEN that is a conflict
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
}

async fn a_declined_attempt_cannot_be_closed_again_claimed_or_committed(store: &dyn Store) {
    // GIVEN an attempt declined (closed from open, never claimed)
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    let a = begun(store, &inv, "a").await;
    store
        .close_attempt(&a, AttemptStatus::Open, AttemptStatus::Declined)
        .await
        .unwrap();
    // WHEN it is closed again THEN that is a conflict
    assert!(matches!(
        store
            .close_attempt(&a, AttemptStatus::Open, AttemptStatus::Failed)
            .await,
        Err(StoreError::Conflict(_))
    ));
    // WHEN it is claimed THEN that is a conflict
    assert!(matches!(
        store
            .claim_attempt(&a, Timestamp(200), Timestamp(230))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // WHEN it is committed THEN that is a conflict that leaves nothing behind
    let lost = connection(&inv);
    let r = commit(store, &lost, &a, Timestamp(300)).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(store.connection(&lost.id).await.unwrap().is_none());
    assert_eq!(
        store.invite(&inv.id).await.unwrap().unwrap().status,
        InviteStatus::Granting
    );
}

async fn an_unclaimed_attempt_does_not_commit(store: &dyn Store) {
    // GIVEN an open attempt nobody claimed
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    let b = begun(store, &inv, "b").await;
    // WHEN it is committed
    let unclaimed = connection(&inv);
    let r = commit(store, &unclaimed, &b, Timestamp(200)).await;
    // THEN that is a conflict that leaves nothing behind
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(store.connection(&unclaimed.id).await.unwrap().is_none());
}

async fn an_open_attempt_is_claimed_once_and_then_reads_exchanging(store: &dyn Store) {
    // GIVEN an open attempt, claimed at 200 until 230
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    let b = claimed(store, &inv, "b").await;
    // WHEN it is claimed again THEN that is a conflict
    let r = store
        .claim_attempt(&b, Timestamp(201), Timestamp(231))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    // AND it reads as exchanging until its deadline, and is no longer open
    let got = store.attempt(&b).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.claim_until),
        (AttemptStatus::Exchanging, Some(Timestamp(230)))
    );
    let r = store
        .close_attempt(&b, AttemptStatus::Open, AttemptStatus::Declined)
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
}

async fn a_lapsed_claim_does_not_commit(store: &dyn Store) {
    // GIVEN an attempt claimed until 230
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    let b = claimed(store, &inv, "b").await;
    // WHEN it is committed at 230
    let late = connection(&inv);
    let r = commit(store, &late, &b, Timestamp(230)).await;
    // THEN that is a conflict that leaves nothing behind
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(store.connection(&late.id).await.unwrap().is_none());
    assert_eq!(
        store.invite(&inv.id).await.unwrap().unwrap().status,
        InviteStatus::Granting
    );
}

async fn a_commit_under_a_live_claim_completes_the_grant(store: &dyn Store) {
    // GIVEN an attempt claimed until 230
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    let b = claimed(store, &inv, "b").await;
    // WHEN it is committed at 229
    let conn = connection(&inv);
    commit(store, &conn, &b, Timestamp(229)).await.unwrap();
    // THEN the connection is stored, the invite authorized and the attempt consumed
    assert_eq!(
        store.connection_for_invite(&inv.id).await.unwrap(),
        Some(conn.clone())
    );
    assert_eq!(
        store.invite(&inv.id).await.unwrap().unwrap().status,
        InviteStatus::Authorized
    );
    assert_eq!(
        store.attempt(&b).await.unwrap().unwrap().status,
        AttemptStatus::Completed
    );
}

async fn a_second_commit_fails_whole(store: &dyn Store) {
    // GIVEN a committed grant
    let conn = committed(store).await;
    let inv = store.invite(&conn.invite_id).await.unwrap().unwrap();
    // WHEN its attempt is committed again, with another connection
    let second = connection(&inv);
    let r = commit(store, &second, &TokenHash::of("committed"), Timestamp(221)).await;
    // THEN it fails and stores nothing
    assert!(r.is_err());
    assert!(store.connection(&second.id).await.unwrap().is_none());
}

async fn the_claim_holders_failure_closes_the_attempt_and_nothing_commits(store: &dyn Store) {
    // GIVEN a claimed attempt
    let failing = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    let c = claimed(store, &failing, "c").await;
    // WHEN the claim holder fails
    store
        .close_attempt(&c, AttemptStatus::Exchanging, AttemptStatus::Failed)
        .await
        .unwrap();
    // THEN the attempt is failed and a commit is a conflict
    assert_eq!(
        store.attempt(&c).await.unwrap().unwrap().status,
        AttemptStatus::Failed
    );
    let r = commit(store, &connection(&failing), &c, Timestamp(210)).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
}

async fn of_twenty_concurrent_claims_exactly_one_wins(store: &dyn Store) {
    // GIVEN an open attempt
    let raced = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    let d = begun(store, &raced, "d").await;
    // WHEN twenty claim it at once
    let claims = futures::future::join_all(
        (0..20).map(|i| store.claim_attempt(&d, Timestamp(200 + i), Timestamp(230 + i))),
    )
    .await;
    // THEN exactly one holds it and the others were refused
    assert_eq!(claims.iter().filter(|r| r.is_ok()).count(), 1, "{claims:?}");
    assert!(claims
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict(_)))));
}

// Connections.

async fn token_updates_are_conditional_on_the_version(store: &dyn Store) {
    // GIVEN a connection at version 1
    let conn = committed(store).await;
    // WHEN its tokens are updated from version 1 THEN it is at version 2
    let v2 = store
        .update_tokens(&conn.id, &conn.tokens, None, None, None, 1)
        .await
        .unwrap();
    assert_eq!(v2, 2);
    // WHEN they are updated from version 1 again THEN that is a conflict
    assert!(matches!(
        store
            .update_tokens(&conn.id, &conn.tokens, None, None, None, 1)
            .await,
        Err(StoreError::Conflict(_))
    ));
}

async fn a_connection_status_is_set_apart_from_its_tokens(store: &dyn Store) {
    // GIVEN a connection whose tokens were updated (version 2, no expiry)
    let conn = committed(store).await;
    store
        .update_tokens(&conn.id, &conn.tokens, None, None, None, 1)
        .await
        .unwrap();
    // WHEN its status is set, judged from the tokens of version 2
    store
        .set_connection_status(&conn.id, ConnectionStatus::NeedsReauth, 2)
        .await
        .unwrap();
    // THEN only the status changed
    let got = store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(
        (got.version, got.status, got.token_expires_at),
        (2, ConnectionStatus::NeedsReauth, None)
    );
    assert_eq!(got.scopes, conn.scopes);
}

async fn the_status_of_a_missing_connection_is_missing(store: &dyn Store) {
    // GIVEN no connection WHEN an unknown one's status is set THEN it is missing
    assert!(matches!(
        store
            .set_connection_status(&ConnectionId::generate(), ConnectionStatus::Active, 1)
            .await,
        Err(StoreError::Missing(_))
    ));
}

async fn a_status_judged_from_replaced_tokens_is_a_conflict(store: &dyn Store) {
    // GIVEN a connection whose tokens a refresh replaced (version 1 to 2)
    let conn = committed(store).await;
    store
        .update_tokens(&conn.id, &conn.tokens, None, None, None, conn.version)
        .await
        .unwrap();
    // WHEN it is marked from what version 1 said (the refused refresh token of the old pair)
    let stale = store
        .set_connection_status(&conn.id, ConnectionStatus::NeedsReauth, conn.version)
        .await;
    // THEN the write is a conflict and the connection stays active
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let got = store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(got.status, ConnectionStatus::Active);
}

// Send records.

async fn a_send_record_is_leased_to_one_sender_at_a_time(store: &dyn Store) {
    // GIVEN an invite's send record claimed at 0 for 120 s
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    let k = EmailKind::MerchantConfirmation;
    assert_eq!(
        store
            .claim_send(&inv.id, k, Timestamp(0), 120)
            .await
            .unwrap(),
        SendClaim::Claimed
    );
    // WHEN another sender claims it within the lease THEN it is busy
    assert_eq!(
        store
            .claim_send(&inv.id, k, Timestamp(60), 120)
            .await
            .unwrap(),
        SendClaim::Busy
    );
    // WHEN the holder releases it THEN the next claim takes it
    store.release_send(&inv.id, k).await.unwrap();
    assert_eq!(
        store
            .claim_send(&inv.id, k, Timestamp(61), 120)
            .await
            .unwrap(),
        SendClaim::Claimed
    );
    // WHEN that lease expires THEN another sender takes it over
    assert_eq!(
        store
            .claim_send(&inv.id, k, Timestamp(182), 120)
            .await
            .unwrap(),
        SendClaim::Claimed,
        "an expired lease is taken over"
    );
}

async fn a_sent_record_is_never_claimed_or_finished_again(store: &dyn Store) {
    // GIVEN a send record claimed and finished as sent, with message id m-1
    let inv = stored(store, "wh-one", InviteStatus::Pending, 100).await;
    let k = EmailKind::MerchantConfirmation;
    store
        .claim_send(&inv.id, k, Timestamp(182), 120)
        .await
        .unwrap();
    store
        .finish_send(&inv.id, k, "m-1", Timestamp(183))
        .await
        .unwrap();
    // WHEN it is claimed again THEN it answers that it went out, as m-1
    assert_eq!(
        store
            .claim_send(&inv.id, k, Timestamp(999), 120)
            .await
            .unwrap(),
        SendClaim::AlreadySent("m-1".into())
    );
    // WHEN it is finished again THEN that is a conflict
    assert!(matches!(
        store.finish_send(&inv.id, k, "m-2", Timestamp(1000)).await,
        Err(StoreError::Conflict(_))
    ));
}

// Listings.

async fn a_warehouses_invites_are_listed_newest_first_by_status(store: &dyn Store) {
    // GIVEN two invites of one warehouse, the newer emailed, and one of another warehouse
    let wh = WarehouseId::parse("wh-list").unwrap();
    let older = stored(store, "wh-list", InviteStatus::Pending, 500).await;
    let newer = stored(store, "wh-list", InviteStatus::Pending, 600).await;
    stored(store, "wh-other", InviteStatus::Pending, 700).await;
    store
        .set_invite_status(&newer.id, InviteStatus::Emailed, None, Timestamp(601))
        .await
        .unwrap();
    let wh = &wh;
    let ids = |filter: InviteFilter| async move {
        let page = store
            .list_invites(wh, &filter, &PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(page.next, None);
        page.items.into_iter().map(|i| i.id).collect::<Vec<_>>()
    };
    // WHEN the warehouse's invites are listed, all and by status
    let all = ids(InviteFilter::default()).await;
    let emailed = ids(InviteFilter::status(InviteStatus::Emailed)).await;
    let pending = ids(InviteFilter::status(InviteStatus::Pending)).await;
    // THEN each holds its own, newest first, and never the other warehouse's
    assert_eq!(all, vec![newer.id.clone(), older.id.clone()]);
    assert_eq!(emailed, vec![newer.id.clone()]);
    assert_eq!(pending, vec![older.id.clone()]);
}

/// Every page of `filter` over `wh-page`'s invites, `limit` at a time, in order.
async fn all_pages(store: &dyn Store, filter: &InviteFilter, limit: usize) -> Vec<Vec<Invite>> {
    let wh = WarehouseId::parse("wh-page").unwrap();
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_invites(&wh, filter, &PageRequest { after, limit })
            .await
            .unwrap();
        pages.push(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return pages,
        }
    }
}

async fn two_hundred_fifty_invites_paged_by_seven_are_each_seen_once(store: &dyn Store) {
    // GIVEN 250 invites of one warehouse, five to each second, and one of another warehouse
    let mut made = Vec::new();
    for n in 0..250 {
        made.push(
            stored(store, "wh-page", InviteStatus::Pending, 1000 + n / 5)
                .await
                .id,
        );
    }
    stored(store, "wh-other", InviteStatus::Pending, 1100).await;
    // WHEN they are read seven at a time, each page after the previous one's end
    let pages = all_pages(store, &InviteFilter::default(), 7).await;
    // THEN every page but the last is full, and together they hold each invite exactly once,
    // newest first (by creation, then id)
    let (last, full) = pages.split_last().unwrap();
    assert!(full.iter().all(|p| p.len() == 7));
    assert_eq!(last.len(), 250 % 7);
    let seen: Vec<Invite> = pages.into_iter().flatten().collect();
    let mut expected = seen.clone();
    expected.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    assert_eq!(seen, expected);
    let mut ids: Vec<InviteId> = seen.into_iter().map(|i| i.id).collect();
    ids.sort();
    made.sort();
    assert_eq!(ids, made);
}

async fn a_filtered_page_is_full_while_more_match(store: &dyn Store) {
    // GIVEN 160 invites of one warehouse, every 40th emailed, the others pending: more than one
    // DynamoDB read batch (100 items) lies between the first and the fourth match
    let mut emailed = Vec::new();
    for n in 0..160 {
        let inv = stored(store, "wh-page", InviteStatus::Pending, 1000 + n).await;
        if n % 40 == 0 {
            store
                .set_invite_status(&inv.id, InviteStatus::Emailed, None, Timestamp(2000))
                .await
                .unwrap();
            emailed.push(inv.id);
        }
    }
    // WHEN the emailed ones are read three at a time
    let pages = all_pages(store, &InviteFilter::status(InviteStatus::Emailed), 3).await;
    // THEN the pages are 3 and 1 long: full while more match, though most invites read between
    // two matches are skipped
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 1]);
    // AND they hold exactly the emailed invites, newest first
    let seen: Vec<InviteId> = pages.into_iter().flatten().map(|i| i.id).collect();
    emailed.reverse();
    assert_eq!(seen, emailed);
}

async fn invites_are_filtered_by_cart_and_merchant_address(store: &dyn Store) {
    // GIVEN invites of one warehouse for two carts and two merchants
    let make = |cart: &'static str, email: &'static str, created: i64| async move {
        let mut inv = invite("wh-page", InviteStatus::Pending, created);
        inv.cart = CartId::new(cart);
        inv.merchant_email = email.into();
        store.insert_invite(&inv, &link_of(&inv)).await.unwrap();
        inv.id
    };
    let acme_a = make("acme", "a@shop.test", 100).await;
    let acme_b = make("acme", "b@shop.test", 101).await;
    let other_a = make("other", "a@shop.test", 102).await;
    let ids = |filter: InviteFilter| async move {
        let pages = all_pages(store, &filter, 10).await;
        pages
            .into_iter()
            .flatten()
            .map(|i| i.id)
            .collect::<Vec<_>>()
    };
    // WHEN they are listed by cart, by address, and by both
    let by_cart = ids(InviteFilter {
        cart: Some(CartId::new("acme")),
        ..InviteFilter::default()
    })
    .await;
    let by_email = ids(InviteFilter {
        merchant_email: Some("a@shop.test".into()),
        ..InviteFilter::default()
    })
    .await;
    let by_both = ids(InviteFilter {
        cart: Some(CartId::new("other")),
        merchant_email: Some("b@shop.test".into()),
        ..InviteFilter::default()
    })
    .await;
    // THEN each filter keeps exactly its invites, newest first
    assert_eq!(by_cart, vec![acme_b, acme_a.clone()]);
    assert_eq!(by_email, vec![other_a, acme_a]);
    assert!(by_both.is_empty());
}

async fn a_warehouses_connections_are_paged_newest_first_and_filtered(store: &dyn Store) {
    // GIVEN seven connections of one warehouse (the third needs re-authorization), made one a
    // second, and one of another warehouse
    let wh = WarehouseId::parse("wh-con").unwrap();
    let mut made = Vec::new();
    for n in 0..8 {
        let owner = if n == 7 { "wh-elsewhere" } else { "wh-con" };
        let inv = stored(store, owner, InviteStatus::Emailed, 100).await;
        let state = claimed(store, &inv, &format!("con-{n}")).await;
        let mut conn = connection(&inv);
        conn.created_at = Timestamp(300 + n);
        commit(store, &conn, &state, Timestamp(229)).await.unwrap();
        if n == 2 {
            store
                .set_connection_status(&conn.id, ConnectionStatus::NeedsReauth, conn.version)
                .await
                .unwrap();
        }
        if n < 7 {
            made.push(conn.id);
        }
    }
    // WHEN the warehouse's connections are read three at a time, and by status
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_connections(
                &wh,
                &ConnectionFilter::default(),
                &PageRequest { after, limit: 3 },
            )
            .await
            .unwrap();
        assert!(page.items.len() == 3 || page.next.is_none());
        seen.extend(page.items.into_iter().map(|c| c.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let stale = store
        .list_connections(
            &wh,
            &ConnectionFilter {
                status: Some(ConnectionStatus::NeedsReauth),
                cart: None,
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    // THEN each of its own is seen once, newest first, never the other warehouse's
    made.reverse();
    assert_eq!(seen, made);
    // AND the status filter keeps only the one needing re-authorization
    assert_eq!(
        stale.items.into_iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![made[4].clone()]
    );
}

async fn a_refresh_time_is_kept_until_the_next_refresh(store: &dyn Store) {
    // GIVEN a connection never refreshed
    let conn = committed(store).await;
    let read = |id| async move { store.connection(id).await.unwrap().unwrap() };
    assert_eq!(read(&conn.id).await.refreshed_at, None);
    // WHEN its tokens are refreshed at 500, then rewritten without a refresh time
    let v2 = store
        .update_tokens(&conn.id, &conn.tokens, None, Some(Timestamp(500)), None, 1)
        .await
        .unwrap();
    let after_refresh = read(&conn.id).await.refreshed_at;
    store
        .update_tokens(&conn.id, &conn.tokens, None, None, None, v2)
        .await
        .unwrap();
    // THEN the refresh time is stored, and kept by the write that names none
    assert_eq!(after_refresh, Some(Timestamp(500)));
    assert_eq!(read(&conn.id).await.refreshed_at, Some(Timestamp(500)));
}

// Histories.

fn event(kind: InviteEventKind, at: i64, reason: Option<&str>) -> InviteEvent {
    InviteEvent {
        kind,
        at: Timestamp(at),
        reason: reason.map(str::to_owned),
    }
}

async fn an_event_of_one_step_is_stored_once_however_often_it_is_recorded(store: &dyn Store) {
    // GIVEN an invite
    let inv = stored(store, "wh-events", InviteStatus::Emailed, 100).await;
    // WHEN the same step is recorded by 20 callers at once, each a second later than the last
    let tries = (0..20).map(|n| {
        let ev = event(InviteEventKind::Opened, 200 + n, None);
        let id = inv.id.clone();
        async move { store.record_event(&id, "opened", &ev).await.unwrap() }
    });
    let stored_by: Vec<bool> = futures::future::join_all(tries).await;
    // THEN exactly one of them stored it, and it is read back once
    assert_eq!(stored_by.iter().filter(|s| **s).count(), 1);
    let events = store.events_of(&inv.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, InviteEventKind::Opened);
    // AND a later repeat stores nothing either
    let again = event(InviteEventKind::Opened, 999, None);
    assert!(!store.record_event(&inv.id, "opened", &again).await.unwrap());
    assert_eq!(store.events_of(&inv.id).await.unwrap(), events);
}

async fn an_invites_events_read_oldest_first_and_apart_from_other_invites(store: &dyn Store) {
    // GIVEN two invites, one with three steps recorded out of order (two in the same second),
    // the other with one
    let inv = stored(store, "wh-events", InviteStatus::Emailed, 100).await;
    let other = stored(store, "wh-events", InviteStatus::Emailed, 100).await;
    let failed = event(InviteEventKind::Failed, 300, Some("cart_refused"));
    let started = event(InviteEventKind::GrantStarted, 300, None);
    let emailed = event(InviteEventKind::Emailed, 101, None);
    for (key, ev) in [
        ("failed:a", &failed),
        ("grant_started:a", &started),
        ("emailed", &emailed),
    ] {
        assert!(store.record_event(&inv.id, key, ev).await.unwrap());
    }
    let theirs = event(InviteEventKind::Declined, 150, None);
    store
        .record_event(&other.id, "declined:b", &theirs)
        .await
        .unwrap();
    // WHEN each invite's events are read
    let events = store.events_of(&inv.id).await.unwrap();
    let other_events = store.events_of(&other.id).await.unwrap();
    // THEN each has its own, oldest first and, within a second, in the flow's order, with the
    // reason kept
    assert_eq!(events, vec![emailed, started, failed]);
    assert_eq!(other_events, vec![theirs]);
}

async fn authorized_invites_are_listed_oldest_authorization_first_up_to_the_limit(
    store: &dyn Store,
) {
    // GIVEN invites authorized at 300, 500 and 400
    let first = authorized_at(store, 300, "owed-first").await;
    let late = authorized_at(store, 500, "owed-late").await;
    let early = authorized_at(store, 400, "owed-early").await;
    let ids = |invites: Vec<Invite>| invites.into_iter().map(|i| i.id).collect::<Vec<_>>();
    // WHEN the owed invites are listed, without and with a tight limit
    let all = ids(store.authorized_invites(10).await.unwrap());
    let two = ids(store.authorized_invites(2).await.unwrap());
    // THEN the oldest authorization comes first, up to the limit
    assert_eq!(
        all,
        vec![first.id.clone(), early.id.clone(), late.id.clone()]
    );
    assert_eq!(two, vec![first.id.clone(), early.id.clone()]);
}

async fn invites_that_moved_on_leave_the_authorized_list(store: &dyn Store) {
    // GIVEN three authorized invites
    let first = authorized_at(store, 300, "owed-first").await;
    let late = authorized_at(store, 500, "owed-late").await;
    let early = authorized_at(store, 400, "owed-early").await;
    // WHEN one is confirmed and one withdrawn
    store
        .set_invite_status(&first.id, InviteStatus::Confirmed, None, Timestamp(600))
        .await
        .unwrap();
    store
        .set_invite_status(
            &early.id,
            InviteStatus::Revoked,
            Some("gone"),
            Timestamp(601),
        )
        .await
        .unwrap();
    // THEN only the third is owed, listed as it reads
    let owed = store.authorized_invites(10).await.unwrap();
    assert_eq!(
        owed.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        vec![late.id.clone()]
    );
    assert_eq!(owed[0], store.invite(&late.id).await.unwrap().unwrap());
}

// Leases.

async fn a_lease_has_one_owner_until_it_expires(store: &dyn Store) {
    // GIVEN a lease taken by a at 1000 for 30 s
    let lease = "refresh:con-contract";
    assert!(store
        .take_lease(lease, "a", Timestamp(1000), 30)
        .await
        .unwrap());
    // WHEN b asks within it THEN b does not get it
    assert!(!store
        .take_lease(lease, "b", Timestamp(1029), 30)
        .await
        .unwrap());
    // WHEN a renews it at 1010 THEN a holds it until 1040, and b gets it only then
    assert!(store
        .take_lease(lease, "a", Timestamp(1010), 30)
        .await
        .unwrap());
    assert!(!store
        .take_lease(lease, "b", Timestamp(1039), 30)
        .await
        .unwrap());
    assert!(store
        .take_lease(lease, "b", Timestamp(1040), 30)
        .await
        .unwrap());
}

async fn only_the_owner_releases_a_lease(store: &dyn Store) {
    // GIVEN a lease held by a until 1030
    let lease = "refresh:con-contract";
    assert!(store
        .take_lease(lease, "a", Timestamp(1000), 30)
        .await
        .unwrap());
    // WHEN b releases it THEN a still holds it
    store.release_lease(lease, "b").await.unwrap();
    assert!(!store
        .take_lease(lease, "b", Timestamp(1029), 30)
        .await
        .unwrap());
    // WHEN it expires and b takes it, and then a releases it THEN b still holds it
    assert!(store
        .take_lease(lease, "b", Timestamp(1030), 30)
        .await
        .unwrap());
    store.release_lease(lease, "a").await.unwrap();
    assert!(!store
        .take_lease(lease, "c", Timestamp(1041), 30)
        .await
        .unwrap());
    // WHEN b releases it THEN it is free at once
    store.release_lease(lease, "b").await.unwrap();
    assert!(store
        .take_lease(lease, "c", Timestamp(1041), 30)
        .await
        .unwrap());
}

async fn other_keys_are_other_leases(store: &dyn Store) {
    // GIVEN a lease held by a
    assert!(store
        .take_lease("refresh:con-contract", "a", Timestamp(1041), 30)
        .await
        .unwrap());
    // WHEN d asks for another key THEN d gets it
    assert!(store
        .take_lease("refresh:con-other", "d", Timestamp(1041), 30)
        .await
        .unwrap());
}

// Counters.

async fn a_counter_counts_up_to_its_limit_in_each_window(store: &dyn Store) {
    // GIVEN a key counted in windows of 900 s (the window of 900 to 1799, then 1800)
    let hit = |limit: u32, at: i64| store.count_hit_within("k", 900, limit, Timestamp(at));
    // THEN two count under a limit of two, and the third is over
    assert!(hit(2, 900).await.unwrap());
    assert!(hit(2, 1000).await.unwrap());
    assert!(
        !hit(2, 1001).await.unwrap(),
        "the third in the window is over"
    );
    // AND the refused one was not counted
    assert!(
        hit(3, 1002).await.unwrap(),
        "the refused hit was not counted: two so far"
    );
    assert!(!hit(3, 1799).await.unwrap());
    // AND the next window starts from zero
    assert!(hit(1, 1800).await.unwrap(), "a new window starts from zero");
}

async fn counters_of_other_keys_count_apart(store: &dyn Store) {
    // GIVEN a key at its limit of two in its window
    for at in [900, 1000] {
        assert!(store
            .count_hit_within("k", 900, 2, Timestamp(at))
            .await
            .unwrap());
    }
    // WHEN another key counts in the same window THEN it is counted
    assert!(store
        .count_hit_within("other", 900, 2, Timestamp(1001))
        .await
        .unwrap());
}

async fn a_zero_limit_counts_nothing(store: &dyn Store) {
    // GIVEN nothing counted WHEN a key counts under a limit of zero THEN it is not counted
    assert!(!store
        .count_hit_within("none", 900, 0, Timestamp(1))
        .await
        .unwrap());
}

async fn concurrent_hits_never_count_past_the_limit(store: &dyn Store) {
    // GIVEN a limit of ten WHEN thirty count at once
    let counted = futures::future::join_all(
        (0..30).map(|_| store.count_hit_within("burst", 900, 10, Timestamp(5000))),
    )
    .await;
    // THEN exactly ten were counted
    assert_eq!(
        counted.into_iter().filter(|c| *c.as_ref().unwrap()).count(),
        10
    );
}

// What only the SQLite adapter adds: many processes on one file.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_processes_claiming_one_attempt_in_one_sqlite_file_let_exactly_one_win() {
    // GIVEN an open attempt in a data dir, and twenty store handles on it (as many processes)
    let (dir, first) = sqlite_store();
    let inv = invite("wh-one", InviteStatus::Pending, 100);
    first
        .insert_invite(&inv, &TokenHash::of("link"))
        .await
        .unwrap();
    first
        .begin_attempt(&attempt(&inv, "raced"), Timestamp(150))
        .await
        .unwrap();
    let handles: Vec<_> = (0..20)
        .map(|_| std::sync::Arc::new(SqliteStore::open(dir.path()).unwrap()))
        .collect();
    // WHEN all claim it at once
    let tasks = handles.into_iter().map(|store| {
        tokio::spawn(async move {
            store
                .claim_attempt(&TokenHash::of("raced"), Timestamp(200), Timestamp(230))
                .await
        })
    });
    let claims: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    // THEN exactly one holds it and the others were refused
    assert_eq!(claims.iter().filter(|r| r.is_ok()).count(), 1, "{claims:?}");
    assert!(claims
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict(_)))));
}

/// `text` with its first character replaced by another one (so it always differs: putting an
/// `A` first leaves a text that starts with `A` as it was).
fn first_char_changed(text: &str) -> String {
    let other = if text.starts_with('A') { 'B' } else { 'A' };
    format!("{other}{}", &text[1..])
}

/// Every rule of the vault port, against one adapter.
async fn vault_contract(vault: &dyn Vault) {
    let ctx = |connection: &str, kind: &str| {
        SealContext::new([
            ("warehouse_id", "wh-contract"),
            ("connection_id", connection),
            ("cart", "acme"),
            ("kind", kind),
        ])
    };
    let a = ctx("con-aaaaaaaa", "oauth-tokens");
    let blob = vault.seal(&a, b"CANARY_TOKENS").await.unwrap();
    assert!(!serde_json::to_string(&blob).unwrap().contains("CANARY"));
    assert_eq!(&vault.open(&a, &blob).await.unwrap()[..], b"CANARY_TOKENS");
    // Under any other context (another connection, another kind) it does not open.
    for other in [
        ctx("con-bbbbbbbb", "oauth-tokens"),
        ctx("con-aaaaaaaa", "other-kind"),
    ] {
        assert!(matches!(
            vault.open(&other, &blob).await,
            Err(VaultError::Refused)
        ));
    }
    // Tampered ciphertext or wrapped key, or another format, does not open.
    let mut tampered = blob.clone();
    tampered.ct = first_char_changed(&blob.ct);
    let mut bad_key = blob.clone();
    bad_key.edk = first_char_changed(&blob.edk);
    let mut bad_version = blob.clone();
    bad_version.v = 2;
    for bad in [tampered, bad_key, bad_version] {
        assert!(vault.open(&a, &bad).await.is_err());
    }
    // Every seal has its own data key.
    let again = vault.seal(&a, b"CANARY_TOKENS").await.unwrap();
    assert_ne!(again.edk, blob.edk);
}

#[tokio::test]
async fn the_local_vault_keeps_the_vault_contract() {
    let dir = tempfile::tempdir().unwrap();
    vault_contract(&LocalVault::open(dir.path()).unwrap()).await;
}

#[tokio::test]
async fn the_kms_vault_keeps_the_vault_contract() {
    let sdk = sdk().await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    vault_contract(&KmsVault::new(kms, key)).await;
}

// The idempotency records of the warehouse API's POSTs.
#[path = "port_contracts/idempotency.rs"]
mod idempotency;

// The callback's claim beside its invite read, and what its commit records.
#[path = "port_contracts/callback.rs"]
mod callback;

// The commit of a granted re-authorization invite.
#[path = "port_contracts/reconnects.rs"]
mod reconnects;

// Webhook endpoints and deliveries.
#[path = "port_contracts/webhooks.rs"]
mod webhooks;
// Warehouses kept as data, their branding and logo, and their API keys.
#[path = "port_contracts/tenants.rs"]
mod tenants;
// The merchant's manage links and the last token fetch of each connection.
#[path = "port_contracts/manage.rs"]
mod manage;
// Connections by the store account they reach (a cart's uninstall names a store).
#[path = "port_contracts/accounts.rs"]
mod accounts;
// The care schedule: connections by their next care time.
#[path = "port_contracts/care.rs"]
mod care;
// A warehouse's own apps at carts.
#[path = "port_contracts/cart_apps.rs"]
mod cart_apps;
// The lifecycle subscriptions cartlink holds at merchants' sites.
#[path = "port_contracts/cart_subscriptions.rs"]
mod cart_subscriptions;
// Connections by the shops their grant reaches (TikTok Shop's deauthorization names a shop).
#[path = "port_contracts/shops.rs"]
mod shops;
