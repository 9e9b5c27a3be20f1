//! The warehouse API's OpenAPI 3.1 document (docs/openapi.yaml, served at
//! `GET /v1/openapi.json`): valid by `openapi-spec-validator`, and honoured by the running
//! local server as `schemathesis` probes every operation with a valid key: no 5xx, every
//! answer's status, content type, headers and body conform to the document.

use std::path::{Path, PathBuf};
use std::process::Command;

use cartlink_e2e::{Peers, API_KEY};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A tool of the pinned API test environment (`make test-deps` installs it).
fn api_tool(name: &str) -> PathBuf {
    let tool = root().join(".venv-api/bin").join(name);
    assert!(
        tool.exists(),
        "{} is missing: run `make test-deps`",
        tool.display()
    );
    tool
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    // GIVEN the document in the repository
    let document = root().join("docs/openapi.yaml");
    // WHEN the reference validator reads it as OpenAPI 3.1
    let out = Command::new(api_tool("openapi-spec-validator"))
        .args(["--schema", "3.1"])
        .arg(&document)
        .output()
        .unwrap();
    // THEN it is valid
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs schemathesis over the served document's operations (narrowed by `filter`) against the
/// server with a valid key; answers whether every check passed, and its report.
fn schemathesis(peers: &Peers, filter: &[&str]) -> (bool, String) {
    let out = Command::new(api_tool("st"))
        .current_dir(peers.data_dir.path())
        .env("NO_COLOR", "1")
        .args(["run", &format!("{}/v1/openapi.json", peers.base)])
        .args(["--url", &peers.base])
        .args(["--header", &format!("Authorization: Bearer {API_KEY}")])
        .args(filter)
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance",
        ])
        .args(["--max-examples", "25", "--workers", "1", "--seed", "1"])
        .args(["--suppress-health-check", "all"])
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{report}");
    (out.status.success(), report)
}

#[tokio::test]
async fn every_operation_answers_as_the_document_says() {
    // GIVEN the local server with a connected merchant (the connection routes reach it through
    // the document's links and the ids schemathesis finds in answers), and its served document
    let peers = Peers::start();
    let (_, connection) = peers.connect_merchant("merchant@shop.test").await;
    let listed: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/connections", peers.base))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"][0]["id"], connection.as_str(), "{listed}");
    // WHEN schemathesis runs every operation with a valid key, the disconnect last (it takes
    // the connection away from the others)
    let (rest, rest_report) =
        schemathesis(&peers, &["--exclude-operation-id", "disconnectConnection"]);
    let (disconnect, disconnect_report) = schemathesis(
        &peers,
        &[
            "--include-operation-id",
            "disconnectConnection",
            "--include-operation-id",
            "listConnections",
        ],
    );
    // THEN every check passed on every operation
    assert!(rest, "{rest_report}");
    assert!(rest_report.contains("Selected: 22/23"), "{rest_report}");
    assert!(disconnect, "{disconnect_report}");
    assert!(
        disconnect_report.contains("Selected: 2/23"),
        "{disconnect_report}"
    );
    // AND the disconnect reached the connection (schemathesis found its id in the list)
    let gone = reqwest::Client::new()
        .get(format!("{}/v1/connections/{connection}", peers.base))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn the_server_serves_exactly_the_documented_methods_of_each_documented_path() {
    // GIVEN the local server and the operations of its served document
    let peers = Peers::start();
    let document: serde_json::Value = reqwest::get(format!("{}/v1/openapi.json", peers.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let methods = ["get", "post", "put", "patch", "delete"];
    let mut wrong = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let url = format!("{}{}", peers.base, path.replace("{id}", "inv-none"));
        for method in methods {
            // WHEN each method is sent to the path (with a valid key)
            let status = client
                .request(method.to_uppercase().parse().unwrap(), &url)
                .bearer_auth(API_KEY)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap()
                .status();
            // THEN a documented method is served (anything but 405), any other is 405
            let documented = item.get(method).is_some();
            if documented == (status == 405) {
                wrong.push(format!("{} {path}: {status}", method.to_uppercase()));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
