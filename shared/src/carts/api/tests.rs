use crate::carts::{builtin, CartSpec, Vars};
use crate::domain::{Secret, TokenSet};

fn tokens() -> TokenSet {
    TokenSet {
        access_token: Secret::new("AT-canary"),
        refresh_token: None,
        expires_at: None,
        issued_at: None,
        scope: None,
        account: None,
        key_secret: None,
        consumer_key: None,
        consumer_secret: None,
    }
}

fn configured(id: &str) -> CartSpec {
    let mut cart = builtin::get(id).unwrap().clone();
    cart.credentials = Some(crate::carts::ClientCredentials::new(
        "app-keystring",
        Some(Secret::new("app-shared-secret")),
    ));
    cart
}

#[test]
fn a_shops_api_is_its_own_host_with_the_token_header_it_documents() {
    // GIVEN a Shopify connection of a shop
    let cart = configured("shopify");
    let vars = cart.connection_vars(Some("acme.myshopify.com"), None);
    // WHEN its call details are filled in
    let details = cart.call_details(&vars, &tokens()).unwrap();
    // THEN they name the shop's Admin API and the token header
    assert!(
        details
            .base_url
            .as_str()
            .starts_with("https://acme.myshopify.com/admin/api/"),
        "{details:?}"
    );
    assert_eq!(details.headers["X-Shopify-Access-Token"], "AT-canary");
}

#[test]
fn etsy_calls_carry_the_apps_keystring_and_secret() {
    // GIVEN an Etsy connection
    let cart = configured("etsy");
    // WHEN its call details are filled in
    let details = cart.call_details(&Vars::new(), &tokens()).unwrap();
    // THEN every call's x-api-key is the keystring and the shared secret
    assert_eq!(
        details.base_url.as_str(),
        "https://api.etsy.com/v3/application"
    );
    assert_eq!(
        details.headers["x-api-key"],
        "app-keystring:app-shared-secret"
    );
}

#[test]
fn the_call_details_print_no_header_value() {
    // GIVEN Etsy's call details, which hold the app's secret
    let cart = configured("etsy");
    let details = cart.call_details(&Vars::new(), &tokens()).unwrap();
    // THEN their Debug names the headers only
    let printed = format!("{details:?}");
    assert!(
        printed.contains("x-api-key") && !printed.contains("app-shared-secret"),
        "{printed}"
    );
}

#[test]
fn a_store_url_carts_api_needs_the_store_and_is_absent_without_it() {
    // GIVEN a WooCommerce connection
    let cart = configured("woocommerce");
    // THEN its details need the invite's store, and are built only with it
    assert!(cart.call_details_need_store());
    assert!(cart.call_details(&Vars::new(), &tokens()).is_none());
    let vars = cart.connection_vars(Some("https://shop.example.com"), None);
    let details = cart.call_details(&vars, &tokens()).unwrap();
    assert_eq!(
        details.base_url.as_str(),
        "https://shop.example.com/wp-json/wc/v3"
    );
}

#[test]
fn every_built_in_api_has_a_source_and_builds_for_a_sample_connection() {
    // GIVEN every built-in cart that names its API
    for cart in builtin::all().iter().filter(|c| c.api.is_some()) {
        let api = cart.api.as_ref().unwrap();
        // THEN it says where that is documented
        assert!(!api.source.trim().is_empty(), "{}", cart.id);
    }
    assert!(builtin::all().iter().filter(|c| c.api.is_some()).count() >= 8);
}
