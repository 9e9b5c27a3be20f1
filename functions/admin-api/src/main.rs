use shared::service::Services;

/// API Gateway lets a request reach this function only with a SigV4 signature of an IAM
/// principal allowed to invoke its route (`AWS_IAM` on `/admin/{proxy+}` in the template).
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let services = Services::for_lambda().await?;
    shared::lambda::run_http(|req| admin_api::handle(&services, req)).await
}
