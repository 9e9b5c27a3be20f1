//! The command line: every subcommand, and what it asks of the API and how its answer is shown.

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{json, Map, Value};

/// How an answer is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// A made invite: its link and code hint.
    Created,
    /// One invite, one connection, or any one object: a field per line.
    Record,
    /// `{"data": [invites]}`: a table.
    Invites,
    /// `{"data": [connections]}`: a table.
    Connections,
    /// `{"data": [events]}`: a table.
    Events,
    /// `{"carts": [...]}`: a table.
    Carts,
    /// `{"data": [endpoints]}`: a table.
    Endpoints,
    /// `{"data": [deliveries]}`: a table.
    Deliveries,
    /// `{"warehouses": [...]}` (admin): a table.
    Warehouses,
    /// `{"keys": [...]}` (admin): a table.
    Keys,
    /// `{"data": [cart apps]}`: a table.
    CartApps,
}

/// What a call sends as its body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// JSON.
    Json(Value),
    /// A file's bytes (a logo upload), sent as they are.
    Bytes(Vec<u8>),
}

/// One call of the API, as a subcommand asks for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// The path under the base URL, ids percent-encoded.
    pub path: String,
    /// Query pairs (lists).
    pub query: Vec<(String, String)>,
    /// The body (POST, PUT).
    pub body: Option<Body>,
    /// An `Idempotency-Key` to send.
    pub idempotency_key: Option<String>,
    /// Follow `next_cursor` to the end (lists).
    pub all: bool,
    /// How the answer is shown.
    pub view: View,
    /// An admin API call: sent with `CARTLINK_ADMIN_KEY`, not the warehouse's key.
    pub admin: bool,
    /// The environment variable whose value goes into the JSON body as `client_secret` when
    /// the call is made (a secret is never taken from the command line).
    pub secret_from_env: Option<String>,
}

/// The parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    /// The call to make.
    pub call: Call,
    /// Print the API's JSON instead of tables.
    pub json: bool,
}

fn id_arg(what: &'static str) -> Arg {
    Arg::new("id").required(true).help(what)
}

fn opt(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).value_name("VALUE").help(help)
}

fn key_arg() -> Arg {
    opt(
        "idempotency-key",
        "Idempotency-Key: a retry with the same key and request runs once (24 h)",
    )
}

fn list_args(cmd: Command, merchant_email: bool) -> Command {
    let cmd = cmd
        .arg(opt("status", "only this status"))
        .arg(opt("cart", "only this cart"))
        .arg(opt("limit", "page size, 1 to 100 (the API's default: 25)"))
        .arg(opt("cursor", "the next_cursor of an earlier page"))
        .arg(
            Arg::new("all")
                .long("all")
                .action(ArgAction::SetTrue)
                .help("every page, following next_cursor"),
        );
    if merchant_email {
        cmd.arg(opt("merchant-email", "only invites to this address"))
    } else {
        cmd
    }
}

/// The whole command line.
pub fn command() -> Command {
    let invites = Command::new("invites")
        .about("Invites: create, list, show, events, resend, withdraw")
        .subcommand_required(true)
        .subcommand(
            Command::new("create")
                .about("Create an invite and email the merchant")
                .arg(opt("cart", "the cart's id (see `cartlink carts`)").required(true))
                .arg(opt("email", "the merchant's email address").required(true))
                .arg(opt("name", "the merchant's name"))
                .arg(opt(
                    "store",
                    "the store the cart needs (shop domain, store URL, region)",
                ))
                .arg(
                    opt(
                        "function",
                        "orders, inventory or shipments (repeat; default: all)",
                    )
                    .action(ArgAction::Append),
                )
                .arg(opt("expires-in-hours", "1 to 720 (default 336)"))
                .arg(key_arg()),
        )
        .subcommand(list_args(
            Command::new("list").about("List invites, newest first"),
            true,
        ))
        .subcommand(
            Command::new("show")
                .about("Show an invite")
                .arg(id_arg("invite id")),
        )
        .subcommand(
            Command::new("events")
                .about("An invite's history")
                .arg(id_arg("invite id")),
        )
        .subcommand(
            Command::new("resend")
                .about("Email a new link and code; the old ones stop working")
                .arg(id_arg("invite id"))
                .arg(key_arg()),
        )
        .subcommand(
            Command::new("withdraw")
                .about("Withdraw an invite that is not connected")
                .arg(id_arg("invite id")),
        );
    let connections = Command::new("connections")
        .about("Connections: list, show, disconnect, reconnect")
        .subcommand_required(true)
        .subcommand(list_args(
            Command::new("list").about("List connections, newest first"),
            false,
        ))
        .subcommand(
            Command::new("show")
                .about("Show a connection")
                .arg(id_arg("connection id")),
        )
        .subcommand(
            Command::new("disconnect")
                .about("Revoke and delete a connection's tokens")
                .arg(id_arg("connection id")),
        )
        .subcommand(
            Command::new("reconnect")
                .about("Email the merchant a re-authorization invite")
                .arg(id_arg("connection id"))
                .arg(key_arg()),
        );
    Command::new("cartlink")
        .about("The cartlink warehouse API from the command line (CARTLINK_URL, CARTLINK_API_KEY)")
        .subcommand(webhooks_command())
        .subcommand_required(true)
        .arg(
            Arg::new("json")
                .long("json")
                .global(true)
                .action(ArgAction::SetTrue)
                .help("print the API's JSON instead of tables"),
        )
        .subcommand(invites)
        .subcommand(connections)
        .subcommand(Command::new("carts").about("List the carts and whether each is enabled"))
        .subcommand(crate::admin::command())
        .subcommand(crate::cart_apps::command())
}

fn webhooks_command() -> Command {
    let endpoints = Command::new("endpoints")
        .about("Webhook endpoints: create, list, delete, rotate-secret")
        .subcommand_required(true)
        .subcommand(
            Command::new("create")
                .about("Create an endpoint; its signing secret is shown this once")
                .arg(opt("url", "where messages are posted (https)").required(true))
                .arg(
                    opt(
                        "event",
                        "an event type it hears (repeat; default: every type)",
                    )
                    .action(ArgAction::Append),
                )
                .arg(key_arg()),
        )
        .subcommand(Command::new("list").about("List the endpoints"))
        .subcommand(
            Command::new("delete")
                .about("Delete an endpoint")
                .arg(id_arg("endpoint id")),
        )
        .subcommand(
            Command::new("rotate-secret")
                .about("A new signing secret (shown once); the old one signs 24 h more")
                .arg(id_arg("endpoint id"))
                .arg(key_arg()),
        );
    let deliveries = Command::new("deliveries")
        .about("Webhook deliveries: list, retry")
        .subcommand_required(true)
        .subcommand(
            Command::new("list")
                .about("List deliveries with their tries, newest first")
                .arg(opt("status", "pending, delivered or failed"))
                .arg(opt("event", "only this event type"))
                .arg(opt("limit", "page size, 1 to 100 (the API's default: 25)"))
                .arg(opt("cursor", "the next_cursor of an earlier page"))
                .arg(
                    Arg::new("all")
                        .long("all")
                        .action(ArgAction::SetTrue)
                        .help("every page, following next_cursor"),
                ),
        )
        .subcommand(
            Command::new("retry")
                .about("Send a failed delivery again, with the same webhook-id")
                .arg(id_arg("delivery id"))
                .arg(key_arg()),
        );
    Command::new("webhooks")
        .about("Webhooks: endpoints, deliveries, test")
        .subcommand_required(true)
        .subcommand(endpoints)
        .subcommand(deliveries)
        .subcommand(
            Command::new("test")
                .about("Send a webhook.test message to every enabled endpoint")
                .arg(key_arg()),
        )
}

fn webhooks(m: &ArgMatches) -> Result<Call, String> {
    let (name, sub) = m.subcommand().ok_or("webhooks: which subcommand?")?;
    let inner = || {
        sub.subcommand()
            .ok_or(format!("webhooks {name}: which subcommand?"))
    };
    let id = |m: &ArgMatches| segment(m.get_one::<String>("id").map_or("", String::as_str));
    Ok(match name {
        "test" => keyed_post(sub, "/v1/webhooks/test".into()),
        "endpoints" => match inner()? {
            ("create", c) => {
                let mut body = Map::new();
                body.insert("url".into(), json!(value(c, "url")));
                if let Some(events) = c.get_many::<String>("event") {
                    body.insert("events".into(), json!(events.collect::<Vec<_>>()));
                }
                let mut call = keyed_post(c, "/v1/webhooks/endpoints".into());
                call.body = Some(Body::Json(Value::Object(body)));
                call
            }
            ("list", _) => call("GET", "/v1/webhooks/endpoints".into(), View::Endpoints),
            ("delete", c) => call(
                "DELETE",
                format!("/v1/webhooks/endpoints/{}", id(c)),
                View::Record,
            ),
            ("rotate-secret", c) => {
                keyed_post(c, format!("/v1/webhooks/endpoints/{}/rotate-secret", id(c)))
            }
            (other, _) => return Err(format!("webhooks endpoints {other}: unknown subcommand")),
        },
        "deliveries" => match inner()? {
            ("list", c) => list(
                c,
                "/v1/webhooks/deliveries",
                View::Deliveries,
                &["status", "event", "limit", "cursor"],
            ),
            ("retry", c) => keyed_post(c, format!("/v1/webhooks/deliveries/{}/retry", id(c))),
            (other, _) => return Err(format!("webhooks deliveries {other}: unknown subcommand")),
        },
        other => return Err(format!("webhooks {other}: unknown subcommand")),
    })
}

/// Percent-encodes one path segment.
pub(crate) fn segment(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn value(m: &ArgMatches, name: &str) -> Option<String> {
    m.get_one::<String>(name).cloned()
}

/// A call of `method` on `path` with nothing else set.
pub(crate) fn call(method: &'static str, path: String, view: View) -> Call {
    Call {
        method,
        path,
        query: Vec::new(),
        body: None,
        idempotency_key: None,
        all: false,
        view,
        admin: false,
        secret_from_env: None,
    }
}

fn list(m: &ArgMatches, path: &str, view: View, filters: &[&str]) -> Call {
    let mut c = call("GET", path.to_owned(), view);
    for f in filters {
        if let Some(v) = value(m, f) {
            c.query.push((f.replace('-', "_"), v));
        }
    }
    c.all = m.get_flag("all");
    c
}

fn create(m: &ArgMatches) -> Result<Call, String> {
    let mut body = Map::new();
    body.insert("cart".into(), json!(value(m, "cart")));
    body.insert("merchant_email".into(), json!(value(m, "email")));
    for (arg, field) in [("name", "merchant_name"), ("store", "store")] {
        if let Some(v) = value(m, arg) {
            body.insert(field.into(), json!(v));
        }
    }
    if let Some(fs) = m.get_many::<String>("function") {
        body.insert("functions".into(), json!(fs.collect::<Vec<_>>()));
    }
    if let Some(h) = value(m, "expires-in-hours") {
        let hours: u32 = h
            .parse()
            .map_err(|_| format!("--expires-in-hours must be a whole number, not {h:?}"))?;
        body.insert("expires_in_hours".into(), json!(hours));
    }
    let mut c = call("POST", "/v1/invites".into(), View::Created);
    c.body = Some(Body::Json(Value::Object(body)));
    c.idempotency_key = value(m, "idempotency-key");
    Ok(c)
}

fn keyed_post(m: &ArgMatches, path: String) -> Call {
    let mut c = call("POST", path, View::Record);
    c.body = Some(Body::Json(json!({})));
    c.idempotency_key = value(m, "idempotency-key");
    c
}

fn invites(m: &ArgMatches) -> Result<Call, String> {
    let (name, sub) = m.subcommand().ok_or("invites: which subcommand?")?;
    let id = || segment(sub.get_one::<String>("id").map_or("", String::as_str));
    Ok(match name {
        "create" => create(sub)?,
        "list" => list(
            sub,
            "/v1/invites",
            View::Invites,
            &["status", "cart", "merchant-email", "limit", "cursor"],
        ),
        "show" => call("GET", format!("/v1/invites/{}", id()), View::Record),
        "events" => call("GET", format!("/v1/invites/{}/events", id()), View::Events),
        "resend" => keyed_post(sub, format!("/v1/invites/{}/resend", id())),
        "withdraw" => call("DELETE", format!("/v1/invites/{}", id()), View::Record),
        other => return Err(format!("invites {other}: unknown subcommand")),
    })
}

fn connections(m: &ArgMatches) -> Result<Call, String> {
    let (name, sub) = m.subcommand().ok_or("connections: which subcommand?")?;
    let id = || segment(sub.get_one::<String>("id").map_or("", String::as_str));
    Ok(match name {
        "list" => list(
            sub,
            "/v1/connections",
            View::Connections,
            &["status", "cart", "limit", "cursor"],
        ),
        "show" => call("GET", format!("/v1/connections/{}", id()), View::Record),
        "disconnect" => call("DELETE", format!("/v1/connections/{}", id()), View::Record),
        "reconnect" => keyed_post(sub, format!("/v1/connections/{}/reconnect", id())),
        other => return Err(format!("connections {other}: unknown subcommand")),
    })
}

/// The invocation `matches` (of [`command`]) asks for; an error says what is wrong with it.
pub fn invocation(matches: &ArgMatches) -> Result<Invocation, String> {
    let call = match matches.subcommand() {
        Some(("invites", m)) => invites(m)?,
        Some(("connections", m)) => connections(m)?,
        Some(("carts", _)) => call("GET", "/v1/carts".into(), View::Carts),
        Some(("webhooks", m)) => webhooks(m)?,
        Some(("admin", m)) => crate::admin::invocation(m)?,
        Some(("cart-apps", m)) => crate::cart_apps::invocation(m)?,
        _ => {
            return Err(
                "which command? (invites, connections, carts, webhooks, cart-apps, admin)".into(),
            )
        }
    };
    Ok(Invocation {
        call,
        json: matches.get_flag("json"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Invocation {
        let m = command()
            .try_get_matches_from(std::iter::once("cartlink").chain(args.iter().copied()))
            .unwrap();
        invocation(&m).unwrap()
    }

    #[test]
    fn create_sends_the_invite_body_and_the_key() {
        // GIVEN a create with every option
        let inv = parse(&[
            "invites",
            "create",
            "--cart",
            "shopify",
            "--email",
            "m@shop.test",
            "--name",
            "M",
            "--store",
            "m.myshopify.com",
            "--function",
            "orders",
            "--function",
            "inventory",
            "--expires-in-hours",
            "48",
            "--idempotency-key",
            "k-1",
            "--json",
        ]);
        // THEN it is one POST of that body, with the key, shown as JSON
        assert_eq!(
            (inv.call.method, inv.call.path.as_str()),
            ("POST", "/v1/invites")
        );
        assert_eq!(
            inv.call.body.unwrap(),
            Body::Json(
                json!({"cart": "shopify", "merchant_email": "m@shop.test", "merchant_name": "M",
                   "store": "m.myshopify.com", "functions": ["orders", "inventory"],
                   "expires_in_hours": 48})
            )
        );
        assert_eq!(inv.call.idempotency_key.as_deref(), Some("k-1"));
        assert!(inv.json);
    }

    #[test]
    fn lists_send_their_filters_and_ids_are_encoded() {
        // GIVEN a filtered list and a show of an odd id
        let list = parse(&[
            "invites",
            "list",
            "--status",
            "emailed",
            "--merchant-email",
            "a@b.test",
            "--all",
        ]);
        let show = parse(&["connections", "show", "con 1/x"]);
        // THEN the filters are the API's query names, and the id stays one segment
        assert_eq!(
            list.call.query,
            [
                ("status".into(), "emailed".into()),
                ("merchant_email".into(), "a@b.test".into())
            ]
        );
        assert!(list.call.all);
        assert_eq!(show.call.path, "/v1/connections/con%201%2Fx");
    }

    #[test]
    fn every_subcommand_names_its_route() {
        // GIVEN each subcommand THEN its method and path
        let cases: [(&[&str], &str, &str); 9] = [
            (&["invites", "show", "inv-1"], "GET", "/v1/invites/inv-1"),
            (
                &["invites", "events", "inv-1"],
                "GET",
                "/v1/invites/inv-1/events",
            ),
            (
                &["invites", "resend", "inv-1"],
                "POST",
                "/v1/invites/inv-1/resend",
            ),
            (
                &["invites", "withdraw", "inv-1"],
                "DELETE",
                "/v1/invites/inv-1",
            ),
            (&["connections", "list"], "GET", "/v1/connections"),
            (
                &["connections", "show", "con-1"],
                "GET",
                "/v1/connections/con-1",
            ),
            (
                &["connections", "disconnect", "con-1"],
                "DELETE",
                "/v1/connections/con-1",
            ),
            (
                &["connections", "reconnect", "con-1"],
                "POST",
                "/v1/connections/con-1/reconnect",
            ),
            (&["carts"], "GET", "/v1/carts"),
        ];
        for (args, method, path) in cases {
            let inv = parse(args);
            assert_eq!(
                (inv.call.method, inv.call.path.as_str()),
                (method, path),
                "{args:?}"
            );
        }
    }

    #[test]
    fn every_webhooks_subcommand_names_its_route() {
        // GIVEN each webhooks subcommand THEN its method and path
        let cases: [(&[&str], &str, &str); 7] = [
            (
                &[
                    "webhooks",
                    "endpoints",
                    "create",
                    "--url",
                    "https://h.test/in",
                ],
                "POST",
                "/v1/webhooks/endpoints",
            ),
            (
                &["webhooks", "endpoints", "list"],
                "GET",
                "/v1/webhooks/endpoints",
            ),
            (
                &["webhooks", "endpoints", "delete", "whe-1"],
                "DELETE",
                "/v1/webhooks/endpoints/whe-1",
            ),
            (
                &["webhooks", "endpoints", "rotate-secret", "whe-1"],
                "POST",
                "/v1/webhooks/endpoints/whe-1/rotate-secret",
            ),
            (
                &["webhooks", "deliveries", "list"],
                "GET",
                "/v1/webhooks/deliveries",
            ),
            (
                &["webhooks", "deliveries", "retry", "dlv-1"],
                "POST",
                "/v1/webhooks/deliveries/dlv-1/retry",
            ),
            (&["webhooks", "test"], "POST", "/v1/webhooks/test"),
        ];
        for (args, method, path) in cases {
            let inv = parse(args);
            assert_eq!(
                (inv.call.method, inv.call.path.as_str()),
                (method, path),
                "{args:?}"
            );
        }
    }

    #[test]
    fn an_endpoint_is_created_with_its_events() {
        let inv = parse(&[
            "webhooks",
            "endpoints",
            "create",
            "--url",
            "https://h.test/in",
            "--event",
            "connection.authorized",
        ]);
        assert_eq!(
            inv.call.body.unwrap(),
            Body::Json(json!({"url": "https://h.test/in", "events": ["connection.authorized"]}))
        );
    }

    #[test]
    fn a_bad_number_or_a_missing_argument_is_refused() {
        // GIVEN a create whose hours are not a number
        let m = command()
            .try_get_matches_from([
                "cartlink",
                "invites",
                "create",
                "--cart",
                "x",
                "--email",
                "e@x.test",
                "--expires-in-hours",
                "soon",
            ])
            .unwrap();
        // THEN it is refused naming the option
        assert!(invocation(&m).unwrap_err().contains("--expires-in-hours"));
        // AND a show without its id does not parse
        assert!(command()
            .try_get_matches_from(["cartlink", "invites", "show"])
            .is_err());
    }
}
