//! The `Idempotency-Key` layer around every POST route of this function: the router hands it
//! any POST that carries the header, whatever its route, so a POST route added later gets it by
//! being routed.

use std::future::Future;
use std::sync::Mutex;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use shared::domain::Warehouse;
use shared::service::idempotency::{
    Answer, CanonicalRequest, IdempotencyError, Idempotent, RequestSeed,
};
use shared::service::Services;
use shared::web::{Request, Response};

use crate::ApiError;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The header on a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";

/// Serves `req` through `serve` once per `warehouse` and key: see
/// [`Services::idempotent`]. A replay is the kept answer with `Idempotent-Replayed: true`.
pub async fn run<F, Fut>(
    svc: &Services,
    warehouse: &Warehouse,
    req: &Request,
    key: &HeaderValue,
    serve: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(Option<RequestSeed>) -> Fut,
    Fut: Future<Output = Result<Response, ApiError>>,
{
    // A header value that is not visible ASCII is refused as the service refuses a bad key.
    let raw = key.to_str().unwrap_or("\u{0}");
    let request = CanonicalRequest {
        method: req.method.as_str(),
        path: &req.path,
        body: &req.body,
    };
    // The fresh answer goes out as made, with all its headers; the key keeps its status,
    // type and body.
    let fresh: Mutex<Option<Response>> = Mutex::new(None);
    let outcome = svc
        .idempotent(&warehouse.id, raw, request, |seed| async {
            let resp = serve(Some(seed))
                .await
                .unwrap_or_else(ApiError::into_response);
            let answer = to_answer(&resp);
            if let Ok(mut slot) = fresh.lock() {
                *slot = Some(resp);
            }
            answer
        })
        .await;
    match outcome {
        Ok(Idempotent::Ran(answer)) => Ok(fresh
            .into_inner()
            .ok()
            .flatten()
            .unwrap_or_else(|| replay(answer))),
        Ok(Idempotent::Replayed(answer)) => Ok(replay(answer)),
        Err(IdempotencyError::InvalidKey) => Err(ApiError::InvalidIdempotencyKey),
        Err(IdempotencyError::Mismatch) => Err(ApiError::IdempotencyMismatch),
        Err(IdempotencyError::InProgress { retry_after_secs }) => {
            Err(ApiError::IdempotencyInProgress { retry_after_secs })
        }
        Err(IdempotencyError::Unavailable) => Err(ApiError::Unavailable),
    }
}

fn to_answer(resp: &Response) -> Answer {
    Answer {
        status: resp.status().as_u16(),
        content_type: resp
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned(),
        body: resp.body().to_vec(),
    }
}

/// A kept answer as a response: its status, type and body, the headers of every JSON answer,
/// and `Idempotent-Replayed: true`.
fn replay(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = shared::web::json(status, &());
    *resp.body_mut() = Bytes::from(answer.body);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&answer.content_type) {
        h.insert(http::header::CONTENT_TYPE, v);
    }
    h.insert(REPLAYED, HeaderValue::from_static("true"));
    resp
}
