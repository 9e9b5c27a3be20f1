use std::io::Write;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (out, err, code) =
        cartlink_cli::main_with(std::env::args().collect(), &|k| std::env::var(k).ok()).await;
    let _ = std::io::stdout().write_all(out.as_bytes());
    let _ = std::io::stderr().write_all(err.as_bytes());
    std::process::exit(code);
}
