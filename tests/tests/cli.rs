//! The `cartlink` command-line client against the local server: the binary as a warehouse's
//! operator runs it, with `CARTLINK_URL` and `CARTLINK_API_KEY` in its environment.

use std::process::Command;

use cartlink_e2e::{cli_binary, Peers, API_KEY, CART};
use serde_json::Value;

/// What one run printed and how it exited.
struct Run {
    out: String,
    err: String,
    code: i32,
}

fn cartlink(peers: &Peers, api_key: &str, args: &[&str]) -> Run {
    let output = Command::new(cli_binary())
        .args(args)
        .env("CARTLINK_URL", &peers.base)
        .env("CARTLINK_API_KEY", api_key)
        .output()
        .unwrap();
    Run {
        out: String::from_utf8(output.stdout).unwrap(),
        err: String::from_utf8(output.stderr).unwrap(),
        code: output.status.code().unwrap(),
    }
}

#[tokio::test]
async fn the_cli_creates_lists_shows_resends_and_withdraws_an_invite() {
    // GIVEN the local server
    let peers = Peers::start();
    // WHEN an invite is created with the CLI
    let created = cartlink(
        &peers,
        API_KEY,
        &[
            "invites",
            "create",
            "--cart",
            CART,
            "--email",
            "cli@shop.test",
            "--json",
        ],
    );
    assert_eq!(created.code, 0, "{}", created.err);
    let v: Value = serde_json::from_str(&created.out).unwrap();
    let id = v["id"].as_str().unwrap().to_owned();
    // THEN it was made and the merchant emailed
    assert_eq!(v["status"], "emailed");
    assert_eq!(peers.wait_for_emails(1).await.len(), 1);
    // WHEN the invites are listed (a table, then as JSON)
    let table = cartlink(&peers, API_KEY, &["invites", "list"]);
    let listed = cartlink(&peers, API_KEY, &["invites", "list", "--json"]);
    // THEN the new invite is its one row, and the JSON page holds it
    assert_eq!(table.code, 0, "{}", table.err);
    assert_eq!(
        table.out.lines().filter(|l| l.contains(&id)).count(),
        1,
        "{}",
        table.out
    );
    let page: Value = serde_json::from_str(&listed.out).unwrap();
    assert_eq!(page["data"][0]["id"], id.as_str(), "{page}");
    // WHEN it is shown as a record
    let shown = cartlink(&peers, API_KEY, &["invites", "show", &id]);
    // THEN its fields are there, id first
    assert_eq!(shown.code, 0, "{}", shown.err);
    assert!(shown.out.starts_with("id "), "{}", shown.out);
    assert!(
        shown.out.contains(&id) && shown.out.contains("emailed"),
        "{}",
        shown.out
    );
    // WHEN it is resent
    let resent = cartlink(&peers, API_KEY, &["invites", "resend", &id, "--json"]);
    // THEN a new link went out by email, not the first one
    assert_eq!(resent.code, 0, "{}", resent.err);
    let r: Value = serde_json::from_str(&resent.out).unwrap();
    assert_eq!(r["email"], "sent", "{r}");
    let mails = peers.wait_for_emails(2).await;
    assert_eq!(mails.len(), 2);
    let link = |n: usize| mails[n].link(&format!("{}/setup/", peers.base)).unwrap();
    assert_ne!(link(0), link(1));
    assert_eq!(r["setup_url"], link(1).as_str());
    // WHEN it is withdrawn
    let withdrawn = cartlink(&peers, API_KEY, &["invites", "withdraw", &id]);
    // THEN it reads as revoked
    assert_eq!(withdrawn.code, 0, "{}", withdrawn.err);
    assert!(withdrawn.out.contains("revoked"), "{}", withdrawn.out);
    let again = cartlink(&peers, API_KEY, &["invites", "show", &id, "--json"]);
    let v: Value = serde_json::from_str(&again.out).unwrap();
    assert_eq!(v["status"], "revoked");
}

#[tokio::test]
async fn the_cli_prints_the_problem_and_exits_with_its_code() {
    // GIVEN the local server
    let peers = Peers::start();
    // WHEN an unknown invite is shown
    let missing = cartlink(&peers, API_KEY, &["invites", "show", "inv-nothing"]);
    // THEN the problem's title and type, a hint, and exit code 1 (refused)
    assert_eq!(missing.code, 1);
    assert!(missing.out.is_empty());
    assert!(
        missing.err.starts_with("error: Not found (404 not-found)"),
        "{}",
        missing.err
    );
    assert!(missing.err.contains("hint: "), "{}", missing.err);
    // WHEN the key is wrong
    let wrong = cartlink(&peers, "not-a-key", &["carts"]);
    // THEN unauthorized, pointing at CARTLINK_API_KEY, and nothing on stdout
    assert_eq!(wrong.code, 1);
    assert!(wrong.err.contains("401 unauthorized") && wrong.err.contains("CARTLINK_API_KEY"));
    // WHEN the key is missing THEN exit code 3 names the variable
    let unset = cartlink(&peers, "", &["carts"]);
    assert_eq!(unset.code, 3);
    assert!(
        unset.err.contains("CARTLINK_API_KEY is not set"),
        "{}",
        unset.err
    );
}

#[tokio::test]
async fn the_cli_lists_the_carts_as_a_table() {
    // GIVEN the local server WHEN the carts are listed
    let peers = Peers::start();
    let carts = cartlink(&peers, API_KEY, &["carts"]);
    // THEN a header and the test cart, enabled
    assert_eq!(carts.code, 0, "{}", carts.err);
    assert!(carts.out.starts_with("ID "), "{}", carts.out);
    let row = carts.out.lines().find(|l| l.starts_with(CART)).unwrap();
    assert!(row.contains(" yes "), "{row}");
}

#[tokio::test]
async fn the_cli_registers_an_own_app_with_its_secret_from_the_environment_and_never_prints_it() {
    // GIVEN the local server and an app secret in the CLI's environment
    let peers = Peers::start();
    let canary = "their-shopify-app-canary";
    let put = Command::new(cli_binary())
        .args(["cart-apps", "put", "shopify", "--client-id", "their-app"])
        .args(["--client-secret-env", "THEIR_SECRET"])
        .env("CARTLINK_URL", &peers.base)
        .env("CARTLINK_API_KEY", API_KEY)
        .env("THEIR_SECRET", canary)
        .output()
        .unwrap();
    // WHEN it is registered and the apps are listed
    let listed = cartlink(&peers, API_KEY, &["cart-apps", "list"]);
    // THEN the app is stored with a secret held, and no output holds the secret
    assert_eq!(
        put.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let row = listed
        .out
        .lines()
        .find(|l| l.starts_with("shopify"))
        .unwrap();
    assert!(row.contains("their-app") && row.contains(" yes "), "{row}");
    for text in [
        String::from_utf8_lossy(&put.stdout).into_owned(),
        listed.out,
    ] {
        assert!(!text.contains(canary), "{text}");
    }
}

#[tokio::test]
async fn a_secrets_variable_that_is_not_set_is_a_usage_error_and_sends_nothing() {
    // GIVEN the local server, and no such variable
    let peers = Peers::start();
    // WHEN an app is put with its secret from that variable
    let put = cartlink(
        &peers,
        API_KEY,
        &["cart-apps", "put", "shopify", "--client-id", "a"],
    );
    let missing = cartlink(
        &peers,
        API_KEY,
        &[
            "cart-apps",
            "put",
            "shopify",
            "--client-id",
            "a",
            "--client-secret-env",
            "NOT_SET_ANYWHERE",
        ],
    );
    // THEN the second is a usage error naming the variable, and only the first reached the API
    // (refused there: Shopify's clients need a secret)
    assert_eq!(put.code, 1, "{}", put.err);
    assert!(put.err.contains("invalid-field"), "{}", put.err);
    assert!(
        missing.err.contains("NOT_SET_ANYWHERE is not set"),
        "{}",
        missing.err
    );
    let listed = cartlink(&peers, API_KEY, &["cart-apps", "list"]);
    assert!(!listed.out.contains("shopify"), "{}", listed.out);
}
