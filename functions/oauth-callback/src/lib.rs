//! `oauth-callback`: `GET /oauth/callback/{cart}`, one path per cart. Checks everything before
//! the code goes anywhere, exchanges it once, stores the sealed connection atomically, and
//! answers with a page a merchant can read.
//!
//! Key handshakes (WooCommerce) use two more routes: `POST /oauth/keys/{cart}`, where the store
//! posts the keys (answered 200 only when they were checked and stored, so the store deletes
//! keys we refused), and `GET /oauth/return/{cart}`, where the merchant's browser comes back.
//!
//! Admin integrations (Magento) use two more: `POST /oauth/integration/{cart}/{nonce}`, where
//! the store posts the integration's credentials on activation (200 only when the tokens were
//! fetched from the store and stored, so the store shows a failure otherwise), and
//! `GET /oauth/identity/{cart}/{nonce}`, the Identity link the store opens next (a page; a 303
//! to the store's `success_call_back` once connected, when that is on the store's own host).

mod pages;

use http::{Method, StatusCode};
use shared::service::callback::{CallbackError, CallbackRequest, MissingGrant};
use shared::service::integration::IdentityOutcome;
use shared::service::keys::KeyReturn;
use shared::service::Services;
use shared::web::page::Ui;
use shared::web::{self, lang, BindingCookie, Request, Response};

/// The callback's outcomes as pages: each variant is mapped once to a status and a page.
#[derive(Debug)]
pub enum CallbackPage {
    /// Connected now.
    Authorized {
        /// Warehouse name.
        warehouse: String,
        /// Cart name.
        cart: String,
    },
    /// Connected before (a replayed or concurrent callback).
    AlreadyConnected {
        /// When.
        at: shared::domain::Timestamp,
    },
    /// Keys are still on their way from the store.
    KeysPending,
    /// Another load of this callback is finishing the grant (a reload, a second tab): the
    /// window may be closed, the grant page shows the outcome.
    AlmostDone,
    /// The request does not belong to a grant this browser started.
    Refused,
    /// The store is connected to another warehouse through the same app; nothing changed.
    StoreHeld,
    /// The invite expired.
    Expired,
    /// Declined at the cart.
    Declined {
        /// Where to try again.
        retry_url: Option<String>,
    },
    /// The cart or the exchange failed.
    CartFailed {
        /// Where to try again.
        retry_url: Option<String>,
        /// Whether the merchant was emailed the link to try again.
        emailed: bool,
    },
    /// The cart granted fewer permissions than the invite's functions need; nothing stored.
    ScopeMissing {
        /// The functions not granted, with their scopes as the cart names them.
        missing: Vec<MissingGrant>,
        /// Where to try again.
        retry_url: Option<String>,
        /// Whether the merchant was emailed the link to try again.
        emailed: bool,
    },
    /// Not a callback route.
    NotFound,
    /// Something failed on our side.
    Unavailable,
}

impl CallbackPage {
    fn status(&self) -> StatusCode {
        match self {
            CallbackPage::Authorized { .. } | CallbackPage::AlreadyConnected { .. } => {
                StatusCode::OK
            }
            CallbackPage::Declined { .. } | CallbackPage::KeysPending => StatusCode::OK,
            CallbackPage::AlmostDone => StatusCode::ACCEPTED,
            CallbackPage::Refused => StatusCode::BAD_REQUEST,
            CallbackPage::StoreHeld => StatusCode::CONFLICT,
            CallbackPage::Expired => StatusCode::GONE,
            CallbackPage::CartFailed { .. } => StatusCode::BAD_GATEWAY,
            CallbackPage::ScopeMissing { .. } => StatusCode::FORBIDDEN,
            CallbackPage::NotFound => StatusCode::NOT_FOUND,
            CallbackPage::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The page, in the language the merchant's pages are in (their switcher's choice, else
    /// `Accept-Language`).
    fn into_response(self, svc: &Services, req: &Request) -> Response {
        let status = self.status();
        let ui = Ui {
            base: svc.config.public_base_url.clone(),
            locale: lang::page_locale(req).0,
            here: None,
        };
        let body = pages::render(&ui, &svc.config.public_origin(), &self);
        web::popup_html(status, body)
    }
}

impl From<CallbackError> for CallbackPage {
    fn from(e: CallbackError) -> Self {
        match e {
            CallbackError::Refused { .. } => CallbackPage::Refused,
            CallbackError::StoreHeldElsewhere => CallbackPage::StoreHeld,
            CallbackError::AlreadyConnected { at } => CallbackPage::AlreadyConnected { at },
            CallbackError::Expired => CallbackPage::Expired,
            CallbackError::InProgress => CallbackPage::AlmostDone,
            CallbackError::Declined { retry_url } => CallbackPage::Declined { retry_url },
            CallbackError::CartFailed {
                retry_url, emailed, ..
            } => CallbackPage::CartFailed { retry_url, emailed },
            CallbackError::ScopeMissing {
                missing,
                retry_url,
                emailed,
            } => CallbackPage::ScopeMissing {
                missing,
                retry_url,
                emailed,
            },
            CallbackError::Store(e) => {
                tracing::error!(error = %e, "store failed in the callback");
                CallbackPage::Unavailable
            }
            CallbackError::Vault(e) => {
                tracing::error!(error = %e, "vault failed in the callback");
                CallbackPage::Unavailable
            }
        }
    }
}

fn authorized_page(svc: &Services, invite: &shared::domain::Invite) -> CallbackPage {
    CallbackPage::Authorized {
        warehouse: invite.warehouse.display_name.clone(),
        cart: svc.catalog.display_name(&invite.cart),
    }
}

/// Answers a server-to-server delivery (keys, integration credentials): 200 only when they
/// were checked and stored; otherwise a 4xx with a stable code (the store then deletes the keys
/// it made, or shows the merchant that activation failed). `failed` is the code of a failed
/// check against the store. A delivery posted again while the first is being checked never
/// reaches the store: once the first is stored it is 409 `already_connected` (this delivery's
/// own keys were not stored, so the store may delete them), and 409 `delivery_in_progress`
/// while the first is still undecided.
fn delivery_answer(
    result: Result<shared::service::callback::Authorized, CallbackError>,
    failed: &'static str,
) -> Response {
    match result {
        Ok(_) => web::json(StatusCode::OK, &serde_json::json!({ "stored": true })),
        Err(e) => {
            let (status, code) = match &e {
                CallbackError::Refused { reason } => (StatusCode::BAD_REQUEST, reason.as_str()),
                CallbackError::AlreadyConnected { .. } => {
                    (StatusCode::CONFLICT, "already_connected")
                }
                CallbackError::Expired => (StatusCode::GONE, "expired"),
                CallbackError::StoreHeldElsewhere => (StatusCode::CONFLICT, "store_held_elsewhere"),
                CallbackError::InProgress => (StatusCode::CONFLICT, "delivery_in_progress"),
                CallbackError::Declined { .. }
                | CallbackError::CartFailed { .. }
                | CallbackError::ScopeMissing { .. } => (StatusCode::BAD_REQUEST, failed),
                CallbackError::Store(_) | CallbackError::Vault(_) => {
                    tracing::error!(error = %e, "storage failed receiving a delivery");
                    (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
                }
            };
            web::json(status, &serde_json::json!({ "error": code }))
        }
    }
}

/// The Identity link page: where the integration behind the nonce stands, or a 303 to the
/// store's `success_call_back` once connected (only to the store's own host).
async fn identity(svc: &Services, cart: &str, nonce: &str, req: &Request) -> Response {
    let params = req.query_params();
    let back = params.get("success_call_back").map(String::as_str);
    let page = match svc.integration_identity(cart, nonce, back).await {
        Ok(IdentityOutcome::Connected {
            success_call_back: Some(url),
            ..
        }) => return web::see_other(&url),
        Ok(IdentityOutcome::Connected { invite, .. }) => authorized_page(svc, &invite),
        Ok(IdentityOutcome::Pending) => CallbackPage::KeysPending,
        Ok(IdentityOutcome::Failed) => CallbackPage::CartFailed {
            retry_url: None,
            emailed: false,
        },
        Err(e) => e.into(),
    };
    page.into_response(svc, req)
}

/// Handles a callback request.
pub async fn handle(svc: &Services, req: Request) -> Response {
    let page = match (req.segments().as_slice(), &req.method) {
        (["oauth", "keys", cart], &Method::POST) => {
            return delivery_answer(svc.receive_keys(cart, &req.body).await, "keys_not_verified")
        }
        (["oauth", "integration", cart, nonce], &Method::POST) => {
            return delivery_answer(
                svc.receive_integration(cart, nonce, &req.body).await,
                "integration_not_verified",
            )
        }
        (["oauth", "identity", cart, nonce], &Method::GET) => {
            return identity(svc, cart, nonce, &req).await
        }
        (["oauth", "return", cart], &Method::GET) => {
            let params = req.query_params();
            let cookie = req.cookie(BindingCookie::for_local_http(svc.config.is_local_http()).name);
            match svc.key_return(cart, &params, cookie.as_deref()).await {
                Ok(KeyReturn::Connected(invite)) => authorized_page(svc, &invite),
                Ok(KeyReturn::Pending) => CallbackPage::KeysPending,
                Err(e) => e.into(),
            }
        }
        (["oauth", "callback", cart], &Method::GET) => {
            let params = req.query_params();
            let repeated = req.repeated_query_param();
            let local_http = svc.config.is_local_http();
            let cookie = req.cookie(BindingCookie::for_local_http(local_http).name);
            let state_cookie = BindingCookie::state_for_local_http(local_http);
            let state = req.cookie(state_cookie.name);
            let mut resp = match svc
                .complete_callback(CallbackRequest {
                    cart,
                    params: &params,
                    repeated: repeated.as_deref(),
                    binding_cookie: cookie.as_deref(),
                    state_cookie: state.as_deref(),
                })
                .await
            {
                // The cart's install dialog is told it is done; the grant page, polling, says
                // so to the merchant.
                Ok(done) => match &done.finish_url {
                    Some(url) => web::see_other(url.expose()),
                    None => authorized_page(svc, &done.invite).into_response(svc, &req),
                },
                Err(e) => CallbackPage::from(e).into_response(svc, &req),
            };
            // A state cookie serves one callback, whatever its outcome.
            if state.is_some() {
                state_cookie.clear(&mut resp);
            }
            return resp;
        }
        _ => CallbackPage::NotFound,
    };
    page.into_response(svc, &req)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fuzz;
