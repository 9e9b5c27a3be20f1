//! How a cart's tokens are obtained and kept fresh: the client's authentication at the token
//! endpoint, the code exchange and refresh requests (the `oauth2` crate's, or described as data,
//! or OAuth 1.0a), and the token lifetimes the cart documents.

use serde::{Deserialize, Serialize};

use super::pattern::Pattern;
use crate::domain::{Secret, Timestamp, TokenSet};

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// `client_id` and `client_secret` in the body (an entry that does not say).
    #[default]
    Body,
    /// HTTP Basic with the client id and secret.
    Basic,
    /// A public client: `client_id` in the body, no secret (PKCE carries the proof).
    None,
}

/// A value of a token request (body field or header). In the catalog's TOML a value from the
/// flow is its name (`"code"`), a fixed one `{ lit = "1" }`, a template variable
/// `{ var = "context" }`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// A fixed value.
    Lit(String),
    /// The client id.
    ClientId,
    /// The client secret.
    ClientSecret,
    /// The authorization code.
    Code,
    /// The redirect value sent in the authorization request, byte for byte.
    RedirectUri,
    /// The PKCE verifier (left out when PKCE is not used).
    CodeVerifier,
    /// The refresh token being redeemed (refresh requests).
    RefreshToken,
    /// The connection's scopes, space-separated (eBay's refresh asks for them again).
    Scopes,
    /// A template variable (a validated callback value such as Walmart's `sellerId`).
    Var(String),
    /// A fresh random correlation id.
    Correlation,
}

/// Where the access token's expiry is in a token response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    /// Seconds from now, in this field (`expires_in`).
    InSecs(String),
    /// An RFC 3339 date, in this field (Square's `expires_at`).
    AtRfc3339(String),
    /// Seconds since the epoch (a number), in this field.
    AtEpochSecs(String),
    /// Not given.
    #[default]
    None,
}

/// A token request the `oauth2` crate cannot make (JSON bodies, extra headers, responses
/// without `token_type` or with other fields), described as data and sent over the same HTTP
/// client.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribedRequest {
    /// JSON (true) or form-encoded (false) body.
    pub json: bool,
    /// The body fields, in order.
    pub fields: Vec<(String, Field)>,
    /// Extra headers.
    #[serde(default)]
    pub headers: Vec<(String, Field)>,
    /// The response field holding the refresh token, if any.
    pub refresh_token: Option<String>,
    /// Where the expiry is.
    #[serde(default)]
    pub expiry: Expiry,
    /// The response field naming the account (Square's `merchant_id`), if any.
    pub account: Option<String>,
    /// The client authentication, where it differs from [`CartSpec::token_auth`](super::CartSpec::token_auth) (Keap's
    /// refresh takes HTTP Basic, its code exchange the body).
    pub auth: Option<TokenAuth>,
    /// The endpoint of this request where it is not the entry's `token_url` (TikTok Shop
    /// refreshes at `/api/v2/token/refresh`): a URL or a template, whose host the entry allows.
    pub url: Option<String>,
    /// How the request is sent (`post` when left out).
    #[serde(default)]
    pub method: RequestMethod,
    /// The member of the answer that holds the token fields (TikTok Shop's `data`); the
    /// answer itself when left out. `refresh_token`, `expiry` and `account` name fields of it.
    pub answer_in: Option<String>,
    /// The member of the answer carrying the cart's own result code, `0` on success (TikTok
    /// Shop's `code`): any other value is a refusal, even under HTTP 200.
    pub result_code: Option<String>,
    /// The result codes by which the cart refuses the grant itself (a refresh token expired,
    /// revoked or unknown: TikTok Shop's `36004005`), read as `invalid_grant`, so the
    /// connection is marked for re-authorization instead of retried. Others keep their number.
    #[serde(default)]
    pub invalid_grant_codes: Vec<i64>,
}

/// How a described request is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestMethod {
    /// A POST with the fields in the body (a form, or JSON).
    #[default]
    Post,
    /// A GET with the fields in the URL's query and no body (TikTok Shop's token calls,
    /// which take the app secret and the code there).
    Get,
}

impl DescribedRequest {
    /// Checks the request as written: a GET has no body, so it cannot be JSON.
    pub fn check(&self) -> Result<(), String> {
        if self.method == RequestMethod::Get && self.json {
            return Err("a described GET sends its fields in the query: json must be false".into());
        }
        if !self.invalid_grant_codes.is_empty() && self.result_code.is_none() {
            return Err("invalid_grant_codes name result codes: result_code must be named".into());
        }
        Ok(())
    }
}

impl TokenRequest {
    /// Checks a described request as written (other kinds have nothing to check).
    pub fn check(&self) -> Result<(), String> {
        match self {
            TokenRequest::Described(d) => d.check(),
            _ => Ok(()),
        }
    }
}

/// How the code is exchanged. In the catalog's TOML, a table whose `kind` names the variant.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenRequest {
    /// RFC 6749 §4.1.3 with a form body and a standard JSON answer: the `oauth2` crate.
    #[default]
    Standard,
    /// A catalog-described request.
    Described(DescribedRequest),
    /// No code exchange (key handshakes).
    NoExchange,
    /// OAuth 1.0a (Magento integrations): the store posts the consumer credentials and a
    /// verifier; cartlink asks for a request token, then trades it and the verifier for the
    /// access token at [`CartSpec::token_url`](super::CartSpec::token_url), every call signed with HMAC-SHA256.
    #[serde(rename = "oauth1")]
    OAuth1(OAuth1Spec),
}

/// An OAuth 1.0a integration's token endpoints and credential shape.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth1Spec {
    /// The request-token endpoint template (`{store_url}/oauth/token/request`).
    pub request_token_url: String,
    /// The anchored pattern the posted consumer key, consumer secret and verifier must match.
    pub credential_pattern: Pattern,
}

/// How the cart refreshes tokens (data for the refresher; lifetimes in seconds, `None` when
/// the cart does not say).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Refresh {
    /// Tokens do not expire; there is no refresh.
    None,
    /// Each refresh returns a new refresh token; the old one stops working.
    Rotating {
        /// Access token life.
        access_secs: Option<u32>,
        /// Refresh token life.
        refresh_secs: Option<u32>,
    },
    /// The refresh token stays the same until it expires.
    Fixed {
        /// Access token life.
        access_secs: Option<u32>,
        /// Refresh token life (`None`: it does not expire).
        refresh_secs: Option<u32>,
    },
    /// No refresh token: a new access token is minted with the app's own credentials.
    Remint {
        /// Access token life.
        access_secs: Option<u32>,
    },
    /// Whatever the token responses say (generic carts from configuration).
    AsAnswered,
}

impl Refresh {
    /// When an access token issued at `now` expires, for a token answer that does not say:
    /// the access-token life the cart documents (Wix's five minutes), if it documents one.
    pub fn documented_expiry(self, now: Timestamp) -> Option<Timestamp> {
        let secs = match self {
            Refresh::Rotating { access_secs, .. }
            | Refresh::Fixed { access_secs, .. }
            | Refresh::Remint { access_secs } => access_secs,
            Refresh::None | Refresh::AsAnswered => None,
        };
        secs.map(|s| now.plus_secs(i64::from(s)))
    }
    /// Whether a new access token is minted with the app's own credentials, no refresh token
    /// needed ([`Refresh::Remint`]).
    pub fn remints(self) -> bool {
        matches!(self, Refresh::Remint { .. })
    }
}

/// A cart's documented token revocation endpoint: where a disconnect tells the cart to end the
/// grant. Only carts that document one have it; the catalog names the source.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationEndpoint {
    /// The endpoint: a URL, or a template over validated values (its host must be one the cart
    /// allows).
    pub url: String,
    /// Where the cart documents it.
    pub source: String,
    /// How the call is made (`rfc7009` when left out).
    #[serde(default)]
    pub style: RevocationStyle,
}

/// How a cart's revocation call is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationStyle {
    /// RFC 7009: a form post of the token (the refresh token where there is one) with its
    /// `token_type_hint`, the client authenticated as at the token endpoint; 200 is success.
    #[default]
    Rfc7009,
    /// Square's RevokeToken: a JSON post of `client_id` and the `access_token`, authenticated
    /// by `Authorization: Client <app secret>`; it revokes every token of the app for that
    /// merchant. 200 is success.
    SquareJson,
}

impl RevocationStyle {
    /// The token a revocation sends, with its `token_type_hint`: under RFC 7009 the refresh
    /// token where there is one (revoking it ends the grant, §2.1), else the access token;
    /// Square's RevokeToken takes the access token.
    pub fn token_to_revoke(self, tokens: &TokenSet) -> (&Secret, &'static str) {
        match (self, &tokens.refresh_token) {
            (RevocationStyle::Rfc7009, Some(refresh)) => (refresh, "refresh_token"),
            _ => (&tokens.access_token, "access_token"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(refresh: Option<&str>) -> TokenSet {
        TokenSet::from_plaintext(
            serde_json::json!({"access_token": "at", "refresh_token": refresh})
                .to_string()
                .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn rfc_7009_revokes_the_refresh_token_where_there_is_one() {
        // GIVEN tokens with and without a refresh token WHEN RFC 7009 picks the one to revoke
        let with = tokens(Some("rt"));
        let without = tokens(None);
        let (token, hint) = RevocationStyle::Rfc7009.token_to_revoke(&with);
        // THEN the refresh token, else the access token, each with its hint
        assert_eq!((token.expose(), hint), ("rt", "refresh_token"));
        let (token, hint) = RevocationStyle::Rfc7009.token_to_revoke(&without);
        assert_eq!((token.expose(), hint), ("at", "access_token"));
    }

    #[test]
    fn square_revokes_the_access_token() {
        // GIVEN tokens with a refresh token WHEN Square's style picks the one to revoke
        let set = tokens(Some("rt"));
        let (token, hint) = RevocationStyle::SquareJson.token_to_revoke(&set);
        // THEN the access token, which RevokeToken takes
        assert_eq!((token.expose(), hint), ("at", "access_token"));
    }
}
