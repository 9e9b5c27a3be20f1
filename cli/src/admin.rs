//! `cartlink admin …`: the operator's commands on the admin API (`/admin/v1/`), sent with the
//! admin credential (`CARTLINK_ADMIN_KEY`) instead of a warehouse's key.

use clap::{Arg, ArgMatches, Command};
use serde_json::{json, Map, Value};

use crate::args::{Body, Call, View};

fn id_arg(name: &'static str, what: &'static str) -> Arg {
    Arg::new(name).required(true).help(what)
}

fn opt(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).value_name("VALUE").help(help)
}

/// The `admin` subcommand.
pub fn command() -> Command {
    let warehouses = Command::new("warehouses")
        .about("Warehouses kept as data: create, list, show, disable")
        .subcommand_required(true)
        .subcommand(
            Command::new("create")
                .about("Create a warehouse")
                .arg(opt("id", "its id: ^[a-z0-9-]{1,64}$").required(true))
                .arg(opt("name", "the name merchants see").required(true))
                .arg(opt("notify-email", "where its confirmations go").required(true)),
        )
        .subcommand(Command::new("list").about("List the stored warehouses"))
        .subcommand(
            Command::new("show")
                .about("Show a warehouse")
                .arg(id_arg("warehouse", "warehouse id")),
        )
        .subcommand(
            Command::new("disable")
                .about("Stop its keys and withdraw its pending invites")
                .arg(id_arg("warehouse", "warehouse id")),
        )
        .subcommand(
            Command::new("brand")
                .about("Set its accent colour, support address and privacy-policy URL (each left out is cleared)")
                .arg(id_arg("warehouse", "warehouse id"))
                .arg(opt("accent", "#rrggbb, dark enough for white text (WCAG AA)"))
                .arg(opt("support-email", "the Reply-To of emails to its merchants"))
                .arg(opt("privacy-url", "its privacy policy (https)")),
        )
        .subcommand(
            Command::new("logo")
                .about("Upload its logo: a PNG or WebP file of at most 64 KiB")
                .arg(id_arg("warehouse", "warehouse id"))
                .arg(id_arg("file", "the image file")),
        );
    let keys = Command::new("keys")
        .about("A warehouse's API keys: create (shown once), list, revoke")
        .subcommand_required(true)
        .subcommand(
            Command::new("create")
                .about("Mint an API key; it is shown once")
                .arg(id_arg("warehouse", "warehouse id"))
                .arg(opt("name", "a name for the key")),
        )
        .subcommand(
            Command::new("list")
                .about("List a warehouse's keys (never the keys themselves)")
                .arg(id_arg("warehouse", "warehouse id")),
        )
        .subcommand(
            Command::new("revoke")
                .about("Revoke a key: its next call answers 401")
                .arg(id_arg("warehouse", "warehouse id"))
                .arg(id_arg("key", "key id (key-…)")),
        );
    Command::new("admin")
        .about("Operator commands on the admin API (CARTLINK_URL, CARTLINK_ADMIN_KEY)")
        .subcommand_required(true)
        .subcommand(warehouses)
        .subcommand(keys)
}

fn value(m: &ArgMatches, name: &str) -> Option<String> {
    m.get_one::<String>(name).cloned()
}

fn admin_call(method: &'static str, path: String, view: View) -> Call {
    let mut c = crate::args::call(method, path, view);
    c.admin = true;
    c
}

fn warehouse_path(m: &ArgMatches, rest: &str) -> String {
    let id = crate::args::segment(&value(m, "warehouse").unwrap_or_default());
    format!("/admin/v1/warehouses/{id}{rest}")
}

fn with_json(mut c: Call, body: Value) -> Call {
    c.body = Some(Body::Json(body));
    c
}

fn warehouses(name: &str, sub: &ArgMatches) -> Result<Call, String> {
    Ok(match name {
        "create" => with_json(
            admin_call("POST", "/admin/v1/warehouses".into(), View::Record),
            json!({
                "id": value(sub, "id"),
                "display_name": value(sub, "name"),
                "notify_email": value(sub, "notify-email"),
            }),
        ),
        "list" => admin_call("GET", "/admin/v1/warehouses".into(), View::Warehouses),
        "show" => admin_call("GET", warehouse_path(sub, ""), View::Record),
        "disable" => with_json(
            admin_call("POST", warehouse_path(sub, "/disable"), View::Record),
            json!({}),
        ),
        "brand" => {
            let mut body = Map::new();
            for (arg, field) in [
                ("accent", "accent"),
                ("support-email", "support_email"),
                ("privacy-url", "privacy_url"),
            ] {
                if let Some(v) = value(sub, arg) {
                    body.insert(field.into(), json!(v));
                }
            }
            with_json(
                admin_call("PUT", warehouse_path(sub, "/branding"), View::Record),
                Value::Object(body),
            )
        }
        "logo" => {
            let file = value(sub, "file").unwrap_or_default();
            let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {file}: {e}"))?;
            let mut c = admin_call("PUT", warehouse_path(sub, "/logo"), View::Record);
            c.body = Some(Body::Bytes(bytes));
            c
        }
        other => return Err(format!("admin warehouses {other}: unknown subcommand")),
    })
}

fn keys(name: &str, sub: &ArgMatches) -> Result<Call, String> {
    Ok(match name {
        "create" => with_json(
            admin_call("POST", warehouse_path(sub, "/keys"), View::Record),
            json!({ "name": value(sub, "name").unwrap_or_default() }),
        ),
        "list" => admin_call("GET", warehouse_path(sub, "/keys"), View::Keys),
        "revoke" => {
            let key = crate::args::segment(&value(sub, "key").unwrap_or_default());
            admin_call(
                "DELETE",
                warehouse_path(sub, &format!("/keys/{key}")),
                View::Record,
            )
        }
        other => return Err(format!("admin keys {other}: unknown subcommand")),
    })
}

/// The call `admin …` asks for.
pub fn invocation(m: &ArgMatches) -> Result<Call, String> {
    let (group, m) = m.subcommand().ok_or("admin: which subcommand?")?;
    let (name, sub) = m
        .subcommand()
        .ok_or_else(|| format!("admin {group}: which subcommand?"))?;
    match group {
        "warehouses" => warehouses(name, sub),
        "keys" => keys(name, sub),
        other => Err(format!("admin {other}: unknown subcommand")),
    }
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
    fn admin_commands_are_admin_calls_of_their_routes() {
        // GIVEN admin command lines  THEN each is its route, sent with the admin credential
        let create = parse(&[
            "admin",
            "warehouses",
            "create",
            "--id",
            "wh-a",
            "--name",
            "A",
            "--notify-email",
            "ops@a.test",
        ]);
        assert!(create.admin);
        assert_eq!(
            (create.method, create.path.as_str()),
            ("POST", "/admin/v1/warehouses")
        );
        assert_eq!(
            create.body,
            Some(Body::Json(
                json!({"id": "wh-a", "display_name": "A", "notify_email": "ops@a.test"})
            ))
        );
        let revoke = parse(&["admin", "keys", "revoke", "wh-a", "key-1 x"]);
        assert_eq!(
            (revoke.method, revoke.path.as_str()),
            ("DELETE", "/admin/v1/warehouses/wh-a/keys/key-1%20x")
        );
        let brand = parse(&[
            "admin",
            "warehouses",
            "brand",
            "wh-a",
            "--accent",
            "#123456",
        ]);
        assert_eq!(brand.body, Some(Body::Json(json!({"accent": "#123456"}))));
        // AND a warehouse command is not an admin call
        assert!(!parse(&["carts"]).admin);
    }

    #[test]
    fn a_logo_file_that_cannot_be_read_is_a_usage_error() {
        // GIVEN a logo upload of a missing file
        let m = crate::args::command()
            .try_get_matches_from([
                "cartlink",
                "admin",
                "warehouses",
                "logo",
                "wh-a",
                "/no/such.png",
            ])
            .unwrap();
        // THEN the command line is refused, naming the file
        let err = crate::args::invocation(&m).unwrap_err();
        assert!(err.contains("/no/such.png"), "{err}");
    }
}
