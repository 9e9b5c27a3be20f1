//! The configuration: what it reads, and what it refuses with a reason.

use super::*;
use crate::carts::Pkce;
use std::collections::HashMap;

fn load(vars: &[(&str, &str)], file: Option<&str>) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Some(text) = file {
        let path = dir.path().join("cartlink.toml");
        std::fs::write(&path, text).unwrap();
        map.insert("CARTLINK_CONFIG".into(), path.display().to_string());
    }
    Config::load(&|k| map.get(k).cloned())
}

#[test]
fn defaults_serve_loopback_http() {
    let c = load(&[], None).unwrap();
    assert_eq!(c.public_base_url, "http://127.0.0.1:3000");
    assert!(c.is_local_http());
    assert_eq!(
        c.redirect_uri(&CartId::new("sandbox")),
        "http://127.0.0.1:3000/oauth/callback/sandbox"
    );
}

#[test]
fn the_public_origin_follows_a_base_url_changed_after_it_was_asked() {
    // GIVEN a configuration whose public origin was asked for once
    let mut c = load(&[], None).unwrap();
    assert_eq!(c.public_origin(), "http://127.0.0.1:3000");
    // WHEN its base URL is changed afterwards (with a path and the default port)
    c.public_base_url = "https://Cartlink.Example.com:443/prefix".into();
    // THEN the origin is the new URL's, as the URL standard writes it
    assert_eq!(c.public_origin(), "https://cartlink.example.com");
}

#[test]
fn production_base_urls_must_be_https() {
    assert!(load(
        &[("CARTLINK_PUBLIC_BASE_URL", "http://cartlink.example.com")],
        None
    )
    .is_err());
    let c = load(
        &[("CARTLINK_PUBLIC_BASE_URL", "https://cartlink.example.com/")],
        None,
    )
    .unwrap();
    assert_eq!(c.public_base_url, "https://cartlink.example.com");
    assert!(!c.is_local_http());
}

#[test]
fn a_generic_cart_and_warehouse_come_from_the_file() {
    // GIVEN a file with one warehouse and one generic cart whose secret is in the environment
    let file = format!(
        r#"
        [[warehouses]]
        id = "wh-acme"
        name = "Acme Fulfilment"
        notify_email = "ops@Acme.TEST"
        api_key_sha256 = ["{}"]

        [[carts]]
        id = "shopcart"
        name = "ShopCart"
        authorize_url = "https://auth.shopcart.test/authorize"
        token_url = "https://auth.shopcart.test/token"
        client_id = "app"
        client_secret_env = "SHOPCART_SECRET"
        pkce = "required"
        [carts.scopes]
        orders = ["orders.read"]
        "#,
        TokenHash::of("k").as_str()
    );
    // WHEN it is loaded
    let c = load(&[("SHOPCART_SECRET", "s3cret")], Some(&file)).unwrap();
    // THEN both are there, the email domain lower-cased and the secret read from the env
    assert_eq!(c.warehouses[0].notify_email, "ops@acme.test");
    let cart = &c.carts[0];
    assert_eq!(cart.pkce, Pkce::Required);
    assert_eq!(
        cart.credentials
            .as_ref()
            .unwrap()
            .client_secret
            .as_ref()
            .unwrap()
            .expose(),
        "s3cret"
    );
    // AND the secret is not in the Debug form
    assert!(!format!("{c:?}").contains("s3cret"));
}

#[test]
fn unknown_fields_and_bad_values_are_refused_with_a_reason() {
    assert!(load(&[], Some("surprise = 1"))
        .unwrap_err()
        .0
        .contains("surprise"));
    let insecure = r#"
        [[carts]]
        id = "x"
        name = "X"
        authorize_url = "http://auth.x.test/a"
        token_url = "https://auth.x.test/t"
        client_id = "app"
        client_secret = "s"
        [carts.scopes]
        orders = ["o"]
    "#;
    assert!(load(&[], Some(insecure)).unwrap_err().0.contains("https"));
}

#[test]
fn builtin_cart_credentials_come_from_the_file_with_their_extra_fields() {
    // GIVEN credentials for eBay (RuName) and Amazon (app id, draft)
    let file = r#"
        [cart_credentials.ebay]
        client_id = "ebay-app"
        client_secret_env = "EBAY_SECRET"
        ru_name = "Cartlink-RuName"

        [cart_credentials.amazon-sp-api]
        client_id = "amzn1.application-oa2-client.x"
        client_secret = "lwa"
        app_id = "amzn1.sellerapps.app.x"
        draft = true

        [cart_credentials.etsy]
        client_id = "keystring"
    "#;
    // WHEN it is loaded
    let c = load(&[("EBAY_SECRET", "cert")], Some(file)).unwrap();
    // THEN the catalog enables exactly those carts, with their fields
    let catalog = crate::carts::Catalog::from_config(&c);
    let ebay = catalog.get(&CartId::new("ebay")).unwrap();
    let creds = ebay.credentials.as_ref().unwrap();
    assert_eq!(creds.ru_name.as_deref(), Some("Cartlink-RuName"));
    assert_eq!(creds.client_secret.as_ref().unwrap().expose(), "cert");
    let amazon = catalog.get(&CartId::new("amazon-sp-api")).unwrap();
    assert!(amazon.credentials.as_ref().unwrap().draft);
    assert!(catalog.get(&CartId::new("etsy")).unwrap().enabled());
    assert!(!catalog.get(&CartId::new("shopify")).unwrap().enabled());
    assert_eq!(catalog.iter().count(), 22);
}

#[test]
fn builtin_credentials_missing_what_the_cart_needs_are_refused() {
    let no_runame = "[cart_credentials.ebay]\nclient_id = \"a\"\nclient_secret = \"s\"\n";
    assert!(load(&[], Some(no_runame))
        .unwrap_err()
        .0
        .contains("ru_name"));
    let no_secret = "[cart_credentials.shopify]\nclient_id = \"a\"\n";
    assert!(load(&[], Some(no_secret)).unwrap_err().0.contains("secret"));
    let unknown = "[cart_credentials.nosuchcart]\nclient_id = \"a\"\n";
    assert!(load(&[], Some(unknown)).unwrap_err().0.contains("built-in"));
    // Magento has no secret of its own (each store hands one over on activation)
    let magento = "[cart_credentials.magento]\nclient_id = \"cartlink\"\n";
    assert!(
        load(&[], Some(magento)).unwrap().cart_credentials[&CartId::new("magento")]
            .credentials
            .client_secret
            .is_none()
    );
}

/// An operator's cart written in the built-in entries' schema: a per-store host from a
/// merchant input, a described JSON token request, a callback value, a named hook.
const PER_STORE_CART: &str = r#"
    [[carts]]
    id = "acme-shops"
    name = "Acme Shops"
    authorize_url = "https://{shop}/oauth/authorize"
    token_url = "https://{shop}/oauth/token"
    client_id = "app"
    client_secret = "s"
    pkce = "not_supported"
    hosts = ['^[a-z0-9-]+\.acme-shops\.test$']
    refresh = { kind = "fixed", access_secs = 600 }
    sources = ["the operator's own notes"]
    [carts.scopes]
    orders = ["orders:read"]
    [carts.input]
    key = "shop"
    label = "Shop host"
    pattern = '^[a-z0-9-]+\.acme-shops\.test$'
    normalize = "lowercase"
    [carts.callback]
    account = { param = "shop", var = "account", pattern = '^[a-z0-9-]+\.acme-shops\.test$' }
    [carts.token_request]
    kind = "described"
    json = true
    fields = [["code", "code"], ["client_id", "client_id"], ["shop", { var = "shop" }]]
    expiry = { in_secs = "expires_in" }
"#;

#[test]
fn an_operator_cart_may_use_everything_a_built_in_entry_does() {
    // GIVEN an operator's cart with a per-store host, a described token request and a
    // documented token life
    let c = load(&[], Some(PER_STORE_CART)).unwrap();
    let cart = &c.carts[0];
    // WHEN its token endpoint is built for a shop the merchant named
    let vars = cart.input_vars(Some(" North.Acme-Shops.test "));
    let token = cart.endpoint(&cart.token_url, &vars).unwrap();
    // THEN it is that shop's, and the entry's other abilities are there
    assert_eq!(token.as_str(), "https://north.acme-shops.test/oauth/token");
    assert!(matches!(
        cart.token_request,
        crate::carts::TokenRequest::Described(_)
    ));
    assert_eq!(
        cart.refresh.documented_expiry(crate::domain::Timestamp(0)),
        Some(crate::domain::Timestamp(600))
    );
    assert_eq!(cart.sources, vec!["the operator's own notes"]);
    // AND a shop outside its pattern builds no endpoint
    let forged = cart.input_vars(Some("evil.test"));
    assert!(cart.endpoint(&cart.token_url, &forged).is_err());
}

#[test]
fn an_operator_cart_with_a_template_endpoint_must_name_its_hosts() {
    // GIVEN the per-store cart without its host rule
    let no_hosts = PER_STORE_CART.replace("hosts = ['^[a-z0-9-]+\\.acme-shops\\.test$']\n", "");
    assert_ne!(no_hosts, PER_STORE_CART);
    // THEN it is refused: a template's host cannot be derived
    assert!(load(&[], Some(&no_hosts)).unwrap_err().0.contains("hosts"));
}

#[test]
fn an_operator_cart_names_only_hooks_that_exist_and_gets_them() {
    // GIVEN the per-store cart naming Shopify's HMAC hook, then a hook nobody wrote
    let hooked = PER_STORE_CART.replace("pkce = ", "checks = [\"shopify_hmac\"]\n        pkce = ");
    let c = load(&[], Some(&hooked)).unwrap();
    assert_eq!(
        c.carts[0].checks.iter().map(|h| h.name).collect::<Vec<_>>(),
        ["shopify_hmac"]
    );
    let unknown = hooked.replace("shopify_hmac", "acme_magic");
    assert!(load(&[], Some(&unknown))
        .unwrap_err()
        .0
        .contains("acme_magic"));
}

#[test]
fn an_operator_cart_needs_the_credentials_its_entry_names() {
    // GIVEN a cart that sends a RuName as its redirect URI but gives none
    let ru = PER_STORE_CART.replace(
        "pkce = ",
        "redirect = \"ru_name\"\n        needs = [\"ru_name\"]\n        pkce = ",
    );
    assert!(load(&[], Some(&ru)).unwrap_err().0.contains("ru_name"));
    // WHEN it gives one THEN it loads with it
    let given = ru.replace(
        "client_secret = \"s\"",
        "client_secret = \"s\"\n        ru_name = \"Acme-RuName\"",
    );
    let c = load(&[], Some(&given)).unwrap();
    let creds = c.carts[0].credentials.as_ref().unwrap();
    assert_eq!(creds.ru_name.as_deref(), Some("Acme-RuName"));
}

#[test]
fn production_configurations_refuse_plain_http_and_stand_in_overrides() {
    let https = [("CARTLINK_PUBLIC_BASE_URL", "https://cartlink.example.com")];
    // GIVEN a stand-in override: fine in a loopback configuration
    let over = "[cart_credentials.square]\nclient_id = \"a\"\nclient_secret = \"s\"\nbase_url_override = \"http://127.0.0.1:9\"\n";
    let local = load(&[], Some(over)).unwrap();
    assert!(local.cart_credentials[&CartId::new("square")]
        .base_url_override
        .is_some());
    // WHEN the configuration is a production one THEN it is refused
    assert!(load(&https, Some(over)).is_err());
    // AND even an https override is refused there
    let https_over = over.replace("http://127.0.0.1:9", "https://stand-in.example.com");
    assert!(load(&https, Some(&https_over))
        .unwrap_err()
        .0
        .contains("loopback"));
    // AND a generic cart on plain http loopback is refused in production
    let generic = r#"
        [[carts]]
        id = "x"
        name = "X"
        authorize_url = "http://127.0.0.1:9/a"
        token_url = "http://127.0.0.1:9/t"
        client_id = "app"
        client_secret = "s"
        [carts.scopes]
        orders = ["o"]
    "#;
    assert!(load(&[], Some(generic)).is_ok());
    assert!(load(&https, Some(generic)).unwrap_err().0.contains("https"));
    // AND a generic cart may not take a built-in id
    let clash = generic.replace("id = \"x\"", "id = \"shopify\"");
    assert!(load(&[], Some(&clash)).unwrap_err().0.contains("built-in"));
}

#[test]
fn email_addresses_are_single_plain_and_normalized() {
    assert_eq!(
        normalize_email("A.Person@Example.COM").as_deref(),
        Some("A.Person@example.com")
    );
    for bad in [
        "a@b.com, c@d.com",
        "a@b.com\n",
        "<a@b.com>",
        "Name <a@b.com>",
        "a@b.com>",
        "nobody",
        "a@localhost",
        &format!("{}@b.com", "a".repeat(300)),
    ] {
        assert!(normalize_email(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn limits_come_from_the_environment_over_the_file_over_the_defaults() {
    // GIVEN no setting THEN the defaults
    assert_eq!(load(&[], None).unwrap().limits, Limits::default());
    // GIVEN both in the file and one in the environment
    let file = "invites_per_warehouse_per_hour = 7\nemails_per_address_per_day = 3\n";
    let c = load(&[("CARTLINK_EMAILS_PER_ADDRESS_PER_DAY", "9")], Some(file)).unwrap();
    // THEN the environment wins where it is set, the file elsewhere
    assert_eq!(c.limits.invites_per_warehouse_per_hour, 7);
    assert_eq!(c.limits.emails_per_address_per_day, 9);
}

#[test]
fn a_limit_that_is_not_a_whole_number_stops_the_start_with_its_name() {
    // GIVEN a limit that does not parse
    for bad in ["-1", "many", "2.5"] {
        let e = load(&[("CARTLINK_INVITES_PER_WAREHOUSE_PER_HOUR", bad)], None).unwrap_err();
        // THEN the error names the variable
        assert!(
            e.0.contains("CARTLINK_INVITES_PER_WAREHOUSE_PER_HOUR"),
            "{e}"
        );
    }
}

#[test]
fn the_webhook_schedule_is_read_from_the_environment_and_refused_when_malformed() {
    // GIVEN no schedule THEN the default one, which keeps trying for more than a day
    let default = load(&[], None).unwrap().webhook_schedule;
    assert_eq!(default, crate::domain::RetrySchedule::default());
    // GIVEN a short one THEN it is taken
    let short = load(&[("CARTLINK_WEBHOOK_SCHEDULE", "0,1")], None).unwrap();
    assert_eq!(short.webhook_schedule.0, vec![0, 1]);
    // GIVEN a malformed one THEN the start is refused, naming the variable
    let bad = load(&[("CARTLINK_WEBHOOK_SCHEDULE", "soon")], None).unwrap_err();
    assert!(
        bad.to_string().contains("CARTLINK_WEBHOOK_SCHEDULE"),
        "{bad}"
    );
}

#[test]
fn a_warehouse_may_name_its_merchants_language_and_only_one_of_ours() {
    let file = |locale: &str| {
        format!(
            r#"
            [[warehouses]]
            id = "wh-acme"
            name = "Acme"
            notify_email = "ops@acme.test"
            api_key_sha256 = ["{}"]
            locale = "{locale}"
            "#,
            TokenHash::of("k").as_str()
        )
    };
    // GIVEN a warehouse whose merchants read German, and one naming a language we lack
    // THEN the first loads with it, the second is refused
    let c = load(&[], Some(&file("de"))).unwrap();
    assert_eq!(c.warehouses[0].locale, Some(crate::domain::Locale::De));
    let refused = load(&[], Some(&file("pt"))).err().unwrap().to_string();
    assert!(refused.contains("locale"), "{refused}");
}

/// An operator's own `credentials` cart: no app of ours, the merchant types a key.
const TYPED_CART: &str = r#"
    [[carts]]
    id = "own-shop"
    name = "Own Shop"
    flavour = "credentials"
    authorize_url = "https://shop.own.test/admin"
    token_url = "https://shop.own.test/api/"
    token_auth = "basic"
    token_request = { kind = "no_exchange" }
    pkce = "not_supported"
    refresh = { kind = "none" }
    refresh_request = { kind = "no_exchange" }
    sources = ["the operator's own notes"]
    credential_fields = [
        { name = "key", label = "API key", help = "Settings > API.", role = "key", pattern = '^[a-z0-9]{40}$' },
    ]
    [carts.scopes]
    orders = ["orders"]
"#;

#[test]
fn an_operators_credentials_cart_needs_no_app_of_ours_and_is_offered() {
    // GIVEN an operator's credentials cart without a client id
    let c = load(&[], Some(TYPED_CART)).unwrap();
    // THEN it loads, with no app credentials, and invites can be made for it
    let cart = &c.carts[0];
    assert!(cart.credentials.is_none());
    assert!(cart.enabled());
    assert_eq!(cart.credential_fields[0].label, "API key");
}

#[test]
fn credential_fields_need_their_flavour_and_one_key() {
    // GIVEN the credentials cart as a popup cart, and with its key field made a secret
    let popup = TYPED_CART.replace(
        "flavour = \"credentials\"\n",
        "client_id = \"app\"\n    client_secret = \"s\"\n",
    );
    let keyless = TYPED_CART.replace("role = \"key\"", "role = \"secret\"");
    // THEN each is refused with why
    assert!(load(&[], Some(&popup))
        .unwrap_err()
        .0
        .contains("credentials flavour"));
    assert!(load(&[], Some(&keyless))
        .unwrap_err()
        .0
        .contains("one `key` field"));
}

const EBAY_TOKEN: &str = "cartlink-ebay-verification-token-0123456789";

#[test]
fn ebays_deletion_endpoint_and_token_come_from_the_file() {
    // GIVEN the endpoint registered at eBay and its token in the environment
    let file = r#"
        [ebay_account_deletion]
        endpoint = "https://cartlink.example.com/cart-events/ebay"
        verification_token_env = "EBAY_VT"
    "#;
    // WHEN it is loaded
    let c = load(
        &[
            ("CARTLINK_PUBLIC_BASE_URL", "https://cartlink.example.com"),
            ("EBAY_VT", EBAY_TOKEN),
        ],
        Some(file),
    )
    .unwrap();
    // THEN both are kept as written
    let e = c.ebay_account_deletion.unwrap();
    assert_eq!(e.endpoint, "https://cartlink.example.com/cart-events/ebay");
    assert_eq!(e.verification_token.expose(), EBAY_TOKEN);
}

#[test]
fn a_verification_token_not_of_ebays_shape_is_refused() {
    // GIVEN a token too short and one with a character eBay does not allow
    for token in ["short-token", &format!("{EBAY_TOKEN}!")] {
        let file = format!(
            "[ebay_account_deletion]\nendpoint = \"https://cartlink.example.com/cart-events/ebay\"\nverification_token = \"{token}\"\n"
        );
        // WHEN it is loaded THEN it is refused, saying eBay's rule
        let e = load(&[], Some(&file)).unwrap_err();
        assert!(e.0.contains("32 to 80"), "{}", e.0);
    }
}

#[test]
fn a_plain_http_deletion_endpoint_is_refused_in_production() {
    // GIVEN a production configuration naming an http endpoint
    let file = format!(
        "[ebay_account_deletion]\nendpoint = \"http://cartlink.example.com/cart-events/ebay\"\nverification_token = \"{EBAY_TOKEN}\"\n"
    );
    // WHEN it is loaded THEN it is refused
    let e = load(
        &[("CARTLINK_PUBLIC_BASE_URL", "https://cartlink.example.com")],
        Some(&file),
    )
    .unwrap_err();
    assert!(e.0.contains("https"), "{}", e.0);
}

#[test]
fn squares_notification_url_and_signature_key_come_from_the_file() {
    // GIVEN the subscription's URL, and its key in the environment
    let file = r#"
        [square_webhooks]
        notification_url = "https://cartlink.example.com/cart-events/square"
        signature_key_env = "SQ_KEY"
    "#;
    // WHEN it is loaded
    let c = load(
        &[
            ("CARTLINK_PUBLIC_BASE_URL", "https://cartlink.example.com"),
            ("SQ_KEY", "sq-signature-key"),
        ],
        Some(file),
    )
    .unwrap();
    // THEN both are kept as written
    let s = c.square_webhooks.unwrap();
    assert_eq!(
        s.notification_url,
        "https://cartlink.example.com/cart-events/square"
    );
    assert_eq!(s.signature_key.expose(), "sq-signature-key");
}

#[test]
fn a_square_subscription_without_exactly_one_key_is_refused() {
    // GIVEN the table with no key, and with both forms of it
    let url = "notification_url = \"https://cartlink.example.com/cart-events/square\"";
    for keys in ["", "signature_key = \"a\"\nsignature_key_env = \"B\""] {
        let file = format!("[square_webhooks]\n{url}\n{keys}\n");
        // WHEN it is loaded THEN it is refused, naming both
        let e = load(&[], Some(&file)).unwrap_err();
        assert!(e.0.contains("exactly one of signature_key"), "{}", e.0);
    }
}

#[test]
fn wixs_public_key_is_read_from_the_environment_as_an_rsa_key() {
    // GIVEN the app's public key (the test fixture's) in the environment
    let pem = include_str!("../../../tests/fixtures/wix-webhook-public-key.pem");
    let file = "[wix_webhooks]\npublic_key_env = \"WIX_KEY\"\n";
    // WHEN it is loaded
    let c = load(&[("WIX_KEY", pem)], Some(file)).unwrap();
    // THEN the RSA key inside it is kept (a 2048-bit RSAPublicKey: a DER sequence of 270 bytes)
    let key = c.wix_webhooks.unwrap().public_key;
    assert_eq!((key[0], key.len()), (0x30, 270));
}

#[test]
fn a_wix_key_that_is_not_an_rsa_public_key_in_pem_is_refused() {
    // GIVEN an EC public key, a truncated PEM and a bare base64 body
    let ec = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEy7vAGX85bUD9LW7r/f9AI9s9OtbM\nuTbGcN68uFbZK+MXUIlt7/EvOUEY+ij/NoXunWQNMVFE42Tv2EUs/Kuc7Q==\n-----END PUBLIC KEY-----";
    let rsa = include_str!("../../../tests/fixtures/wix-webhook-public-key.pem");
    let truncated = &rsa[..rsa.len() / 2];
    let bare: String = rsa.lines().filter(|l| !l.starts_with("-----")).collect();
    for key in [ec, truncated, bare.as_str()] {
        let file = format!("[wix_webhooks]\npublic_key = \"\"\"\n{key}\n\"\"\"\n");
        // WHEN it is loaded THEN it is refused, saying what is expected
        let e = load(&[], Some(&file)).unwrap_err();
        assert!(e.0.contains("RSA key in PEM"), "{}", e.0);
    }
}

#[test]
fn a_wix_table_without_exactly_one_key_is_refused() {
    // GIVEN the table with no key, and with both forms of it
    for keys in ["", "public_key = \"a\"\npublic_key_env = \"B\""] {
        let file = format!("[wix_webhooks]\n{keys}\n");
        // WHEN it is loaded THEN it is refused, naming both
        let e = load(&[], Some(&file)).unwrap_err();
        assert!(e.0.contains("exactly one of public_key"), "{}", e.0);
    }
}
