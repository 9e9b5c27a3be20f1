//! The local server killed at the worst moment: right after a callback committed, before
//! anything after the commit ran. What the store holds must be finished after a restart.

use std::time::{Duration, Instant};

use cartlink_e2e::{at_cart, browser, location, Peers, CART};
use cartlink_local::HALTED_AFTER_COMMIT;
use serde_json::json;

/// The hook that stands for a crash right after the callback's commit.
const HALT_AFTER_COMMIT: (&str, &str) = ("CARTLINK_HALT_AFTER_COMMIT", "1");
const CONFIRMATIONS: [&str; 2] = ["merchant_confirmation", "warehouse_confirmation"];

/// Waits (up to 20 s) until cartlink's log holds `line` `n` times.
async fn wait_for_log(p: &Peers, line: &str, n: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if p.log().matches(line).count() >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The kinds of the confirmations in the outbox for `invite`, sorted.
fn confirmations_of(p: &Peers, invite: &str) -> Vec<String> {
    let mut kinds: Vec<String> = p
        .outbox()
        .into_iter()
        .filter(|m| m.invite_id == invite && CONFIRMATIONS.contains(&m.kind.as_str()))
        .map(|m| m.kind)
        .collect();
    kinds.sort();
    kinds
}

/// Waits (up to 20 s) until both confirmations of `invite` are in the outbox.
async fn wait_for_confirmations(p: &Peers, invite: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let kinds = confirmations_of(p, invite);
        if kinds.len() >= 2 || Instant::now() > deadline {
            return kinds;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates an invite and takes it through the cart to the callback, which commits.
async fn authorize(p: &Peers) -> String {
    let (status, v) = p
        .create_invite(&json!({"cart": CART, "merchant_email": "merchant@shop.test"}))
        .await;
    assert_eq!(status, 201, "{v}");
    let setup_url = v["setup_url"].as_str().unwrap();
    let b = browser();
    let resp = b.post(format!("{setup_url}/grant")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let callback = at_cart(
        &b,
        &location(&resp, setup_url),
        &format!("{}/oauth/callback/{CART}", p.base),
        false,
    )
    .await;
    let page = b.get(&callback).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Successful Authorization"));
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_sigkill_right_after_the_callback_commit_loses_no_confirmation_and_sends_none_twice() {
    let mut p = Peers::start();
    let mut invites = Vec::new();
    for round in 1..=10 {
        // GIVEN cartlink running with the hook that halts it right after a callback commits
        p.kill_cartlink();
        p.start_cartlink(&[HALT_AFTER_COMMIT]);
        // WHEN a merchant's callback commits (the page promises the confirmations)
        let invite = authorize(&p).await;
        assert!(wait_for_log(&p, HALTED_AFTER_COMMIT, round).await);
        assert!(
            confirmations_of(&p, &invite).is_empty(),
            "nothing after the commit ran"
        );
        // AND the process is killed with SIGKILL, then started again on the same data dir
        p.kill_cartlink();
        p.start_cartlink(&[]);
        // THEN both confirmations of the invite are delivered
        assert_eq!(
            wait_for_confirmations(&p, &invite).await,
            CONFIRMATIONS,
            "round {round}"
        );
        invites.push(invite);
    }
    // AND across all rounds each confirmation was sent exactly once, and every invite is
    // confirmed (the log is copied from the process a moment after it writes it)
    assert!(wait_for_log(&p, "confirmation sent", 2 * invites.len()).await);
    let log = p.log();
    for invite in &invites {
        assert_eq!(confirmations_of(&p, invite), CONFIRMATIONS);
        for kind in CONFIRMATIONS {
            let sends = log
                .lines()
                .filter(|l| {
                    l.contains("confirmation sent")
                        && l.contains(invite.as_str())
                        && l.contains(kind)
                })
                .count();
            assert_eq!(sends, 1, "{invite} {kind}");
        }
        let status: String = p
            .sql()
            .query_row("SELECT status FROM invites WHERE id = ?1", [invite], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(status, "confirmed");
    }
}
