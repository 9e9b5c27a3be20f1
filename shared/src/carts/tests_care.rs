//! The catalog's care limits (`CartSpec::care_limits`), with their sources.

use super::builtin;
use super::token::Refresh;
use crate::domain::CareLimits;

const DAY: i64 = 24 * 3600;

fn limits(id: &str) -> CareLimits {
    builtin::get(id).expect("a built-in cart").care_limits()
}

#[test]
fn square_is_refreshed_within_seven_days_as_it_documents() {
    // GIVEN the built-in Square entry WHEN its care limits are read
    let square = builtin::get("square").unwrap();
    // THEN tokens must be refreshed within 7 days, and the source names Square's page
    assert_eq!(square.care_limits().refresh_within_secs, Some(7 * DAY));
    let within = square.refresh_within.as_ref().unwrap();
    assert!(
        within.source.contains("refresh-revoke-limit-scope"),
        "{}",
        within.source
    );
}

#[test]
fn amazon_and_ebay_have_hard_deadlines() {
    // GIVEN the Amazon SP-API and eBay entries WHEN their care limits are read
    // THEN Amazon's grants end after 365 days, eBay's after about 18 months
    assert_eq!(
        limits("amazon-sp-api").reauthorize_after_secs,
        Some(365 * DAY)
    );
    assert_eq!(limits("ebay").reauthorize_after_secs, Some(47_304_000));
    assert_eq!(limits("amazon-sp-api").refresh_within_secs, None);
}

#[test]
fn a_rotating_refresh_token_life_is_an_inactivity_limit() {
    // GIVEN Squarespace, whose rotating refresh tokens live 7 days (marked unverified)
    let squarespace = builtin::get("squarespace").unwrap();
    assert!(matches!(
        squarespace.refresh,
        Refresh::Rotating {
            refresh_secs: Some(604_800),
            ..
        }
    ));
    // WHEN its care limits are read THEN they ask for a refresh within those 7 days
    assert_eq!(squarespace.care_limits().refresh_within_secs, Some(7 * DAY));
    assert!(!squarespace.unverified.is_empty());
}

#[test]
fn every_written_limit_names_its_source() {
    // GIVEN every built-in entry WHEN its written limits are read THEN each has a source
    for cart in builtin::all() {
        if let Some(r) = &cart.refresh_within {
            assert!(r.secs > 0 && !r.source.trim().is_empty(), "{}", cart.id);
        }
        if let Some(r) = &cart.reauthorize {
            assert!(
                r.after_secs > 0 && !r.source.trim().is_empty(),
                "{}",
                cart.id
            );
        }
    }
}

#[test]
fn a_cart_without_documented_limits_has_none() {
    // GIVEN WooCommerce (API keys, no expiry) WHEN its care limits are read THEN none
    assert_eq!(limits("woocommerce"), CareLimits::default());
}
