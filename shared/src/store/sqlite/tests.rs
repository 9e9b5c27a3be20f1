//! What only the SQLite adapter promises. The store contract itself (conditional writes,
//! atomic commit, leases, counters, listing) runs against this adapter and the DynamoDB one
//! in `tests/tests/port_contracts.rs`.

use rusqlite::{params, Connection as Db};

use super::SqliteStore;
use crate::carts::CartId;
use crate::domain::{
    AttemptStatus, GrantAttempt, Invite, InviteId, InviteStatus, Timestamp, TokenHash, WarehouseId,
    WarehouseRef,
};
use crate::store::record::body_without;
use crate::store::{AttemptStore, InviteStore, StoreError};

fn invite(status: InviteStatus) -> Invite {
    Invite {
        app: None,
        version: 1, // as stored
        id: InviteId::generate(),
        warehouse: WarehouseRef {
            id: WarehouseId::parse("wh-1").unwrap(),
            display_name: "W".into(),
            notify_email: "w@w.test".into(),
            brand: Default::default(),
        },
        cart: CartId::new("acme"),
        merchant_email: "m@m.test".into(),
        merchant_name: None,
        store: None,
        functions: vec![],
        status,
        status_reason: None,
        access_code_hash: TokenHash::of(&InviteId::generate().to_string()),
        access_code_hint: "…0000".into(),
        resends: 0,
        reconnects: None,
        locale: Default::default(),
        created_at: Timestamp(100),
        updated_at: Timestamp(100),
        expires_at: Timestamp(10_000),
    }
}

#[tokio::test]
async fn data_survives_a_restart() {
    // GIVEN an invite stored in a data dir
    let dir = tempfile::tempdir().unwrap();
    let inv = invite(InviteStatus::Pending);
    SqliteStore::open(dir.path())
        .unwrap()
        .insert_invite(&inv, &TokenHash::of("link"))
        .await
        .unwrap();
    // WHEN the store is opened again
    let store = SqliteStore::open(dir.path()).unwrap();
    // THEN the invite is there, by id and by link
    assert_eq!(store.invite(&inv.id).await.unwrap(), Some(inv.clone()));
    assert_eq!(
        store.invite_by_link(&TokenHash::of("link")).await.unwrap(),
        Some(inv)
    );
}

#[tokio::test]
async fn a_data_dir_from_before_claims_opens_and_its_attempts_can_be_claimed() {
    // GIVEN a data dir whose attempts table has no claim column, holding an open attempt
    let dir = tempfile::tempdir().unwrap();
    let attempt = GrantAttempt {
        app: None,
        state_hash: TokenHash::of("old-state"),
        invite_id: InviteId::generate(),
        cart: CartId::new("acme"),
        binding_hash: TokenHash::of("binding"),
        redirect_uri: "https://cartlink.test/oauth/callback/acme".into(),
        store: None,
        status: AttemptStatus::Open,
        created_at: Timestamp(100),
        expires_at: Timestamp(1000),
        claim_until: None,
    };
    let db = Db::open(dir.path().join("cartlink.db")).unwrap();
    db.execute_batch(
        "CREATE TABLE attempts (state_hash TEXT PRIMARY KEY, invite_id TEXT NOT NULL,
            status TEXT NOT NULL, created_at INTEGER NOT NULL, seq INTEGER NOT NULL,
            body TEXT NOT NULL);",
    )
    .unwrap();
    db.execute(
        "INSERT INTO attempts VALUES (?1, ?2, 'open', 100, 1, ?3)",
        params![
            attempt.state_hash.as_str(),
            attempt.invite_id.as_str(),
            body_without(&attempt, &["status", "claim_until"]).unwrap()
        ],
    )
    .unwrap();
    drop(db);
    // WHEN the store opens it
    let store = SqliteStore::open(dir.path()).unwrap();
    // THEN the attempt reads as stored, and can be claimed once
    assert_eq!(
        store.attempt(&attempt.state_hash).await.unwrap(),
        Some(attempt.clone())
    );
    store
        .claim_attempt(&attempt.state_hash, Timestamp(200), Timestamp(230))
        .await
        .unwrap();
    let claimed = store.attempt(&attempt.state_hash).await.unwrap().unwrap();
    assert_eq!(
        (claimed.status, claimed.claim_until),
        (AttemptStatus::Exchanging, Some(Timestamp(230)))
    );
    // AND it opens again now that the column exists
    assert!(SqliteStore::open(dir.path()).is_ok());
}

#[test]
fn an_unwritable_data_dir_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(
        SqliteStore::open(&file.join("sub")),
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_read_proceeds_beside_an_open_write_transaction_and_sees_what_was_committed() {
    // GIVEN a stored invite, and the store's writer inside an exclusive transaction that has
    // changed the invite and not committed (held on a thread of its own)
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(SqliteStore::open(dir.path()).unwrap());
    let inv = invite(InviteStatus::Pending);
    store
        .insert_invite(&inv, &TokenHash::of("link"))
        .await
        .unwrap();
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let writer = {
        let (store, id) = (store.clone(), inv.id.clone());
        std::thread::spawn(move || {
            let mut db = store.db.lock().unwrap();
            let tx = db
                .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
                .unwrap();
            tx.execute(
                "UPDATE invites SET status = 'revoked' WHERE id = ?1",
                [id.as_str()],
            )
            .unwrap();
            held_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        })
    };
    held_rx.recv().unwrap();
    // WHEN the invite is read (waited for no longer than a generous deadline: a read that
    // needed the writer would wait for it, and fail after its busy timeout)
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), store.invite(&inv.id))
        .await
        .map(|r| r.map(|i| i.map(|i| i.status)));
    release_tx.send(()).unwrap();
    writer.join().unwrap();
    // THEN it answered while the transaction was open, with the committed state
    assert!(
        matches!(read, Ok(Ok(Some(InviteStatus::Pending)))),
        "{read:?}"
    );
}

mod change_mark {
    //! The change mark ([`crate::store::ChangeWatch`]) as the WAL index header tells it
    //! (`commit_watch.rs`).

    use super::*;
    use crate::store::ChangeWatch;

    async fn mark(store: &SqliteStore) -> u64 {
        store.change_mark().await.unwrap().expect("SQLite can tell")
    }

    /// A store in a fresh directory, with one invite stored.
    async fn store_with_an_invite() -> (tempfile::TempDir, SqliteStore, Invite) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let inv = invite(InviteStatus::Pending);
        store
            .insert_invite(&inv, &TokenHash::of("l"))
            .await
            .unwrap();
        (dir, store, inv)
    }

    fn other_connection_commits(dir: &std::path::Path) {
        let other = Db::open(dir.join("cartlink.db")).unwrap();
        other
            .execute("UPDATE invites SET updated_at = updated_at + 1", [])
            .unwrap();
    }

    #[tokio::test]
    async fn it_stays_while_nothing_is_committed() {
        // GIVEN a store with an invite, and its mark
        let (_dir, store, inv) = store_with_an_invite().await;
        let before = mark(&store).await;
        // WHEN it is read from and asked for again
        store.invite(&inv.id).await.unwrap();
        let after = mark(&store).await;
        // THEN it has not moved
        assert_eq!(after, before);
    }

    #[tokio::test]
    async fn a_write_through_the_store_moves_it() {
        // GIVEN a store and its mark
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let before = mark(&store).await;
        // WHEN an invite is stored
        let inv = invite(InviteStatus::Pending);
        store
            .insert_invite(&inv, &TokenHash::of("l"))
            .await
            .unwrap();
        // THEN the mark has moved
        assert_ne!(mark(&store).await, before);
    }

    #[tokio::test]
    async fn a_commit_by_another_connection_moves_it() {
        // GIVEN a store with an invite, and its mark
        let (dir, store, _) = store_with_an_invite().await;
        let before = mark(&store).await;
        // WHEN another connection to the file (another process) commits
        other_connection_commits(dir.path());
        // THEN the mark has moved
        assert_ne!(mark(&store).await, before);
    }

    #[tokio::test]
    async fn a_commit_by_another_process_moves_it() {
        // GIVEN a store with an invite, and its mark
        let (dir, store, _) = store_with_an_invite().await;
        let before = mark(&store).await;
        // WHEN another process (Python's sqlite3, on its own SQLite) commits to the file
        let file = dir.path().join("cartlink.db");
        let status = std::process::Command::new("python3")
            .arg("-c")
            .arg(
                "import sqlite3, sys\n\
                 db = sqlite3.connect(sys.argv[1])\n\
                 db.execute('UPDATE invites SET updated_at = updated_at + 1')\n\
                 db.commit()",
            )
            .arg(&file)
            .status()
            .expect("python3 runs");
        assert!(status.success());
        // THEN the mark has moved
        assert_ne!(mark(&store).await, before);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn twenty_looks_at_once_after_a_commit_all_see_it() {
        // GIVEN a store with an invite, its mark, and then a commit by another connection
        let (dir, store, _) = store_with_an_invite().await;
        let store = std::sync::Arc::new(store);
        let before = mark(&store).await;
        other_connection_commits(dir.path());
        // WHEN twenty tasks ask for the mark at once
        let looks = (0..20).map(|_| {
            let store = store.clone();
            tokio::spawn(async move { mark(&store).await })
        });
        let marks = futures::future::join_all(looks).await;
        // THEN every one of them has moved past the mark from before the commit
        assert!(
            marks.iter().all(|m| *m.as_ref().unwrap() > before),
            "{marks:?}"
        );
    }
}
