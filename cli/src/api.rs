//! The warehouse API over HTTP: one call, or every page of a list, and every way it can fail.

use reqwest::header::{HeaderValue, RETRY_AFTER};
use serde_json::Value;

use crate::args::{Body, Call};
use crate::sigv4::Signer;

/// Why a command did not do its work.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// `CARTLINK_URL`, `CARTLINK_API_KEY` or `CARTLINK_ADMIN_KEY` is missing or wrong.
    Config(String),
    /// The command line is wrong.
    Usage(String),
    /// cartlink could not be reached (refused, timed out, TLS).
    Network(String),
    /// The API answered an RFC 9457 problem.
    Problem {
        /// The HTTP status.
        status: u16,
        /// Its `type`, without `urn:cartlink:problem:`.
        code: String,
        /// Its `title`.
        title: String,
        /// Its `detail`.
        detail: String,
        /// `Retry-After`, in seconds, if sent.
        retry_after: Option<u64>,
    },
    /// The API answered something else that is not a success.
    Unexpected {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
}

/// Where cartlink is and the key to call it with, from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The base URL (`CARTLINK_URL`), without a trailing slash.
    pub url: String,
    /// The key sent as the bearer token: the warehouse's API key (`CARTLINK_API_KEY`), or for
    /// an admin command the admin key (`CARTLINK_ADMIN_KEY`).
    pub api_key: String,
    /// For an admin command without `CARTLINK_ADMIN_KEY`: SigV4 signing with the AWS
    /// credentials of the environment (the admin API on AWS is IAM-authorized).
    pub signer: Option<Signer>,
}

impl Settings {
    /// Reads `CARTLINK_URL` and `CARTLINK_API_KEY` (for an `admin` command
    /// `CARTLINK_ADMIN_KEY`) through `env`.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        admin: bool,
    ) -> Result<Settings, Failure> {
        let url = env("CARTLINK_URL")
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                Failure::Config(
                "CARTLINK_URL is not set: the base URL of cartlink, such as http://127.0.0.1:3000"
                    .into(),
            )
            })?;
        let parsed = url::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"));
        if parsed.is_none() {
            return Err(Failure::Config(format!(
                "CARTLINK_URL is not an http(s) URL: {url:?}"
            )));
        }
        let url = url.trim().trim_end_matches('/').to_owned();
        let (name, what) = if admin {
            ("CARTLINK_ADMIN_KEY", "the admin API's key (or, on AWS, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION to sign with)")
        } else {
            ("CARTLINK_API_KEY", "your warehouse's API key")
        };
        let key = env(name).filter(|v| !v.trim().is_empty());
        let signer = if admin && key.is_none() {
            Signer::from_env(env)
        } else {
            None
        };
        if key.is_none() && signer.is_none() {
            return Err(Failure::Config(format!("{name} is not set: {what}")));
        }
        Ok(Settings {
            url,
            api_key: key.unwrap_or_default().trim().to_owned(),
            signer,
        })
    }
}

/// The failure a non-success answer stands for.
pub fn failure_of(status: u16, retry_after: Option<&HeaderValue>, body: &str) -> Failure {
    let retry_after = retry_after
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let problem: Option<Value> = serde_json::from_str(body).ok();
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    match problem.as_ref().and_then(|p| text(p, "type")) {
        Some(kind) => {
            let p = problem.as_ref().unwrap_or(&Value::Null);
            Failure::Problem {
                status,
                code: kind
                    .strip_prefix("urn:cartlink:problem:")
                    .unwrap_or(&kind)
                    .to_owned(),
                title: text(p, "title").unwrap_or_default(),
                detail: text(p, "detail").unwrap_or_default(),
                retry_after,
            }
        }
        None => Failure::Unexpected {
            status,
            body: body.chars().take(200).collect(),
        },
    }
}

/// Makes `call`; a list with `all` follows `next_cursor` and answers every page's `data` as one.
pub async fn run(settings: &Settings, call: &Call) -> Result<Value, Failure> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| Failure::Network(e.to_string()))?;
    if !call.all {
        return send(&http, settings, call).await;
    }
    let mut data = Vec::new();
    let mut page = call.clone();
    page.query.retain(|(k, _)| k != "cursor");
    let mut seen = std::collections::HashSet::new();
    loop {
        let answer = send(&http, settings, &page).await?;
        data.extend(answer["data"].as_array().cloned().unwrap_or_default());
        match answer["next_cursor"].as_str() {
            // A cursor seen before would loop for ever: stop there.
            Some(next) if seen.insert(next.to_owned()) => {
                page.query.retain(|(k, _)| k != "cursor");
                page.query.push(("cursor".into(), next.to_owned()));
            }
            _ => return Ok(serde_json::json!({"data": data, "next_cursor": null})),
        }
    }
}

async fn send(http: &reqwest::Client, settings: &Settings, call: &Call) -> Result<Value, Failure> {
    let url = format!("{}{}", settings.url, call.path);
    let method = reqwest::Method::from_bytes(call.method.as_bytes())
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let mut req = http.request(method, &url).query(&call.query);
    if settings.signer.is_none() {
        req = req.bearer_auth(&settings.api_key);
    }
    match &call.body {
        Some(Body::Json(body)) => req = req.json(body),
        Some(Body::Bytes(bytes)) => {
            req = req
                .header("Content-Type", "application/octet-stream")
                .body(bytes.clone());
        }
        None => {}
    }
    if let Some(key) = &call.idempotency_key {
        req = req.header("Idempotency-Key", key);
    }
    let mut request = req.build().map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(signer) = &settings.signer {
        sign(signer, &mut request)?;
    }
    let resp = http.execute(request).await.map_err(|e| {
        Failure::Network(format!(
            "cannot reach {}: {}",
            settings.url,
            e.without_url()
        ))
    })?;
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get(RETRY_AFTER).cloned();
    let body = resp
        .text()
        .await
        .map_err(|e| Failure::Network(e.without_url().to_string()))?;
    if !(200..300).contains(&status) {
        return Err(failure_of(status, retry_after.as_ref(), &body));
    }
    if body.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&body).map_err(|_| Failure::Unexpected {
        status,
        body: body.chars().take(200).collect(),
    })
}

/// Adds the SigV4 headers to `request`, signing its method, URL, content type and body.
fn sign(signer: &Signer, request: &mut reqwest::Request) -> Result<(), Failure> {
    let content_type = request
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let signed: Vec<(&str, &str)> = content_type
        .as_deref()
        .map(|t| vec![("content-type", t)])
        .unwrap_or_default();
    let body = request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .unwrap_or_default()
        .to_vec();
    let headers = signer
        .headers(
            request.method().as_str(),
            request.url().as_str(),
            &signed,
            &body,
            std::time::SystemTime::now(),
        )
        .map_err(|e| Failure::Config(format!("cannot sign the request: {e}")))?;
    for (name, value) in headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| Failure::Config(e.to_string()))?;
        let value = HeaderValue::from_str(&value).map_err(|e| Failure::Config(e.to_string()))?;
        request.headers_mut().insert(name, value);
    }
    Ok(())
}
