use confirmation::{handle, InviteAuthorized};
use lambda_runtime::{service_fn, LambdaEvent};
use shared::service::Services;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let services = Services::from_env()?;
    let services = &services;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<InviteAuthorized>| async move {
        handle(services, event.payload).await
    }))
    .await
}
