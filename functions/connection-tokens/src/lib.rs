//! `connection-tokens`: `GET /v1/connections/{id}/tokens`, for the warehouse that owns the
//! connection (`Authorization: Bearer <api key>`, as the rest of the warehouse API). It answers
//! the connection's access token, refreshed at the cart first when it is due (one refresh per
//! rotation, see `shared::service::refresh::refresh_due`). The refresh token never leaves
//! cartlink: only cartlink holds the client secret that redeems it. A store or key-service
//! failure answers 503 `unavailable` with `Retry-After` and changes nothing.

use http::{Method, StatusCode};
use serde::Serialize;
use shared::service::connections::{ConnectionError, OpenConnection};
use shared::service::tenants::AuthError;
use shared::service::Services;
use shared::web::api::{bearer, Problem};
use shared::web::{Request, Response};

/// Every way a token request can fail, each mapped once to a status and a stable problem type
/// (`urn:cartlink:problem:<code>`).
#[derive(Debug)]
pub enum TokenApiError {
    /// No or an unknown API key.
    Unauthorized,
    /// A `clk_live_` key with a wrong checksum.
    ApiKeyChecksum,
    /// No such route, or no such connection of this warehouse.
    NotFound,
    /// The route exists with other methods.
    MethodNotAllowed,
    /// The cart refused the grant: the merchant must grant access again (a new invite).
    NeedsReauthorization,
    /// The cart could not refresh the token now; the stored tokens are unchanged.
    CartUnavailable,
    /// Another refresh of this connection is under way.
    RefreshInProgress,
    /// The store or the key service failed.
    Unavailable,
}

impl TokenApiError {
    /// The problem each error is answered with.
    fn problem(self) -> Problem {
        use TokenApiError::*;
        match self {
            Unauthorized => Problem::unauthorized(),
            ApiKeyChecksum => Problem::api_key_checksum(),
            NotFound => Problem::not_found("No such connection of this warehouse."),
            MethodNotAllowed => Problem::method_not_allowed("GET /v1/connections/{id}/tokens."),
            NeedsReauthorization => Problem::new(
                StatusCode::CONFLICT,
                "needs-reauthorization",
                "Needs re-authorization",
                "The cart no longer accepts this connection's grant: send the merchant a new invite.",
            ),
            CartUnavailable => Problem::new(
                StatusCode::BAD_GATEWAY,
                "cart-unavailable",
                "Cart unavailable",
                "The cart did not refresh the token; try again shortly.",
            ),
            RefreshInProgress => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "refresh-in-progress",
                "Refresh in progress",
                "This connection is being refreshed; try again in a few seconds.",
            ),
            Unavailable => Problem::unavailable(),
        }
    }

    /// The problem+json answer.
    pub fn into_response(self) -> Response {
        self.problem().into_response()
    }
}

impl From<ConnectionError> for TokenApiError {
    fn from(e: ConnectionError) -> Self {
        match e {
            ConnectionError::NotFound => TokenApiError::NotFound,
            ConnectionError::NeedsReauthorization => TokenApiError::NeedsReauthorization,
            ConnectionError::CartUnavailable(_) => TokenApiError::CartUnavailable,
            ConnectionError::Busy => TokenApiError::RefreshInProgress,
            ConnectionError::Store(e) => {
                tracing::error!(error = %e, "store failed serving tokens");
                TokenApiError::Unavailable
            }
            ConnectionError::KeyService(e) => {
                tracing::error!(error = %e, "key service failed serving tokens");
                TokenApiError::Unavailable
            }
        }
    }
}

/// The 200 answer: what the warehouse's backend calls the cart's API with. Its `Debug` prints
/// no secret (a stray `{:?}` in a log line must not leak a token).
#[derive(Serialize)]
pub struct ConnectionTokens {
    /// The connection.
    pub connection_id: String,
    /// The invite it came from.
    pub invite_id: String,
    /// The cart's id.
    pub cart: String,
    /// The merchant's account at the cart (shop domain, seller id…), if known.
    pub account: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The access token (for WooCommerce, the consumer key).
    pub access_token: String,
    /// When the access token expires (RFC 3339); `null` when it does not.
    pub expires_at: Option<String>,
    /// The secret paired with the access token (WooCommerce's consumer secret, Magento's token
    /// secret), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_secret: Option<String>,
    /// Magento: the integration's consumer key and secret, which sign every API call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_key: Option<String>,
    /// See `consumer_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_secret: Option<String>,
    /// Where the cart's API is for this connection and the headers its calls need, where the
    /// catalog says (header values may be secrets: the app's, or the token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiDetails>,
}

/// The cart API of a connection, as answered.
#[derive(Serialize)]
pub struct ApiDetails {
    /// The base URL of the cart's API for this connection.
    pub base_url: String,
    /// Headers every call needs, by name.
    pub headers: std::collections::BTreeMap<String, String>,
    /// The shops the grant reaches and the cipher each one's calls name (TikTok Shop's
    /// `shop_cipher`), where the cart names them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shops: Vec<ApiShop>,
}

/// One shop a connection reaches, as answered.
#[derive(Serialize)]
pub struct ApiShop {
    /// The shop's id at the cart.
    pub id: String,
    /// What its API calls name it by.
    pub cipher: String,
}

impl From<shared::carts::CallDetails> for ApiDetails {
    fn from(d: shared::carts::CallDetails) -> Self {
        ApiDetails {
            base_url: d.base_url.to_string(),
            headers: d.headers,
            shops: d
                .shops
                .into_iter()
                .map(|s| ApiShop {
                    id: s.id,
                    cipher: s.cipher,
                })
                .collect(),
        }
    }
}

impl std::fmt::Debug for ConnectionTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("ConnectionTokens")
            .field("connection_id", &self.connection_id)
            .field("invite_id", &self.invite_id)
            .field("cart", &self.cart)
            .field("account", &self.account)
            .field("scopes", &self.scopes)
            .field("access_token", &"***")
            .field("expires_at", &self.expires_at)
            .field("token_secret", &redacted(&self.token_secret))
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &redacted(&self.consumer_secret))
            .field(
                "api",
                &self
                    .api
                    .as_ref()
                    .map(|a| (&a.base_url, a.headers.keys().collect::<Vec<_>>())),
            )
            .finish()
    }
}

impl From<OpenConnection> for ConnectionTokens {
    fn from(open: OpenConnection) -> Self {
        let OpenConnection { connection, tokens } = open;
        let expose = |s: Option<shared::domain::Secret>| s.map(|s| s.expose().to_owned());
        ConnectionTokens {
            connection_id: connection.id.to_string(),
            invite_id: connection.invite_id.to_string(),
            cart: connection.cart.to_string(),
            account: connection.account,
            scopes: connection.scopes,
            access_token: tokens.access_token.expose().to_owned(),
            expires_at: tokens.expires_at.map(|t| t.rfc3339()),
            token_secret: expose(tokens.key_secret),
            consumer_key: expose(tokens.consumer_key),
            consumer_secret: expose(tokens.consumer_secret),
            api: None,
        }
    }
}

/// Handles a token request.
pub async fn handle(svc: &Services, req: Request) -> Response {
    match route(svc, req).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn route(svc: &Services, req: Request) -> Result<Response, TokenApiError> {
    let segments = req.segments();
    let id = match segments.as_slice() {
        ["v1", "connections", id, "tokens"] if req.method == Method::GET => *id,
        ["v1", "connections", _, "tokens"] => return Err(TokenApiError::MethodNotAllowed),
        _ => return Err(TokenApiError::NotFound),
    };
    let warehouse = svc.authenticate(bearer(&req)).await.map_err(|e| match e {
        AuthError::Unknown => TokenApiError::Unauthorized,
        AuthError::BadChecksum => TokenApiError::ApiKeyChecksum,
        AuthError::Store(e) => {
            tracing::error!(error = %e, "store failed authenticating a token request");
            TokenApiError::Unavailable
        }
    })?;
    let open = svc.warehouse_connection(&warehouse.id, id).await?;
    let api = svc.call_details(&open.connection, &open.tokens).await;
    let mut answer = ConnectionTokens::from(open);
    answer.api = api.map(ApiDetails::from);
    Ok(shared::web::json(StatusCode::OK, &answer))
}

#[cfg(test)]
mod tests;
