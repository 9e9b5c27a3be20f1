//! `warehouse-api`: the warehouse API, authenticated by `Authorization: Bearer <api key>`.
//! `POST /v1/invites` makes an invite for the key's warehouse and emails the merchant;
//! `GET /v1/invites/{id}` tells where it stands (and its connection, once granted);
//! `DELETE /v1/invites/{id}` withdraws it while the store is not connected;
//! `POST /v1/invites/{id}/resend` emails a new link and code (the old ones stop working);
//! `DELETE /v1/connections/{id}` drops a connection (revoked at the cart where it says how);
//! `POST /v1/connections/{id}/reconnect` emails the merchant a re-authorization invite that
//! renews that connection;
//! `GET /v1/invites` and `GET /v1/connections` list the warehouse's invites and connections a
//! page at a time, `GET /v1/connections/{id}` shows one connection (never its tokens),
//! `GET /v1/invites/{id}/events` an invite's history;
//! `GET /v1/carts` lists the cart catalog; `/v1/webhooks/*` manage the warehouse's webhook
//! endpoints and show, retry and test their deliveries (the `webhooks` module). (A connection's tokens are `connection-tokens`'.)
//! Every POST takes an `Idempotency-Key` (the `idempotent` module, around every POST route).

use http::{Method, StatusCode};
use serde::Serialize;
use shared::domain::Warehouse;
use shared::service::disconnect::DisconnectError;
use shared::service::idempotency::RequestSeed;
use shared::service::invites::{InviteError, InviteState, NewInvite, Withdrawal};
use shared::service::resend::ResendError;
use shared::service::tenants::AuthError;
use shared::service::Services;
use shared::views::InviteView;
use shared::web::api::{bearer, Problem};
use shared::web::{Request, Response};

mod lifecycle;
pub mod openapi;

/// Every way a warehouse API call can fail, each mapped once to a status and a stable problem
/// type (`urn:cartlink:problem:<code>`).
#[derive(Debug)]
pub enum ApiError {
    /// No or an unknown API key.
    Unauthorized,
    /// A `clk_live_` key with a wrong checksum.
    ApiKeyChecksum,
    /// No such route, or no such invite or connection of this warehouse.
    NotFound,
    /// The route exists with other methods.
    MethodNotAllowed,
    /// The body is not JSON.
    UnsupportedMediaType,
    /// The body does not parse, or has an unknown field.
    InvalidJson(String),
    /// A field is wrong.
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The invite's store is connected already: there is nothing to withdraw.
    AlreadyConnected,
    /// The invite cannot be resent in its state (`code` names which: withdrawn, undeliverable,
    /// expired), or another resend of it ran at the same time (`resend-conflict`).
    NotResendable(&'static str, &'static str),
    /// The connection cannot be renewed (`code` names why: disconnected, or out of rounds).
    NotReconnectable(&'static str, &'static str),
    /// A webhook call conflicts with what is stored (`code` names how).
    WebhookConflict(&'static str, &'static str),
    /// No such cart.
    UnknownCart,
    /// The cart is not enabled.
    CartNotEnabled,
    /// The store is connected to another warehouse through the same app, at a cart that keeps
    /// one active token per app and store.
    StoreHeldElsewhere {
        /// The cart's name.
        cart: String,
        /// The cart's id.
        id: String,
    },
    /// The cart's merchants authorize without an app, so none can be registered.
    NoAppAtCart,
    /// The store or the mail service failed; nothing the warehouse can see changed.
    Unavailable,
    /// A rate limit is reached until the window ends.
    RateLimited {
        /// Seconds to the window's end.
        retry_after_secs: u64,
    },
    /// The `Idempotency-Key` is not 1 to 255 printable ASCII characters.
    InvalidIdempotencyKey,
    /// The `Idempotency-Key` was used for another request.
    IdempotencyMismatch,
    /// The `Idempotency-Key`'s first request is still running.
    IdempotencyInProgress {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
}

impl ApiError {
    /// The problem each error is answered with.
    fn problem(self) -> Problem {
        use ApiError::*;
        match self {
            Unauthorized => Problem::unauthorized(),
            ApiKeyChecksum => Problem::api_key_checksum(),
            NotFound => Problem::not_found(
                "No such route, or no such invite or connection of this warehouse.",
            ),
            MethodNotAllowed => Problem::method_not_allowed(
                "POST and GET /v1/invites, GET and DELETE /v1/invites/{id}, \
                 GET /v1/invites/{id}/events, GET /v1/connections, \
                 GET and DELETE /v1/connections/{id}, POST /v1/connections/{id}/reconnect, \
                 GET /v1/carts, POST and GET /v1/webhooks/endpoints, \
                 DELETE /v1/webhooks/endpoints/{id}, POST /v1/webhooks/endpoints/{id}/rotate-secret, \
                 GET /v1/webhooks/deliveries, POST /v1/webhooks/deliveries/{id}/retry, \
                 POST /v1/webhooks/test.",
            ),
            UnsupportedMediaType => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "Send `Content-Type: application/json`.",
            ),
            InvalidJson(msg) => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-json",
                "Invalid JSON body",
                msg,
            ),
            Invalid { field, reason } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-field",
                "Invalid field",
                format!("{field}: {reason}"),
            ),
            AlreadyConnected => Problem::new(
                StatusCode::CONFLICT,
                "already-connected",
                "Already connected",
                "The merchant connected their store through this invite; it cannot be withdrawn.",
            ),
            NotResendable(code, detail) => {
                Problem::new(StatusCode::CONFLICT, code, "Invite not resent", detail)
            }
            NotReconnectable(code, detail) => {
                Problem::new(StatusCode::CONFLICT, code, "Not reconnected", detail)
            }
            WebhookConflict(code, detail) => {
                Problem::new(StatusCode::CONFLICT, code, "Webhook call not done", detail)
            }
            UnknownCart => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-cart",
                "Unknown cart",
                "No cart has that id.",
            ),
            CartNotEnabled => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cart-not-enabled",
                "Cart not enabled",
                "This cart has no app credentials configured.",
            ),
            StoreHeldElsewhere { cart, id } => Problem::new(
                StatusCode::CONFLICT,
                "store-connected-elsewhere",
                "Store connected to another warehouse",
                format!(
                    "This store is connected to another warehouse through the same {cart} app, and {cart} keeps one active token per app and store: connecting it again would end that warehouse's access. Register your own {cart} app (PUT /v1/cart-apps/{id}) and invite again."
                ),
            ),
            NoAppAtCart => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cart-takes-no-app",
                "Cart takes no app",
                "Merchants of this cart authorize without an app (they create keys or an integration in their admin), so there is no app to register.",
            ),
            Unavailable => Problem::unavailable(),
            RateLimited { .. } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Rate limited",
                "A limit on invites or emails is reached; try again after Retry-After seconds.",
            ),
            InvalidIdempotencyKey => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-idempotency-key",
                "Invalid Idempotency-Key",
                "Idempotency-Key must be 1 to 255 printable ASCII characters.",
            ),
            IdempotencyMismatch => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-mismatch",
                "Idempotency-Key reused",
                "This Idempotency-Key was used for another request (method, path or body).",
            ),
            IdempotencyInProgress { .. } => Problem::new(
                StatusCode::CONFLICT,
                "idempotency-in-progress",
                "Request in progress",
                "The first request with this Idempotency-Key is still running; retry after Retry-After seconds.",
            ),
        }
    }

    /// The problem+json answer (with `Retry-After` where the problem names a wait).
    pub fn into_response(self) -> Response {
        let wait = match self {
            ApiError::RateLimited { retry_after_secs }
            | ApiError::IdempotencyInProgress { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        let mut resp = self.problem().into_response();
        if let Some(secs) = wait {
            resp.headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        resp
    }
}

impl From<InviteError> for ApiError {
    fn from(e: InviteError) -> Self {
        match e {
            InviteError::Invalid { field, reason } => ApiError::Invalid { field, reason },
            InviteError::UnknownCart => ApiError::UnknownCart,
            InviteError::CartNotEnabled => ApiError::CartNotEnabled,
            InviteError::StoreHeldElsewhere { cart, id } => ApiError::StoreHeldElsewhere {
                cart,
                id: id.to_string(),
            },
            InviteError::Store(e) => {
                tracing::error!(error = %e, "store failed creating an invite");
                ApiError::Unavailable
            }
            InviteError::MailUnavailable => ApiError::Unavailable,
            InviteError::RateLimited(limited) => ApiError::RateLimited {
                retry_after_secs: limited.retry_after_secs,
            },
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unknown => ApiError::Unauthorized,
            AuthError::BadChecksum => ApiError::ApiKeyChecksum,
            AuthError::Store(e) => unavailable(e),
        }
    }
}

impl From<DisconnectError> for ApiError {
    fn from(e: DisconnectError) -> Self {
        match e {
            DisconnectError::NotFound => ApiError::NotFound,
            DisconnectError::KeyService(e) => {
                tracing::error!(error = %e, "key service failed disconnecting");
                ApiError::Unavailable
            }
            DisconnectError::Store(e) => unavailable(e),
        }
    }
}

impl From<ResendError> for ApiError {
    fn from(e: ResendError) -> Self {
        use ResendError::*;
        match e {
            NotFound => ApiError::NotFound,
            Connected => ApiError::AlreadyConnected,
            Withdrawn => ApiError::NotResendable(
                "invite-withdrawn",
                "The invite was withdrawn; make a new one.",
            ),
            Undeliverable => ApiError::NotResendable(
                "invite-undeliverable",
                "The invite email bounced for good; make a new invite with a working address.",
            ),
            Expired => ApiError::NotResendable(
                "invite-expired",
                "The invite expired; make a new one.",
            ),
            Concurrent => ApiError::NotResendable(
                "resend-conflict",
                "Another resend of this invite ran at the same time; its email carries the working link and code.",
            ),
            RateLimited { retry_after } => ApiError::RateLimited {
                retry_after_secs: u64::try_from(retry_after.max(1)).unwrap_or(1),
            },
            MailUnavailable => ApiError::Unavailable,
            Store(e) => unavailable(e),
        }
    }
}

/// The 201 answer.
#[derive(Debug, Serialize)]
pub struct InviteCreated {
    /// Invite id.
    pub id: String,
    /// `emailed`, or `email_failed` if the email did not go out (the invite is kept).
    pub status: String,
    /// The merchant's setup link; a secret, to hand only to the merchant.
    pub setup_url: String,
    /// The last symbols of the access code in the email, for support.
    pub access_code_hint: String,
    /// When the invite expires (RFC 3339).
    pub expires_at: String,
    /// Why the email failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_error: Option<String>,
}

/// Handles a warehouse API request.
pub async fn handle(svc: &Services, req: Request) -> Response {
    match route(svc, req).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

/// One merchant input of a cart, as listed.
#[derive(Debug, Serialize)]
pub struct ListedInput {
    /// Its name (`shop`, `store_url`, `region`, `series`); sent as the invite's `store`.
    pub key: String,
    /// What it is.
    pub label: String,
    /// The anchored pattern it must match.
    pub pattern: String,
    /// The allowed values, for a choice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// One cart, as the warehouse API lists it.
#[derive(Debug, Serialize)]
pub struct ListedCart {
    /// The id to send as `cart`.
    pub id: String,
    /// The name.
    pub name: String,
    /// `popup_oauth`, `key_handshake` or `admin_integration`.
    pub flavour: &'static str,
    /// The functions it supports.
    pub functions: Vec<&'static str>,
    /// What an invite for it must carry in `store`.
    pub inputs: Vec<ListedInput>,
    /// Whether invites can be made (credentials configured).
    pub enabled: bool,
    /// Whether the cart keeps one active token per app and store.
    pub one_token_per_store: bool,
    /// Whether a warehouse may register its own app at it.
    pub takes_own_app: bool,
}

/// The `GET /v1/carts` answer.
#[derive(Debug, Serialize)]
pub struct CartList {
    /// Every cart, built-in first, then configured ones.
    pub carts: Vec<ListedCart>,
}

fn list_carts(svc: &Services) -> CartList {
    CartList {
        carts: svc
            .catalog
            .iter()
            .map(|c| ListedCart {
                id: c.id.to_string(),
                name: c.name.clone(),
                flavour: c.flavour.as_str(),
                functions: c.functions().iter().map(|f| f.as_str()).collect(),
                inputs: c
                    .input
                    .iter()
                    .map(|i| ListedInput {
                        key: i.key.clone(),
                        label: i.label.clone(),
                        pattern: i.pattern.as_str().to_owned(),
                        choices: i.choices.iter().map(|c| c.value.clone()).collect(),
                    })
                    .collect(),
                enabled: c.enabled(),
                one_token_per_store: c.one_token_per_store.is_some(),
                takes_own_app: c.flavour == shared::carts::Flavour::PopupOauth,
            })
            .collect(),
    }
}

/// A route of this function, with its path's id.
enum Call<'a> {
    Create,
    Show(&'a str),
    Withdraw(&'a str),
    Resend(&'a str),
    Disconnect(&'a str),
    Reconnect(&'a str),
    ListCarts,
    ListInvites,
    ListConnections,
    ShowConnection(&'a str),
    Events(&'a str),
    CreateEndpoint,
    ListEndpoints,
    DeleteEndpoint(&'a str),
    RotateSecret(&'a str),
    ListDeliveries,
    RetryDelivery(&'a str),
    TestWebhook,
    ListApps,
    PutApp(&'a str),
    ShowApp(&'a str),
    DeleteApp(&'a str),
}

async fn route(svc: &Services, req: Request) -> Result<Response, ApiError> {
    let segments = req.segments();
    let call = match segments.as_slice() {
        ["v1", "openapi.json"] if req.is_read() => return Ok(openapi::document()),
        ["v1", "openapi.json"] => return Err(ApiError::MethodNotAllowed),
        ["v1", "invites"] if req.method == Method::POST => Call::Create,
        ["v1", "invites"] if req.method == Method::GET => Call::ListInvites,
        ["v1", "connections"] if req.method == Method::GET => Call::ListConnections,
        ["v1", "connections", id] if req.method == Method::GET => Call::ShowConnection(id),
        ["v1", "invites", id, "events"] if req.method == Method::GET => Call::Events(id),
        ["v1", "invites", id] if req.method == Method::GET => Call::Show(id),
        ["v1", "invites", id] if req.method == Method::DELETE => Call::Withdraw(id),
        ["v1", "invites", id, "resend"] if req.method == Method::POST => Call::Resend(id),
        ["v1", "connections", id] if req.method == Method::DELETE => Call::Disconnect(id),
        ["v1", "connections", id, "reconnect"] if req.method == Method::POST => Call::Reconnect(id),
        ["v1", "carts"] if req.method == Method::GET || req.method == Method::HEAD => {
            Call::ListCarts
        }
        ["v1", "webhooks", "endpoints"] if req.method == Method::POST => Call::CreateEndpoint,
        ["v1", "webhooks", "endpoints"] if req.method == Method::GET => Call::ListEndpoints,
        ["v1", "webhooks", "endpoints", id] if req.method == Method::DELETE => {
            Call::DeleteEndpoint(id)
        }
        ["v1", "webhooks", "endpoints", id, "rotate-secret"] if req.method == Method::POST => {
            Call::RotateSecret(id)
        }
        ["v1", "webhooks", "deliveries"] if req.method == Method::GET => Call::ListDeliveries,
        ["v1", "webhooks", "deliveries", id, "retry"] if req.method == Method::POST => {
            Call::RetryDelivery(id)
        }
        ["v1", "webhooks", "test"] if req.method == Method::POST => Call::TestWebhook,
        ["v1", "cart-apps"] if req.method == Method::GET => Call::ListApps,
        ["v1", "cart-apps", cart] if req.method == Method::PUT => Call::PutApp(cart),
        ["v1", "cart-apps", cart] if req.method == Method::GET => Call::ShowApp(cart),
        ["v1", "cart-apps", cart] if req.method == Method::DELETE => Call::DeleteApp(cart),
        ["v1", "invites"]
        | ["v1", "invites", _]
        | ["v1", "invites", _, "resend"]
        | ["v1", "invites", _, "events"]
        | ["v1", "connections"]
        | ["v1", "connections", _]
        | ["v1", "connections", _, "reconnect"]
        | ["v1", "carts"]
        | ["v1", "webhooks", "endpoints"]
        | ["v1", "webhooks", "endpoints", _]
        | ["v1", "webhooks", "endpoints", _, "rotate-secret"]
        | ["v1", "webhooks", "deliveries"]
        | ["v1", "webhooks", "deliveries", _, "retry"]
        | ["v1", "webhooks", "test"]
        | ["v1", "cart-apps"]
        | ["v1", "cart-apps", _] => return Err(ApiError::MethodNotAllowed),
        _ => return Err(ApiError::NotFound),
    };
    let warehouse = &svc.authenticate(bearer(&req)).await?;
    if req.method == Method::POST {
        if let Some(key) = req.headers.get(idempotent::HEADER) {
            return idempotent::run(svc, warehouse, &req, key, |seed| {
                serve(svc, warehouse, &req, call, seed)
            })
            .await;
        }
    }
    serve(svc, warehouse, &req, call, None).await
}

/// Serves a routed call of `warehouse`; `seed` is the `Idempotency-Key`'s when the request has
/// one (what a POST creates takes its id from it).
async fn serve(
    svc: &Services,
    warehouse: &Warehouse,
    req: &Request,
    call: Call<'_>,
    seed: Option<RequestSeed>,
) -> Result<Response, ApiError> {
    match call {
        Call::ListCarts => Ok(shared::web::json(StatusCode::OK, &list_carts(svc))),
        Call::Show(id) => show_invite(svc, &warehouse.id, id).await,
        Call::Withdraw(id) => withdraw_invite(svc, &warehouse.id, id).await,
        Call::Resend(id) => lifecycle::resend_invite(svc, &warehouse.id, id).await,
        Call::Disconnect(id) => lifecycle::disconnect(svc, &warehouse.id, id).await,
        Call::Reconnect(id) => reconnect::reconnect(svc, &warehouse.id, id).await,
        Call::ListInvites => reads::list_invites(svc, &warehouse.id, req).await,
        Call::ListConnections => reads::list_connections(svc, &warehouse.id, req).await,
        Call::ShowConnection(id) => reads::show_connection(svc, &warehouse.id, id).await,
        Call::Events(id) => reads::invite_events(svc, &warehouse.id, id).await,
        Call::Create => create_invite(svc, warehouse, req, seed.as_ref()).await,
        Call::CreateEndpoint => webhooks::create_endpoint(svc, &warehouse.id, req).await,
        Call::ListEndpoints => webhooks::list_endpoints(svc, &warehouse.id).await,
        Call::DeleteEndpoint(id) => webhooks::delete_endpoint(svc, &warehouse.id, id).await,
        Call::RotateSecret(id) => webhooks::rotate_secret(svc, &warehouse.id, id).await,
        Call::ListDeliveries => webhooks::list_deliveries(svc, &warehouse.id, req).await,
        Call::RetryDelivery(id) => webhooks::retry_delivery(svc, &warehouse.id, id).await,
        Call::TestWebhook => webhooks::send_test(svc, &warehouse.id).await,
        Call::ListApps => cart_apps::list_apps(svc, &warehouse.id).await,
        Call::PutApp(cart) => cart_apps::put_app(svc, &warehouse.id, cart, req).await,
        Call::ShowApp(cart) => cart_apps::show_app(svc, &warehouse.id, cart).await,
        Call::DeleteApp(cart) => cart_apps::delete_app(svc, &warehouse.id, cart).await,
    }
}

async fn create_invite(
    svc: &Services,
    warehouse: &Warehouse,
    req: &Request,
    seed: Option<&RequestSeed>,
) -> Result<Response, ApiError> {
    let body: NewInvite = json_body(req)?;
    let created = svc.create_invite_once(warehouse, body, seed).await?;
    let answer = InviteCreated {
        id: created.invite.id.to_string(),
        status: created.invite.status.to_string(),
        setup_url: created.setup_url,
        access_code_hint: created.invite.access_code_hint.clone(),
        expires_at: created.invite.expires_at.rfc3339(),
        email_error: created.invite.status_reason.clone(),
    };
    Ok(shared::web::json(StatusCode::CREATED, &answer))
}

/// A JSON body (`Content-Type: application/json`) read as `T`, unknown fields refused.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let json = req.header("content-type").is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json {
        return Err(ApiError::UnsupportedMediaType);
    }
    serde_json::from_slice(&req.body).map_err(|e| ApiError::InvalidJson(e.to_string()))
}

pub(crate) fn unavailable(e: shared::store::StoreError) -> ApiError {
    tracing::error!(error = %e, "store failed in the warehouse API");
    ApiError::Unavailable
}

async fn show_invite(
    svc: &Services,
    warehouse: &shared::domain::WarehouseId,
    id: &str,
) -> Result<Response, ApiError> {
    let state = svc
        .warehouse_invite(warehouse, id)
        .await
        .map_err(unavailable)?
        .ok_or(ApiError::NotFound)?;
    Ok(shared::web::json(StatusCode::OK, &invite_view(svc, state)))
}

async fn withdraw_invite(
    svc: &Services,
    warehouse: &shared::domain::WarehouseId,
    id: &str,
) -> Result<Response, ApiError> {
    match svc
        .withdraw_invite(warehouse, id)
        .await
        .map_err(unavailable)?
        .ok_or(ApiError::NotFound)?
    {
        Withdrawal::Withdrawn(state) => {
            Ok(shared::web::json(StatusCode::OK, &invite_view(svc, state)))
        }
        Withdrawal::AlreadyConnected(_) => Err(ApiError::AlreadyConnected),
    }
}

fn invite_view(svc: &Services, state: InviteState) -> InviteView {
    InviteView::of(&state.invite, state.connection.as_ref(), svc.clock.now())
}

pub mod cart_apps;
mod idempotent;
pub mod reads;
pub mod reconnect;
pub mod webhooks;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_edge;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_reconnect;
#[cfg(test)]
mod tests_webhooks;
