//! Only the clients a function uses, built once: on the AWS adapters (moto, through the
//! functions' own SDK HTTP client) a process builds its DynamoDB client at start and every
//! other client (KMS, SES, SQS, the outbound HTTP client of the token endpoint and webhooks) on
//! its first use. What was built is read from the `client built` lines the wiring logs at debug
//! level.

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use cartlink_e2e::aws::{create_invite, invoke, link_token, World};
use shared::domain::SealContext;
use tracing::Instrument;

/// Every line the process logs, to one process-wide subscriber: scoped subscribers on parallel
/// test threads can miss events while the callsites' interest is rebuilt.
fn lines() -> &'static Arc<Mutex<Vec<u8>>> {
    static LINES: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LINES.get_or_init(|| {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "shared::wiring=debug,aws_clients=info",
            ))
            .with_writer(move || Sink(sink.clone()))
            .init();
        lines
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `work` in a span named `process`, so the clients it builds can be told apart.
async fn in_process<T>(process: &str, work: impl Future<Output = T>) -> T {
    lines();
    work.instrument(tracing::info_span!("process", name = process))
        .await
}

/// How many times `process` built the client `name`.
fn built(process: &str, name: &str) -> usize {
    let (span, client) = (
        format!("process{{name={process:?}}}"),
        format!("client={name:?}"),
    );
    let text = String::from_utf8_lossy(&lines().lock().unwrap()).into_owned();
    text.lines()
        .filter(|l| l.contains(&span) && l.contains("client built") && l.contains(&client))
        .count()
}

/// A link token of a fresh invite, made through the warehouse API of another process.
async fn invite_link(world: &World) -> String {
    let (status, v) = create_invite(&world.services(), world).await;
    assert_eq!(status, 201, "{v}");
    link_token(&v).to_owned()
}

#[tokio::test]
async fn the_grant_page_builds_its_store_client_and_nothing_else() {
    // GIVEN an invite on moto
    let world = World::new().await;
    let token = invite_link(&world).await;
    // WHEN a fresh grant-page process starts and shows the invite's page
    let status = in_process("grant-page", async {
        let svc = world.services();
        let page = format!("/setup/{token}");
        invoke(
            |req| grant_page::handle(&svc, req),
            "GET",
            &page,
            &[],
            &[],
            None,
        )
        .await
        .status()
    })
    .await;
    assert_eq!(status, 200);
    // THEN it built its DynamoDB client, and no KMS, SES, SQS or outbound HTTP client
    assert_eq!(built("grant-page", "dynamodb"), 1);
    for unused in ["kms", "ses", "sqs", "outbound", "oauth", "webhook-sender"] {
        assert_eq!(built("grant-page", unused), 0, "{unused} was built");
    }
}

#[tokio::test]
async fn the_kms_client_is_built_on_the_first_seal_and_only_then() {
    // GIVEN a process on moto that has sealed nothing yet
    let world = World::new().await;
    let context = SealContext::new([("purpose", "aws-clients-test")]);
    let (before, opened) = in_process("sealer", async {
        let svc = world.services();
        let before = built("sealer", "kms");
        // WHEN it seals twice
        let first = svc.vault.seal(&context, b"one").await.unwrap();
        svc.vault.seal(&context, b"two").await.unwrap();
        (before, svc.vault.open(&context, &first).await.unwrap())
    })
    .await;
    // THEN its KMS client was built on the first seal, once, and what it sealed opens
    assert_eq!(before, 0);
    assert_eq!(built("sealer", "kms"), 1);
    assert_eq!(&opened[..], b"one");
}
