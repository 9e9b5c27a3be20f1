//! A bare baseline of `make bench`'s cold start (bench/cold_start.py): a Lambda function on
//! `lambda_runtime` alone that answers every JSON event with an empty object. Built with the
//! same profile as the functions, so the ratio of their init times is what cartlink adds.

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async {
        Ok::<_, Error>(serde_json::json!({}))
    }))
    .await
}
