//! The access-code limit under concurrency: one client address guessing from many requests at
//! once, served by two instances on one store, gets no more guesses evaluated than the limit.
//! Run against both store adapters: DynamoDB (moto) and the SQLite file.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use cartlink_e2e::aws::World;
use shared::carts::Catalog;
use shared::config::Config;
use shared::domain::AccessCode;
use shared::events::StreamDelivered;
use shared::service::setup::{SetupError, CODE_GUESSES_PER_CLIENT};
use shared::service::Services;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::fmt::MakeWriter;

const GUESSES: usize = 50;

/// Log lines, kept in memory.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

impl Logs {
    /// How many guesses were evaluated: the service logs "access code refused" once for every
    /// code it looked up and found no usable invite for. A guess the limit stops is refused
    /// before the look-up, without that line.
    fn evaluated(&self) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .matches("access code refused")
            .count()
    }
}

/// Sends `GUESSES` wrong codes from one client address at once, each its own task on the
/// multi-threaded runtime, alternating between the two instances, each logging to `logs`;
/// answers (refused as wrong, refused as too many).
async fn guess_at_once(instances: [Arc<Services>; 2], logs: &Logs) -> (usize, usize) {
    let client: Option<IpAddr> = Some("203.0.113.66".parse().unwrap());
    let log = tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish(),
    );
    // Every guess waits until all are ready, so they are sent at the same moment.
    let start = Arc::new(tokio::sync::Barrier::new(GUESSES));
    let tasks: Vec<_> = (0..GUESSES)
        .map(|i| {
            let svc = instances[i % 2].clone();
            let start = start.clone();
            let wrong = AccessCode::generate().display();
            tokio::spawn(
                async move {
                    start.wait().await;
                    svc.redeem_access_code(&wrong, client).await.map(|_| ())
                }
                .with_subscriber(log.clone()),
            )
        })
        .collect();
    let outcomes: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let wrong = outcomes
        .iter()
        .filter(|o| matches!(o, Err(SetupError::InvalidLink)))
        .count();
    let limited = outcomes
        .iter()
        .filter(|o| matches!(o, Err(SetupError::TooManyAttempts)))
        .count();
    assert_eq!(wrong + limited, GUESSES, "no other outcome");
    (wrong, limited)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_wrong_codes_on_two_instances_on_dynamodb_are_evaluated_at_most_ten_times()
{
    let logs = Logs::default();
    // GIVEN two service instances on one DynamoDB table
    let world = World::new().await;
    let (a, b) = (Arc::new(world.services()), Arc::new(world.services()));
    // WHEN one client address sends 50 wrong codes at once, half to each instance
    let (wrong, limited) = guess_at_once([a, b], &logs).await;
    // THEN exactly the limit of guesses was evaluated, and every other one was stopped before
    assert_eq!(logs.evaluated(), CODE_GUESSES_PER_CLIENT as usize);
    assert_eq!(
        (wrong, limited),
        (
            CODE_GUESSES_PER_CLIENT as usize,
            GUESSES - CODE_GUESSES_PER_CLIENT as usize
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_wrong_codes_on_two_instances_on_sqlite_are_evaluated_at_most_ten_times() {
    let logs = Logs::default();
    // GIVEN two service instances on one SQLite store (one data dir)
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let instance = || {
        let env = |k: &str| match k {
            "CARTLINK_DATA_DIR" => Some(data.clone()),
            "CARTLINK_PUBLIC_BASE_URL" => Some("http://127.0.0.1:9".to_owned()),
            _ => None,
        };
        let config = Config::load(&env).unwrap();
        let catalog = Catalog::from_config(&config);
        Services::embedded(config, catalog, Arc::new(StreamDelivered)).unwrap()
    };
    let (a, b) = (Arc::new(instance()), Arc::new(instance()));
    // WHEN one client address sends 50 wrong codes at once, half to each instance
    let (wrong, limited) = guess_at_once([a, b], &logs).await;
    // THEN exactly the limit of guesses was evaluated, and every other one was stopped before
    assert_eq!(logs.evaluated(), CODE_GUESSES_PER_CLIENT as usize);
    assert_eq!(
        (wrong, limited),
        (
            CODE_GUESSES_PER_CLIENT as usize,
            GUESSES - CODE_GUESSES_PER_CLIENT as usize
        )
    );
}
