//! The bare baseline of `make bench` (bench/bench.sh): an axum server with nothing but a route
//! shaped like the grant page's, `GET /setup/{token}`, answering a small fixed page. Built with
//! the same profile as `cartlink-local`, so the ratio of their rates is what cartlink adds.
//! `BARE_LISTEN` is its address (default `127.0.0.1:3999`).

use axum::extract::Path;
use axum::response::Html;
use axum::routing::get;
use axum::Router;

async fn setup(Path(token): Path<String>) -> Html<String> {
    Html(format!(
        "<!doctype html><title>Connect</title><p>{} characters</p>",
        token.len()
    ))
}

#[tokio::main]
async fn main() {
    let listen = std::env::var("BARE_LISTEN").unwrap_or_else(|_| "127.0.0.1:3999".into());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .expect("the bench's address is free");
    axum::serve(listener, Router::new().route("/setup/{token}", get(setup)))
        .await
        .expect("serves until killed");
}
