//! Warehouses kept as data (issue 12) on the local server: the operator drives `cartlink admin`
//! against the admin API, the minted key drives the warehouse API, and the merchant's pages
//! follow what the operator did.

use std::process::Command;

use cartlink_e2e::{browser, cli_binary, Peers, ADMIN_KEY, CART};
use serde_json::{json, Value};

/// What one run printed and how it exited.
struct Run {
    out: String,
    err: String,
    code: i32,
}

/// Runs the CLI with `CARTLINK_ADMIN_KEY` and `CARTLINK_API_KEY` as given.
fn cartlink(base: &str, admin_key: &str, api_key: &str, args: &[&str]) -> Run {
    let output = Command::new(cli_binary())
        .args(args)
        .env("CARTLINK_URL", base)
        .env("CARTLINK_ADMIN_KEY", admin_key)
        .env("CARTLINK_API_KEY", api_key)
        .output()
        .unwrap();
    Run {
        out: String::from_utf8(output.stdout).unwrap(),
        err: String::from_utf8(output.stderr).unwrap(),
        code: output.status.code().unwrap(),
    }
}

fn admin(base: &str, args: &[&str]) -> Run {
    cartlink(base, ADMIN_KEY, "unused", args)
}

/// Creates `id` and mints a key of it with the CLI; answers the key.
fn onboard(base: &str, id: &str) -> String {
    let created = admin(
        base,
        &[
            "admin",
            "warehouses",
            "create",
            "--id",
            id,
            "--name",
            "Onboarded Ltd",
            "--notify-email",
            "ops@onboarded.test",
        ],
    );
    assert_eq!(created.code, 0, "{}", created.err);
    let key = admin(
        base,
        &["admin", "keys", "create", id, "--name", "ci", "--json"],
    );
    assert_eq!(key.code, 0, "{}", key.err);
    let v: Value = serde_json::from_str(&key.out).unwrap();
    v["key"].as_str().unwrap().to_owned()
}

fn create_invite(base: &str, key: &str) -> Run {
    cartlink(
        base,
        "unused",
        key,
        &[
            "invites",
            "create",
            "--cart",
            CART,
            "--email",
            "tenant@shop.test",
            "--json",
        ],
    )
}

#[tokio::test]
async fn a_key_minted_with_the_cli_creates_an_invite_and_once_revoked_answers_401() {
    // GIVEN the local server
    let peers = Peers::start();
    // WHEN the operator creates a warehouse and a key with the CLI
    let key = onboard(&peers.base, "wh-onboarded");
    // THEN the key is a clk_live_ key and creates an invite for that warehouse
    assert!(key.starts_with("clk_live_"), "{key}");
    let invite = create_invite(&peers.base, &key);
    assert_eq!(invite.code, 0, "{}", invite.err);
    let v: Value = serde_json::from_str(&invite.out).unwrap();
    assert_eq!(v["status"], "emailed");
    // AND the key's listing shows its prefix and last use, never the key
    let listed = admin(
        &peers.base,
        &["admin", "keys", "list", "wh-onboarded", "--json"],
    );
    let keys: Value = serde_json::from_str(&listed.out).unwrap();
    let record = &keys["keys"][0];
    assert!(key.starts_with(record["prefix"].as_str().unwrap()));
    assert!(record["last_used_at"].is_string(), "{record}");
    assert!(!listed.out.contains(&key));
    // WHEN the key is revoked
    let id = record["id"].as_str().unwrap();
    let revoked = admin(
        &peers.base,
        &["admin", "keys", "revoke", "wh-onboarded", id],
    );
    assert_eq!(revoked.code, 0, "{}", revoked.err);
    // THEN its next call is 401 unauthorized
    let after = create_invite(&peers.base, &key);
    assert_eq!(after.code, 1, "{}", after.out);
    assert!(after.err.contains("(401 unauthorized)"), "{}", after.err);
}

#[tokio::test]
async fn a_disabled_warehouses_pending_link_shows_the_withdrawn_page_and_its_key_stops() {
    // GIVEN a warehouse onboarded with the CLI and an invite of it, not yet granted
    let peers = Peers::start();
    let key = onboard(&peers.base, "wh-leaving");
    let invite = create_invite(&peers.base, &key);
    let v: Value = serde_json::from_str(&invite.out).unwrap();
    let setup_url = v["setup_url"].as_str().unwrap().to_owned();
    // WHEN the operator disables the warehouse
    let disabled = admin(
        &peers.base,
        &["admin", "warehouses", "disable", "wh-leaving", "--json"],
    );
    assert_eq!(disabled.code, 0, "{}", disabled.err);
    let d: Value = serde_json::from_str(&disabled.out).unwrap();
    // THEN the invite was withdrawn, its link shows the withdrawn page
    assert_eq!(
        (d["disabled"].clone(), d["invites_withdrawn"].clone()),
        (json!(true), json!(1))
    );
    let page = browser().get(&setup_url).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("This request was withdrawn"), "{html}");
    // AND the key answers 401
    let after = create_invite(&peers.base, &key);
    assert!(after.err.contains("(401 unauthorized)"), "{}", after.err);
}

#[tokio::test]
async fn a_mistyped_key_is_a_checksum_problem_and_an_unknown_key_is_unauthorized() {
    // GIVEN a minted key, the same with one symbol changed, and a well-formed key never issued
    let peers = Peers::start();
    let key = onboard(&peers.base, "wh-typo");
    let i = "clk_live_".len() + 5;
    let swapped = if &key[i..=i] == "x" { "y" } else { "x" };
    let typo = format!("{}{swapped}{}", &key[..i], &key[i + 1..]);
    let other = onboard(&peers.base, "wh-other");
    let admin_list = admin(
        &peers.base,
        &["admin", "keys", "list", "wh-other", "--json"],
    );
    let id = serde_json::from_str::<Value>(&admin_list.out).unwrap()["keys"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin(&peers.base, &["admin", "keys", "revoke", "wh-other", &id]);
    // WHEN each calls the warehouse API
    let with = |k: String| {
        let base = peers.base.clone();
        async move {
            let resp = reqwest::Client::new()
                .get(format!("{base}/v1/carts"))
                .bearer_auth(k)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap()["type"].clone())
        }
    };
    // THEN the typo is told apart as a checksum problem, the revoked key is unauthorized
    assert_eq!(
        with(typo).await,
        (401, json!("urn:cartlink:problem:api-key-checksum"))
    );
    assert_eq!(
        with(other).await,
        (401, json!("urn:cartlink:problem:unauthorized"))
    );
    // AND the CLI says what to do about the typo
    // (the last symbol changed to another: a key that already ends in `z` gets `y`)
    let last = if key.ends_with('z') { "y" } else { "z" };
    let cli = cartlink(
        &peers.base,
        "unused",
        &format!("{}{last}", &key[..key.len() - 1]),
        &["carts"],
    );
    assert!(
        cli.err.contains("api-key-checksum") && cli.err.contains("hint: "),
        "{}",
        cli.err
    );
}

#[tokio::test]
async fn the_admin_api_lets_nobody_in_without_the_admin_key() {
    // GIVEN the local server
    let peers = Peers::start();
    // WHEN the admin API is called with a warehouse's key, and with no key
    let with_warehouse_key = cartlink(
        &peers.base,
        cartlink_e2e::API_KEY,
        "x",
        &["admin", "warehouses", "list"],
    );
    let bare = reqwest::Client::new()
        .get(format!("{}/admin/v1/warehouses", peers.base))
        .send()
        .await
        .unwrap();
    // THEN both are 401, and nothing is listed
    assert!(
        with_warehouse_key.err.contains("(401 unauthorized)"),
        "{}",
        with_warehouse_key.err
    );
    assert_eq!(bare.status(), 401);
    assert!(with_warehouse_key.out.is_empty());
    assert_ne!(with_warehouse_key.code, 0);
}

/// A `w`×`h` PNG in a dark blue, written to a file in `dir`; answers its path.
fn png_file(dir: &std::path::Path, name: &str, w: u32, h: u32) -> String {
    let mut out = Vec::new();
    let mut e = png::Encoder::new(&mut out, w, h);
    e.set_color(png::ColorType::Rgb);
    let mut writer = e.write_header().unwrap();
    let pixels: Vec<u8> = (0..w * h).flat_map(|_| [20u8, 60, 140]).collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    file(dir, name, &out)
}

fn file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

/// The problem code a failed CLI run printed (`(422 accent-contrast)`), and whether a hint
/// followed.
fn problem_of(run: &Run) -> (i32, bool, String) {
    let code = run
        .err
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| inside.to_owned())
        .unwrap_or_default();
    (run.code, run.err.contains("\nhint: "), code)
}

#[tokio::test]
async fn a_bad_logo_or_a_light_accent_is_refused_with_its_own_problem() {
    // GIVEN a stored warehouse and four bad uploads: an SVG, a PNG cut short, 65 KiB, a light accent
    let peers = Peers::start();
    onboard(&peers.base, "wh-brand");
    let dir = tempfile::tempdir().unwrap();
    let svg = file(
        dir.path(),
        "logo.svg",
        br#"<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>"#,
    );
    let whole = std::fs::read(png_file(dir.path(), "whole.png", 32, 32)).unwrap();
    let cut = file(dir.path(), "cut.png", &whole[..whole.len() / 2]);
    let big = file(dir.path(), "big.png", &vec![7u8; 65 * 1024]);
    // WHEN each is sent with the CLI
    let logo = |path: &str| {
        admin(
            &peers.base,
            &["admin", "warehouses", "logo", "wh-brand", path],
        )
    };
    let light = admin(
        &peers.base,
        &[
            "admin",
            "warehouses",
            "brand",
            "wh-brand",
            "--accent",
            "#ffcc00",
        ],
    );
    // THEN each is refused (exit 1) with its own problem and a hint
    assert_eq!(
        problem_of(&logo(&svg)),
        (1, true, "415 logo-unsupported".into())
    );
    assert_eq!(
        problem_of(&logo(&cut)),
        (1, true, "422 logo-invalid".into())
    );
    assert_eq!(
        problem_of(&logo(&big)),
        (1, true, "413 logo-too-large".into())
    );
    assert_eq!(problem_of(&light), (1, true, "422 accent-contrast".into()));
    assert!(light.err.contains("4.5:1"), "{}", light.err);
    // AND the warehouse is as it was: no logo, no accent
    let shown = admin(
        &peers.base,
        &["admin", "warehouses", "show", "wh-brand", "--json"],
    );
    let v: Value = serde_json::from_str(&shown.out).unwrap();
    assert_eq!(
        (v["logo_url"].clone(), v["accent"].clone()),
        (Value::Null, Value::Null)
    );
}

#[tokio::test]
async fn a_branded_warehouses_grant_page_and_email_show_its_logo_accent_privacy_and_reply_to() {
    // GIVEN a warehouse branded with the CLI: a logo, an accent, a support address, a privacy URL
    let peers = Peers::start();
    let key = onboard(&peers.base, "wh-branded");
    let dir = tempfile::tempdir().unwrap();
    let logo = png_file(dir.path(), "logo.png", 64, 64);
    let uploaded = admin(
        &peers.base,
        &["admin", "warehouses", "logo", "wh-branded", &logo, "--json"],
    );
    assert_eq!(uploaded.code, 0, "{}", uploaded.err);
    let branded = admin(
        &peers.base,
        &[
            "admin",
            "warehouses",
            "brand",
            "wh-branded",
            "--accent",
            "#1A4D8F",
            "--support-email",
            "help@onboarded.test",
            "--privacy-url",
            "https://onboarded.test/privacy",
            "--json",
        ],
    );
    assert_eq!(branded.code, 0, "{}", branded.err);
    let logo_url = serde_json::from_str::<Value>(&branded.out).unwrap()["logo_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(logo_url.starts_with(&format!("{}/brand/wh-branded/logo.png", peers.base)));
    // WHEN its key creates an invite
    let invite = create_invite(&peers.base, &key);
    let setup_url = serde_json::from_str::<Value>(&invite.out).unwrap()["setup_url"]
        .as_str()
        .unwrap()
        .to_owned();
    // THEN the merchant's email replies to the support address and shows the logo
    let mails = peers.wait_for_emails(1).await;
    assert_eq!(mails[0].reply_to.as_deref(), Some("help@onboarded.test"));
    assert!(mails[0].html.contains(&logo_url), "{}", mails[0].html);
    // AND the grant page shows the logo from our origin, the accent stylesheet and the privacy link
    let html = browser()
        .get(&setup_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("src=\"{logo_url}\"")), "{html}");
    assert!(html.contains(&format!("href=\"{}/assets/accent-1a4d8f.css\"", peers.base)));
    assert!(html.contains("href=\"https://onboarded.test/privacy\""));
    // AND both are served as ours: a PNG we wrote, a stylesheet in the accent
    let png = reqwest::get(&logo_url).await.unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let bytes = png.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG") && bytes[..] != std::fs::read(&logo).unwrap()[..]);
    let css = reqwest::get(format!("{}/assets/accent-1a4d8f.css", peers.base))
        .await
        .unwrap();
    assert!(css.text().await.unwrap().contains("#1a4d8f"));
}
