use lambda_runtime::{service_fn, LambdaEvent};
use mail_events::SnsEvent;
use shared::service::Services;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let services = Services::for_lambda().await?;
    let services = &services;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| async move {
        // A failed invocation is retried by Lambda, then dead-lettered (alarmed).
        mail_events::handle_sns(services, event.payload)
            .await
            .map_err(|e| lambda_runtime::Error::from(e.to_string()))
    }))
    .await
}
