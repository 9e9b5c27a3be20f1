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
    }
}

const SQUARE: CareLimits = CareLimits {
    refresh_within_secs: Some(7 * DAY),
    reauthorize_after_secs: None,
};
const AMAZON: CareLimits = CareLimits {
    refresh_within_secs: None,
    reauthorize_after_secs: Some(365 * DAY),
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
    };
    // WHEN its care time is computed THEN it comes after half a day, not at once
    assert_eq!(connection(0).next_care_at(&short), Some(Timestamp(DAY / 2)));
}
