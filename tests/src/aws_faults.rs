//! DynamoDB faults moto never produces, injected on the wire: a `TransactWriteItems` answered
//! "cancelled: TransactionConflict" (another transaction held one of its items) without reaching
//! moto, as DynamoDB answers when two transactions touch one item at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// What the faulty client saw and has left to inject.
#[derive(Debug, Default)]
pub struct TransactionFaults {
    /// The `ClientRequestToken` of every `TransactWriteItems` asked, in order.
    pub tokens: Mutex<Vec<Option<String>>>,
    conflicts_left: AtomicUsize,
}

impl TransactionFaults {
    /// Faults that answer the next `conflicts` transactions with a conflict.
    pub fn conflicts(conflicts: usize) -> Arc<TransactionFaults> {
        Arc::new(TransactionFaults {
            tokens: Mutex::default(),
            conflicts_left: AtomicUsize::new(conflicts),
        })
    }

    /// The SDK's client (recording, see `aws_ops`) with these faults in front of it.
    pub fn client(self: &Arc<Self>) -> SharedHttpClient {
        SharedHttpClient::new(FaultyClient {
            inner: crate::aws_ops::RecordingClient::shared(),
            faults: self.clone(),
        })
    }
}

#[derive(Debug)]
struct FaultyClient {
    inner: SharedHttpClient,
    faults: Arc<TransactionFaults>,
}

impl HttpClient for FaultyClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            inner: self.inner.http_connector(settings, components),
            faults: self.faults.clone(),
        })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    faults: Arc<TransactionFaults>,
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let is_transaction = request
            .headers()
            .get("x-amz-target")
            .is_some_and(|t| t.ends_with(".TransactWriteItems"));
        let body = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            .unwrap_or_default();
        let puts_a_connection = body["TransactItems"].as_array().is_some_and(|items| {
            items.iter().any(|i| {
                i["Put"]["Item"]["pk"]["S"]
                    .as_str()
                    .is_some_and(|pk| pk.starts_with("CON#"))
            })
        });
        if !(is_transaction && puts_a_connection) {
            return self.inner.call(request);
        }
        let token = body["ClientRequestToken"].as_str().map(str::to_owned);
        self.faults.tokens.lock().unwrap().push(token);
        let inject = self
            .faults
            .conflicts_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if inject {
            return HttpConnectorFuture::ready(Ok(conflict()));
        }
        self.inner.call(request)
    }
}

/// DynamoDB's answer to a transaction cancelled by a conflict on its second item.
fn conflict() -> HttpResponse {
    let body = serde_json::json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": "Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict, None]",
        "CancellationReasons": [
            {"Code": "None"},
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
            {"Code": "None"}
        ]
    });
    let mut resp = HttpResponse::new(
        400u16.try_into().expect("a status"),
        SdkBody::from(body.to_string()),
    );
    resp.headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    resp
}

/// Answers every SES `SendEmail` with one error, as SES does (REST-JSON: the error type in
/// `x-amzn-errortype`), counting the tries; anything else goes on to moto.
#[derive(Debug)]
pub struct SesRefusal {
    status: u16,
    error_type: &'static str,
    /// How many times the SDK asked.
    pub tries: AtomicUsize,
}

impl SesRefusal {
    /// A refusal with `status` and SES's `error_type` (`MessageRejected`,
    /// `TooManyRequestsException`).
    pub fn new(status: u16, error_type: &'static str) -> Arc<SesRefusal> {
        Arc::new(SesRefusal {
            status,
            error_type,
            tries: AtomicUsize::new(0),
        })
    }

    /// The SDK's client with this refusal in front of moto.
    pub fn client(self: &Arc<Self>) -> SharedHttpClient {
        SharedHttpClient::new(SesRefusing {
            inner: crate::aws_ops::RecordingClient::shared(),
            refusal: self.clone(),
        })
    }
}

#[derive(Debug)]
struct SesRefusing {
    inner: SharedHttpClient,
    refusal: Arc<SesRefusal>,
}

impl HttpClient for SesRefusing {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(SesRefusingConnector {
            inner: self.inner.http_connector(settings, components),
            refusal: self.refusal.clone(),
        })
    }
}

#[derive(Debug)]
struct SesRefusingConnector {
    inner: SharedHttpConnector,
    refusal: Arc<SesRefusal>,
}

impl HttpConnector for SesRefusingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if !request.uri().contains("/v2/email/outbound-emails") {
            return self.inner.call(request);
        }
        self.refusal.tries.fetch_add(1, Ordering::SeqCst);
        let body = serde_json::json!({"message": "refused by the test"}).to_string();
        let mut resp = HttpResponse::new(
            self.refusal.status.try_into().expect("a status"),
            SdkBody::from(body),
        );
        resp.headers_mut()
            .insert("content-type", "application/json");
        resp.headers_mut()
            .insert("x-amzn-errortype", self.refusal.error_type);
        HttpConnectorFuture::ready(Ok(resp))
    }
}
