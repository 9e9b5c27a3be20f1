//! The template's metric filters against the lines the functions write as deployed (Lambda's
//! JSON log format, shared::telemetry): each filter's JSON pattern matches the real line of
//! the event it counts, produced by the real code path, and not an unrelated line.

use http::{HeaderValue, Method};
use serde_json::Value;
use shared::store::InviteStore;
use shared::telemetry::LogSettings;
use shared::testing::lines::CapturedLines;
use shared::testing::TestKit;
use shared::web::Request;

/// Captures, on this thread, what a deployed function writes.
fn deployed() -> (CapturedLines, tracing::subscriber::DefaultGuard) {
    CapturedLines::install(&LogSettings::from_env(&|k| match k {
        "AWS_LAMBDA_LOG_FORMAT" => Some("JSON".to_owned()),
        _ => None,
    }))
}

/// The template's metric filter patterns by metric name: `{ $.<field> = "<value>" }`.
fn filters() -> Vec<(String, String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let template = std::fs::read_to_string(root.join("infra/template.yaml")).unwrap();
    let mut out = Vec::new();
    let mut pattern: Option<(String, String)> = None;
    for line in template.lines().map(str::trim) {
        if let Some(p) = line.strip_prefix("FilterPattern: '{ $.") {
            let (field, rest) = p.split_once(" = \"").expect("a field = \"value\" pattern");
            let value = rest.trim_end_matches("\" }'");
            pattern = Some((field.to_owned(), value.to_owned()));
        }
        if let (Some(name), Some((field, value))) =
            (line.strip_prefix("MetricName: "), pattern.clone())
        {
            out.push((name.to_owned(), field, value));
            pattern = None;
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Whether the JSON pattern `{ $.field = "value" }` matches `line` as CloudWatch Logs does
/// (`*` matches any value; a pattern on a field the line lacks does not match).
fn matches(field: &str, value: &str, line: &Value) -> bool {
    match line.get(field) {
        Some(Value::String(s)) => value == "*" || s == value,
        // Only string values are compared here (every filter of the template names one).
        Some(_) => value == "*",
        None => false,
    }
}

fn counted_by(metric: &str, lines: &[Value]) -> usize {
    let (_, field, value) = filters()
        .into_iter()
        .find(|(name, _, _)| name == metric)
        .unwrap_or_else(|| panic!("no filter feeds {metric}: {:?}", filters()));
    lines.iter().filter(|l| matches(&field, &value, l)).count()
}

#[test]
fn every_filter_is_a_json_field_pattern_feeding_one_metric() {
    // GIVEN the template's metric filters
    let found = filters();
    // THEN the three the alarms read are there, each a field pattern
    let names: Vec<&str> = found.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec!["CallbackRefusals", "DependencyOutages", "RateLimitHits"],
        "{found:?}"
    );
}

#[tokio::test]
async fn a_refused_callback_writes_the_one_line_callback_refusals_counts() {
    // GIVEN a deployed function's log, and a callback nobody started
    let kit = TestKit::new();
    let (lines, _guard) = deployed();
    let mut req = Request::new(Method::GET, "/oauth/callback/acme?code=C&state=S");
    req.headers.insert(
        "cookie",
        HeaderValue::from_static("__Host-cartlink-grant=x"),
    );
    // WHEN it is refused
    oauth_callback::handle(&kit.services, req).await;
    // THEN exactly one line is counted, and by no other filter
    let written = lines.json();
    assert_eq!(counted_by("CallbackRefusals", &written), 1, "{written:?}");
    assert_eq!(counted_by("RateLimitHits", &written), 0);
    assert_eq!(counted_by("DependencyOutages", &written), 0);
}

#[tokio::test]
async fn a_rate_limit_refusal_writes_the_one_line_rate_limit_hits_counts() {
    // GIVEN a client past the unknown-link limit, under a deployed function's log
    let kit = TestKit::new();
    let client = Some("203.0.113.90".parse().unwrap());
    for i in 0..shared::service::link_guard::UNKNOWN_LINKS_PER_CLIENT {
        let _ = kit
            .services
            .open_link_for(&format!("{i:0>43}"), client)
            .await;
    }
    let (lines, _guard) = deployed();
    // WHEN it opens one more
    let _ = kit.services.open_link_for(&"9".repeat(43), client).await;
    // THEN exactly one line is counted
    let written = lines.json();
    assert_eq!(counted_by("RateLimitHits", &written), 1, "{written:?}");
    assert_eq!(counted_by("CallbackRefusals", &written), 0);
}

#[tokio::test]
async fn a_store_outage_writes_the_one_line_dependency_outages_counts() {
    // GIVEN the DynamoDB store on a table that is not there (moto answers an error)
    let sdk = cartlink_e2e::aws::sdk().await;
    let store =
        shared::store::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), "no-such-table");
    let (lines, _guard) = deployed();
    // WHEN it is read
    let read = store.invite(&shared::domain::InviteId::generate()).await;
    // THEN the read fails, and exactly one line is counted as an outage
    assert!(read.is_err());
    let written = lines.json();
    assert_eq!(counted_by("DependencyOutages", &written), 1, "{written:?}");
}
