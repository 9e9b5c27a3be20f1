//! The bare baseline of `make bench` (bench/bench.sh): an axum server with nothing but a route
//! shaped like the grant page's, `GET /setup/{token}`, answering a small fixed page. Built with
//! the same profile as `cartlink-local`, so the ratio of their rates is what cartlink adds.
//! `BARE_LISTEN` is its address (default `127.0.0.1:3999`); `BARE_PAGE_BYTES`, if set, pads the
//! page to that many bytes, so that a run can set it to the size of cartlink's grant page and
//! compare the work per request without the bytes on the wire (on loopback, the kernel hands a
//! response to the reader inside the writer's `writev`: a 5 KB page costs the server more than
//! a 60-byte one before any of its own work).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use axum::Router;

async fn setup(State(pad): State<Arc<str>>, Path(token): Path<String>) -> Html<String> {
    Html(format!(
        "<!doctype html><title>Connect</title><p>{} characters</p>{pad}",
        token.len()
    ))
}

#[tokio::main]
async fn main() {
    let listen = std::env::var("BARE_LISTEN").unwrap_or_else(|_| "127.0.0.1:3999".into());
    let bytes: usize = std::env::var("BARE_PAGE_BYTES")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    // The fixed part of the page is about 60 bytes; the padding makes up the rest.
    let pad: Arc<str> = "x".repeat(bytes.saturating_sub(60)).into();
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .expect("the bench's address is free");
    let app = Router::new()
        .route("/setup/{token}", get(setup))
        .with_state(pad);
    axum::serve(listener, app)
        .await
        .expect("serves until killed");
}
