//! A bare baseline of `make bench`'s cold start (bench/cold_start.py): a Lambda function on
//! `lambda_http` alone (API Gateway HTTP API events) that answers every request with a small
//! fixed page. Built with the same profile as the functions.

use lambda_http::{service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|req: Request| async move {
        let page = format!(
            "<!doctype html><title>Not found</title><p>{}</p>",
            req.uri().path().len()
        );
        Response::builder()
            .status(404)
            .header("content-type", "text/html; charset=utf-8")
            .body(Body::from(page))
            .map_err(Error::from)
    }))
    .await
}
