//! The built-in carts. Each entry's `notes` names the sources of its facts (keys of
//! `shared/reference/carts.md`) and marks what is still an unverified lead, so a wrong detail is
//! corrected here, in data.

use std::collections::BTreeMap;

use super::quirks::{SHOPIFY_HMAC, WALMART_CLIENT_ID_ECHO};
use super::{
    AuthorizeSpec, CallbackParams, CallbackValue, CartId, CartSpec, Choice, DescribedRequest,
    Expiry, Field, Flavour, HostRule, InputEcho, MerchantInput, Normalize, OAuth1Spec, Param, Pkce,
    Redirect, Refresh, StateReturn, TokenAuth, TokenRequest,
};
use crate::domain::Function;

const DAY: u32 = 86_400;

/// Shopify's shop domain, anchored: `name.myshopify.com` and nothing around it.
pub const SHOPIFY_SHOP_PATTERN: &str = r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$";
/// Lightspeed X-Series `domain_prefix`, anchored: one DNS label.
pub const LIGHTSPEED_DOMAIN_PREFIX_PATTERN: &str = r"^[a-z0-9][a-z0-9-]{0,62}$";
/// What a Magento integration's consumer key, consumer secret and verifier look like: Magento
/// mints each as 32 characters of digits and lower-case letters (`Oauth\\Helper\\Oauth`).
pub const MAGENTO_CREDENTIAL_PATTERN: &str = r"^[a-z0-9]{32}$";
/// A merchant store URL after cleaning (the public-host rule runs first).
pub const STORE_URL_PATTERN: &str = r"^https://[a-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$";

fn scopes(list: &[(Function, &[&str])]) -> BTreeMap<Function, Vec<String>> {
    list.iter()
        .map(|(f, s)| (*f, s.iter().map(|s| s.to_string()).collect()))
        .collect()
}

fn all_three(s: &[&str]) -> BTreeMap<Function, Vec<String>> {
    scopes(&[
        (Function::Orders, s),
        (Function::Inventory, s),
        (Function::Shipments, s),
    ])
}

fn hosts(patterns: &[&str]) -> Vec<HostRule> {
    patterns
        .iter()
        .map(|p| HostRule::Pattern(p.to_string()))
        .collect()
}

fn params(list: &[(&str, Param)]) -> Vec<(String, Param)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn fields(list: &[(&str, Field)]) -> Vec<(String, Field)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// The refresh request of a cart whose code request is described: the same body format,
/// headers and answer, with `grant_type=refresh_token`, the refresh token and `extra` fields.
fn described_refresh(code: &TokenRequest, extra: &[(&str, Field)]) -> TokenRequest {
    let mut list = vec![
        ("grant_type", flit("refresh_token")),
        ("refresh_token", Field::RefreshToken),
    ];
    list.extend(extra.iter().cloned());
    match code {
        TokenRequest::Described(d) => TokenRequest::Described(DescribedRequest {
            fields: fields(&list),
            ..d.clone()
        }),
        other => other.clone(),
    }
}

/// The client id and secret in the body (JSON refreshes of Shopify, Square, Wix).
fn client_in_body() -> [(&'static str, Field); 2] {
    [
        ("client_id", Field::ClientId),
        ("client_secret", Field::ClientSecret),
    ]
}

fn lit(s: &str) -> Param {
    Param::Lit(s.into())
}

fn flit(s: &str) -> Field {
    Field::Lit(s.into())
}

fn store_url_input() -> MerchantInput {
    MerchantInput {
        key: "store_url".into(),
        label: "Store URL (https://…)".into(),
        pattern: STORE_URL_PATTERN.into(),
        normalize: Normalize::PublicHttpsUrl,
        choices: Vec::new(),
    }
}

/// A popup OAuth cart with the standard authorize request and `oauth2`-crate exchange; each
/// entry below changes what differs.
fn base(id: &str, name: &str, authorize: &str, token: &str) -> CartSpec {
    CartSpec {
        id: CartId::new(id),
        name: name.into(),
        flavour: Flavour::PopupOauth,
        scopes: BTreeMap::new(),
        input: None,
        authorize: AuthorizeSpec::standard(authorize),
        redirect: Redirect::Callback,
        token_url: token.into(),
        token_auth: TokenAuth::Body,
        token_request: TokenRequest::Standard,
        pkce: Pkce::NotSupported,
        callback: CallbackParams::default(),
        checks: Vec::new(),
        hosts: Vec::new(),
        refresh: Refresh::None,
        refresh_request: TokenRequest::Standard,
        issuer: None,
        admin_steps: Vec::new(),
        finish_url: None,
        needs: Vec::new(),
        notes: String::new(),
        credentials: None,
        base_url_override: None,
    }
}

/// Shopify: per-shop hosts from the validated shop domain, HMAC-signed callback, JSON token
/// request for expiring offline tokens.
pub fn shopify() -> CartSpec {
    let mut c = base(
        "shopify",
        "Shopify",
        "https://{shop}/admin/oauth/authorize",
        "https://{shop}/admin/oauth/access_token",
    );
    c.input = Some(MerchantInput {
        key: "shop".into(),
        label: "Shop domain (name.myshopify.com)".into(),
        pattern: SHOPIFY_SHOP_PATTERN.into(),
        normalize: Normalize::Lowercase,
        choices: Vec::new(),
    });
    c.authorize.params = params(&[
        ("client_id", Param::ClientId),
        ("scope", Param::Scope),
        ("redirect_uri", Param::RedirectUri),
        ("state", Param::State),
    ]);
    c.authorize.scope_separator = ",".into();
    c.token_request = TokenRequest::Described(DescribedRequest {
        json: true,
        fields: fields(&[
            ("client_id", Field::ClientId),
            ("client_secret", Field::ClientSecret),
            ("code", Field::Code),
            ("expiring", flit("1")),
        ]),
        headers: fields(&[("Accept", flit("application/json"))]),
        refresh_token: Some("refresh_token".into()),
        expiry: Expiry::InSecs("expires_in".into()),
        account: None,
        auth: None,
    });
    c.callback.input_echo = Some(InputEcho {
        param: "shop".into(),
        expected: "{shop}".into(),
    });
    c.callback.account = Some(CallbackValue {
        param: "shop".into(),
        var: "account".into(),
        pattern: SHOPIFY_SHOP_PATTERN.into(),
    });
    c.checks = vec![SHOPIFY_HMAC];
    c.hosts = hosts(&[SHOPIFY_SHOP_PATTERN]);
    c.refresh = Refresh::Rotating {
        access_secs: Some(3600),
        refresh_secs: Some(90 * DAY),
    };
    c.scopes = scopes(&[
        (Function::Orders, &["read_orders"]),
        (
            Function::Inventory,
            &["read_products", "read_locations", "write_inventory"],
        ),
        (
            Function::Shipments,
            &["read_orders", "write_merchant_managed_fulfillment_orders"],
        ),
    ]);
    c.notes = "SHOP-LIB oauth.ts, hmac-validator.ts (90 s window), shop-validator.ts; shopify.dev \
               authorization-code-grant, offline-access-tokens (expiring=1: 1 h access, 90 d \
               rotating refresh). Offline mode by leaving out grant_options[]. Scope list per \
               shopify.dev access-scopes."
        .into();
    c.refresh_request = described_refresh(&c.token_request, &client_in_body());
    c
}

/// BigCommerce's store hash, as in `store-{hash}.mybigcommerce.com` and the API's
/// `stores/{hash}`.
pub const BIGCOMMERCE_STORE_HASH_PATTERN: &str = r"^[a-z0-9]{1,32}$";

/// BigCommerce: the external install link in the popup. Its auth callback carries no `state`
/// (and the install link takes none), so the state returns in a cookie and the callback's
/// `context` must name the store the invite was made for; the install dialog is then told that
/// the install succeeded.
pub fn bigcommerce() -> CartSpec {
    let mut c = base(
        "bigcommerce",
        "BigCommerce",
        "https://login.bigcommerce.com/app/{client_id}/install",
        "https://login.bigcommerce.com/oauth2/token",
    );
    c.input = Some(MerchantInput {
        key: "store_hash".into(),
        label: "Store hash (the part after store- in store-{hash}.mybigcommerce.com)".into(),
        pattern: BIGCOMMERCE_STORE_HASH_PATTERN.into(),
        normalize: Normalize::Lowercase,
        choices: Vec::new(),
    });
    c.authorize.params = Vec::new();
    c.token_request = TokenRequest::Described(DescribedRequest {
        json: true,
        fields: fields(&[
            ("client_id", Field::ClientId),
            ("client_secret", Field::ClientSecret),
            ("code", Field::Code),
            ("context", Field::Var("context".into())),
            ("scope", Field::Var("scope".into())),
            ("grant_type", flit("authorization_code")),
            ("redirect_uri", Field::RedirectUri),
        ]),
        headers: Vec::new(),
        refresh_token: None,
        expiry: Expiry::None,
        account: Some("context".into()),
        auth: None,
    });
    c.callback.state_return = StateReturn::Cookie;
    c.callback.input_echo = Some(InputEcho {
        param: "context".into(),
        expected: "stores/{store_hash}".into(),
    });
    c.callback.vars = vec![
        CallbackValue {
            param: "context".into(),
            var: "context".into(),
            pattern: r"^stores/[a-z0-9]{1,32}$".into(),
        },
        CallbackValue {
            param: "scope".into(),
            var: "scope".into(),
            pattern: r"^[a-z0-9_]+( [a-z0-9_]+)*$".into(),
        },
    ];
    c.hosts = hosts(&[r"^login\.bigcommerce\.com$"]);
    c.scopes = scopes(&[
        (Function::Orders, &["store_v2_orders_read_only"]),
        (Function::Inventory, &["store_inventory"]),
        (Function::Shipments, &["store_v2_orders"]),
    ]);
    c.finish_url = Some("https://login.bigcommerce.com/app/{client_id}/install/succeeded".into());
    c.notes = "bigcommerce/docs buttons.mdx (external install link app/{client_id}/install, \
               external_install on the auth callback, install/succeeded), auth.mdx (callback \
               code/scope/context without state, JSON token request, permanent token), \
               api-accounts.mdx (scopes). Scopes are the app profile's, not the request's. \
               install/succeeded is a browser redirect: BigCommerce renders its page \
               \"to the modal\" (buttons.mdx), and BigCommerce's own sample app redirects \
               there on external_install (bigcommerce/laravel-react-sample-app \
               app/Http/Controllers/MainController.php)."
        .into();
    c.refresh_request = TokenRequest::NoExchange;
    c
}

/// WooCommerce: the `/wc-auth/v1/authorize` key handshake on the merchant's own store.
pub fn woocommerce() -> CartSpec {
    let mut c = base(
        "woocommerce",
        "WooCommerce",
        "{store_url}/wc-auth/v1/authorize",
        "{store_url}/wp-json/wc/v3/orders?per_page=1",
    );
    c.flavour = Flavour::KeyHandshake;
    c.input = Some(store_url_input());
    c.authorize.params = params(&[
        ("app_name", lit("cartlink")),
        ("scope", lit("read_write")),
        ("user_id", Param::State),
        (
            "return_url",
            Param::PublicUrl("/oauth/return/woocommerce".into()),
        ),
        (
            "callback_url",
            Param::PublicUrl("/oauth/keys/woocommerce".into()),
        ),
    ]);
    c.token_auth = TokenAuth::Basic;
    c.token_request = TokenRequest::NoExchange;
    c.hosts = vec![HostRule::MerchantStore];
    c.scopes = all_three(&["read_write"]);
    c.notes = "woocommerce-rest-api-docs _authentication.md (wc-auth endpoint, parameters, keys \
               never expire, Basic over https); class-wc-auth.php (JSON key POST to \
               callback_url, 200 expected). Keys are checked with GET wc/v3/orders?per_page=1."
        .into();
    c.refresh_request = TokenRequest::NoExchange;
    c
}

/// eBay: the RuName as `redirect_uri` in both steps, HTTP Basic at the token endpoint.
pub fn ebay() -> CartSpec {
    let mut c = base(
        "ebay",
        "eBay",
        "https://auth.ebay.com/oauth2/authorize",
        "https://api.ebay.com/identity/v1/oauth2/token",
    );
    c.authorize.params = params(&[
        ("client_id", Param::ClientId),
        ("redirect_uri", Param::RedirectUri),
        ("response_type", lit("code")),
        ("scope", Param::Scope),
        ("state", Param::State),
    ]);
    c.redirect = Redirect::RuName;
    c.token_auth = TokenAuth::Basic;
    // The `oauth2` crate takes only a URL as `redirect_uri`; a RuName is a name.
    c.token_request = TokenRequest::Described(DescribedRequest {
        json: false,
        fields: fields(&[
            ("grant_type", flit("authorization_code")),
            ("code", Field::Code),
            ("redirect_uri", Field::RedirectUri),
        ]),
        headers: Vec::new(),
        refresh_token: Some("refresh_token".into()),
        expiry: Expiry::InSecs("expires_in".into()),
        account: None,
        auth: None,
    });
    c.needs = vec!["ru_name"];
    c.hosts = hosts(&[r"^auth\.ebay\.com$", r"^api\.ebay\.com$"]);
    c.refresh = Refresh::Fixed {
        access_secs: Some(7200),
        refresh_secs: Some(47_304_000),
    };
    c.scopes = scopes(&[
        (
            Function::Orders,
            &["https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly"],
        ),
        (
            Function::Inventory,
            &["https://api.ebay.com/oauth/api_scope/sell.inventory"],
        ),
        (
            Function::Shipments,
            &["https://api.ebay.com/oauth/api_scope/sell.fulfillment"],
        ),
    ]);
    c.notes = "developer.ebay.com oauth-consent-request, oauth-auth-code-grant-request (RuName, \
               Basic, form body), KB 5075. Scopes per method from eBay's published OpenAPI \
               contracts (sell_fulfillment_v1_oas3 v1.19.17, sell_inventory_v1_oas3 v1.16.1, as \
               mirrored in brandon14/ebay-sdk-php api-specs/): getOrders takes \
               sell.fulfillment.readonly or sell.fulfillment, createShippingFulfillment \
               sell.fulfillment, bulkCreateOrReplaceInventoryItem sell.inventory. PKCE: not in \
               eBay's parameter list (oauth-qref-auth-code-grant: client id, RuName, scopes, \
               state), so not sent; whether eBay accepts it: unverified."
        .into();
    // eBay's refresh names the scopes again (the granted ones, or fewer).
    c.refresh_request = described_refresh(&c.token_request, &[("scope", Field::Scopes)]);
    c
}

/// Amazon Selling Partner API: consent on the marketplace's Seller Central, `spapi_oauth_code` and
/// `selling_partner_id` in the callback, `version=beta` for draft apps.
pub fn amazon() -> CartSpec {
    let mut c = base(
        "amazon-sp-api",
        "Amazon Seller Central (SP-API)",
        "https://{seller_central}/apps/authorize/consent",
        "https://api.amazon.com/auth/o2/token",
    );
    let market = |value: &str, label: &str, host: &str| Choice {
        value: value.into(),
        label: label.into(),
        vars: vec![("seller_central".into(), host.into())],
        scopes: BTreeMap::new(),
    };
    // One choice per Seller Central URL of the developer guide's table: the consent page is
    // the one of the seller's marketplace. `na`, `eu` and `fe` keep the values of the earlier
    // per-region choice (US, the pan-European Seller Central, Japan).
    c.input = Some(MerchantInput {
        key: "region".into(),
        label: "Your Seller Central marketplace".into(),
        pattern: r"^(na|ca|mx|br|eu|nl|se|pl|tr|ae|in|sg|au|fe)$".into(),
        normalize: Normalize::Lowercase,
        choices: vec![
            market("na", "United States", "sellercentral.amazon.com"),
            market("ca", "Canada", "sellercentral.amazon.ca"),
            market("mx", "Mexico", "sellercentral.amazon.com.mx"),
            market("br", "Brazil", "sellercentral.amazon.com.br"),
            market(
                "eu",
                "Spain, UK, France, Germany or Italy",
                "sellercentral-europe.amazon.com",
            ),
            market("nl", "Netherlands", "sellercentral.amazon.nl"),
            market("se", "Sweden", "sellercentral.amazon.se"),
            market("pl", "Poland", "sellercentral.amazon.pl"),
            market("tr", "Turkey", "sellercentral.amazon.com.tr"),
            market("ae", "United Arab Emirates", "sellercentral.amazon.ae"),
            market("in", "India", "sellercentral.amazon.in"),
            market("sg", "Singapore", "sellercentral.amazon.sg"),
            market("au", "Australia", "sellercentral.amazon.com.au"),
            market("fe", "Japan", "sellercentral.amazon.co.jp"),
        ],
    });
    c.authorize.params = params(&[
        ("application_id", Param::AppId),
        ("state", Param::State),
        ("redirect_uri", Param::RedirectUri),
        ("version", Param::IfDraft("beta".into())),
    ]);
    c.callback.code = "spapi_oauth_code".into();
    c.callback.account = Some(CallbackValue {
        param: "selling_partner_id".into(),
        var: "account".into(),
        pattern: r"^[A-Z0-9]{8,32}$".into(),
    });
    c.needs = vec!["app_id"];
    c.hosts = hosts(&[
        r"^sellercentral-europe\.amazon\.com$",
        concat!(
            r"^sellercentral\.amazon\.",
            r"(com|ca|com\.mx|com\.br|nl|se|pl|com\.tr|ae|in|sg|com\.au|co\.jp)$"
        ),
        r"^api\.amazon\.com$",
    ]);
    c.refresh = Refresh::Fixed {
        access_secs: Some(3600),
        refresh_secs: None,
    };
    c.scopes = scopes(&[
        (Function::Orders, &[]),
        (Function::Inventory, &[]),
        (Function::Shipments, &[]),
    ]);
    c.notes = "amzn/selling-partner-api-docs developer guide (website authorization workflow: \
               consent URL, version=beta, spapi_oauth_code, selling_partner_id, LWA token \
               request with the secret in the body). No scopes: roles are chosen at app \
               registration. Consent host per marketplace (corrected from one per region): same \
               guide, Constructing an OAuth authorization URI (the Seller Central URL of the \
               seller's marketplace; authorizations are regional) and the Seller Central URLs \
               table (Japan: sellercentral.amazon.co.jp; Egypt has none there, so is not \
               offered). selling_partner_id pattern: unverified (the guide gives only the \
               example A3FHEXAMPLEYWS, which it fits)."
        .into();
    c
}

/// Etsy: PKCE required, public client (no secret at the token endpoint).
pub fn etsy() -> CartSpec {
    let mut c = base(
        "etsy",
        "Etsy",
        "https://www.etsy.com/oauth/connect",
        "https://api.etsy.com/v3/public/oauth/token",
    );
    c.token_auth = TokenAuth::None;
    c.pkce = Pkce::Required;
    c.hosts = hosts(&[r"^www\.etsy\.com$", r"^api\.etsy\.com$"]);
    c.refresh = Refresh::Rotating {
        access_secs: Some(3600),
        refresh_secs: Some(90 * DAY),
    };
    c.scopes = scopes(&[
        (Function::Orders, &["transactions_r"]),
        (Function::Inventory, &["listings_r", "listings_w"]),
        (Function::Shipments, &["transactions_r", "transactions_w"]),
    ]);
    c.notes = "developers.etsy.com authentication (PKCE S256 required, no client secret at the \
               token endpoint). Refresh token life (90 d) and rotation: unverified (the \
               official page's refresh section was not reachable; only third-party code says \
               90 d and rotating)."
        .into();
    c
}

/// Square: the code flow with a JSON token request; `expires_at` is a date.
pub fn square() -> CartSpec {
    let mut c = base(
        "square",
        "Square",
        "https://connect.squareup.com/oauth2/authorize",
        "https://connect.squareup.com/oauth2/token",
    );
    c.authorize.params = params(&[
        ("client_id", Param::ClientId),
        ("scope", Param::Scope),
        ("session", lit("false")),
        ("state", Param::State),
    ]);
    c.token_request = TokenRequest::Described(DescribedRequest {
        json: true,
        fields: fields(&[
            ("client_id", Field::ClientId),
            ("client_secret", Field::ClientSecret),
            ("code", Field::Code),
            ("grant_type", flit("authorization_code")),
        ]),
        headers: Vec::new(),
        refresh_token: Some("refresh_token".into()),
        expiry: Expiry::AtRfc3339("expires_at".into()),
        account: Some("merchant_id".into()),
        auth: None,
    });
    c.hosts = hosts(&[r"^connect\.squareup\.com$"]);
    c.refresh = Refresh::Fixed {
        access_secs: Some(30 * DAY),
        refresh_secs: None,
    };
    c.scopes = scopes(&[
        (Function::Orders, &["ORDERS_READ", "MERCHANT_PROFILE_READ"]),
        (
            Function::Inventory,
            &["ITEMS_READ", "INVENTORY_READ", "INVENTORY_WRITE"],
        ),
        (Function::Shipments, &["ORDERS_READ", "ORDERS_WRITE"]),
    ]);
    c.notes = "developer.squareup.com obtain-token, ObtainTokenResponse (expires_at date, \
               merchant_id), oauth-api overview (30 d access; code-flow refresh tokens do not \
               expire). Square's PKCE flow is its public-client flow; cartlink uses the code \
               flow with the secret, so no PKCE is sent. Scope names: OAuthPermission enum \
               reference (INVENTORY_READ: RetrieveInventoryCount, INVENTORY_WRITE: \
               BatchChangeInventory, ITEMS_READ), docs/oauth-api/square-permissions (ITEMS_READ: \
               ListCatalog, SearchCatalogObjects), square/connect-python-sdk README \
               (MERCHANT_PROFILE_READ for location IDs, ORDERS_READ, ORDERS_WRITE)."
        .into();
    c.refresh_request = described_refresh(&c.token_request, &client_in_body());
    c
}

/// Ecwid (Lightspeed E-Series): permanent token; `store_id` in the token response.
pub fn ecwid() -> CartSpec {
    let mut c = base(
        "ecwid",
        "Ecwid by Lightspeed",
        "https://my.ecwid.com/api/oauth/authorize",
        "https://my.ecwid.com/api/oauth/token",
    );
    c.token_request = TokenRequest::Described(DescribedRequest {
        json: false,
        fields: fields(&[
            ("client_id", Field::ClientId),
            ("client_secret", Field::ClientSecret),
            ("code", Field::Code),
            ("redirect_uri", Field::RedirectUri),
            ("grant_type", flit("authorization_code")),
        ]),
        headers: Vec::new(),
        refresh_token: None,
        expiry: Expiry::None,
        account: Some("store_id".into()),
        auth: None,
    });
    c.hosts = hosts(&[r"^my\.ecwid\.com$"]);
    c.scopes = scopes(&[
        (Function::Orders, &["read_store_profile", "read_orders"]),
        (
            Function::Inventory,
            &["read_store_profile", "read_catalog", "update_catalog"],
        ),
        (
            Function::Shipments,
            &["read_store_profile", "read_orders", "update_orders"],
        ),
    ]);
    c.notes = "Ecwid/ecwid-api-docs _authentication.md (endpoints, form token request, \
               store_id in the answer, non-expiring token). `state` support: unverified (sent): \
               api-docs.ecwid.com get-token-manually lists only client_id, redirect_uri, \
               response_type and scope, and a return of code or error; the device-app example \
               in _authentication.md shows state=code in the answer (a lead, not a rule)."
        .into();
    c.refresh_request = TokenRequest::NoExchange;
    c
}

/// Lightspeed Retail: R-Series, or X-Series whose token host is built from the callback's
/// `domain_prefix` after its pattern check.
pub fn lightspeed() -> CartSpec {
    let mut c = base(
        "lightspeed-retail",
        "Lightspeed Retail",
        "{ls_authorize}",
        "{ls_token}",
    );
    let series = |value: &str, label: &str, authorize: &str, token: &str| Choice {
        value: value.into(),
        label: label.into(),
        vars: vec![
            ("ls_authorize".into(), authorize.into()),
            ("ls_token".into(), token.into()),
        ],
        scopes: BTreeMap::new(),
    };
    // X-Series asks for scopes per domain (x-series-api.lightspeedhq.com docs/scopes), not
    // R-Series' `employee:all`.
    let mut x_series = series(
        "x",
        "X-Series",
        "https://secure.retail.lightspeed.app/connect",
        "https://{domain_prefix}.retail.lightspeed.app/api/1.0/token",
    );
    x_series.scopes = scopes(&[
        (Function::Orders, &["sales:read"]),
        (Function::Inventory, &["products:read", "products:write"]),
        (Function::Shipments, &["sales:read", "sales:write"]),
    ]);
    c.input = Some(MerchantInput {
        key: "series".into(),
        label: "Lightspeed Retail edition (r = R-Series, x = X-Series)".into(),
        pattern: r"^(r|x)$".into(),
        normalize: Normalize::Lowercase,
        choices: vec![
            series(
                "r",
                "R-Series",
                "https://cloud.lightspeedapp.com/auth/oauth/authorize",
                "https://cloud.lightspeedapp.com/auth/oauth/token",
            ),
            x_series,
        ],
    });
    let prefix = CallbackValue {
        param: "domain_prefix".into(),
        var: "domain_prefix".into(),
        pattern: LIGHTSPEED_DOMAIN_PREFIX_PATTERN.into(),
    };
    c.callback.vars = vec![prefix.clone()];
    c.callback.account = Some(CallbackValue {
        var: "account".into(),
        ..prefix
    });
    c.hosts = hosts(&[
        r"^cloud\.lightspeedapp\.com$",
        r"^secure\.retail\.lightspeed\.app$",
        r"^[a-z0-9][a-z0-9-]{0,62}\.retail\.lightspeed\.app$",
    ]);
    c.refresh = Refresh::Rotating {
        access_secs: None,
        refresh_secs: None,
    };
    c.scopes = all_three(&["employee:all"]);
    c.notes = "R-Series: public clients and lightspeed-retail-sdk README (endpoints, rotating \
               refresh); finer scopes and PKCE: unverified. X-Series: \
               x-series-api.lightspeedhq.com authorization (connect URL, token host \
               {domain_prefix}.retail.lightspeed.app from the callback, rotating refresh since \
               2025-03) and docs/scopes (connect takes response_type, client_id, redirect_uri, \
               state and space-separated scopes). X-Series scopes are per domain, \
               `<domain>:read|write` (docs/scopes names products:read, sales:read, \
               consignments:write:stock_order), set on the X-Series choice; products:write \
               (StackOne's connector profile) and sales:write for fulfilments: unverified."
        .into();
    c
}

/// Keap (Infusionsoft): one scope, `full`.
pub fn keap() -> CartSpec {
    let mut c = base(
        "keap",
        "Keap",
        "https://accounts.infusionsoft.com/app/oauth/authorize",
        "https://api.infusionsoft.com/token",
    );
    c.hosts = hosts(&[
        r"^accounts\.infusionsoft\.com$",
        r"^api\.infusionsoft\.com$",
    ]);
    c.refresh = Refresh::Rotating {
        access_secs: Some(DAY),
        refresh_secs: Some(45 * DAY),
    };
    c.scopes = all_three(&["full"]);
    c.notes = "developer.infusionsoft.com getting-started-oauth-keys (endpoints, scope full, \
               secret in the body for the code). Refresh with Basic and lifetimes: community \
               threads, partly unverified; PKCE and state echo: unverified (state is sent; \
               the getting-started-oauth-keys and authentication pages list only client_id, \
               redirect_uri, response_type and scope)."
        .into();
    // Keap authenticates refreshes with HTTP Basic (its code exchange with the body).
    c.refresh_request = TokenRequest::Described(DescribedRequest {
        json: false,
        fields: fields(&[
            ("grant_type", flit("refresh_token")),
            ("refresh_token", Field::RefreshToken),
        ]),
        headers: Vec::new(),
        refresh_token: Some("refresh_token".into()),
        expiry: Expiry::InSecs("expires_in".into()),
        account: None,
        auth: Some(TokenAuth::Basic),
    });
    c
}

/// ChannelAdvisor (Rithum): offline access, HTTP Basic at the token endpoint.
pub fn channeladvisor() -> CartSpec {
    let mut c = base(
        "channeladvisor",
        "ChannelAdvisor",
        "https://api.channeladvisor.com/oauth2/authorize",
        "https://api.channeladvisor.com/oauth2/token",
    );
    c.authorize.params = params(&[
        ("client_id", Param::ClientId),
        ("response_type", lit("code")),
        ("access_type", lit("offline")),
        ("scope", Param::Scope),
        ("redirect_uri", Param::RedirectUri),
        ("state", Param::State),
    ]);
    c.token_auth = TokenAuth::Basic;
    c.hosts = hosts(&[r"^api\.channeladvisor\.com$"]);
    c.refresh = Refresh::Fixed {
        access_secs: Some(3600),
        refresh_secs: None,
    };
    c.scopes = scopes(&[
        (Function::Orders, &["orders"]),
        (Function::Inventory, &["inventory"]),
        (Function::Shipments, &["orders"]),
    ]);
    c.notes = "public Go/Python clients (endpoints, access_type=offline, Basic). \
               developer.channeladvisor.com introduction-to-oauth-2-0: scopes orders and \
               inventory (also inventory.readonly), access token 1 h, refresh token reusable \
               (not rotated); its life: one stored version says it never expires, another that \
               it expires after 3 months of non-use (kept as no fixed life). `state` echo: \
               unverified (sent; oauth-2-0-authorization-flow lists client_id, response_type, \
               access_type, scope and redirect_uri only)."
        .into();
    c
}

/// Squarespace: comma-separated scopes, offline access, Basic and a JSON token request.
pub fn squarespace() -> CartSpec {
    let mut c = base(
        "squarespace",
        "Squarespace",
        "https://login.squarespace.com/api/1/login/oauth/provider/authorize",
        "https://login.squarespace.com/api/1/login/oauth/provider/tokens",
    );
    c.authorize.params = params(&[
        ("client_id", Param::ClientId),
        ("redirect_uri", Param::RedirectUri),
        ("scope", Param::Scope),
        ("state", Param::State),
        ("access_type", lit("offline")),
    ]);
    c.authorize.scope_separator = ",".into();
    c.token_auth = TokenAuth::Basic;
    c.token_request = TokenRequest::Described(DescribedRequest {
        json: true,
        fields: fields(&[
            ("grant_type", flit("authorization_code")),
            ("code", Field::Code),
            ("redirect_uri", Field::RedirectUri),
        ]),
        headers: Vec::new(),
        refresh_token: Some("refresh_token".into()),
        expiry: Expiry::AtEpochSecs("access_token_expires_at".into()),
        account: None,
        auth: None,
    });
    c.hosts = hosts(&[r"^login\.squarespace\.com$"]);
    c.refresh = Refresh::Rotating {
        access_secs: Some(1800),
        refresh_secs: Some(7 * DAY),
    };
    c.scopes = scopes(&[
        (Function::Orders, &["website.orders.read"]),
        (
            Function::Inventory,
            &["website.inventory", "website.products.read"],
        ),
        (Function::Shipments, &["website.orders"]),
    ]);
    c.notes = "developers.squarespace.com/oauth (endpoints, access_type=offline), NANGO (comma \
               scopes, Basic). JSON token body, access_token_expires_at, `state` echo, \
               lifetimes and rotation: unverified (the official page's token section was not \
               reachable)."
        .into();
    c.refresh_request = described_refresh(&c.token_request, &[]);
    c
}

/// Walmart Marketplace: camelCase authorize parameters; Basic plus partner headers on the
/// token call.
pub fn walmart() -> CartSpec {
    let mut c = base(
        "walmart",
        "Walmart Marketplace",
        "https://login.account.wal-mart.com/authorize",
        "https://marketplace.walmartapis.com/v3/token",
    );
    c.authorize.params = params(&[
        ("responseType", lit("code")),
        ("clientId", Param::ClientId),
        ("redirectUri", Param::RedirectUri),
        ("clientType", lit("seller")),
        ("nonce", Param::Nonce),
        ("state", Param::State),
    ]);
    c.token_auth = TokenAuth::Basic;
    c.token_request = TokenRequest::Described(DescribedRequest {
        json: false,
        fields: fields(&[
            ("grant_type", flit("authorization_code")),
            ("code", Field::Code),
            ("redirect_uri", Field::RedirectUri),
        ]),
        headers: fields(&[
            ("WM_PARTNER.ID", Field::Var("account".into())),
            ("WM_SVC.NAME", flit("Walmart Marketplace")),
            ("WM_QOS.CORRELATION_ID", Field::Correlation),
            ("Accept", flit("application/json")),
        ]),
        refresh_token: Some("refresh_token".into()),
        expiry: Expiry::InSecs("expires_in".into()),
        account: None,
        auth: None,
    });
    c.callback.account = Some(CallbackValue {
        param: "sellerId".into(),
        var: "account".into(),
        pattern: r"^[0-9A-Za-z-]{1,64}$".into(),
    });
    c.checks = vec![WALMART_CLIENT_ID_ECHO];
    c.hosts = hosts(&[
        r"^login\.account\.wal-mart\.com$",
        r"^marketplace\.walmartapis\.com$",
    ]);
    c.refresh = Refresh::Fixed {
        access_secs: Some(900),
        refresh_secs: Some(365 * DAY),
    };
    c.scopes = scopes(&[
        (Function::Orders, &[]),
        (Function::Inventory, &[]),
        (Function::Shipments, &[]),
    ]);
    c.notes = "developer.walmart.com oauth-20-authorization (camelCase authorize parameters, \
               verified), transfer-authorization-and-refresh-token (callback code/type/clientId/\
               state/sellerId; Basic, WM_PARTNER.ID, form body), tokenapi (900 s access, 365 d \
               refresh). Scopes are chosen at app registration. WM_SVC.NAME \"Walmart \
               Marketplace\": the header table of transfer-authorization-and-refresh-token. \
               sellerId pattern: unverified (the doc's examples 456782346 and 43423324 are \
               numeric; no format is stated)."
        .into();
    c.refresh_request = described_refresh(&c.token_request, &[]);
    c
}

/// Wix: advanced OAuth through the Wix installer in the popup (a code with `state` and the
/// site's `instanceId`); the installer's window is closed through Wix's `close-window`.
pub fn wix() -> CartSpec {
    let mut c = base(
        "wix",
        "Wix",
        "https://www.wix.com/installer/install",
        "https://www.wixapis.com/oauth/access",
    );
    c.authorize.params = params(&[
        ("appId", Param::ClientId),
        ("redirectUrl", Param::RedirectUri),
        ("state", Param::State),
    ]);
    c.token_request = TokenRequest::Described(DescribedRequest {
        json: true,
        fields: fields(&[
            ("grant_type", flit("authorization_code")),
            ("client_id", Field::ClientId),
            ("client_secret", Field::ClientSecret),
            ("code", Field::Code),
        ]),
        headers: Vec::new(),
        refresh_token: Some("refresh_token".into()),
        expiry: Expiry::None,
        account: None,
        auth: None,
    });
    c.callback.account = Some(CallbackValue {
        param: "instanceId".into(),
        var: "instance_id".into(),
        pattern: r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$".into(),
    });
    c.hosts = hosts(&[r"^www\.wix\.com$", r"^www\.wixapis\.com$"]);
    c.refresh = Refresh::Fixed {
        access_secs: Some(5 * 60),
        refresh_secs: None,
    };
    c.scopes = all_three(&[]);
    c.finish_url =
        Some("https://www.wix.com/installer/close-window?access_token={access_token}".into());
    c.notes = "dev.wix.com use-advanced-oauth (installer/install with appId, redirectUrl, \
               state; callback code, state, instanceId; code lives 10 min; close-window with \
               the access token ends the install), rest app-management oauth-2 \
               request-an-access-token (POST wixapis.com/oauth/access, JSON, access 5 min, \
               refresh as long as installed). Permissions are set in the app dashboard, not \
               requested. Wix steers new apps to basic OAuth (client credentials per \
               instance), which has no merchant redirect to bind a grant to: not used."
        .into();
    c.refresh_request = described_refresh(&c.token_request, &client_in_body());
    c
}

/// Magento / Adobe Commerce: an OAuth 1.0a integration the merchant creates in their Admin
/// with the URLs the grant page gives them; the store posts the credentials, cartlink fetches
/// the tokens from the store (HMAC-SHA256 signed).
pub fn magento() -> CartSpec {
    let mut c = base(
        "magento",
        "Adobe Commerce (Magento)",
        "{store_url}/admin",
        "{store_url}/oauth/token/access",
    );
    c.flavour = Flavour::AdminIntegration;
    c.input = Some(store_url_input());
    c.token_request = TokenRequest::OAuth1(OAuth1Spec {
        request_token_url: "{store_url}/oauth/token/request".into(),
        credential_pattern: MAGENTO_CREDENTIAL_PATTERN.into(),
    });
    c.hosts = vec![HostRule::MerchantStore];
    c.scopes = scopes(&[
        (
            Function::Orders,
            &["Magento_Sales::sales", "Magento_Sales::sales_order"],
        ),
        (Function::Inventory, &["Magento_Catalog::products"]),
        (
            Function::Shipments,
            &["Magento_Sales::sales", "Magento_Sales::shipment"],
        ),
    ]);
    c.refresh = Refresh::None;
    c.admin_steps = vec![
        "Sign in to your store's Admin and open System › Extensions › Integrations.".into(),
        "Click Add New Integration. Name it “cartlink”, and enter this Callback URL: \
         {callback_url}"
            .into(),
        "Enter this Identity link URL: {identity_url}".into(),
        "Enter your Admin password under Current User Identity Verification.".into(),
        "On the API tab, choose Resource Access: Custom and tick Sales › Operations › Orders \
         (with Actions and Shipments) and Catalog › Inventory › Products."
            .into(),
        "Click Save, then Activate next to the new integration, and Allow. A window opens and \
         closes again when the connection is made."
            .into(),
    ];
    c.notes = "AdobeDocs commerce-webapi gs-authentication-oauth.md (integration created in \
               Admin; on Activate the store POSTs oauth_consumer_key, oauth_consumer_secret, \
               store_base_url, oauth_verifier to the Callback URL, then opens the Identity link \
               with oauth_consumer_key and success_call_back; POST oauth/token/request then \
               oauth/token/access, OAuth 1.0a with HMAC-SHA256; the consumer key must be used \
               within 300 s; tokens do not expire), create-integration.md. Key shape: \
               magento2 lib/internal/Magento/Framework/Oauth/Helper/Oauth.php (32 characters of \
               digits and lower-case letters for consumer key, secret, verifier). Unverified: \
               ACL ids beyond the doc example (Magento_Sales::shipment, \
               Magento_Catalog::products), the Admin menu wording, and stores whose base URL \
               carries index.php or differs from the URL the warehouse gave (refused)."
        .into();
    c.refresh_request = TokenRequest::NoExchange;
    c
}

/// Every built-in cart, in the order the warehouse API lists them.
pub fn all() -> Vec<CartSpec> {
    vec![
        shopify(),
        bigcommerce(),
        woocommerce(),
        ebay(),
        amazon(),
        etsy(),
        square(),
        ecwid(),
        lightspeed(),
        keap(),
        channeladvisor(),
        squarespace(),
        walmart(),
        wix(),
        magento(),
    ]
}
