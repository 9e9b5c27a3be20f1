//! The AWS SDK's HTTP client: reqwest, the one HTTP stack of the binaries (rustls on ring, with
//! the compiled-in Mozilla roots of `webpki-roots`). It replaces the SDK's default client,
//! which loads the system certificate store (`/etc/ssl/certs`, about 300 files) every time an
//! SDK client is built, and carries a second crypto provider (aws-lc-rs) and a second root
//! store into every binary.

use std::sync::Mutex;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// The HTTP client every AWS SDK client of a process sends through (set on the `SdkConfig`).
/// It builds nothing until the first request: one reqwest client per distinct pair of
/// timeouts the SDK asks for, kept for the life of the process.
pub fn sdk_http_client() -> SharedHttpClient {
    SharedHttpClient::new(SdkHttp::default())
}

/// The connect and read timeouts of one connector.
type Timeouts = (Option<Duration>, Option<Duration>);

#[derive(Debug, Default)]
struct SdkHttp {
    connectors: Mutex<Vec<(Timeouts, SharedHttpConnector)>>,
}

impl HttpClient for SdkHttp {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let timeouts = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.connectors.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, connector)) = connectors.iter().find(|(t, _)| *t == timeouts) {
            return connector.clone();
        }
        let connector = SharedHttpConnector::new(Reqwest(client(timeouts)));
        connectors.push((timeouts, connector.clone()));
        connector
    }
}

/// A reqwest client with `timeouts`: plain http allowed (an `AWS_ENDPOINT_URL` such as moto's
/// on loopback), no redirects followed (the SDK handles what AWS answers itself).
fn client((connect, read): Timeouts) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true);
    if let Some(connect) = connect {
        builder = builder.connect_timeout(connect);
    }
    if let Some(read) = read {
        builder = builder.read_timeout(read);
    }
    builder
        .build()
        .expect("the SDK's HTTP client configuration is valid")
}

#[derive(Debug)]
struct Reqwest(reqwest::Client);

impl HttpConnector for Reqwest {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.0.clone();
        HttpConnectorFuture::new(async move {
            let request = into_reqwest(request)?;
            let response = client.execute(request).await.map_err(connector_error)?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(connector_error)?;
            let mut answer = http::Response::new(SdkBody::from(body));
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            HttpResponse::try_from(answer).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// The SDK's request as reqwest's. Every call cartlink makes (DynamoDB, KMS, SES, SQS, SSM)
/// has its body in memory; a streaming body is refused rather than read whole.
fn into_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request
        .try_into_http1x()
        .map_err(|e| ConnectorError::user(e.into()))?;
    let (parts, body) = request.into_parts();
    let body = body
        .bytes()
        .map(bytes::Bytes::copy_from_slice)
        .ok_or_else(|| ConnectorError::user("a streaming request body is not supported".into()))?;
    reqwest::Request::try_from(http::Request::from_parts(parts, body))
        .map_err(|e| ConnectorError::user(e.into()))
}

/// How the SDK's retries see a failed request: timeouts and failures to connect or send as
/// transient, anything else as other.
fn connector_error(e: reqwest::Error) -> ConnectorError {
    if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else if e.is_connect() || e.is_request() || e.is_body() {
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}
