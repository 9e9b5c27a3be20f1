//! The built-in carts. Each entry's `notes` names the sources of its facts (keys of
//! `shared/reference/carts.md`) and marks what is still an unverified lead, so a wrong detail is
//! corrected here, in data.

use std::collections::BTreeMap;

use super::quirks::{SHOPIFY_HMAC, WALMART_CLIENT_ID_ECHO};
use super::{
    AuthorizeSpec, CallbackParams, CallbackValue, CartId, CartSpec, Choice, DescribedRequest,
    Expiry, Field, Flavour, HostRule, MerchantInput, Normalize, OAuth1Spec, Param, Pkce, Redirect,
    Refresh, TokenAuth, TokenRequest,
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
        issuer: None,
        admin_steps: Vec::new(),
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
    });
    c.callback.input_echo = Some("shop".into());
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
    c
}

/// BigCommerce: installs start in the store's control panel; its auth callback has no `state`.
pub fn bigcommerce() -> CartSpec {
    let mut c = base(
        "bigcommerce",
        "BigCommerce",
        "https://login.bigcommerce.com/oauth2/authorize",
        "https://login.bigcommerce.com/oauth2/token",
    );
    c.flavour = Flavour::InstallFromAdmin;
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
    });
    c.callback.vars = vec![CallbackValue {
        param: "context".into(),
        var: "context".into(),
        pattern: r"^stores/[a-z0-9]+$".into(),
    }];
    c.hosts = hosts(&[r"^login\.bigcommerce\.com$"]);
    c.scopes = scopes(&[
        (Function::Orders, &["store_v2_orders_read_only"]),
        (Function::Inventory, &["store_inventory"]),
        (Function::Shipments, &["store_v2_orders"]),
    ]);
    c.admin_steps = vec![
        "Sign in to your BigCommerce control panel as the store owner.".into(),
        "Open Apps › Marketplace, search for “cartlink” and open it.".into(),
        "Click Install, check the permissions (orders, inventory) and click Confirm.".into(),
        "cartlink does not yet finish BigCommerce installs on its own: tell the warehouse when \
         the app shows as installed, and they will complete the connection with you."
            .into(),
    ];
    c.notes = "bigcommerce/docs auth.mdx (control-panel install, callback code/scope/context \
               without state, JSON token request, permanent token), buttons.mdx, \
               api-accounts.mdx (scopes). /oauth2/authorize for third parties: unverified, \
               not used."
        .into();
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
               Basic, form body), KB 5075. PKCE: unverified (not sent). Scope names: unverified \
               per method."
        .into();
    c
}

/// Amazon Selling Partner API: consent on the region's Seller Central, `spapi_oauth_code` and
/// `selling_partner_id` in the callback, `version=beta` for draft apps.
pub fn amazon() -> CartSpec {
    let mut c = base(
        "amazon-sp-api",
        "Amazon Seller Central (SP-API)",
        "https://{seller_central}/apps/authorize/consent",
        "https://api.amazon.com/auth/o2/token",
    );
    let region = |value: &str, label: &str, host: &str| Choice {
        value: value.into(),
        label: label.into(),
        vars: vec![("seller_central".into(), host.into())],
    };
    c.input = Some(MerchantInput {
        key: "region".into(),
        label: "Selling region".into(),
        pattern: r"^(na|eu|fe)$".into(),
        normalize: Normalize::Lowercase,
        choices: vec![
            region("na", "North America", "sellercentral.amazon.com"),
            region("eu", "Europe", "sellercentral-europe.amazon.com"),
            region("fe", "Far East", "sellercentral.amazon.co.jp"),
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
        r"^sellercentral(-europe)?\.amazon\.(com|co\.jp)$",
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
               registration. Far East consent host (sellercentral.amazon.co.jp) and the \
               selling_partner_id pattern: unverified."
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
               token endpoint). Refresh token life (90 d) and rotation: unverified."
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
               flow with the secret, so no PKCE is sent. Scope names beyond \
               MERCHANT_PROFILE_READ: unverified."
        .into();
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
               store_id in the answer, non-expiring token). `state` support: unverified (sent)."
        .into();
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
    };
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
            series(
                "x",
                "X-Series",
                "https://secure.retail.lightspeed.app/connect",
                "https://{domain_prefix}.retail.lightspeed.app/api/1.0/token",
            ),
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
               2025-03)."
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
               threads, partly unverified; PKCE and state echo: unverified."
        .into();
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
    c.notes = "public Go/Python clients (endpoints, access_type=offline, Basic); scopes: \
               pipedream. `state` echo and refresh lifetimes: unverified."
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
               scopes, Basic). JSON token body, access_token_expires_at, lifetimes and \
               rotation: unverified."
        .into();
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
               refresh). Scopes are chosen at app registration. WM_SVC.NAME value and the \
               sellerId pattern: unverified."
        .into();
    c
}

/// Wix: apps are installed from the Wix App Market; tokens are minted per site instance.
pub fn wix() -> CartSpec {
    let mut c = base(
        "wix",
        "Wix",
        "https://www.wix.com/installer/install",
        "https://www.wixapis.com/oauth2/token",
    );
    c.flavour = Flavour::InstallFromAdmin;
    c.token_request = TokenRequest::Described(DescribedRequest {
        json: true,
        fields: fields(&[
            ("grant_type", flit("client_credentials")),
            ("client_id", Field::ClientId),
            ("client_secret", Field::ClientSecret),
            ("instance_id", Field::Var("instance_id".into())),
        ]),
        headers: Vec::new(),
        refresh_token: None,
        expiry: Expiry::InSecs("expires_in".into()),
        account: None,
    });
    c.hosts = hosts(&[r"^www\.wixapis\.com$"]);
    c.refresh = Refresh::Remint {
        access_secs: Some(4 * 3600),
    };
    c.scopes = all_three(&[]);
    c.admin_steps = vec![
        "Sign in to your Wix account and open your site's dashboard.".into(),
        "Open Apps › App Market, search for “cartlink” and click Add to Site.".into(),
        "Approve the permissions (eCommerce orders and Stores inventory).".into(),
        "cartlink does not yet finish Wix installs on its own: tell the warehouse when the app \
         shows under Manage Apps, and they will complete the connection with you."
            .into(),
    ];
    c.notes = "dev.wix.com about-oauth, create-access-token (client_credentials per \
               instance_id). Installer URL, permission ids and token lifetime: unverified."
        .into();
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
