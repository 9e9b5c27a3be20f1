//! What one merchant flow costs on the embedded adapters: minting and hashing secrets, sealing
//! and opening a token record, and the store operations of a grant. `cargo bench -p shared`.

use criterion::{criterion_group, criterion_main, Criterion};
use shared::domain::{
    AccessCode, BrowserBinding, CartId, GrantState, Invite, InviteId, InviteStatus, InviteToken,
    PkceVerifier, SealContext, Timestamp, TokenHash, WarehouseId, WarehouseRef,
};
use shared::store::{InviteStore, SqliteStore};
use shared::vault::{LocalVault, Vault};

fn invite() -> Invite {
    Invite {
        app: None,
        version: 0,
        id: InviteId::generate(),
        warehouse: WarehouseRef {
            id: WarehouseId::parse("wh-bench").unwrap(),
            display_name: "Bench Warehouse".into(),
            notify_email: "ops@bench.test".into(),
            brand: Default::default(),
        },
        cart: CartId::new("sandbox"),
        merchant_email: "m@bench.test".into(),
        merchant_name: Some("Bench Merchant".into()),
        store: None,
        functions: vec![],
        status: InviteStatus::Pending,
        status_reason: None,
        access_code_hash: AccessCode::generate().hash(),
        access_code_hint: "…0000".into(),
        resends: 0,
        reconnects: None,
        locale: Default::default(),
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
        expires_at: Timestamp(i64::MAX / 2),
    }
}

fn secrets(c: &mut Criterion) {
    c.bench_function("mint link token + sha256", |b| {
        b.iter(|| InviteToken::generate().hash())
    });
    c.bench_function("mint access code + sha256", |b| {
        b.iter(|| AccessCode::generate().hash())
    });
    let binding = BrowserBinding::generate();
    let state = GrantState::generate();
    c.bench_function("derive PKCE verifier + S256 challenge", |b| {
        b.iter(|| PkceVerifier::derive(&binding, &state).challenge())
    });
}

fn vault(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vault = LocalVault::open(dir.path()).unwrap();
    let ctx = SealContext::new([
        ("warehouse_id", "wh-bench"),
        ("connection_id", "con-bench"),
        ("cart", "sandbox"),
        ("kind", "oauth-tokens"),
    ]);
    let tokens = vec![b'x'; 600];
    let blob = rt.block_on(vault.seal(&ctx, &tokens)).unwrap();
    c.bench_function("local vault: seal 600-byte token record", |b| {
        b.iter(|| rt.block_on(vault.seal(&ctx, &tokens)).unwrap())
    });
    c.bench_function("local vault: open 600-byte token record", |b| {
        b.iter(|| rt.block_on(vault.open(&ctx, &blob)).unwrap())
    });
}

fn store(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    c.bench_function("file store: insert invite + link (one transaction)", |b| {
        b.iter(|| {
            let inv = invite();
            rt.block_on(store.insert_invite(&inv, &TokenHash::of(inv.id.as_str())))
                .unwrap()
        })
    });
    let inv = invite();
    let link = TokenHash::of("bench-link");
    rt.block_on(store.insert_invite(&inv, &link)).unwrap();
    c.bench_function("file store: invite by link", |b| {
        b.iter(|| rt.block_on(store.invite_by_link(&link)).unwrap().unwrap())
    });
}

criterion_group!(benches, secrets, vault, store);
criterion_main!(benches);
