use serde_json::json;

use super::*;

fn problem(status: u16, code: &str, retry_after: Option<u64>) -> Failure {
    Failure::Problem {
        status,
        code: code.into(),
        title: "Title".into(),
        detail: "Detail.".into(),
        retry_after,
    }
}

/// Every problem type docs/api.md lists in its table of problems (a row may name several:
/// "`urn:cartlink:problem:not-found`, `method-not-allowed`").
fn documented_problem_types() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md"))
        .expect("docs/api.md");
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `urn:cartlink:problem:"))
        .flat_map(|l| {
            let first_cell = l.split('|').next().unwrap_or_default();
            first_cell
                .split(',')
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect::<Vec<_>>()
        })
        .map(|c| c.trim_start_matches("urn:cartlink:problem:").to_owned())
        .collect()
}

#[test]
fn a_list_of_invites_is_a_table_with_its_next_cursor() {
    // GIVEN a page of two invites, one connected, and a next cursor
    let page = json!({"data": [
        {"id": "inv-1", "status": "emailed", "cart": "shopify", "merchant_email": "a@shop.test",
         "expires_at": "2026-12-01T00:00:00Z", "connection": null},
        {"id": "inv-22", "status": "confirmed", "cart": "acme", "merchant_email": "b@shop.test",
         "expires_at": "2026-12-02T00:00:00Z", "connection": {"id": "con-9"}}
    ], "next_cursor": "c2"});
    // WHEN it is rendered
    let out = render(View::Invites, &page);
    // THEN a header, one aligned row per invite, and the cursor
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["ID", "STATUS", "CART", "MERCHANT", "EXPIRES", "CONNECTION"]
    );
    assert!(
        lines[1].starts_with("inv-1   emailed  ") && lines[1].ends_with('-'),
        "{out}"
    );
    assert!(
        lines[2].starts_with("inv-22  confirmed") && lines[2].ends_with("con-9"),
        "{out}"
    );
    assert_eq!(lines[3], "next cursor: c2  (or --all)");
}

#[test]
fn an_empty_list_says_none() {
    assert_eq!(
        render(View::Connections, &json!({"data": [], "next_cursor": null})),
        "(none)\n"
    );
}

#[test]
fn a_created_invite_shows_its_id_status_and_link_first() {
    // GIVEN a 201 answer
    let created = json!({"access_code_hint": "…7Q2F", "expires_at": "2026-12-14T00:00:00Z",
        "id": "inv-1", "setup_url": "http://127.0.0.1:3000/setup/t", "status": "emailed"});
    // WHEN it is rendered
    let out = render(View::Created, &created);
    // THEN one field per line, id, status and link first
    let keys: Vec<&str> = out
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "status",
            "setup_url",
            "access_code_hint",
            "expires_at"
        ]
    );
    assert!(
        out.contains("setup_url         http://127.0.0.1:3000/setup/t"),
        "{out}"
    );
}

#[test]
fn a_record_flattens_nested_objects_and_lists() {
    // GIVEN an invite with its connection
    let v = json!({"id": "inv-1", "functions": ["orders", "inventory"],
                   "connection": {"id": "con-1", "scopes": ["a", "b"]}});
    // THEN nested fields are dotted and lists joined
    let out = render(View::Record, &v);
    assert!(out.contains("connection.id      con-1"), "{out}");
    assert!(out.contains("connection.scopes  a, b"), "{out}");
    assert!(
        out.contains("functions          orders, inventory"),
        "{out}"
    );
    // AND an empty answer reads as done
    assert_eq!(render(View::Record, &Value::Null), "done\n");
}

#[test]
fn events_show_time_type_and_the_other_fields() {
    let v = json!({"data": [{"type": "failed", "at": "2026-12-01T10:00:00Z", "reason": "denied"}]});
    let out = render(View::Events, &v);
    assert_eq!(
        out.lines().nth(1).unwrap(),
        "2026-12-01T10:00:00Z  failed  reason=denied"
    );
}

#[test]
fn carts_show_whether_enabled_and_their_store_input() {
    let v = json!({"carts": [{"id": "shopify", "name": "Shopify", "flavour": "popup_oauth",
        "enabled": false, "functions": ["orders"], "inputs": [{"key": "shop"}]}]});
    let out = render(View::Carts, &v);
    assert_eq!(
        out.lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["shopify", "Shopify", "popup_oauth", "no", "orders", "shop"]
    );
}

#[test]
fn every_problem_type_prints_its_title_detail_and_what_to_do() {
    // GIVEN each problem type docs/api.md lists
    let codes = documented_problem_types();
    assert!(
        codes.len() >= 18 && codes.contains(&"method-not-allowed".to_owned()),
        "{codes:?}"
    );
    for code in &codes {
        // WHEN it is printed
        let out = message(&problem(422, code, None));
        // THEN the title, status, type and detail, and a hint of its own
        assert!(
            out.starts_with(&format!("error: Title (422 {code}): Detail.\n")),
            "{out}"
        );
        assert!(out.contains("\nhint: "), "{code} has no hint");
    }
}

#[test]
fn an_unknown_problem_type_still_prints_its_title_and_detail() {
    let out = message(&problem(409, "something-new", None));
    assert_eq!(out, "error: Title (409 something-new): Detail.\n");
}

#[test]
fn a_wait_is_printed_and_the_exit_code_says_retry() {
    // GIVEN a 429 with Retry-After
    let f = problem(429, "rate-limited", Some(3000));
    // THEN the wait is printed and the exit code is RETRY
    assert!(message(&f).ends_with("retry after 3000 s\n"));
    assert_eq!(exit_code(&f), exit::RETRY);
}

#[test]
fn exit_codes_tell_refused_retry_config_and_network_apart() {
    assert_eq!(exit_code(&problem(404, "not-found", None)), exit::REFUSED);
    assert_eq!(
        exit_code(&problem(422, "idempotency-mismatch", None)),
        exit::REFUSED
    );
    assert_eq!(
        exit_code(&problem(409, "idempotency-in-progress", Some(1))),
        exit::RETRY
    );
    assert_eq!(
        exit_code(&problem(503, "unavailable", Some(2))),
        exit::RETRY
    );
    assert_eq!(exit_code(&Failure::Config("x".into())), exit::CONFIG);
    assert_eq!(exit_code(&Failure::Network("x".into())), exit::NETWORK);
    let html = Failure::Unexpected {
        status: 502,
        body: "<html>".into(),
    };
    assert_eq!(exit_code(&html), exit::RETRY);
    assert!(message(&html).contains("unexpected answer 502"));
}

#[test]
fn a_problem_answer_is_read_from_its_json_and_retry_after() {
    // GIVEN a problem+json body with Retry-After
    let body = r#"{"type":"urn:cartlink:problem:idempotency-in-progress","title":"Request in progress","status":409,"detail":"Wait."}"#;
    let header = reqwest::header::HeaderValue::from_static("2");
    // WHEN it is read
    let f = crate::api::failure_of(409, Some(&header), body);
    // THEN its code, title, detail and wait
    assert_eq!(
        f,
        Failure::Problem {
            status: 409,
            code: "idempotency-in-progress".into(),
            title: "Request in progress".into(),
            detail: "Wait.".into(),
            retry_after: Some(2),
        }
    );
    // AND a body that is not a problem is unexpected, cut short
    let long = "x".repeat(500);
    assert!(matches!(crate::api::failure_of(502, None, &long),
        Failure::Unexpected { status: 502, body } if body.len() == 200));
}

#[test]
fn the_settings_need_a_url_and_a_key() {
    use crate::api::Settings;
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    // GIVEN neither, a bad URL, or no key THEN a configuration failure naming the variable
    for (vars, names) in [
        (&[][..], "CARTLINK_URL"),
        (
            &[("CARTLINK_URL", "ftp://x"), ("CARTLINK_API_KEY", "k")][..],
            "CARTLINK_URL",
        ),
        (
            &[("CARTLINK_URL", "http://127.0.0.1:3000")][..],
            "CARTLINK_API_KEY",
        ),
    ] {
        match Settings::from_env(&env(vars), false) {
            Err(Failure::Config(m)) => assert!(m.contains(names), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    // AND both give settings without a trailing slash
    let ok = Settings::from_env(
        &env(&[("CARTLINK_URL", "http://h:1/"), ("CARTLINK_API_KEY", "k")]),
        false,
    );
    assert_eq!(ok.unwrap().url, "http://h:1");
}

#[test]
fn an_admin_command_sends_the_admin_key_and_needs_it() {
    use crate::api::Settings;
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    // GIVEN both keys set, and only the warehouse's
    let both = env(&[
        ("CARTLINK_URL", "http://h:1"),
        ("CARTLINK_API_KEY", "warehouse-key"),
        ("CARTLINK_ADMIN_KEY", "admin-key"),
    ]);
    let warehouse_only = env(&[("CARTLINK_URL", "http://h:1"), ("CARTLINK_API_KEY", "k")]);
    // THEN an admin command sends the admin key, and without it is a configuration failure
    assert_eq!(
        Settings::from_env(&both, true).unwrap().api_key,
        "admin-key"
    );
    assert_eq!(
        Settings::from_env(&both, false).unwrap().api_key,
        "warehouse-key"
    );
    match Settings::from_env(&warehouse_only, true) {
        Err(Failure::Config(m)) => assert!(m.contains("CARTLINK_ADMIN_KEY"), "{m}"),
        other => panic!("{other:?}"),
    }
}
