use lambda_runtime::{service_fn, LambdaEvent};
use shared::service::Services;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let services = Services::for_lambda().await?;
    let services = &services;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            care::handle_scheduled(services, event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}
