use super::*;
use crate::domain::{CartId, ConnectionId, InviteId, SealedBlob, WarehouseId};

const DAY: i64 = 24 * 3600;

fn connection(created: i64) -> Connection {
    Connection {
        app: None,
        shops: Vec::new(),
        id: ConnectionId::generate(),
        invite_id: InviteId::generate(),
        warehouse_id: WarehouseId::parse("wh-1").unwrap(),
        cart: CartId::new("square"),
        account: None,
        scopes: vec![],
        tokens: SealedBlob {
            v: 1,
            key_id: "k".into(),
            edk: "e".into(),
            nonce: "n".into(),
            ct: "c".into(),
        },
        token_expires_at: None,
        created_at: Timestamp(created),
        version: 1,
        refreshed_at: None,
        status: ConnectionStatus::Active,
        granted_at: None,
        care_at: None,
        care_noticed: None,
        subscribed_at: None,
    }
}

const SQUARE: CareLimits = CareLimits {
    refresh_within_secs: Some(7 * DAY),
    reauthorize_after_secs: None,
    subscribe: false,
};
const AMAZON: CareLimits = CareLimits {
    refresh_within_secs: None,
    reauthorize_after_secs: Some(365 * DAY),
    subscribe: false,
};

#[test]
fn a_seven_day_limit_is_cared_for_after_six_days_from_the_last_refresh() {
    // GIVEN a Square-like connection made at day 0 and refreshed at day 3
    let mut c = connection(0);
    assert_eq!(c.next_care_at(&SQUARE), Some(Timestamp(6 * DAY)));
    c.refreshed_at = Some(Timestamp(3 * DAY));
    // WHEN its next care time is computed THEN it is six days after that refresh
    assert_eq!(c.next_care_at(&SQUARE), Some(Timestamp(9 * DAY)));
}

#[test]
fn a_deadline_is_cared_for_thirty_days_ahead_until_its_notice_went_out() {
    // GIVEN an Amazon-like connection granted again at day 10
    let mut c = connection(0);
    c.granted_at = Some(Timestamp(10 * DAY));
    // WHEN its care time is computed THEN it is 30 days before its deadline (day 375)
    assert_eq!(c.reauthorize_by(&AMAZON), Some(Timestamp(375 * DAY)));
    assert_eq!(c.next_care_at(&AMAZON), Some(Timestamp(345 * DAY)));
    // AND once that deadline's notice went out, nothing is left to care for
    c.care_noticed = Some(Timestamp(375 * DAY));
    assert_eq!(c.next_care_at(&AMAZON), None);
    // AND a notice of an earlier deadline does not count for this one
    c.care_noticed = Some(Timestamp(365 * DAY));
    assert_eq!(c.next_care_at(&AMAZON), Some(Timestamp(345 * DAY)));
}

#[test]
fn the_earlier_of_both_limits_comes_first() {
    // GIVEN a cart with both limits, and a connection refreshed near its deadline
    let both = CareLimits {
        refresh_within_secs: Some(7 * DAY),
        reauthorize_after_secs: Some(365 * DAY),
        subscribe: false,
    };
    let mut c = connection(0);
    c.refreshed_at = Some(Timestamp(340 * DAY));
    // WHEN its care time is computed THEN the notice (day 335) comes before the refresh (346)
    assert_eq!(c.next_care_at(&both), Some(Timestamp(335 * DAY)));
}

#[test]
fn a_connection_without_limits_or_not_active_has_no_care_time() {
    // GIVEN a cart without limits, and a Square-like connection needing re-authorization
    let c = connection(0);
    let mut waiting = connection(0);
    waiting.status = ConnectionStatus::NeedsReauth;
    // WHEN their care times are computed THEN neither has one
    assert_eq!(c.next_care_at(&CareLimits::default()), None);
    assert_eq!(waiting.next_care_at(&SQUARE), None);
}

#[test]
fn a_short_limit_keeps_half_of_it() {
    // GIVEN a cart whose tokens must be refreshed within a day
    let short = CareLimits {
        refresh_within_secs: Some(DAY),
        reauthorize_after_secs: None,
        subscribe: false,
    };
    // WHEN its care time is computed THEN it comes after half a day, not at once
    assert_eq!(connection(0).next_care_at(&short), Some(Timestamp(DAY / 2)));
}

/// Squarespace-like limits: a 7-day refresh token, and an uninstall subscription per site.
const SQUARESPACE: CareLimits = CareLimits {
    refresh_within_secs: Some(7 * DAY),
    reauthorize_after_secs: None,
    subscribe: true,
};

#[test]
fn a_connection_owing_its_subscription_is_due_at_its_grant() {
    // GIVEN a Squarespace-like connection made at day 1 at a site, never subscribed
    let c = at_site(connection(DAY));
    // WHEN its care time is computed THEN it is due at once (its grant), not in six days
    assert_eq!(c.next_care_at(&SQUARESPACE), Some(Timestamp(DAY)));
}

#[test]
fn a_subscribed_connection_is_due_again_only_after_a_new_grant() {
    // GIVEN a Squarespace-like connection made at day 1 at a site, subscribed a minute later
    let mut c = at_site(connection(DAY));
    c.subscribed_at = Some(Timestamp(DAY + 60));
    // WHEN its care time is computed THEN only its refresh is left (day 7)
    assert_eq!(c.next_care_at(&SQUARESPACE), Some(Timestamp(7 * DAY)));
    // AND once granted again at day 3, the subscription is owed again at once
    c.granted_at = Some(Timestamp(3 * DAY));
    assert_eq!(c.next_care_at(&SQUARESPACE), Some(Timestamp(3 * DAY)));
}

#[test]
fn a_connection_through_a_warehouses_own_app_owes_no_subscription() {
    // GIVEN a Squarespace-like connection at a site through a warehouse's own app
    let mut c = at_site(connection(DAY));
    c.app = Some(crate::domain::OwnApp {
        warehouse: WarehouseId::parse("wh-1").unwrap(),
        client_id: "own".into(),
    });
    // WHEN its care time is computed THEN only its refresh is due (day 7)
    assert_eq!(c.next_care_at(&SQUARESPACE), Some(Timestamp(7 * DAY)));
}

fn at_site(c: Connection) -> Connection {
    Connection {
        account: Some("site-1".into()),
        ..c
    }
}

#[test]
fn a_connection_that_names_no_site_owes_no_subscription() {
    // GIVEN a Squarespace-like connection granted before its site was read (no account)
    let c = connection(DAY);
    // WHEN its care time is computed THEN only its refresh is due (day 7): nothing could
    // subscribe it, so it is not read again every run
    assert_eq!(c.next_care_at(&SQUARESPACE), Some(Timestamp(7 * DAY)));
}
