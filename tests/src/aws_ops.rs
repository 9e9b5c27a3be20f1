//! What each Lambda function asks of AWS, recorded from the end-to-end tests against moto: the
//! HTTP client under every SDK client of the tests sees each request, and a request made while
//! a function's handler runs is written down as an IAM action (with its table or index, its
//! partition key prefix, or its KMS `kind`) under that function's name. `infra/tests` compares
//! these records with each function's role and the key policy: none missing, none unused.
//!
//! Only requests made inside a handler count: a test's own set-up and checks run outside any
//! function and are not recorded.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use serde_json::{json, Value};

tokio::task_local! {
    static FUNCTION: &'static str;
}

/// The folder of the recordings, one file per test process.
pub fn recordings_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/aws-operations"
    ))
}

/// Runs `fut` as the Lambda function whose handler built it: the function is the crate that
/// defines the future's type (`warehouse_api::handle::{{closure}}` is `warehouse-api`).
pub async fn as_handler<F: Future>(fut: F) -> F::Output {
    let crate_name = std::any::type_name::<F>()
        .split("::")
        .next()
        .unwrap_or_default();
    let function = functions()
        .iter()
        .find(|f| f.replace('-', "_") == crate_name);
    match function {
        Some(f) => FUNCTION.scope(f.as_str(), fut).await,
        None => fut.await,
    }
}

/// The Lambda functions: the folders of `functions/`, one crate each.
fn functions() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(crate::function_crates)
}

/// An HTTP client that records what a function asks before passing the request on.
#[derive(Debug)]
pub struct RecordingClient {
    inner: SharedHttpClient,
}

impl RecordingClient {
    /// The functions' own client (`shared::wiring::sdk_http_client`), recording.
    pub fn shared() -> SharedHttpClient {
        let inner = shared::wiring::sdk_http_client();
        SharedHttpClient::new(RecordingClient { inner })
    }
}

impl HttpClient for RecordingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RecordingConnector {
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct RecordingConnector {
    inner: SharedHttpConnector,
}

impl HttpConnector for RecordingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if let Ok(function) = FUNCTION.try_with(|f| *f) {
            for record in operations(&request) {
                count(function, &record);
                write(function, record);
            }
        }
        self.inner.call(request)
    }
}

/// The IAM actions one request needs, each with what it names.
fn operations(request: &HttpRequest) -> Vec<Value> {
    let body: Value = request
        .body()
        .bytes()
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null);
    if request.uri().contains("/v2/email/outbound-emails") {
        return vec![json!({"action": "ses:SendEmail"})];
    }
    let Some(target) = request.headers().get("x-amz-target") else {
        return vec![json!({"action": format!("unknown:{} {}", request.method(), request.uri())})];
    };
    let (service, op) = target.split_once('.').unwrap_or((target, ""));
    match service {
        s if s.starts_with("DynamoDB_") => dynamodb(op, &body),
        "TrentService" => {
            let context = body["EncryptionContext"].as_object();
            let kind = body["EncryptionContext"]["kind"].as_str().unwrap_or("");
            // The context's keys, and whether every value is an opaque id or name (no address,
            // domain or URL): CloudTrail logs contexts in plain text.
            let keys: Vec<&String> = context.map(|c| c.keys().collect()).unwrap_or_default();
            let opaque = context.is_some_and(|c| {
                c.values().all(|v| {
                    v.as_str().is_some_and(|v| {
                        !v.is_empty()
                            && v.len() <= 64
                            && v.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    })
                })
            });
            vec![
                json!({"action": format!("kms:{op}"), "kind": kind, "context_keys": keys, "opaque": opaque}),
            ]
        }
        "AmazonSQS" => vec![json!({"action": format!("sqs:{op}")})],
        "AmazonSSM" => vec![json!({"action": format!("ssm:{op}")})],
        other => vec![json!({"action": format!("unknown:{other}.{op}")})],
    }
}

/// DynamoDB: a transaction needs the action of each of its parts.
fn dynamodb(op: &str, body: &Value) -> Vec<Value> {
    let item = |action: &str, part: &Value| {
        let key = part.get("Key").or_else(|| part.get("Item"));
        json!({
            "action": format!("dynamodb:{action}"),
            "resource": "table",
            "key": key.map(|k| prefix(k["pk"]["S"].as_str().unwrap_or(""))),
        })
    };
    match op {
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| {
                let (kind, part) = t.as_object()?.iter().next()?;
                let action = match kind.as_str() {
                    "Put" => "PutItem",
                    "Update" => "UpdateItem",
                    "Delete" => "DeleteItem",
                    _ => "ConditionCheckItem",
                };
                Some(item(action, part))
            })
            .collect(),
        "TransactGetItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| item("GetItem", &t["Get"]))
            .collect(),
        "BatchGetItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
            .flat_map(|t| t["Keys"].as_array().cloned().unwrap_or_default())
            .map(|k| item("BatchGetItem", &json!({"Key": k})))
            .collect(),
        "Query" => vec![json!({
            "action": "dynamodb:Query",
            "resource": body["IndexName"].as_str().map_or("table".to_owned(), |i| format!("index/{i}")),
            "key": query_partition(body).map(|v| prefix(&v)),
        })],
        _ => vec![item(op, body)],
    }
}

/// The partition key value a Query names (`<key attribute> = :value`).
fn query_partition(body: &Value) -> Option<String> {
    let condition = body["KeyConditionExpression"].as_str()?;
    let (_, rest) = condition.split_once('=')?;
    let placeholder = rest.split_whitespace().next()?;
    body["ExpressionAttributeValues"][placeholder]["S"]
        .as_str()
        .map(str::to_owned)
}

/// A key's entity prefix: up to and including its first `#` (`INV#…` is `INV#`).
fn prefix(key: &str) -> String {
    match key.find('#') {
        Some(i) => key[..=i].to_owned(),
        None => key.to_owned(),
    }
}

/// Every request of every function in this process, by (function, action), not deduplicated.
fn counts() -> &'static Mutex<HashMap<(String, String), usize>> {
    static COUNTS: OnceLock<Mutex<HashMap<(String, String), usize>>> = OnceLock::new();
    COUNTS.get_or_init(Default::default)
}

fn count(function: &str, record: &Value) {
    let action = record["action"].as_str().unwrap_or_default().to_owned();
    let mut counts = counts().lock().unwrap_or_else(|p| p.into_inner());
    *counts.entry((function.to_owned(), action)).or_default() += 1;
}

/// How many requests for the IAM `action` (`dynamodb:Query`) `function`'s handlers made in this
/// process so far: every request, where the recordings keep each kind once. A test that counts
/// runs alone in its test binary, so no other test's requests are in its count.
pub fn requests_of(function: &str, action: &str) -> usize {
    let counts = counts().lock().unwrap_or_else(|p| p.into_inner());
    counts
        .get(&(function.to_owned(), action.to_owned()))
        .copied()
        .unwrap_or(0)
}

fn write(function: &str, mut record: Value) {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    record["function"] = json!(function);
    let line = record.to_string();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if !seen.insert(line.clone()) {
        return;
    }
    let dir = recordings_dir();
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{}.jsonl", std::process::id()));
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}
