//! Proactive care in the local server: its timer runs the `care` function's handler code at
//! start (and every hour), so a connection made idle past a cart's inactivity limit is
//! refreshed at the cart (oidc-provider) with no request from anyone.

use std::time::{Duration, Instant};

use cartlink_e2e::Peers;

const DAY: i64 = 24 * 3600;

/// The connection's refresh and care times, as stored.
fn times(p: &Peers, conn: &str) -> (Option<i64>, Option<i64>) {
    p.sql()
        .query_row(
            "SELECT refreshed_at, care_at FROM connections WHERE id = ?1",
            [conn],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[tokio::test]
async fn the_local_timer_refreshes_a_connection_idle_past_its_carts_limit() {
    // GIVEN a connection to a cart whose tokens must be refreshed within 7 days, made 7 days
    // ago as far as the store knows (the clock of a running server cannot be moved), and a
    // server stopped meanwhile
    let mut p = Peers::start();
    let (_, conn) = p.connect_merchant("merchant@shop.test").await;
    p.kill_cartlink();
    let config = p.data_dir.path().join("cartlink.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replacen(
        "\n[carts.revocation]",
        "\nrefresh_within = { secs = 604800, source = \"e2e\" }\n[carts.revocation]",
        1,
    );
    std::fs::write(&config, text).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    p.sql()
        .execute(
            "UPDATE connections SET body = json_set(body, '$.created_at', ?1), care_at = ?2
             WHERE id = ?3",
            rusqlite::params![now - 7 * DAY, now - DAY, conn],
        )
        .unwrap();
    let before = p.token_requests().await;
    // WHEN the server starts again (its care timer runs at once)
    p.restart_cartlink();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (refreshed, care_at) = loop {
        let (refreshed, care_at) = times(&p, &conn);
        if let Some(r) = refreshed {
            break (r, care_at);
        }
        assert!(Instant::now() < deadline, "no care refresh: {}", p.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // THEN the cart was asked once, and the next care is 6 days after that refresh
    assert_eq!(p.token_requests().await, before + 1);
    assert_eq!(care_at, Some(refreshed + 6 * DAY));
}
