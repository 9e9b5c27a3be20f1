use super::*;
use crate::testing::lines::CapturedLines;

fn lambda(namespace: Option<&str>) -> LogSettings {
    LogSettings::from_env(&|k| {
        match k {
            "AWS_LAMBDA_LOG_FORMAT" => Some("JSON"),
            "CARTLINK_METRICS_NAMESPACE" => namespace,
            _ => None,
        }
        .map(str::to_owned)
    })
}

/// Runs `f` under the subscriber of `settings`; answers what it wrote.
fn written(settings: &LogSettings, f: impl FnOnce()) -> CapturedLines {
    let (lines, _installed) = CapturedLines::install(settings);
    f();
    lines
}

#[test]
fn on_lambda_each_line_is_json_with_its_fields_and_the_invocations_request_id() {
    // GIVEN Lambda's JSON log format, and a line logged inside an invocation
    let lines = written(&lambda(None), || {
        let span = tracing::info_span!("Lambda runtime invoke", requestId = "req-7");
        let _in = span.enter();
        tracing::info!(invite_id = "inv-1", "invite created");
    });
    // THEN it is one JSON object with the message, level, fields and request id at the top
    let [line] = lines.json().try_into().unwrap();
    assert_eq!(line["message"], "invite created");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["invite_id"], "inv-1");
    assert_eq!(line["requestId"], "req-7");
    assert!(line["timestamp"].is_string(), "{line}");
}

#[test]
fn a_line_outside_an_invocation_has_no_request_id() {
    // GIVEN a line logged at start, before any invocation
    let lines = written(&lambda(None), || tracing::info!("started"));
    // THEN it is JSON without a request id
    let [line] = lines.json().try_into().unwrap();
    assert_eq!(line["message"], "started");
    assert!(line.get("requestId").is_none(), "{line}");
}

#[test]
fn a_measure_is_one_embedded_metric_format_line_and_never_a_log_line() {
    // GIVEN metrics on, and a failed grant counted inside an invocation
    let lines = written(&lambda(Some("cartlink/test")), || {
        let span = tracing::info_span!("Lambda runtime invoke", requestId = "req-8");
        let _in = span.enter();
        metric::funnel_step("failed", Some("token_exchange_failed"));
    });
    // THEN exactly one line is written: the EMF document CloudWatch turns into a metric
    let [line] = lines.json().try_into().unwrap();
    let aws = &line["_aws"];
    assert!(aws["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
    let [directive] = aws["CloudWatchMetrics"]
        .as_array()
        .unwrap()
        .clone()
        .try_into()
        .unwrap();
    assert_eq!(directive["Namespace"], "cartlink/test");
    assert_eq!(
        directive["Metrics"],
        serde_json::json!([{"Name": "FunnelSteps", "Unit": "Count"}])
    );
    assert_eq!(
        directive["Dimensions"],
        serde_json::json!([["Service", "Step"], ["Service", "Step", "Reason"]])
    );
    // AND every dimension and the value are members of the document's root
    assert_eq!(line["FunnelSteps"], 1.0);
    assert_eq!(line["Service"], "cartlink");
    assert_eq!(line["Step"], "failed");
    assert_eq!(line["Reason"], "token_exchange_failed");
}

#[test]
fn without_a_namespace_measures_write_nothing() {
    // GIVEN metrics off (the local server, tests)
    let lines = written(&lambda(None), || {
        metric::popup_blocked();
        metric::confirmation_latency(1200);
    });
    // THEN nothing is written
    assert!(lines.json().is_empty());
}

#[test]
fn a_latency_is_written_in_milliseconds() {
    // GIVEN a confirmation sent 1.2 s after its grant
    let lines = written(&lambda(Some("ns")), || metric::confirmation_latency(1200));
    // THEN the metric carries its unit and value
    let [line] = lines.json().try_into().unwrap();
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Metrics"],
        serde_json::json!([{"Name": "ConfirmationLatency", "Unit": "Milliseconds"}])
    );
    assert_eq!(line["ConfirmationLatency"], 1200.0);
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([["Service"]])
    );
}

#[test]
fn off_lambda_lines_are_text() {
    // GIVEN no Lambda log format (the local server)
    let settings = LogSettings::from_env(&|_| None);
    let lines = written(&settings, || {
        tracing::info!(invite_id = "inv-2", "invite created")
    });
    // THEN the line is text, at the default level
    let text = lines.text();
    assert!(
        text.contains("INFO") && text.contains("invite created invite_id=\"inv-2\""),
        "{text}"
    );
    assert_eq!(settings.filter, "info");
}

#[test]
fn lambdas_log_level_wins_over_rust_log() {
    // GIVEN both level settings
    let settings = LogSettings::from_env(&|k| match k {
        "AWS_LAMBDA_LOG_LEVEL" => Some("WARN".to_owned()),
        "RUST_LOG" => Some("debug".to_owned()),
        _ => None,
    });
    // THEN Lambda's own applies, and an info line is dropped
    assert_eq!(settings.filter, "warn");
    let lines = written(&settings, || tracing::info!("dropped"));
    assert!(lines.text().is_empty());
}

fn filtered(filter: &str) -> LogSettings {
    LogSettings {
        filter: filter.to_owned(),
        ..LogSettings::default()
    }
}

#[test]
fn a_target_directive_raises_that_target_alone() {
    // GIVEN `RUST_LOG`'s target syntax: debug for one target, warn for the rest
    let settings = filtered("shared::telemetry=debug,warn");
    // WHEN that target and another log at debug
    let lines = written(&settings, || {
        tracing::debug!("kept");
        tracing::debug!(target: "elsewhere", "dropped");
    });
    // THEN only the named target's line is written
    let text = lines.text();
    assert!(text.contains("kept") && !text.contains("dropped"), "{text}");
}

#[test]
fn a_filter_that_does_not_parse_is_info() {
    // GIVEN a level filter no directive syntax reads
    let settings = filtered("shared=loud");
    // WHEN lines at info and debug are logged
    let lines = written(&settings, || {
        tracing::info!("kept");
        tracing::debug!("dropped");
    });
    // THEN the default level applies
    let text = lines.text();
    assert!(text.contains("kept") && !text.contains("dropped"), "{text}");
}
