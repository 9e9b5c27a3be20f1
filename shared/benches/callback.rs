//! The callback's latency with fixed latencies injected on the token endpoint, the vault and
//! the store (fakes over the embedded adapters that wait before every call, as a network
//! would), beside the bare sum of its critical path measured in the same run: the four round
//! trips one after another (the attempt; the claim beside the invite; the exchange beside the
//! data key; the commit), as plain sleeps. `make bench` (bench/bench.sh) reads both.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use shared::testing::faults::{FaultPlan, FaultyStore, FaultyTokenEndpoint, FaultyVault, Port};
use shared::testing::{TestKit, ACME_ISS};

/// The injected latencies: the cart's token endpoint, the key service, the store.
const TOKEN_ENDPOINT: Duration = Duration::from_millis(20);
const VAULT: Duration = Duration::from_millis(15);
const STORE: Duration = Duration::from_millis(10);

/// The critical path's round trips, one after another, as the bare baseline sleeps them.
const CRITICAL_PATH: [Duration; 4] = [STORE, STORE, TOKEN_ENDPOINT, STORE];

/// A kit whose store, vault and token endpoint go through `plan`.
fn kit(plan: &Arc<FaultPlan>) -> TestKit {
    let mut kit = TestKit::new();
    let services = &mut kit.services;
    services.store = Arc::new(FaultyStore::new(services.store.clone(), plan.clone()));
    services.vault = Arc::new(FaultyVault::new(services.vault.clone(), plan.clone()));
    services.oauth = Arc::new(FaultyTokenEndpoint::new(
        services.oauth.clone(),
        plan.clone(),
    ));
    kit
}

/// One callback, timed with the latencies on; the invite and its started grant are made
/// before, untimed and without them. Answers the time and the round trips made one after
/// another.
async fn one_callback(plan: &Arc<FaultPlan>, latencies: bool) -> (Duration, usize) {
    let kit = kit(plan);
    plan.arm(None);
    let (_, token) = kit.invite().await;
    let g = kit.start(&token).await;
    plan.arm(None);
    if latencies {
        plan.set_latency(Port::TokenEndpoint, TOKEN_ENDPOINT);
        plan.set_latency(Port::Vault, VAULT);
        plan.set_latency(Port::Store, STORE);
    }
    let started = Instant::now();
    let done = kit
        .callback(
            "acme",
            &[("code", "C1"), ("state", &g.state), ACME_ISS],
            Some(&g.binding),
        )
        .await;
    let took = started.elapsed();
    assert!(done.is_ok(), "the benchmark's callback completes: {done:?}");
    (took, plan.sequential_calls())
}

fn callback(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let plan = FaultPlan::new();
    let (_, trips) = rt.block_on(one_callback(&plan, true));
    // Read by bench/bench.sh.
    println!("CALLBACK_SEQUENTIAL_ROUND_TRIPS={trips}");
    let mut group = c.benchmark_group("callback_latency");
    group.bench_function("critical_path_sum", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            for _ in 0..iters {
                rt.block_on(async {
                    for latency in CRITICAL_PATH {
                        tokio::time::sleep(latency).await;
                    }
                });
            }
            started.elapsed()
        })
    });
    group.bench_function("callback", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| rt.block_on(one_callback(&plan, true)).0)
                .sum()
        })
    });
    // What the callback costs itself (SQLite, sealing, checks), without injected latency.
    group.bench_function("callback_own_cost", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| rt.block_on(one_callback(&plan, false)).0)
                .sum()
        })
    });
    group.finish();
}

criterion_group!(benches, callback);
criterion_main!(benches);
