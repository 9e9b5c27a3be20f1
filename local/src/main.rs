use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    shared::telemetry::init();
    match cartlink_local::run(&|k| std::env::var(k).ok()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cartlink-local: {e}");
            ExitCode::FAILURE
        }
    }
}
