//! The store and vault ports' contracts, run against both adapters of each: the embedded ones
//! (SQLite file, local key) and the AWS ones (DynamoDB, KMS) on moto through the real SDK.

use cartlink_e2e::aws::{create_table, sdk};
use shared::carts::CartId;
use shared::domain::{
    AttemptStatus, Connection, ConnectionId, ConnectionStatus, GrantAttempt, Invite, InviteId,
    InviteStatus, Timestamp, TokenHash, WarehouseId, WarehouseRef,
};
use shared::store::{DynamoStore, EmailKind, FileStore, SendClaim, Store, StoreError};
use shared::vault::{KmsVault, LocalVault, SealContext, Vault, VaultError};

fn invite(warehouse: &str, status: InviteStatus, created: i64) -> Invite {
    Invite {
        id: InviteId::generate(),
        warehouse: WarehouseRef {
            id: WarehouseId::parse(warehouse).unwrap(),
            display_name: "W".into(),
            notify_email: "w@w.test".into(),
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
        created_at: Timestamp(created),
        updated_at: Timestamp(created),
        expires_at: Timestamp(10_000),
    }
}

fn attempt(invite: &Invite, state: &str) -> GrantAttempt {
    GrantAttempt {
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
        status: ConnectionStatus::Active,
    }
}

/// Every rule of the store port, against one adapter.
async fn store_contract(store: &dyn Store) {
    // An invite and its link are stored once; a second insert is a conflict.
    let inv = invite("wh-one", InviteStatus::Pending, 100);
    store
        .insert_invite(&inv, &TokenHash::of(&format!("link-{}", inv.id)))
        .await
        .unwrap();
    assert_eq!(store.invite(&inv.id).await.unwrap(), Some(inv.clone()));
    assert_eq!(
        store
            .invite_by_link(&TokenHash::of(&format!("link-{}", inv.id)))
            .await
            .unwrap(),
        Some(inv.clone())
    );
    assert_eq!(
        store
            .invite_by_access_code(&inv.access_code_hash)
            .await
            .unwrap(),
        Some(inv.clone())
    );
    assert!(matches!(
        store.insert_invite(&inv, &TokenHash::of("other")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .invite_by_link(&TokenHash::of("other"))
            .await
            .unwrap()
            .is_none(),
        "nothing half written"
    );

    // Status changes follow the state machine, conditionally.
    let r = store
        .set_invite_status(&inv.id, InviteStatus::Authorized, None, Timestamp(101))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    store
        .set_invite_status(
            &inv.id,
            InviteStatus::EmailFailed,
            Some("mail down"),
            Timestamp(102),
        )
        .await
        .unwrap();
    let got = store.invite(&inv.id).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.status_reason.as_deref()),
        (InviteStatus::EmailFailed, Some("mail down"))
    );
    store
        .set_invite_status(&inv.id, InviteStatus::Emailed, None, Timestamp(103))
        .await
        .unwrap();
    assert_eq!(
        store.invite(&inv.id).await.unwrap().unwrap().status_reason,
        None
    );
    let r = store
        .set_invite_status(
            &InviteId::generate(),
            InviteStatus::Emailed,
            None,
            Timestamp(1),
        )
        .await;
    assert!(matches!(r, Err(StoreError::Missing(_))), "{r:?}");

    // Links may be added to an existing invite only.
    store
        .add_link(
            &inv.id,
            &TokenHash::of(&format!("second-{}", inv.id)),
            Timestamp(104),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .invite_by_link(&TokenHash::of(&format!("second-{}", inv.id)))
            .await
            .unwrap()
            .map(|i| i.id),
        Some(inv.id.clone())
    );
    assert!(store
        .add_link(
            &InviteId::generate(),
            &TokenHash::of(&format!("x-{}", inv.id)),
            Timestamp(1)
        )
        .await
        .is_err());

    // An expired invite takes no attempt; a live one does, and becomes granting.
    let state_a = format!("a-{}", inv.id);
    let r = store
        .begin_attempt(&attempt(&inv, &state_a), Timestamp(10_000))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(store
        .attempt(&TokenHash::of(&state_a))
        .await
        .unwrap()
        .is_none());
    store
        .begin_attempt(&attempt(&inv, &state_a), Timestamp(150))
        .await
        .unwrap();
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
        TokenHash::of(&state_a)
    );

    // An expired attempt cannot be claimed.
    let r = store
        .claim_attempt(&TokenHash::of(&state_a), Timestamp(1050), Timestamp(1080))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");

    // A declined attempt (closed from open, never claimed) cannot be closed again, claimed or
    // committed, and the failed commit leaves nothing behind.
    store
        .close_attempt(
            &TokenHash::of(&state_a),
            AttemptStatus::Open,
            AttemptStatus::Declined,
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .close_attempt(
                &TokenHash::of(&state_a),
                AttemptStatus::Open,
                AttemptStatus::Failed
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .claim_attempt(&TokenHash::of(&state_a), Timestamp(200), Timestamp(230))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let lost = connection(&inv);
    let r = store
        .commit_authorization(&lost, &TokenHash::of(&state_a), Timestamp(300))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(store.connection(&lost.id).await.unwrap().is_none());
    assert_eq!(
        store.invite(&inv.id).await.unwrap().unwrap().status,
        InviteStatus::Granting
    );

    // Only the holder of a live claim commits: an open attempt, and one whose claim lapsed,
    // do not, and leave nothing behind.
    let state_b = format!("b-{}", inv.id);
    let b = TokenHash::of(&state_b);
    store
        .begin_attempt(&attempt(&inv, &state_b), Timestamp(160))
        .await
        .unwrap();
    let unclaimed = connection(&inv);
    let r = store
        .commit_authorization(&unclaimed, &b, Timestamp(200))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(store.connection(&unclaimed.id).await.unwrap().is_none());
    // An open attempt is claimed once; it then reads as exchanging until its deadline and is
    // no longer open.
    store
        .claim_attempt(&b, Timestamp(200), Timestamp(230))
        .await
        .unwrap();
    let r = store
        .claim_attempt(&b, Timestamp(201), Timestamp(231))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let claimed = store.attempt(&b).await.unwrap().unwrap();
    assert_eq!(
        (claimed.status, claimed.claim_until),
        (AttemptStatus::Exchanging, Some(Timestamp(230)))
    );
    let r = store
        .close_attempt(&b, AttemptStatus::Open, AttemptStatus::Declined)
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let late = connection(&inv);
    let r = store.commit_authorization(&late, &b, Timestamp(230)).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(store.connection(&late.id).await.unwrap().is_none());
    assert_eq!(
        store.invite(&inv.id).await.unwrap().unwrap().status,
        InviteStatus::Granting
    );

    // A good commit under the claim stores the connection, authorizes the invite and consumes
    // the attempt.
    let conn = connection(&inv);
    store
        .commit_authorization(&conn, &b, Timestamp(229))
        .await
        .unwrap();
    assert_eq!(
        store.connection_for_invite(&inv.id).await.unwrap(),
        Some(conn.clone())
    );
    assert_eq!(
        store.invite(&inv.id).await.unwrap().unwrap().status,
        InviteStatus::Authorized
    );
    assert_eq!(
        store
            .attempt(&TokenHash::of(&state_b))
            .await
            .unwrap()
            .unwrap()
            .status,
        AttemptStatus::Completed
    );
    // A second commit (another connection) fails whole.
    let second = connection(&inv);
    assert!(store
        .commit_authorization(&second, &b, Timestamp(221))
        .await
        .is_err());
    assert!(store.connection(&second.id).await.unwrap().is_none());

    // The claim holder's failure closes the attempt from exchanging, after which nothing
    // commits.
    let failing = invite("wh-one", InviteStatus::Pending, 100);
    store
        .insert_invite(&failing, &TokenHash::of(&format!("link-{}", failing.id)))
        .await
        .unwrap();
    let c = TokenHash::of(&format!("c-{}", failing.id));
    store
        .begin_attempt(
            &attempt(&failing, &format!("c-{}", failing.id)),
            Timestamp(150),
        )
        .await
        .unwrap();
    store
        .claim_attempt(&c, Timestamp(200), Timestamp(230))
        .await
        .unwrap();
    store
        .close_attempt(&c, AttemptStatus::Exchanging, AttemptStatus::Failed)
        .await
        .unwrap();
    assert_eq!(
        store.attempt(&c).await.unwrap().unwrap().status,
        AttemptStatus::Failed
    );
    let r = store
        .commit_authorization(&connection(&failing), &c, Timestamp(210))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");

    // Of 20 concurrent claims of one attempt, exactly one wins.
    let raced = invite("wh-one", InviteStatus::Pending, 100);
    store
        .insert_invite(&raced, &TokenHash::of(&format!("link-{}", raced.id)))
        .await
        .unwrap();
    let d = TokenHash::of(&format!("d-{}", raced.id));
    store
        .begin_attempt(&attempt(&raced, &format!("d-{}", raced.id)), Timestamp(150))
        .await
        .unwrap();
    let claims = futures::future::join_all(
        (0..20).map(|i| store.claim_attempt(&d, Timestamp(200 + i), Timestamp(230 + i))),
    )
    .await;
    assert_eq!(claims.iter().filter(|r| r.is_ok()).count(), 1, "{claims:?}");
    assert!(claims
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict(_)))));

    // Token updates are conditional on the version and touch only tokens; status is separate.
    let v2 = store
        .update_tokens(&conn.id, &conn.tokens, None, 1)
        .await
        .unwrap();
    assert_eq!(v2, 2);
    assert!(matches!(
        store.update_tokens(&conn.id, &conn.tokens, None, 1).await,
        Err(StoreError::Conflict(_))
    ));
    store
        .set_connection_status(&conn.id, ConnectionStatus::NeedsReauth)
        .await
        .unwrap();
    let got = store.connection(&conn.id).await.unwrap().unwrap();
    assert_eq!(
        (got.version, got.status, got.token_expires_at),
        (2, ConnectionStatus::NeedsReauth, None)
    );
    assert_eq!(got.scopes, conn.scopes);
    assert!(matches!(
        store
            .set_connection_status(&ConnectionId::generate(), ConnectionStatus::Active)
            .await,
        Err(StoreError::Missing(_))
    ));

    // Send records: leased, then sent once.
    let k = EmailKind::MerchantConfirmation;
    assert_eq!(
        store
            .claim_send(&inv.id, k, Timestamp(0), 120)
            .await
            .unwrap(),
        SendClaim::Claimed
    );
    assert_eq!(
        store
            .claim_send(&inv.id, k, Timestamp(60), 120)
            .await
            .unwrap(),
        SendClaim::Busy
    );
    store.release_send(&inv.id, k).await.unwrap();
    assert_eq!(
        store
            .claim_send(&inv.id, k, Timestamp(61), 120)
            .await
            .unwrap(),
        SendClaim::Claimed
    );
    assert_eq!(
        store
            .claim_send(&inv.id, k, Timestamp(182), 120)
            .await
            .unwrap(),
        SendClaim::Claimed,
        "an expired lease is taken over"
    );
    store
        .finish_send(&inv.id, k, "m-1", Timestamp(183))
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_send(&inv.id, k, Timestamp(999), 120)
            .await
            .unwrap(),
        SendClaim::AlreadySent("m-1".into())
    );
    assert!(matches!(
        store.finish_send(&inv.id, k, "m-2", Timestamp(1000)).await,
        Err(StoreError::Conflict(_))
    ));

    // A warehouse's invites by status, newest first; other warehouses' never.
    let wh = WarehouseId::parse("wh-list").unwrap();
    let older = invite("wh-list", InviteStatus::Pending, 500);
    let newer = invite("wh-list", InviteStatus::Pending, 600);
    let other = invite("wh-other", InviteStatus::Pending, 700);
    for i in [&older, &newer, &other] {
        store
            .insert_invite(i, &TokenHash::of(&format!("l-{}", i.id)))
            .await
            .unwrap();
    }
    store
        .set_invite_status(&newer.id, InviteStatus::Emailed, None, Timestamp(601))
        .await
        .unwrap();
    let all: Vec<_> = store
        .invites_of(&wh, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(all, vec![newer.id.clone(), older.id.clone()]);
    let emailed: Vec<_> = store
        .invites_of(&wh, Some(InviteStatus::Emailed), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(emailed, vec![newer.id.clone()]);
    let pending: Vec<_> = store
        .invites_of(&wh, Some(InviteStatus::Pending), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(pending, vec![older.id.clone()]);

    // Leases: one owner at a time until expiry; the owner may renew; only the owner releases.
    let lease = "refresh:con-contract";
    assert!(store
        .take_lease(lease, "a", Timestamp(1000), 30)
        .await
        .unwrap());
    assert!(!store
        .take_lease(lease, "b", Timestamp(1029), 30)
        .await
        .unwrap());
    assert!(store
        .take_lease(lease, "a", Timestamp(1010), 30)
        .await
        .unwrap());
    store.release_lease(lease, "b").await.unwrap();
    assert!(!store
        .take_lease(lease, "b", Timestamp(1039), 30)
        .await
        .unwrap());
    assert!(store
        .take_lease(lease, "b", Timestamp(1040), 30)
        .await
        .unwrap());
    // a release by an owner whose lease expired and was taken leaves the new owner's alone
    store.release_lease(lease, "a").await.unwrap();
    assert!(!store
        .take_lease(lease, "c", Timestamp(1041), 30)
        .await
        .unwrap());
    store.release_lease(lease, "b").await.unwrap();
    assert!(store
        .take_lease(lease, "c", Timestamp(1041), 30)
        .await
        .unwrap());
    // other keys are other leases
    assert!(store
        .take_lease("refresh:con-other", "d", Timestamp(1041), 30)
        .await
        .unwrap());

    owed_confirmations_contract(store, &inv).await;
    counter_contract(store, &inv.id).await;
}

/// The invites in `authorized` are listed oldest authorization first, up to the limit, and
/// leave the list when they move on. `earlier` is the contract's invite, authorized at 300.
async fn owed_confirmations_contract(store: &dyn Store, earlier: &Invite) {
    let listed = |invites: Vec<Invite>| invites.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let mut authorized = vec![];
    for (at, state) in [(500, "owed-late"), (400, "owed-early")] {
        let inv = invite("wh-owed", InviteStatus::Emailed, 100);
        store
            .insert_invite(&inv, &TokenHash::of(&format!("l-{}", inv.id)))
            .await
            .unwrap();
        let state = format!("{state}-{}", inv.id);
        store
            .begin_attempt(&attempt(&inv, &state), Timestamp(at - 1))
            .await
            .unwrap();
        store
            .claim_attempt(
                &TokenHash::of(&state),
                Timestamp(at - 1),
                Timestamp(at + 30),
            )
            .await
            .unwrap();
        store
            .commit_authorization(&connection(&inv), &TokenHash::of(&state), Timestamp(at))
            .await
            .unwrap();
        authorized.push(inv);
    }
    let (late, early) = (&authorized[0], &authorized[1]);
    assert_eq!(
        listed(store.authorized_invites(10).await.unwrap()),
        vec![earlier.id.clone(), early.id.clone(), late.id.clone()]
    );
    assert_eq!(
        listed(store.authorized_invites(2).await.unwrap()),
        vec![earlier.id.clone(), early.id.clone()]
    );
    // confirmed and withdrawn invites are owed nothing
    store
        .set_invite_status(&earlier.id, InviteStatus::Confirmed, None, Timestamp(600))
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
    assert_eq!(
        listed(store.authorized_invites(10).await.unwrap()),
        vec![late.id.clone()]
    );
    assert_eq!(
        store.authorized_invites(10).await.unwrap()[0],
        store.invite(&late.id).await.unwrap().unwrap()
    );
}

/// Counters count up to their limit per window, and never past it, however many count at
/// once.
async fn counter_contract(store: &dyn Store, unique: &InviteId) {
    let key = format!("k-{unique}");
    let hit = |limit: u32, at: i64| store.count_hit_within(&key, 900, limit, Timestamp(at));
    assert!(hit(2, 900).await.unwrap());
    assert!(hit(2, 1000).await.unwrap());
    assert!(
        !hit(2, 1001).await.unwrap(),
        "the third in the window is over"
    );
    assert!(
        hit(3, 1002).await.unwrap(),
        "the refused hit was not counted: two so far"
    );
    assert!(!hit(3, 1799).await.unwrap());
    assert!(hit(1, 1800).await.unwrap(), "a new window starts from zero");
    assert!(store
        .count_hit_within(&format!("other-{unique}"), 900, 2, Timestamp(1001))
        .await
        .unwrap());
    assert!(!store
        .count_hit_within(&format!("none-{unique}"), 900, 0, Timestamp(1))
        .await
        .unwrap());
    let at_once = format!("burst-{unique}");
    let counted = futures::future::join_all(
        (0..30).map(|_| store.count_hit_within(&at_once, 900, 10, Timestamp(5000))),
    )
    .await;
    assert_eq!(
        counted.into_iter().filter(|c| *c.as_ref().unwrap()).count(),
        10
    );
}

#[tokio::test]
async fn the_file_store_keeps_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    store_contract(&FileStore::open(dir.path()).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_processes_claiming_one_attempt_in_one_file_store_let_exactly_one_win() {
    // GIVEN an open attempt in a data dir, and twenty store handles on it (as many processes)
    let dir = tempfile::tempdir().unwrap();
    let first = FileStore::open(dir.path()).unwrap();
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
        .map(|_| std::sync::Arc::new(FileStore::open(dir.path()).unwrap()))
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

#[tokio::test]
async fn the_dynamodb_store_keeps_the_store_contract() {
    let sdk = sdk().await;
    let table = format!(
        "contract-{}",
        hex::encode(shared::domain::secrets::random_bytes::<4>())
    );
    create_table(&sdk, &table).await;
    store_contract(&DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        table,
    ))
    .await;
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
    tampered.ct = format!("A{}", &blob.ct[1..]);
    let mut bad_key = blob.clone();
    bad_key.edk = format!("A{}", &blob.edk[1..]);
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
