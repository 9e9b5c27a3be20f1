//! `oauth-callback`: `GET /oauth/callback/{cart}`, one path per cart. Checks everything before
//! the code goes anywhere, exchanges it once, stores the sealed connection atomically, and
//! answers with a page a merchant can read.

mod pages;

use http::{Method, StatusCode};
use shared::service::callback::{CallbackError, CallbackRequest};
use shared::service::Services;
use shared::web::{self, BindingCookie, Request, Response};

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
        at: String,
    },
    /// The request does not belong to a grant this browser started.
    Refused,
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
            CallbackPage::Declined { .. } => StatusCode::OK,
            CallbackPage::Refused => StatusCode::BAD_REQUEST,
            CallbackPage::Expired => StatusCode::GONE,
            CallbackPage::CartFailed { .. } => StatusCode::BAD_GATEWAY,
            CallbackPage::NotFound => StatusCode::NOT_FOUND,
            CallbackPage::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn into_response(self, svc: &Services) -> Response {
        let status = self.status();
        let body = pages::render(
            &svc.config.public_base_url,
            &svc.config.public_origin(),
            &self,
        );
        web::popup_html(status, body)
    }
}

impl From<CallbackError> for CallbackPage {
    fn from(e: CallbackError) -> Self {
        match e {
            CallbackError::Refused { .. } => CallbackPage::Refused,
            CallbackError::AlreadyConnected { at } => {
                CallbackPage::AlreadyConnected { at: at.human() }
            }
            CallbackError::Expired => CallbackPage::Expired,
            CallbackError::Declined { retry_url } => CallbackPage::Declined { retry_url },
            CallbackError::CartFailed {
                retry_url, emailed, ..
            } => CallbackPage::CartFailed { retry_url, emailed },
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

/// Handles a callback request.
pub async fn handle(svc: &Services, req: Request) -> Response {
    let page = match (req.segments().as_slice(), &req.method) {
        (["oauth", "callback", cart], &Method::GET) => {
            let params = req.query_params();
            let cookie = req.cookie(BindingCookie::for_local_http(svc.config.is_local_http()).name);
            match svc
                .complete_callback(CallbackRequest {
                    cart,
                    params: &params,
                    binding_cookie: cookie.as_deref(),
                })
                .await
            {
                Ok(done) => CallbackPage::Authorized {
                    warehouse: done.invite.warehouse.display_name,
                    cart: svc
                        .catalog
                        .get(&done.invite.cart)
                        .map_or_else(|| done.invite.cart.to_string(), |c| c.name.clone()),
                },
                Err(e) => e.into(),
            }
        }
        _ => CallbackPage::NotFound,
    };
    page.into_response(svc)
}

#[cfg(test)]
mod tests;
