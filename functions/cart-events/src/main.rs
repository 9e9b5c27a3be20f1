use shared::service::Services;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let services = Services::for_lambda().await?;
    shared::lambda::run_http(|req| cart_events::handle(&services, req)).await
}
