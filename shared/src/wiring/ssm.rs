//! The configuration parameter, read from SSM Parameter Store with one SigV4-signed
//! `GetParameter` (AWS JSON 1.1) sent through reqwest.
//!
//! Why not `aws-sdk-ssm`: this is the only SSM call cartlink makes, once per cold start, and the
//! SDK client cost every function about 1.2 M instructions of its init for it (issue 14):
//! building the client parses the SDK's endpoint partition table (a custom endpoint resolver
//! does not avoid it; the generated runtime plugin always builds the default resolver), and the
//! request goes through the orchestrator's interceptors. What the SDK did for us is kept here:
//! the signature (aws-sigv4, the SDK's own signer), the endpoint (`AWS_ENDPOINT_URL` through
//! the `SdkConfig`, else the regional one), and retries with jittered backoff on throttling,
//! 5xx answers and failed connections, which matter when a fleet's functions start at once.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

use super::StartError;
use crate::config::ConfigText;

/// Attempts at one read, as the SDK's standard retry mode makes.
const ATTEMPTS: u32 = 3;
/// The SDK's default connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);
/// One attempt's limit: three fit in Lambda's 10 s init.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// The decrypted text of the SecureString parameter `name`, read with the credentials, region
/// and endpoint of `sdk`.
pub(super) async fn read_config_parameter(
    sdk: &SdkConfig,
    name: &str,
) -> Result<ConfigText, StartError> {
    let fail = |why: String| StartError(format!("configuration parameter {name}: {why}"));
    let region = sdk
        .region()
        .ok_or_else(|| fail("no region".into()))?
        .to_string();
    let credentials = sdk
        .credentials_provider()
        .ok_or_else(|| fail("no credentials".into()))?
        .provide_credentials()
        .await
        .map_err(|e| fail(format!("no credentials: {e}")))?;
    let endpoint = endpoint(sdk.endpoint_url(), &region);
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let request = GetParameter::new(&endpoint, &region, name)
            .signed(&credentials, SystemTime::now())
            .map_err(fail)?;
        let answer = match send(&client, request).await {
            Ok((status, error_type, body)) => read_answer(status, error_type.as_deref(), &body),
            Err(e) => Answer::Retry(e),
        };
        match answer {
            Answer::Value(text) => {
                return Ok(ConfigText {
                    source: format!("parameter {name}"),
                    text,
                })
            }
            Answer::Refused(why) => return Err(fail(why)),
            Answer::Retry(why) if attempt >= ATTEMPTS => return Err(fail(why)),
            Answer::Retry(_) => tokio::time::sleep(backoff(attempt)).await,
        }
    }
}

/// Sends one signed request: the status, the error type header and the body.
async fn send(
    client: &reqwest::Client,
    request: SignedRequest,
) -> Result<(u16, Option<String>, Vec<u8>), String> {
    let mut builder = client.post(&request.url).body(request.body);
    for (k, v) in &request.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let response = builder
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    let status = response.status().as_u16();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .bytes()
        .await
        .map_err(|e| e.without_url().to_string())?;
    Ok((status, error_type, body.to_vec()))
}

/// SSM's endpoint: `AWS_ENDPOINT_URL` (carried by the `SdkConfig`) when set, else the regional
/// one (`amazonaws.com.cn` in the China regions).
fn endpoint(configured: Option<&str>, region: &str) -> String {
    match configured {
        Some(url) => format!("{}/", url.trim_end_matches('/')),
        None if region.starts_with("cn-") => format!("https://ssm.{region}.amazonaws.com.cn/"),
        None => format!("https://ssm.{region}.amazonaws.com/"),
    }
}

/// Full-jitter exponential backoff before attempt `done + 1`: up to 100 ms, then 200 ms.
fn backoff(done: u32) -> Duration {
    let cap = 50u64 << done.min(6);
    let [a, b] = crate::domain::secrets::random_bytes::<2>();
    Duration::from_millis(u64::from(u16::from_le_bytes([a, b])) % (cap + 1))
}

/// One `GetParameter` with decryption, not yet signed.
struct GetParameter<'a> {
    url: &'a str,
    region: &'a str,
    name: &'a str,
}

/// A request ready to send: every header it needs, the signature's included.
#[derive(Debug)]
struct SignedRequest {
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl<'a> GetParameter<'a> {
    fn new(url: &'a str, region: &'a str, name: &'a str) -> Self {
        GetParameter { url, region, name }
    }

    /// The request signed for service `ssm` in the region at `time` (SigV4, the signer the SDK
    /// itself uses): `authorization`, `x-amz-date` and, with a session token (Lambda's
    /// credentials have one), `x-amz-security-token`.
    fn signed(&self, credentials: &Credentials, time: SystemTime) -> Result<SignedRequest, String> {
        let body = serde_json::json!({ "Name": self.name, "WithDecryption": true }).to_string();
        let mut headers = vec![
            (
                "content-type".to_owned(),
                "application/x-amz-json-1.1".to_owned(),
            ),
            (
                "x-amz-target".to_owned(),
                "AmazonSSM.GetParameter".to_owned(),
            ),
        ];
        let identity = credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name("ssm")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let signable = SignableRequest::new(
            "POST",
            self.url,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        let (signed, _) = instructions.into_parts();
        headers.extend(
            signed
                .into_iter()
                .map(|h| (h.name().to_owned(), h.value().to_owned())),
        );
        Ok(SignedRequest {
            url: self.url.to_owned(),
            headers,
            body: body.into_bytes(),
        })
    }
}

/// What one answer means.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// The decrypted value of a SecureString.
    Value(String),
    /// Worth another attempt: throttled, a 5xx, a failed connection.
    Retry(String),
    /// Final: missing, denied, not a SecureString.
    Refused(String),
}

/// The error types SSM answers that another attempt can cure (the SDK's throttling and
/// transient lists, as far as SSM uses them).
const RETRYABLE: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalServerError",
];

/// Reads SSM's answer. The value is never quoted in an error, nor is the body of an error
/// answer (only its type).
fn read_answer(status: u16, error_type_header: Option<&str>, body: &[u8]) -> Answer {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if !(200..300).contains(&status) {
        let error = error_type_header
            .or_else(|| json.get("__type").and_then(|t| t.as_str()))
            .map(error_name)
            .unwrap_or("no error type");
        let why = format!("{error} (HTTP {status})");
        return if status >= 500 || status == 429 || RETRYABLE.contains(&error) {
            Answer::Retry(why)
        } else {
            Answer::Refused(why)
        };
    }
    let Some(parameter) = json.get("Parameter") else {
        return Answer::Refused("no value in the answer".into());
    };
    if parameter.get("Type").and_then(|t| t.as_str()) != Some("SecureString") {
        return Answer::Refused("must be a SecureString (it holds secrets)".into());
    }
    match parameter.get("Value").and_then(|v| v.as_str()) {
        Some(value) => Answer::Value(value.to_owned()),
        None => Answer::Refused("no value in the answer".into()),
    }
}

/// An error type without its namespace (`com.amazonaws.ssm#ParameterNotFound`) or the URI
/// some protocols append (`ParameterNotFound:http://…`).
fn error_name(raw: &str) -> &str {
    let name = raw.rsplit('#').next().unwrap_or(raw);
    name.split(':').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(session: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session.map(str::to_owned),
            None,
            "test",
        )
    }

    fn header<'a>(r: &'a SignedRequest, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn signed(session: Option<&str>) -> SignedRequest {
        GetParameter::new(
            "https://ssm.eu-west-1.amazonaws.com/",
            "eu-west-1",
            "/cartlink/prod",
        )
        .signed(
            &credentials(session),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_083_200),
        )
        .unwrap()
    }

    #[test]
    fn the_request_is_getparameter_with_decryption_in_aws_json_1_1() {
        // GIVEN a parameter name  WHEN its read is signed
        let r = signed(None);
        // THEN it is SSM's GetParameter, asking for the decrypted value
        assert_eq!(header(&r, "x-amz-target"), Some("AmazonSSM.GetParameter"));
        assert_eq!(
            header(&r, "content-type"),
            Some("application/x-amz-json-1.1")
        );
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"Name": "/cartlink/prod", "WithDecryption": true})
        );
    }

    #[test]
    fn the_signature_is_sigv4_for_ssm_in_the_region_over_the_target_header() {
        // GIVEN credentials and a time  WHEN the read is signed
        let r = signed(None);
        let auth = header(&r, "authorization").unwrap();
        // THEN the scope is ssm in the region on that day, and the target header is signed
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/eu-west-1/ssm/aws4_request"
            ),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target"),
            "{auth}"
        );
        assert_eq!(header(&r, "x-amz-date"), Some("20261201T000000Z"));
    }

    #[test]
    fn a_session_token_travels_signed() {
        // GIVEN Lambda's temporary credentials  WHEN the read is signed
        let r = signed(Some("session-token"));
        // THEN the token is sent, and covered by the signature
        assert_eq!(header(&r, "x-amz-security-token"), Some("session-token"));
        assert!(header(&r, "authorization")
            .unwrap()
            .contains("x-amz-security-token"));
    }

    #[test]
    fn the_secret_key_is_not_sent() {
        // GIVEN a signed read  THEN no header or body carries the secret key
        let r = signed(Some("t"));
        let all = format!("{r:?}");
        assert!(!all.contains("EXAMPLEKEY"), "{all}");
    }

    #[test]
    fn the_endpoint_is_the_configured_one_else_the_regional_one() {
        assert_eq!(
            endpoint(Some("http://127.0.0.1:5000/"), "us-east-1"),
            "http://127.0.0.1:5000/"
        );
        assert_eq!(
            endpoint(None, "eu-central-1"),
            "https://ssm.eu-central-1.amazonaws.com/"
        );
        assert_eq!(
            endpoint(None, "cn-north-1"),
            "https://ssm.cn-north-1.amazonaws.com.cn/"
        );
    }

    #[test]
    fn a_securestring_answers_its_value() {
        // GIVEN SSM's answer for a SecureString read with decryption
        let body =
            br#"{"Parameter":{"Name":"/c","Type":"SecureString","Value":"a = 1","Version":3}}"#;
        // THEN its value is the configuration text
        assert_eq!(read_answer(200, None, body), Answer::Value("a = 1".into()));
    }

    #[test]
    fn a_plain_string_is_refused_without_quoting_it() {
        // GIVEN a String parameter holding a secret
        let body = br#"{"Parameter":{"Name":"/c","Type":"String","Value":"sk-live-canary"}}"#;
        // THEN it is refused, and the error holds no part of the value
        let Answer::Refused(why) = read_answer(200, None, body) else {
            panic!("a String parameter must be refused")
        };
        assert!(why.contains("must be a SecureString"), "{why}");
        assert!(!why.contains("sk-live"), "{why}");
    }

    #[test]
    fn a_missing_parameter_is_final_and_named_by_its_error_type() {
        // GIVEN SSM's answer for a parameter that does not exist
        let body = br#"{"__type":"ParameterNotFound","message":""}"#;
        // THEN the read stops there, saying why
        assert_eq!(
            read_answer(400, None, body),
            Answer::Refused("ParameterNotFound (HTTP 400)".into())
        );
    }

    #[test]
    fn the_error_type_header_wins_and_loses_its_namespace() {
        let body = br#"{"__type":"com.amazonaws.ssm#Other"}"#;
        assert_eq!(
            read_answer(400, Some("AccessDeniedException:http://internal"), body),
            Answer::Refused("AccessDeniedException (HTTP 400)".into())
        );
        assert_eq!(
            read_answer(400, None, body),
            Answer::Refused("Other (HTTP 400)".into())
        );
    }

    #[test]
    fn throttling_and_server_errors_are_retried() {
        // GIVEN a fleet's cold starts throttled by SSM, or SSM failing
        let throttled = br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
        // THEN the read tries again
        assert!(matches!(
            read_answer(400, None, throttled),
            Answer::Retry(_)
        ));
        assert!(matches!(read_answer(503, None, b""), Answer::Retry(_)));
        assert!(matches!(
            read_answer(429, None, b"<html>"),
            Answer::Retry(_)
        ));
    }

    #[test]
    fn an_error_body_is_never_quoted() {
        // GIVEN an error answer whose message echoes something
        let body = br#"{"__type":"ValidationException","message":"value sk-live-canary"}"#;
        let Answer::Refused(why) = read_answer(400, None, body) else {
            panic!("a validation error is final")
        };
        // THEN only its type is reported
        assert!(!why.contains("sk-live"), "{why}");
    }

    #[test]
    fn the_backoff_stays_under_its_cap() {
        for _ in 0..200 {
            assert!(backoff(1) <= Duration::from_millis(100));
            assert!(backoff(2) <= Duration::from_millis(200));
        }
    }
}
