//! `cartlink cart-apps …`: the warehouse's own app at a cart (`/v1/cart-apps`). The client
//! secret is read from the environment variable `--client-secret-env` names, never from the
//! command line (where other users of the machine could read it).

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{json, Map, Value};

use crate::args::{call, segment, Body, Call, View};

fn cart_arg() -> Arg {
    Arg::new("cart").required(true).help("the cart's id")
}

fn opt(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).value_name("VALUE").help(help)
}

/// The `cart-apps` subcommand.
pub fn command() -> Command {
    Command::new("cart-apps")
        .about("The warehouse's own app at a cart: put, list, show, delete")
        .subcommand_required(true)
        .subcommand(
            Command::new("put")
                .about("Register (or replace) your app at a cart; invites made from now on go through it")
                .arg(cart_arg())
                .arg(opt("client-id", "the app's client id").required(true))
                .arg(opt(
                    "client-secret-env",
                    "the environment variable holding the app's client secret",
                ))
                .arg(opt("app-id", "the app id, where the cart needs one (Amazon)"))
                .arg(opt("ru-name", "the RuName, where the cart needs one (eBay)"))
                .arg(
                    Arg::new("draft")
                        .long("draft")
                        .action(ArgAction::SetTrue)
                        .help("an unpublished draft app (Amazon: version=beta)"),
                ),
        )
        .subcommand(Command::new("list").about("List your apps"))
        .subcommand(
            Command::new("show")
                .about("Show your app at a cart (never its secret)")
                .arg(cart_arg()),
        )
        .subcommand(
            Command::new("delete")
                .about("Remove your app at a cart")
                .arg(cart_arg()),
        )
}

fn value(m: &ArgMatches, name: &str) -> Option<String> {
    m.get_one::<String>(name).cloned()
}

fn path(m: &ArgMatches) -> String {
    format!(
        "/v1/cart-apps/{}",
        segment(&value(m, "cart").unwrap_or_default())
    )
}

/// The call a `cart-apps` subcommand asks for.
pub fn invocation(m: &ArgMatches) -> Result<Call, String> {
    let (name, sub) = m.subcommand().ok_or("cart-apps: which subcommand?")?;
    Ok(match name {
        "put" => {
            let mut body = Map::new();
            body.insert("client_id".into(), json!(value(sub, "client-id")));
            for (arg, field) in [("app-id", "app_id"), ("ru-name", "ru_name")] {
                if let Some(v) = value(sub, arg) {
                    body.insert(field.into(), json!(v));
                }
            }
            if sub.get_flag("draft") {
                body.insert("draft".into(), json!(true));
            }
            let mut c = call("PUT", path(sub), View::Record);
            c.body = Some(Body::Json(Value::Object(body)));
            c.secret_from_env = value(sub, "client-secret-env");
            c
        }
        "list" => call("GET", "/v1/cart-apps".into(), View::CartApps),
        "show" => call("GET", path(sub), View::Record),
        "delete" => call("DELETE", path(sub), View::Record),
        other => return Err(format!("cart-apps {other}: unknown subcommand")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Call {
        let m = crate::args::command()
            .try_get_matches_from(std::iter::once("cartlink").chain(args.iter().copied()))
            .unwrap();
        crate::args::invocation(&m).unwrap().call
    }

    #[test]
    fn every_cart_apps_subcommand_names_its_route() {
        // GIVEN each cart-apps subcommand THEN its method and path
        for (args, method, route) in [
            (&["cart-apps", "list"][..], "GET", "/v1/cart-apps"),
            (
                &["cart-apps", "show", "shopify"],
                "GET",
                "/v1/cart-apps/shopify",
            ),
            (
                &["cart-apps", "delete", "shopify"],
                "DELETE",
                "/v1/cart-apps/shopify",
            ),
            (
                &["cart-apps", "put", "shopify", "--client-id", "a"],
                "PUT",
                "/v1/cart-apps/shopify",
            ),
        ] {
            let c = parse(args);
            assert_eq!((c.method, c.path.as_str()), (method, route), "{args:?}");
        }
    }

    #[test]
    fn a_put_names_the_secrets_variable_and_never_holds_the_secret() {
        // GIVEN a put with a secret in an environment variable
        let c = parse(&[
            "cart-apps",
            "put",
            "ebay",
            "--client-id",
            "app",
            "--client-secret-env",
            "EBAY_SECRET",
            "--ru-name",
            "Ru-Name",
        ]);
        // THEN the call names the variable, and its body has the other fields but no secret
        assert_eq!(c.secret_from_env.as_deref(), Some("EBAY_SECRET"));
        let Some(Body::Json(body)) = c.body else {
            panic!("a JSON body");
        };
        assert_eq!(body, json!({"client_id": "app", "ru_name": "Ru-Name"}));
    }
}
