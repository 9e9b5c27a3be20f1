use std::collections::HashMap;

use super::*;
use shared::web::MAX_BODY;

const KEY: &str = "local-dev-key";

/// The local server on a free port over the data directory `dir`: its address.
async fn served(dir: &std::path::Path) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listen = listener.local_addr().unwrap();
    let env = HashMap::from([
        ("CARTLINK_PUBLIC_BASE_URL", format!("http://{listen}")),
        ("CARTLINK_DATA_DIR", dir.display().to_string()),
    ]);
    let config = Config::load(&|k| env.get(k).cloned()).unwrap();
    let settings = LocalSettings {
        listen,
        dev_api_key: Some(KEY.into()),
        halt_after_commit: false,
        admin_key: None,
    };
    let (app, _, _events) = build(config, &settings).unwrap();
    tokio::spawn(serve(listener, app));
    listen
}

/// A valid invite for the sandbox cart, `len` bytes long: the padding sits before the closing
/// brace, so a body cut short would not parse.
fn invite_of(len: usize) -> String {
    let head = r#"{"cart":"sandbox","merchant_email":"merchant@example.com""#;
    format!("{head}{}}}", " ".repeat(len - head.len() - 1))
}

async fn invites_stored(dir: &std::path::Path) -> usize {
    let store = shared::store::SqliteStore::open(dir).unwrap();
    store.invite_count().await.unwrap()
}

async fn post_invite(at: SocketAddr, body: String) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{at}/v1/invites"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413_and_nothing_is_stored() {
    // GIVEN the local server
    let dir = tempfile::tempdir().unwrap();
    let at = served(dir.path()).await;
    // WHEN a warehouse posts an invite one byte over the limit
    let resp = post_invite(at, invite_of(MAX_BODY + 1)).await;
    // THEN it is refused with 413 problem `too-large`, and no invite is stored
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(problem["type"], "urn:cartlink:problem:too-large");
    assert_eq!(invites_stored(dir.path()).await, 0);
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_read_whole() {
    // GIVEN the local server
    let dir = tempfile::tempdir().unwrap();
    let at = served(dir.path()).await;
    // WHEN a warehouse posts an invite of exactly the limit
    let resp = post_invite(at, invite_of(MAX_BODY)).await;
    // THEN the invite is created from the whole body
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(invites_stored(dir.path()).await, 1);
}
