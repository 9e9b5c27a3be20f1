//! The catalog's own rules, and the authorize URL of every cart against its documented form.

use super::*;
use crate::domain::{BrowserBinding, GrantState, PkceVerifier};
use crate::oauth::{authorize_url, AuthorizeRequest};
use url::Url;

fn configured(mut cart: CartSpec) -> CartSpec {
    cart.credentials = Some(ClientCredentials {
        client_id: "app-id".into(),
        client_secret: Some(crate::domain::Secret::new("app-secret")),
        app_id: Some("amzn1.sellerapps.app.test".into()),
        ru_name: Some("Cartlink-RuName".into()),
        draft: true,
    });
    cart
}

/// The authorize URL cartlink builds for `cart` with `store`, all functions, with the random
/// parts (state, nonce, challenge) replaced by placeholders.
fn built(cart: &CartSpec, store: Option<&str>) -> Result<String, EndpointError> {
    let creds = cart.credentials.as_ref().unwrap();
    let state = GrantState::generate();
    let verifier = cart
        .pkce
        .is_used()
        .then(|| PkceVerifier::derive(&BrowserBinding::generate(), &state));
    let redirect = match cart.redirect {
        Redirect::Callback => format!("https://cartlink.test/oauth/callback/{}", cart.id),
        Redirect::RuName => creds.ru_name.clone().unwrap(),
    };
    let url = authorize_url(
        cart,
        creds,
        &AuthorizeRequest {
            vars: &cart.input_vars(store),
            redirect: &redirect,
            scopes: &cart.scopes_for_store(&cart.functions(), store),
            state: &state,
            verifier: verifier.as_ref(),
            public_base: "https://cartlink.test",
        },
    )?;
    let mut text = url.to_string().replace(state.expose(), "{state}");
    if let Some(v) = &verifier {
        text = text.replace(&v.challenge(), "{challenge}");
    }
    if let Some((_, nonce)) = url.query_pairs().find(|(k, _)| k == "nonce") {
        text = text.replace(&format!("nonce={nonce}"), "nonce={nonce}");
    }
    Ok(text)
}

fn sample_store(cart: &CartSpec) -> Option<&'static str> {
    match cart.input.as_ref().map(|i| i.key.as_str()) {
        Some("shop") => Some("acme.myshopify.com"),
        Some("store_url") => Some("https://shop.example.com"),
        // The first of these the cart's marketplaces take (Seller Central's pan-European
        // one, or Vendor Central's UK one).
        Some("site") => Some("ar"),
        Some("region") => ["eu", "uk"].into_iter().find(|r| {
            let input = cart.input.as_ref().expect("an input");
            crate::carts::pattern_matches(&input.pattern, r)
        }),
        Some("series") => Some("x"),
        Some("store_hash") => Some("abc123"),
        Some("market") => Some("global"),
        _ => None,
    }
}

const CB: &str = "redirect_uri=https%3A%2F%2Fcartlink.test%2Foauth%2Fcallback%2F";

/// What a row of the table expects of a cart.
enum Form {
    /// This authorize URL (the documented form).
    Authorize(String),
    /// No authorization request: an admin integration whose token calls go to these URLs of
    /// the merchant's store, and whose steps carry the attempt's two URLs.
    Integration {
        request_token: &'static str,
        access_token: &'static str,
    },
    /// No authorization request: the merchant types credentials on the grant page, checked
    /// with a read call to this URL of their store.
    Typed { check: &'static str },
}
use Form::{Authorize, Integration, Typed};

#[test]
fn the_authorize_url_of_every_cart_has_its_documented_form() {
    // One row per cart: the documented form (carts.md sources; BigCommerce: buttons.mdx, Wix:
    // about-the-external-install-flow, Wix legacy: use-advanced-oauth), or what replaces it
    // where the merchant starts in their own admin and cartlink sends no authorization request.
    let rows: Vec<(&str, Form)> = vec![
        ("shopify", Authorize(format!("https://acme.myshopify.com/admin/oauth/authorize?client_id=app-id&scope=read_orders%2Cread_products%2Cread_locations%2Cwrite_inventory%2Cwrite_merchant_managed_fulfillment_orders&{CB}shopify&state={{state}}"))),
        ("bigcommerce", Authorize("https://login.bigcommerce.com/app/app-id/install".into())),
        ("woocommerce", Authorize("https://shop.example.com/wc-auth/v1/authorize?app_name=cartlink&scope=read_write&user_id={state}&return_url=https%3A%2F%2Fcartlink.test%2Foauth%2Freturn%2Fwoocommerce&callback_url=https%3A%2F%2Fcartlink.test%2Foauth%2Fkeys%2Fwoocommerce".into())),
        ("ebay", Authorize("https://auth.ebay.com/oauth2/authorize?client_id=app-id&redirect_uri=Cartlink-RuName&response_type=code&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.fulfillment.readonly+https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fcommerce.identity.readonly+https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory+https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.fulfillment&state={state}".into())),
        ("amazon-sp-api", Authorize(format!("https://sellercentral-europe.amazon.com/apps/authorize/consent?application_id=amzn1.sellerapps.app.test&state={{state}}&{CB}amazon-sp-api&version=beta"))),
        ("amazon-vendor-central", Authorize(format!("https://vendorcentral.amazon.co.uk/apps/authorize/consent?application_id=amzn1.sellerapps.app.test&state={{state}}&{CB}amazon-vendor-central&version=beta"))),
        ("mercadolibre", Authorize(format!("https://auth.mercadolibre.com.ar/authorization?response_type=code&client_id=app-id&state={{state}}&{CB}mercadolibre"))),
        ("etsy", Authorize(format!("https://www.etsy.com/oauth/connect?response_type=code&client_id=app-id&{CB}etsy&scope=transactions_r+listings_r+listings_w+transactions_w&state={{state}}&code_challenge={{challenge}}&code_challenge_method=S256"))),
        ("square", Authorize("https://connect.squareup.com/oauth2/authorize?client_id=app-id&scope=ORDERS_READ+MERCHANT_PROFILE_READ+ITEMS_READ+INVENTORY_READ+INVENTORY_WRITE+ORDERS_WRITE&session=false&state={state}".into())),
        ("ecwid", Authorize(format!("https://my.ecwid.com/api/oauth/authorize?response_type=code&client_id=app-id&{CB}ecwid&scope=read_store_profile+read_orders+read_catalog+update_catalog+update_orders&state={{state}}"))),
        ("lightspeed-retail", Authorize(format!("https://secure.retail.lightspeed.app/connect?response_type=code&client_id=app-id&{CB}lightspeed-retail&scope=sales%3Aread+products%3Aread+products%3Awrite+sales%3Awrite&state={{state}}"))),
        ("keap", Authorize(format!("https://accounts.infusionsoft.com/app/oauth/authorize?response_type=code&client_id=app-id&{CB}keap&scope=full&state={{state}}"))),
        ("channeladvisor", Authorize(format!("https://api.channeladvisor.com/oauth2/authorize?client_id=app-id&response_type=code&access_type=offline&scope=orders+inventory&{CB}channeladvisor&state={{state}}"))),
        ("squarespace", Authorize(format!("https://login.squarespace.com/api/1/login/oauth/provider/authorize?client_id=app-id&{CB}squarespace&scope=website.orders.read%2Cwebsite.inventory%2Cwebsite.products.read%2Cwebsite.orders&state={{state}}&access_type=offline"))),
        ("walmart", Authorize("https://login.account.wal-mart.com/authorize?responseType=code&clientId=app-id&redirectUri=https%3A%2F%2Fcartlink.test%2Foauth%2Fcallback%2Fwalmart&clientType=seller&nonce={nonce}&state={state}".into())),
        ("wix", Authorize("https://www.wix.com/app-installer?appId=app-id&postInstallationUrl=https%3A%2F%2Fcartlink.test%2Foauth%2Fcallback%2Fwix%3Fstate%3D{state}".into())),
        ("magento", Integration {
            request_token: "https://shop.example.com/oauth/token/request",
            access_token: "https://shop.example.com/oauth/token/access",
        }),
        ("prestashop", Typed { check: "https://shop.example.com/api/" }),
        ("shopware", Typed { check: "https://shop.example.com/api/oauth/token" }),
        ("extensiv-order-manager", Authorize(format!("https://app.skubana.com/oauth/authorize?client_id=app-id&scope=read_orders+read_products+read_inventory+write_inventory+read_shipments+write_shipments&{CB}extensiv-order-manager&response_type=code"))),
        ("tiktok-shop", Authorize("https://services.tiktokshop.com/open/authorize?service_id=amzn1.sellerapps.app.test&state={state}".into())),
        ("wix-legacy", Authorize("https://www.wix.com/installer/install?appId=app-id&redirectUrl=https%3A%2F%2Fcartlink.test%2Foauth%2Fcallback%2Fwix-legacy&state={state}".into())),
    ];
    let carts = builtin::all();
    assert_eq!(rows.len(), carts.len(), "one row per built-in cart");
    for (cart, (id, expected)) in carts.into_iter().cloned().zip(rows) {
        assert_eq!(cart.id.as_str(), id);
        let cart = configured(cart);
        match expected {
            Authorize(form) => {
                assert!(
                    matches!(cart.flavour, Flavour::PopupOauth | Flavour::KeyHandshake),
                    "{id}"
                );
                assert_eq!(built(&cart, sample_store(&cart)).unwrap(), form, "{id}");
            }
            Integration {
                request_token,
                access_token,
            } => {
                assert_eq!(cart.flavour, Flavour::AdminIntegration, "{id}");
                let TokenRequest::OAuth1(spec) = &cart.token_request else {
                    panic!("{id} fetches OAuth 1.0a tokens");
                };
                let vars = cart.input_vars(sample_store(&cart));
                let endpoint = |t: &str| cart.endpoint(t, &vars).unwrap().to_string();
                assert_eq!(endpoint(&spec.request_token_url), request_token, "{id}");
                assert_eq!(endpoint(&cart.token_url), access_token, "{id}");
                let steps = cart.admin_steps.join("\n");
                assert!(steps.contains("{callback_url}"), "{id}");
                assert!(steps.contains("{identity_url}"), "{id}");
                assert_eq!(cart.refresh, Refresh::None, "{id}");
            }
            Typed { check } => {
                assert_eq!(cart.flavour, Flavour::Credentials, "{id}");
                let vars = cart.input_vars(sample_store(&cart));
                assert_eq!(
                    cart.endpoint(&cart.token_url, &vars).unwrap().as_str(),
                    check
                );
                assert!(!cart.credential_fields.is_empty(), "{id}");
                assert_eq!(cart.refresh, Refresh::None, "{id}");
            }
        }
    }
}

#[test]
fn magento_takes_only_credentials_shaped_like_the_ones_it_mints() {
    let cart = builtin::get("magento").unwrap();
    let TokenRequest::OAuth1(spec) = &cart.token_request else {
        panic!("OAuth 1.0a");
    };
    assert!(pattern_matches(
        &spec.credential_pattern,
        "0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p"
    ));
    for bad in [
        "",
        "0A1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P",
        "0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5",
        "0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5pq",
        "0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5\n",
        "0a1b2c3d4e5f6g7h-i9j0k1l2m3n4o5p",
    ] {
        assert!(!pattern_matches(&spec.credential_pattern, bad), "{bad:?}");
    }
    // and its token calls reach only the merchant's own store
    let vars = cart.input_vars(Some("https://shop.example.com"));
    assert!(cart
        .endpoint("https://evil.example.net/oauth/token/request", &vars)
        .is_err());
}

#[test]
fn amazon_drafts_ask_for_beta_and_published_apps_do_not() {
    let mut cart = configured(builtin::get("amazon-sp-api").unwrap());
    cart.credentials.as_mut().unwrap().draft = false;
    let url = built(&cart, Some("na")).unwrap();
    assert!(url.starts_with("https://sellercentral.amazon.com/apps/authorize/consent?"));
    assert!(!url.contains("version="));
}

#[test]
fn amazon_consents_on_the_seller_central_of_each_marketplace() {
    // GIVEN the Seller Central URLs table of the SP-API developer guide (Egypt has no entry)
    let table = [
        ("na", "sellercentral.amazon.com"),
        ("ca", "sellercentral.amazon.ca"),
        ("mx", "sellercentral.amazon.com.mx"),
        ("br", "sellercentral.amazon.com.br"),
        ("eu", "sellercentral-europe.amazon.com"),
        ("nl", "sellercentral.amazon.nl"),
        ("se", "sellercentral.amazon.se"),
        ("pl", "sellercentral.amazon.pl"),
        ("tr", "sellercentral.amazon.com.tr"),
        ("ae", "sellercentral.amazon.ae"),
        ("in", "sellercentral.amazon.in"),
        ("sg", "sellercentral.amazon.sg"),
        ("au", "sellercentral.amazon.com.au"),
        ("fe", "sellercentral.amazon.co.jp"),
    ];
    let cart = configured(builtin::get("amazon-sp-api").unwrap());
    let input = cart.input.as_ref().unwrap();
    let offered: Vec<&str> = input.choices.iter().map(|c| c.value.as_str()).collect();
    let listed: Vec<&str> = table.iter().map(|(v, _)| *v).collect();
    assert_eq!(offered, listed, "one choice per Seller Central URL");
    for (value, host) in table {
        // WHEN the merchant picks that marketplace
        let url = built(&cart, Some(value)).unwrap();
        // THEN the consent page is that marketplace's Seller Central
        assert!(
            url.starts_with(&format!("https://{host}/apps/authorize/consent?")),
            "{value}: {url}"
        );
    }
    // AND a marketplace outside the table is refused before any URL is built
    assert!(input.validate("eg").is_err());
    assert!(built(&cart, Some("eg")).is_err());
}

#[test]
fn lightspeed_r_series_uses_its_own_endpoints() {
    let cart = configured(builtin::get("lightspeed-retail").unwrap());
    let url = built(&cart, Some("r")).unwrap();
    assert!(url.starts_with("https://cloud.lightspeedapp.com/auth/oauth/authorize?"));
    // and its own scope, where X-Series asks per domain
    assert!(url.contains("&scope=employee%3Aall&"), "{url}");
    let vars = cart.input_vars(Some("r"));
    assert_eq!(
        cart.endpoint(&cart.token_url, &vars).unwrap().as_str(),
        "https://cloud.lightspeedapp.com/auth/oauth/token"
    );
}

#[test]
fn every_pattern_in_the_catalog_is_anchored_and_every_entry_is_whole() {
    let carts = builtin::all();
    assert_eq!(carts.len(), 22);
    let mut ids: Vec<&str> = carts.iter().map(|c| c.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 22);
    let anchored = |p: &str| {
        assert!(
            p.starts_with('^') && p.ends_with('$'),
            "{p} is not anchored"
        );
        assert!(regex_lite::Regex::new(p).is_ok(), "{p} does not compile");
    };
    for c in carts {
        if let Some(i) = &c.input {
            anchored(i.pattern.as_str());
        }
        for v in c.callback.vars.iter().chain(c.callback.account.iter()) {
            anchored(v.pattern.as_str());
        }
        for h in &c.hosts {
            if let HostRule::Pattern(p) = h {
                anchored(p.as_str());
            }
        }
        assert!(!c.hosts.is_empty(), "{} allows no host", c.id);
        assert!(!c.scopes.is_empty(), "{} supports no function", c.id);
        for choice in c.input.iter().flat_map(|i| &i.choices) {
            if !choice.scopes.is_empty() {
                let own: Vec<_> = choice.scopes.keys().collect();
                let cart: Vec<_> = c.scopes.keys().collect();
                assert_eq!(own, cart, "{} {}: other functions", c.id, choice.value);
            }
        }
        assert!(!c.sources.is_empty(), "{} names no source", c.id);
        if c.token_auth == TokenAuth::None {
            assert!(c.pkce.is_used(), "{}: a public client needs PKCE", c.id);
        }
    }
}

#[test]
fn shop_domains_must_be_exactly_a_myshopify_host() {
    let input = builtin::get("shopify").unwrap().input.unwrap();
    assert_eq!(
        input.validate(" Acme-Store.MyShopify.com ").unwrap(),
        "acme-store.myshopify.com"
    );
    for bad in [
        "evil.com/x.myshopify.com",
        "a.myshopify.com.evil.test",
        "a.myshopify.com:443@evil",
        "a.myshopify.com/",
        "a.myshopify.com.",
        ".myshopify.com",
        "a..myshopify.com",
        "-a.myshopify.com",
        "xn--80ak6aa92e.com",
        "acme.myshopify.com\nx",
        "acme.shopify.com",
        "",
    ] {
        assert!(input.validate(bad).is_err(), "{bad:?} passed");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

    #[test]
    fn whatever_passes_the_shop_check_is_one_myshopify_host(
        typed in proptest::prop_oneof![
            "\\PC{0,40}",
            "[a-zA-Z0-9.:/@ -]{0,20}\\.[mM]y[sS]hopify\\.com[a-z0-9.:/@?#-]{0,10}",
            "[ -~]{0,10}[a-z0-9-]{1,20}\\.myshopify\\.com",
        ],
    ) {
        // GIVEN any text a merchant or an attacker could type as the shop
        let input = builtin::get("shopify").unwrap().input.unwrap();
        // WHEN it passes the check
        if let Ok(shop) = input.validate(&typed) {
            // THEN it is exactly one lower-case myshopify.com host, and the token endpoint built
            // on it names that host and nothing else
            let label = shop.strip_suffix(".myshopify.com").expect("a myshopify.com host");
            proptest::prop_assert!(!label.is_empty() && !label.starts_with('-'));
            proptest::prop_assert!(label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            let url = Url::parse(&format!("https://{shop}/admin/oauth/access_token")).unwrap();
            proptest::prop_assert_eq!(url.host_str(), Some(shop.as_str()));
        }
    }

    #[test]
    fn every_plain_shop_name_passes_the_shop_check(label in "[a-z0-9][a-z0-9-]{0,30}") {
        // GIVEN a shop name as Shopify mints them
        let input = builtin::get("shopify").unwrap().input.unwrap();
        // THEN its myshopify.com host passes, unchanged
        let host = format!("{label}.myshopify.com");
        proptest::prop_assert_eq!(input.validate(&host).ok(), Some(host));
    }
}

#[test]
fn endpoints_reach_only_hosts_the_entry_allows() {
    // GIVEN values forged past the input check (as if a pattern were wrong)
    let shopify = builtin::get("shopify").unwrap();
    let forged: Vars = [("shop".to_string(), "evil.test/x.myshopify.com".to_string())].into();
    // THEN the host rule still refuses the token endpoint
    assert!(matches!(
        shopify.endpoint(&shopify.token_url, &forged),
        Err(EndpointError::HostNotAllowed(_))
    ));
    let lightspeed = builtin::get("lightspeed-retail").unwrap();
    let mut vars = lightspeed.input_vars(Some("x"));
    vars.insert("domain_prefix".into(), "evil.test/x".into());
    assert!(lightspeed.endpoint(&lightspeed.token_url, &vars).is_err());
    // AND a missing callback value stops the build
    let vars = lightspeed.input_vars(Some("x"));
    assert_eq!(
        lightspeed.endpoint(&lightspeed.token_url, &vars),
        Err(EndpointError::MissingVar("domain_prefix".into()))
    );
    // AND plain http is refused off loopback
    let mut ebay = builtin::get("ebay").unwrap();
    ebay.token_url = "http://api.ebay.com/identity/v1/oauth2/token".into();
    assert_eq!(
        ebay.endpoint(&ebay.token_url, &Vars::new()),
        Err(EndpointError::NotHttps)
    );
}

#[test]
fn a_stand_in_override_moves_the_checked_url_under_its_base() {
    let mut cart = builtin::get("shopify").unwrap();
    cart.base_url_override = Some(Url::parse("http://127.0.0.1:9/").unwrap());
    let vars = cart.input_vars(Some("acme.myshopify.com"));
    assert_eq!(
        cart.endpoint(&cart.token_url, &vars).unwrap().as_str(),
        "http://127.0.0.1:9/acme.myshopify.com/admin/oauth/access_token"
    );
    // the host rule runs before the move
    let forged: Vars = [("shop".to_string(), "evil.test".to_string())].into();
    assert!(cart.endpoint(&cart.token_url, &forged).is_err());
}

#[test]
fn woocommerce_calls_only_the_store_the_merchant_named() {
    let cart = builtin::get("woocommerce").unwrap();
    let vars = cart.input_vars(Some("https://shop.example.com/wp"));
    assert_eq!(
        cart.endpoint(&cart.token_url, &vars).unwrap().as_str(),
        "https://shop.example.com/wp/wp-json/wc/v3/orders?per_page=1"
    );
    assert!(cart.input_vars(Some("https://127.0.0.1")).is_empty());
    assert!(cart.endpoint(&cart.token_url, &Vars::new()).is_err());
}

#[test]
fn a_client_id_in_a_path_is_encoded_and_cannot_reshape_the_url() {
    // GIVEN BigCommerce, whose install link names the client id in its path, and a client id
    // holding URL syntax
    let mut cart = configured(builtin::get("bigcommerce").unwrap());
    cart.credentials.as_mut().unwrap().client_id = "a/../b?x=1#y".into();
    // WHEN the install link is built
    let url = built(&cart, Some("abc123")).unwrap();
    // THEN the id stays one path segment on BigCommerce's host
    assert_eq!(
        url,
        "https://login.bigcommerce.com/app/a%2F..%2Fb%3Fx%3D1%23y/install"
    );
}

#[test]
fn a_bigcommerce_store_hash_is_a_bare_hash() {
    let input = builtin::get("bigcommerce").unwrap().input.unwrap();
    assert_eq!(input.validate(" ABC123 ").unwrap(), "abc123");
    for bad in [
        "stores/abc123",
        "abc-123",
        "abc123.mybigcommerce.com",
        "",
        "a b",
    ] {
        assert!(input.validate(bad).is_err(), "{bad:?} passed");
    }
}

#[test]
fn a_refresh_reaches_only_the_host_the_stored_account_names_after_its_pattern() {
    // GIVEN a Lightspeed X-Series connection, whose token host comes from its account
    let cart = builtin::get("lightspeed-retail").unwrap();
    // WHEN its refresh endpoint is built from a well-formed stored account
    let vars = cart.connection_vars(Some("x"), Some("acmeshop"));
    // THEN it is that store's host
    assert_eq!(
        cart.endpoint(&cart.token_url, &vars).unwrap().as_str(),
        "https://acmeshop.retail.lightspeed.app/api/1.0/token"
    );
    // AND an account that fails the pattern sets nothing, so no endpoint is built at all
    for forged in ["evil.test/x", "acme.shop", "Acme"] {
        let vars = cart.connection_vars(Some("x"), Some(forged));
        assert_eq!(
            cart.endpoint(&cart.token_url, &vars),
            Err(EndpointError::MissingVar("domain_prefix".into())),
            "{forged}"
        );
    }
}

#[test]
fn every_cart_that_hands_out_refresh_tokens_can_redeem_them() {
    for cart in builtin::all() {
        let refreshes = !matches!(
            cart.refresh_request,
            TokenRequest::NoExchange | TokenRequest::OAuth1(_)
        );
        let expires = !matches!(cart.refresh, Refresh::None);
        assert_eq!(refreshes, expires, "{}", cart.id);
        if let TokenRequest::Described(d) = &cart.refresh_request {
            if cart.refresh.remints() {
                // A token minted again needs no refresh token: the app's own credentials.
                assert!(!d.fields.iter().any(|(_, f)| *f == Field::RefreshToken));
                assert!(d.fields.iter().any(
                    |(k, f)| k == "grant_type" && *f == Field::Lit("client_credentials".into())
                ));
                continue;
            }
            assert!(
                d.fields.iter().any(|(_, f)| *f == Field::RefreshToken),
                "{} sends its refresh token",
                cart.id
            );
            assert!(
                d.fields
                    .iter()
                    .any(|(k, f)| k == "grant_type" && *f == Field::Lit("refresh_token".into())),
                "{} asks for grant_type=refresh_token",
                cart.id
            );
        }
    }
}

#[test]
fn shopifys_shop_pattern_is_one_in_its_input_its_account_and_its_host_rule() {
    // GIVEN Shopify's entry, which writes the shop pattern three times
    let cart = builtin::get("shopify").unwrap();
    let input = cart.input.as_ref().unwrap().pattern.clone();
    // THEN the callback's account and the host rule are the input's pattern
    assert_eq!(cart.callback.account.as_ref().unwrap().pattern, input);
    assert_eq!(cart.hosts, vec![HostRule::Pattern(input)]);
}

#[test]
fn the_callback_hooks_are_the_ones_each_entry_names() {
    // GIVEN the built-in entries THEN Shopify runs its HMAC check, Walmart its echo check, Wix
    // its signed instance check, and no other cart a hook
    for cart in builtin::all() {
        let names: Vec<&str> = cart.checks.iter().map(|c| c.name).collect();
        let expected: &[&str] = match cart.id.as_str() {
            "shopify" => &["shopify_hmac"],
            "walmart" => &["walmart_client_id_echo"],
            "wix" => &["wix_signed_instance"],
            _ => &[],
        };
        assert_eq!(names, expected, "{}", cart.id);
    }
}

#[test]
fn tiktok_shop_sellers_authorize_on_the_services_site_of_their_market() {
    // GIVEN TikTok Shop's entry, whose authorization page is one for US sellers and one for the
    // rest of the world
    let cart = configured(builtin::get("tiktok-shop").unwrap());
    // WHEN a US seller and a seller elsewhere grant
    let us = built(&cart, Some("us")).unwrap();
    let global = built(&cart, Some("global")).unwrap();
    // THEN each is sent to their market's page with the app's service id and the state
    assert_eq!(
        us,
        "https://services.tiktokshops.us/open/authorize?service_id=amzn1.sellerapps.app.test&state={state}"
    );
    assert!(global.starts_with("https://services.tiktokshop.com/open/authorize?"));
    // AND another market takes no invite
    let input = cart.input.as_ref().unwrap();
    assert!(input.validate("uk").is_err());
    // AND the token calls reach TikTok Shop's auth host only
    assert!(cart
        .endpoint(
            "https://auth.tiktok-shops.com.evil.test/api/v2/token/get",
            &Vars::new()
        )
        .is_err());
}

#[test]
fn a_described_request_url_off_https_is_refused_when_the_entry_is_read() {
    // GIVEN an operator's cart whose described refresh names its own endpoint over plain http
    let entry = |url: &str| {
        toml::from_str::<CartEntry>(&format!(
            r#"
id = "own"
name = "Own"
authorize_url = "https://auth.own.test/authorize"
token_url = "https://auth.own.test/token"
[scopes]
orders = []
[refresh_request]
kind = "described"
url = "{url}"
json = false
fields = [["grant_type", {{ lit = "refresh_token" }}], ["refresh_token", "refresh_token"]]
"#
        ))
        .unwrap()
    };
    // THEN reading it fails, naming the request's url; the https one reads
    let refused = entry("http://auth.own.test/refresh")
        .into_spec(false)
        .err()
        .unwrap();
    assert!(refused.contains("url"), "{refused}");
    assert!(entry("https://auth.own.test/refresh")
        .into_spec(false)
        .is_ok());
}
