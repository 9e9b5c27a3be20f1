//! The AWS side of the harness: a moto server (started once per test binary, stopped when the
//! binary exits), a fresh table, KMS key and verified SES domain per test, the Lambda handlers
//! invoked with API Gateway HTTP API (payload 2.0) events, a grant walked through them to the
//! cart and back, and the table's stream read back through the DynamoDB Streams API as Lambda
//! would deliver it.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodbstreams::types::{AttributeValue as StreamValue, ShardIteratorType};
use serde_json::{json, Map, Value};
use shared::carts::Catalog;
use shared::config::Config;
use shared::domain::{BrowserBinding, GrantState, PkceVerifier};
use shared::service::Services;
use shared::web::{Request, Response};

use crate::{at_cart, browser, free_port, workspace, Cart, CART, CLIENT_SECRET};

/// The SES domain every test's sender is verified for.
pub const VERIFIED_DOMAIN: &str = "cartlink.test";

/// A running moto server.
pub struct Moto {
    /// Its endpoint (`http://127.0.0.1:<port>`).
    pub endpoint: String,
}

/// The moto server of this test binary, started on first use (`tests/peers/moto_serial.py`:
/// moto's application served one request at a time, since moto's threaded server does not
/// isolate concurrent transactions as DynamoDB does). It runs under a shell that ends it when
/// this process's end of its stdin closes, so it is torn down with the test binary.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let python = workspace().join(".venv/bin/python");
        assert!(
            workspace().join(".venv/bin/moto_server").exists(),
            "moto is missing: run `make test` (it installs moto into .venv)"
        );
        let port = free_port();
        let script = format!(
            "'{}' '{}' 127.0.0.1 {port} >/dev/null 2>&1 & pid=$!; read _; kill $pid",
            python.display(),
            workspace().join("tests/peers/moto_serial.py").display()
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .spawn()
            .expect("sh");
        // Keep the pipe open for the life of the process: leak the child on purpose.
        std::mem::forget(child);
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { endpoint }
    })
}

/// A moto server of one test's own that checks every request as AWS does, after four
/// unchecked set-up actions: its SigV4 signature, its session token, and the caller's IAM
/// policy for its action (`INITIAL_NO_AUTH_ACTION_COUNT`). Stopped when dropped.
pub struct CheckingMoto {
    /// Its endpoint (`http://127.0.0.1:<port>`).
    pub endpoint: String,
    server: std::process::Child,
}

impl CheckingMoto {
    /// Starts one, with the set-up of `tests/peers/moto_lambda_role.py` done: a role whose only
    /// permission is `ssm:GetParameter`, the SecureString `parameter` holding `value`, and the
    /// role's temporary credentials, returned as a function's environment holds them.
    pub fn with_lambda_role(parameter: &str, value: &str) -> (CheckingMoto, [String; 3]) {
        let port = free_port();
        let server = Command::new(workspace().join(".venv/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "4")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto is missing: run `make test` (it installs moto into .venv)");
        let moto = CheckingMoto {
            endpoint: format!("http://127.0.0.1:{port}"),
            server,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut setup = Command::new(workspace().join(".venv/bin/python"))
            .arg(workspace().join("tests/peers/moto_lambda_role.py"))
            .args([&moto.endpoint, parameter])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python");
        std::io::Write::write_all(&mut setup.stdin.take().expect("stdin"), value.as_bytes())
            .expect("parameter value");
        let out = setup.wait_with_output().expect("set-up");
        assert!(out.status.success(), "moto set-up failed");
        let c: Value = serde_json::from_slice(&out.stdout).expect("credentials");
        let field = |k: &str| c[k].as_str().expect("credential").to_owned();
        let credentials = [
            field("AccessKeyId"),
            field("SecretAccessKey"),
            field("SessionToken"),
        ];
        (moto, credentials)
    }
}

impl Drop for CheckingMoto {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// An SDK configuration pointed at moto with dummy credentials.
pub async fn sdk() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&moto().endpoint)
        .region(Region::new("us-east-1"))
        .http_client(crate::aws_ops::RecordingClient::shared())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "e2e",
        ))
        .load()
        .await
}

fn random_suffix() -> String {
    hex::encode(shared::domain::secrets::random_bytes::<6>())
}

/// Creates the table of the single-table design: keys, the warehouse index, the sparse index
/// of authorized invites, the warehouse list index, TTL and a stream with new and old images.
pub async fn create_table(sdk: &SdkConfig, name: &str) {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .attribute_definitions(attr("gsi1pk"))
        .attribute_definitions(attr("gsi1sk"))
        .attribute_definitions(attr("gsi2pk"))
        .attribute_definitions(attr("gsi2sk"))
        .attribute_definitions(attr("gsi3pk"))
        .attribute_definitions(attr("gsi3sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(shared::store::dynamo::GSI1)
                .key_schema(key("gsi1pk", KeyType::Hash))
                .key_schema(key("gsi1sk", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(shared::store::dynamo::GSI2)
                .key_schema(key("gsi2pk", KeyType::Hash))
                .key_schema(key("gsi2sk", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(shared::store::dynamo::GSI3)
                .key_schema(key("gsi3pk", KeyType::Hash))
                .key_schema(key("gsi3sk", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
    ddb.update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("ttl")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("ttl");
}

/// One test's AWS world: its own table and key, a verified sender domain, and an oidc-provider
/// cart; and the services of the Lambda functions on them.
pub struct World {
    /// The SDK configuration (moto).
    pub sdk: SdkConfig,
    /// The table.
    pub table: String,
    /// The KMS key id.
    pub key_id: String,
    /// The cart.
    pub cart: Cart,
    /// The public base URL the services use.
    pub base: String,
    /// A merchant address unique to this test (moto's mail capture is shared).
    pub merchant_email: String,
    _config_dir: tempfile::TempDir,
    config_path: std::path::PathBuf,
}

impl World {
    /// Creates the table, the key, the sender identity and the cart.
    pub async fn new() -> World {
        World::with_access_ttl(3600).await
    }

    /// The same, with the cart's access tokens living `access_ttl` seconds (refreshed ones an
    /// hour).
    pub async fn with_access_ttl(access_ttl: u32) -> World {
        World::with_token_ttls(access_ttl, 3600).await
    }

    /// The same, with the cart's access tokens from the code living `access_ttl` seconds and
    /// refreshed ones `refreshed_ttl` seconds.
    pub async fn with_token_ttls(access_ttl: u32, refreshed_ttl: u32) -> World {
        World::build(|redirect_uri| Cart::start_with_ttls(redirect_uri, access_ttl, refreshed_ttl))
            .await
    }

    /// The same, with a cart that answers every token request only after `token_delay_ms`.
    pub async fn with_token_delay(token_delay_ms: u32) -> World {
        World::build(|redirect_uri| Cart::start_with_token_delay(redirect_uri, token_delay_ms))
            .await
    }

    async fn build(start_cart: impl FnOnce(&str) -> Cart) -> World {
        let sdk = sdk().await;
        let table = format!("cartlink-{}", random_suffix());
        create_table(&sdk, &table).await;
        let key_id = aws_sdk_kms::Client::new(&sdk)
            .create_key()
            .description("cartlink e2e")
            .send()
            .await
            .expect("create key")
            .key_metadata
            .unwrap()
            .key_id;
        aws_sdk_sesv2::Client::new(&sdk)
            .create_email_identity()
            .email_identity(VERIFIED_DOMAIN)
            .send()
            .await
            .ok();
        let base = format!("http://127.0.0.1:{}", free_port());
        let cart = start_cart(&format!("{base}/oauth/callback/{CART}"));
        let config_dir = tempfile::tempdir().unwrap();
        let config_path = config_dir.path().join("cartlink.toml");
        std::fs::write(&config_path, cart.config_toml()).unwrap();
        World {
            sdk,
            table,
            key_id,
            cart,
            base,
            merchant_email: format!("merchant-{}@shop.test", random_suffix()),
            _config_dir: config_dir,
            config_path,
        }
    }

    /// The configuration a Lambda function would read from its environment, sending as `from`.
    pub fn config(&self, from: &str) -> Config {
        let vars: HashMap<&str, String> = HashMap::from([
            ("CARTLINK_CONFIG", self.config_path.display().to_string()),
            ("CARTLINK_PUBLIC_BASE_URL", self.base.clone()),
            ("CARTLINK_TABLE", self.table.clone()),
            ("CARTLINK_KMS_KEY_ID", self.key_id.clone()),
            ("CARTLINK_MAIL_FROM", from.to_owned()),
            ("E2E_CART_SECRET", CLIENT_SECRET.to_owned()),
        ]);
        Config::load(&|k| vars.get(k).cloned()).expect("config")
    }

    /// The services on the AWS adapters, sending from the verified domain.
    pub fn services(&self) -> Services {
        self.services_from(&format!("cartlink <no-reply@{VERIFIED_DOMAIN}>"))
    }

    /// The services on the AWS adapters, sending as `from`.
    pub fn services_from(&self, from: &str) -> Services {
        let config = self.config(from);
        let catalog = Catalog::from_config(&config);
        Services::aws(config, catalog, &self.sdk).expect("services")
    }

    /// Every item of the table, as text, for searching.
    pub async fn scan_text(&self) -> String {
        let out = aws_sdk_dynamodb::Client::new(&self.sdk)
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .unwrap();
        format!("{:?}", out.items())
    }

    /// The stream records written so far, as the Lambda DynamoDB event that carries them.
    pub async fn stream_event(&self) -> aws_lambda_events::event::dynamodb::Event {
        let streams = aws_sdk_dynamodbstreams::Client::new(&self.sdk);
        let arn = streams
            .list_streams()
            .table_name(&self.table)
            .send()
            .await
            .unwrap()
            .streams()
            .first()
            .and_then(|s| s.stream_arn.clone())
            .expect("the table has a stream");
        let shards = streams
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap()
            .shards
            .unwrap_or_default();
        let mut records = Vec::new();
        for shard in shards {
            let mut iterator = streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(shard.shard_id.unwrap())
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap()
                .shard_iterator;
            while let Some(it) = iterator {
                let out = streams
                    .get_records()
                    .shard_iterator(it)
                    .send()
                    .await
                    .unwrap();
                if out.records().is_empty() {
                    break;
                }
                for r in out.records() {
                    records.push(lambda_record(r, &arn));
                }
                iterator = out.next_shard_iterator;
            }
        }
        serde_json::from_value(json!({ "Records": records })).expect("a Lambda DynamoDB event")
    }

    /// The emails moto captured for `to` (subject, HTML body), oldest first.
    pub async fn emails_to(&self, to: &str) -> Vec<(String, String)> {
        emails_to_address(to).await
    }
}

/// Every email moto captured, as (recipient, subject), oldest first: one read of moto's state.
pub async fn sent_emails() -> Vec<(String, String)> {
    let data: Value = reqwest::get(format!("{}/moto-api/data.json", moto().endpoint))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut out = Vec::new();
    for m in data["ses"]["Message"].as_array().into_iter().flatten() {
        for to in m["destinations"]["ToAddresses"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.push((
                to.as_str().unwrap_or_default().to_owned(),
                m["subject"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    out
}

/// The emails moto captured for `to` (subject, HTML body), oldest first.
pub async fn emails_to_address(to: &str) -> Vec<(String, String)> {
    {
        let data: Value = reqwest::get(format!("{}/moto-api/data.json", moto().endpoint))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        data["ses"]["Message"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| {
                m["destinations"]["ToAddresses"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == to))
            })
            .map(|m| {
                (
                    m["subject"].as_str().unwrap_or_default().to_owned(),
                    m["body"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

fn attribute_json(v: &StreamValue) -> Value {
    match v {
        StreamValue::S(s) => json!({ "S": s }),
        StreamValue::N(n) => json!({ "N": n }),
        StreamValue::Bool(b) => json!({ "BOOL": b }),
        StreamValue::Null(b) => json!({ "NULL": b }),
        StreamValue::Ss(v) => json!({ "SS": v }),
        StreamValue::Ns(v) => json!({ "NS": v }),
        StreamValue::M(m) => json!({ "M": image_json(Some(m)) }),
        StreamValue::L(l) => json!({ "L": l.iter().map(attribute_json).collect::<Vec<_>>() }),
        other => panic!("attribute type not used by cartlink: {other:?}"),
    }
}

fn image_json(image: Option<&HashMap<String, StreamValue>>) -> Value {
    let mut out = Map::new();
    for (k, v) in image.into_iter().flatten() {
        out.insert(k.clone(), attribute_json(v));
    }
    Value::Object(out)
}

/// One Streams API record in the shape Lambda delivers it (with `eventSourceARN`).
fn lambda_record(r: &aws_sdk_dynamodbstreams::types::Record, arn: &str) -> Value {
    let d = r.dynamodb.as_ref().expect("stream record body");
    json!({
        "eventID": r.event_id,
        "eventName": r.event_name.as_ref().map(|n| n.as_str()),
        "eventVersion": r.event_version,
        "eventSource": r.event_source,
        "awsRegion": r.aws_region,
        "eventSourceARN": arn,
        "userIdentity": r.user_identity.as_ref().map(|u| json!({"type": u.r#type, "principalId": u.principal_id})),
        "dynamodb": {
            "ApproximateCreationDateTime": d.approximate_creation_date_time.map(|t| t.secs()).unwrap_or(0),
            "Keys": image_json(d.keys.as_ref()),
            "NewImage": image_json(d.new_image.as_ref()),
            "OldImage": image_json(d.old_image.as_ref()),
            "SequenceNumber": d.sequence_number,
            "SizeBytes": d.size_bytes.unwrap_or(0),
            "StreamViewType": d.stream_view_type.as_ref().map(|v| v.as_str()),
        }
    })
}

/// Invokes an HTTP handler the way Lambda does: an API Gateway HTTP API (payload 2.0) event,
/// parsed by `lambda_http`, converted by the same glue the Lambda binaries use.
pub async fn invoke<'a, F, Fut>(
    handler: F,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    cookies: &[String],
    body: Option<&str>,
) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response> + 'a,
{
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut header_map = Map::new();
    for (k, v) in headers {
        header_map.insert(k.to_string(), Value::String(v.to_string()));
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": header_map,
        "requestContext": {
            "accountId": "123456789012", "apiId": "e2e", "domainName": "cartlink.test",
            "domainPrefix": "cartlink", "requestId": random_suffix(), "routeKey": "$default",
            "stage": "$default", "time": "29/Nov/2026:10:00:00 +0000", "timeEpoch": 1796032800000u64,
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1",
                      "sourceIp": "203.0.113.10", "userAgent": "cartlink-e2e" }
        },
        "isBase64Encoded": false
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if let Some(b) = body {
        event["body"] = Value::String(b.to_owned());
    }
    let request = lambda_http::request::from_str(&event.to_string()).expect("a payload 2.0 event");
    // Through the Lambda glue both ways, as API Gateway would see it.
    let lambda =
        shared::lambda::answer(|req| crate::aws_ops::as_handler(handler(req)), request).await;
    let (parts, body) = lambda.into_parts();
    let bytes = match body {
        lambda_http::Body::Empty => bytes::Bytes::new(),
        lambda_http::Body::Text(t) => bytes::Bytes::from(t),
        lambda_http::Body::Binary(b) => bytes::Bytes::from(b),
        _ => bytes::Bytes::new(),
    };
    http::Response::from_parts(parts, bytes)
}

/// A grant walked through the cart, up to (not including) the callback.
pub struct Consented {
    /// The binding cookie (`name=value`).
    pub cookie: String,
    /// The callback path and query on cartlink.
    pub callback: String,
    /// The OAuth state (to search for).
    pub state: String,
    /// The PKCE verifier the browser's cookie derives (to search for).
    pub verifier: String,
}

/// Starts a grant from the link `token` through the grant-page handler and walks it through the
/// cart, in a browser of its own.
pub async fn consent(svc: &Services, world: &World, token: &str) -> Consented {
    let resp = invoke(
        |req| grant_page::handle(svc, req),
        "POST",
        &format!("/setup/{token}/grant"),
        &[],
        &[],
        None,
    )
    .await;
    assert_eq!(
        resp.status(),
        303,
        "{}",
        String::from_utf8_lossy(resp.body())
    );
    let authorize = resp.headers()["location"].to_str().unwrap().to_owned();
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let b = browser();
    let callback = at_cart(
        &b,
        &authorize,
        &format!("{}/oauth/callback/{CART}", world.base),
        false,
    )
    .await;
    let state = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let binding = BrowserBinding::parse(cookie.split_once('=').unwrap().1).unwrap();
    let verifier = PkceVerifier::derive(&binding, &GrantState::parse(&state).unwrap())
        .expose()
        .to_owned();
    Consented {
        cookie,
        callback: callback.replacen(&world.base, "", 1),
        state,
        verifier,
    }
}

/// The oauth-callback handler's answer to the consent's callback, in its browser.
pub async fn callback(svc: &Services, c: &Consented) -> shared::web::Response {
    invoke(
        |req| oauth_callback::handle(svc, req),
        "GET",
        &c.callback,
        &[],
        std::slice::from_ref(&c.cookie),
        None,
    )
    .await
}

/// `POST /v1/invites` for `world`'s merchant at the test cart through the warehouse API
/// handler on `svc`, with the dev warehouse's key: the status and the answer.
pub async fn create_invite(svc: &Services, world: &World) -> (u16, Value) {
    let body = json!({"cart": CART, "merchant_email": world.merchant_email}).to_string();
    let auth = format!("Bearer {}", crate::API_KEY);
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let resp = invoke(
        |req| warehouse_api::handle(svc, req),
        "POST",
        "/v1/invites",
        &headers,
        &[],
        Some(&body),
    )
    .await;
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    (resp.status().as_u16(), v)
}

/// The link token of an invite answer (the last segment of its `setup_url`).
pub fn link_token(invite: &Value) -> &str {
    invite["setup_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
}

/// An invite made through the warehouse API for `world`'s merchant and granted at the cart
/// (through the grant page and the callback handlers): answers its connection's id.
pub async fn connected(svc: &Services, world: &World) -> shared::domain::ConnectionId {
    let (status, v) = create_invite(svc, world).await;
    assert_eq!(status, 201, "{v}");
    let c = consent(svc, world, link_token(&v)).await;
    assert_eq!(callback(svc, &c).await.status(), 200);
    let invite = shared::domain::InviteId::parse(v["id"].as_str().unwrap()).unwrap();
    svc.store
        .connection_for_invite(&invite)
        .await
        .unwrap()
        .unwrap()
        .id
}
