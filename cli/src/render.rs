//! What the CLI prints: tables and records for answers, and a message and exit code for every
//! failure (each problem type of the API with what to do about it).

use serde_json::Value;

use crate::api::Failure;
use crate::args::View;

/// Exit codes (documented in `docs/cli.md`).
pub mod exit {
    /// Done.
    pub const OK: i32 = 0;
    /// The API refused the request (a 4xx problem other than the ones to retry).
    pub const REFUSED: i32 = 1;
    /// The command line is wrong.
    pub const USAGE: i32 = 2;
    /// `CARTLINK_URL` or `CARTLINK_API_KEY` is missing or wrong.
    pub const CONFIG: i32 = 3;
    /// cartlink could not be reached.
    pub const NETWORK: i32 = 4;
    /// Try again later: 5xx, 429 `rate-limited`, 409 `idempotency-in-progress`.
    pub const RETRY: i32 = 5;
}

/// A value as one table cell.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The value at a dotted path (`connection.id`).
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(v, |v, k| v.get(k).unwrap_or(&Value::Null))
}

/// Rows under a header, columns aligned; "(none)" when there are no rows.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    if rows.is_empty() {
        return "(none)\n".into();
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.iter().map(|h| h.to_uppercase()).collect());
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

fn columns(items: &[Value], cols: &[(&str, &str)]) -> String {
    let header: Vec<&str> = cols.iter().map(|(h, _)| *h).collect();
    let rows = items
        .iter()
        .map(|item| cols.iter().map(|(_, path)| cell(at(item, path))).collect())
        .collect();
    table(&header, rows)
}

/// Every field of an object, nested objects flattened with dots, one per line.
fn record(v: &Value, first: &[&str]) -> String {
    fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten(&key, v, out);
                }
            }
            other => out.push((prefix.to_owned(), cell(other))),
        }
    }
    let mut fields = Vec::new();
    flatten("", v, &mut fields);
    if fields.len() == 1 && fields[0].0.is_empty() {
        return format!("{}\n", fields[0].1);
    }
    // The fields that matter most first, in their order; the rest as the API sorts them.
    fields.sort_by_key(|(k, _)| first.iter().position(|f| f == k).unwrap_or(first.len()));
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    fields
        .iter()
        .map(|(k, v)| format!("{k:<width$}  {v}\n"))
        .collect()
}

fn next_cursor(v: &Value) -> String {
    match v["next_cursor"].as_str() {
        Some(c) => format!("next cursor: {c}  (or --all)\n"),
        None => String::new(),
    }
}

fn events(items: &[Value]) -> String {
    let rows = items
        .iter()
        .map(|e| {
            let details = e
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| *k != "type" && *k != "at")
                        .map(|(k, v)| format!("{k}={}", cell(v)))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            vec![cell(&e["at"]), cell(&e["type"]), details]
        })
        .collect();
    table(&["at", "event", "details"], rows)
}

fn carts(items: &[Value]) -> String {
    let rows = items
        .iter()
        .map(|c| {
            let inputs: Vec<String> = c["inputs"]
                .as_array()
                .map(|i| i.iter().map(|i| cell(&i["key"])).collect())
                .unwrap_or_default();
            vec![
                cell(&c["id"]),
                cell(&c["name"]),
                cell(&c["flavour"]),
                cell(&c["enabled"]),
                cell(&c["functions"]),
                if inputs.is_empty() {
                    "-".into()
                } else {
                    inputs.join(", ")
                },
            ]
        })
        .collect();
    table(
        &[
            "id",
            "name",
            "flavour",
            "enabled",
            "functions",
            "store input",
        ],
        rows,
    )
}

/// An answer as the view shows it.
pub fn render(view: View, v: &Value) -> String {
    let data = |k: &str| v[k].as_array().cloned().unwrap_or_default();
    match view {
        View::Created => record(
            v,
            &[
                "id",
                "status",
                "setup_url",
                "access_code_hint",
                "expires_at",
                "email_error",
            ],
        ),
        View::Record if v.is_null() => "done\n".into(),
        View::Record => record(
            v,
            &[
                "id",
                "status",
                "cart",
                "merchant_email",
                "expires_at",
                "secret",
            ],
        ),
        View::Invites => {
            let cols = [
                ("id", "id"),
                ("status", "status"),
                ("cart", "cart"),
                ("merchant", "merchant_email"),
                ("expires", "expires_at"),
                ("connection", "connection.id"),
            ];
            columns(&data("data"), &cols) + &next_cursor(v)
        }
        View::Connections => {
            let cols = [
                ("id", "id"),
                ("status", "status"),
                ("cart", "cart"),
                ("account", "account"),
                ("created", "created_at"),
            ];
            columns(&data("data"), &cols) + &next_cursor(v)
        }
        View::Events => events(&data("data")),
        View::Carts => carts(&data("carts")),
        View::CartApps => {
            let cols = [
                ("cart", "cart"),
                ("client id", "client_id"),
                ("secret held", "has_client_secret"),
                ("updated", "updated_at"),
            ];
            columns(&data("data"), &cols)
        }
        View::Endpoints => {
            let cols = [
                ("id", "id"),
                ("status", "status"),
                ("url", "url"),
                ("events", "events"),
                ("created", "created_at"),
            ];
            columns(&data("data"), &cols)
        }
        View::Deliveries => {
            let rows: Vec<Value> = data("data")
                .into_iter()
                .map(|mut d| {
                    let tries = d["tries"].as_array().map_or(0, Vec::len);
                    let last = d["tries"]
                        .as_array()
                        .and_then(|t| t.last())
                        .map(|t| {
                            if t["status_code"].is_null() {
                                t["error"].clone()
                            } else {
                                t["status_code"].clone()
                            }
                        })
                        .unwrap_or(Value::Null);
                    d["tries_count"] = tries.into();
                    d["last"] = last;
                    d
                })
                .collect();
            let cols = [
                ("id", "id"),
                ("event", "event"),
                ("status", "status"),
                ("tries", "tries_count"),
                ("last answer", "last"),
                ("webhook-id", "message_id"),
                ("next try", "next_try_at"),
            ];
            columns(&rows, &cols) + &next_cursor(v)
        }
        View::Warehouses => {
            let cols = [
                ("id", "id"),
                ("name", "display_name"),
                ("disabled", "disabled"),
                ("created", "created_at"),
            ];
            columns(&data("warehouses"), &cols)
        }
        View::Keys => {
            let cols = [
                ("id", "id"),
                ("name", "name"),
                ("prefix", "prefix"),
                ("created", "created_at"),
                ("last used", "last_used_at"),
                ("revoked", "revoked_at"),
            ];
            columns(&data("keys"), &cols)
        }
    }
}

/// What to do about a problem type, where there is more to say than its detail.
fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "unauthorized" => {
            "Check CARTLINK_API_KEY (CARTLINK_ADMIN_KEY for admin commands): it must be a key this cartlink knows."
        }
        "api-key-checksum" => {
            "The key is mistyped or cut short (its checksum does not match): copy CARTLINK_API_KEY again."
        }
        "warehouse-exists" => "Choose another id; `cartlink admin warehouses list` shows the stored ones.",
        "accent-contrast" => "Choose a darker accent: white text on it must reach 4.5:1.",
        "logo-too-large" | "logo-unsupported" | "logo-invalid" => {
            "Upload a PNG or WebP of at most 64 KiB and 256×256 pixels."
        }
        "invalid-json" | "unsupported-media-type" => {
            "The API could not read the request; check the options given."
        }
        "invalid-field" => "Fix the field the detail names.",
        "unknown-cart" => "`cartlink carts` lists the cart ids.",
        "cart-not-enabled" => {
            "This cart has no app credentials configured at this cartlink; `cartlink carts` shows which are enabled."
        }
        "cart-takes-no-app" => {
            "Merchants of this cart authorize without an app; invite them with `cartlink invites create`."
        }
        "store-connected-elsewhere" => {
            "Register your own app for this cart (`cartlink cart-apps put <cart> --client-id … --client-secret-env …`) and invite again."
        }
        "too-large" => "The request is over 16 KiB.",
        "not-found" => "No such invite or connection of your warehouse.",
        "method-not-allowed" => "This cartlink does not serve that command.",
        "unavailable" => "cartlink's store, key or mail service failed; nothing changed. Try again.",
        "already-connected" => {
            "The merchant connected through this invite; use `cartlink connections disconnect` to drop the connection."
        }
        "needs-reauthorization" => {
            "The cart refused the connection's grant; the merchant was emailed a reconnect invite (`cartlink connections reconnect <id>` shows it again)."
        }
        "cart-unavailable" => "The cart did not answer; the stored tokens are unchanged. Try again.",
        "refresh-in-progress" => "Another refresh of this connection is running. Try again.",
        "invalid-idempotency-key" => "Use 1 to 255 printable ASCII characters.",
        "idempotency-mismatch" => {
            "That key was used for another request in the last 24 hours; use a new key for a new request."
        }
        "idempotency-in-progress" => {
            "The first request with that key is still running; retry with the same key shortly."
        }
        "rate-limited" => "A limit on invites or emails is reached.",
        "invite-withdrawn" | "invite-undeliverable" | "invite-expired" => {
            "This invite cannot be resent; `cartlink invites create` makes a new one."
        }
        "connection-disconnected" | "reconnect-limit" => {
            "This connection cannot be renewed; `cartlink invites create` makes a new invite."
        }
        "resend-conflict" => {
            "Another resend of this invite ran at the same time; its email carries the working link and code."
        }
        "too-many-endpoints" => {
            "`cartlink webhooks endpoints list` shows them; delete one you no longer use."
        }
        "no-webhook-endpoint" => {
            "`cartlink webhooks endpoints create --url <https url>` makes one."
        }
        "delivery-not-retryable" => {
            "Only failed deliveries can be retried; `cartlink webhooks deliveries list --status failed` lists them."
        }
        "changed-meanwhile" => "Another change ran at the same time; look again and repeat if still needed.",
        _ => return None,
    })
}

/// The message a failure is printed as (on stderr).
pub fn message(f: &Failure) -> String {
    match f {
        Failure::Config(m) | Failure::Usage(m) => format!("error: {m}\n"),
        Failure::Network(m) => format!("error: {m}\n"),
        Failure::Problem {
            status,
            code,
            title,
            detail,
            retry_after,
        } => {
            let mut out = format!("error: {title} ({status} {code})");
            if !detail.is_empty() {
                out.push_str(&format!(": {detail}"));
            }
            out.push('\n');
            if let Some(h) = hint(code) {
                out.push_str(&format!("hint: {h}\n"));
            }
            if let Some(secs) = retry_after {
                out.push_str(&format!("retry after {secs} s\n"));
            }
            out
        }
        Failure::Unexpected { status, body } => {
            format!("error: unexpected answer {status} from cartlink: {body}\n")
        }
    }
}

/// The exit code of a failure.
pub fn exit_code(f: &Failure) -> i32 {
    match f {
        Failure::Config(_) => exit::CONFIG,
        Failure::Usage(_) => exit::USAGE,
        Failure::Network(_) => exit::NETWORK,
        Failure::Problem { status, code, .. } => {
            if *status >= 500 || *status == 429 || code == "idempotency-in-progress" {
                exit::RETRY
            } else {
                exit::REFUSED
            }
        }
        Failure::Unexpected { status, .. } if *status >= 500 => exit::RETRY,
        Failure::Unexpected { .. } => exit::REFUSED,
    }
}

#[cfg(test)]
mod tests;
