//! `cartlink`: the warehouse API from the command line. `args` reads the command line into one
//! API call, `api` makes it, `render` prints the answer or the failure.

pub mod admin;
pub mod api;
pub mod args;
pub mod cart_apps;
pub mod render;
pub mod sigv4;

use serde_json::Value;

/// Runs the command line `argv` with the environment `env`: answers what to print on stdout,
/// on stderr, and the exit code.
pub async fn main_with(
    argv: Vec<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> (String, String, i32) {
    let matches = match args::command().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() {
                render::exit::USAGE
            } else {
                render::exit::OK
            };
            let text = e.render().to_string();
            return if code == render::exit::OK {
                (text, String::new(), code)
            } else {
                (String::new(), text, code)
            };
        }
    };
    let outcome = async {
        let mut invocation = args::invocation(&matches).map_err(api::Failure::Usage)?;
        secret_from_env(&mut invocation.call, env).map_err(api::Failure::Usage)?;
        let settings = api::Settings::from_env(env, invocation.call.admin)?;
        let answer = api::run(&settings, &invocation.call).await?;
        Ok::<_, api::Failure>(if invocation.json {
            json_text(&answer)
        } else {
            render::render(invocation.call.view, &answer)
        })
    }
    .await;
    match outcome {
        Ok(out) => (out, String::new(), render::exit::OK),
        Err(f) => (String::new(), render::message(&f), render::exit_code(&f)),
    }
}

/// Puts the secret of the variable the call names into its JSON body as `client_secret`.
fn secret_from_env(
    call: &mut args::Call,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let Some(var) = &call.secret_from_env else {
        return Ok(());
    };
    let secret = env(var).ok_or_else(|| format!("{var} is not set"))?;
    if let Some(args::Body::Json(Value::Object(body))) = &mut call.body {
        body.insert("client_secret".into(), Value::String(secret));
    }
    Ok(())
}

fn json_text(v: &Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(v).unwrap_or_default())
}
