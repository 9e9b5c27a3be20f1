//! What a cart's callback carries: its parameter names, where the `state` comes back, and the
//! values the flow takes from it (each checked by an anchored pattern first).

use serde::Deserialize;

use super::pattern::Pattern;

/// A callback value taken into the flow after its anchored pattern is checked.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackValue {
    /// The callback parameter (`domain_prefix`, `selling_partner_id`).
    pub param: String,
    /// The template variable it sets.
    pub var: String,
    /// The anchored pattern.
    pub pattern: Pattern,
}

/// Where the callback finds the grant attempt's `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateReturn {
    /// In the callback's query, under [`CallbackParams::state`] (RFC 6749).
    Query,
    /// In the short-lived state cookie set when the grant started, because the cart's
    /// install link takes no `state` and its callback carries none (BigCommerce). The attempt
    /// is then bound to this browser by both cookies, and to the merchant's store by
    /// [`CallbackParams::input_echo`].
    Cookie,
}

/// A callback parameter that must equal a value built from the merchant input the attempt was
/// started with: Shopify's `shop` (`{shop}`), BigCommerce's `context` (`stores/{store_hash}`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputEcho {
    /// The callback parameter.
    pub param: String,
    /// The template its value must equal, filled from the attempt's validated input.
    pub expected: String,
}

/// What the cart's callback parameters are called and what the callback must carry; in the
/// catalog's TOML every field may be left out for its RFC 6749 default.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbackParams {
    /// The authorization code (`code`; Amazon: `spapi_oauth_code`).
    pub code: String,
    /// The state (`state`).
    pub state: String,
    /// Where the state comes back.
    pub state_return: StateReturn,
    /// The error (`error`).
    pub error: String,
    /// A parameter that must equal the merchant input the attempt was started with.
    pub input_echo: Option<InputEcho>,
    /// The parameter naming the merchant's account, checked by pattern.
    pub account: Option<CallbackValue>,
    /// Values the token URL or request is built from, each checked by pattern first.
    pub vars: Vec<CallbackValue>,
    /// The callback carries no code: the install names the merchant's account (which must then
    /// be given, and should be proven by one of the entry's `checks`), and the exchange asks for
    /// a token for that account with the app's own credentials (Wix's client credentials per
    /// app instance).
    pub without_code: bool,
}

impl Default for CallbackParams {
    fn default() -> Self {
        CallbackParams {
            code: "code".into(),
            state: "state".into(),
            state_return: StateReturn::Query,
            error: "error".into(),
            input_echo: None,
            account: None,
            vars: Vec::new(),
            without_code: false,
        }
    }
}
