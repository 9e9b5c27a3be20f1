//! `grant-page`: the merchant's setup pages.
//!
//! - `GET /setup/{token}`: the grant page. `GET` and `HEAD` change nothing (mail scanners open
//!   links first). A link nobody issued gets the access-code page; a link whose invite expired,
//!   is connected already or was withdrawn gets the page that says so.
//! - `GET /setup`: the access-code page; `POST /setup` with a valid code shows the grant page.
//! - `POST /setup/{token}/grant`: starts a grant attempt, sets the binding cookie, 303 to the cart;
//!   for an admin integration (Magento) it answers the page with the steps and the attempt's
//!   Callback URL and Identity link URL instead.
//! - `GET /setup/{token}/status`: JSON progress for the page's poll.
//! - `/manage/{token}…`: the merchant's manage page and withdrawing access (`manage.rs`).
//! - `GET /assets/*`: our stylesheet, scripts and mark, and a stored warehouse's accent
//!   stylesheet (no third-party resources anywhere).

mod brand;
mod manage;
mod pages;

use http::{Method, StatusCode};
use serde_json::json;
use shared::domain::{Brand, Timestamp};
use shared::service::setup::pages::RenderedPage;
use shared::service::setup::{GrantNext, GrantView, SetupError};
use shared::service::Services;
use shared::web::page::Ui;
use shared::web::{self, lang, BindingCookie, Request, Response};

/// Every way a setup request can fail, each mapped once to a page and status.
#[derive(Debug)]
pub enum PageError {
    /// An unknown or malformed link: the access-code page (404).
    InvalidLink,
    /// A known link whose invite expired: "this link expired on <date>: ask <warehouse> for a
    /// new one" (410).
    Expired {
        /// Who to ask for a new link.
        warehouse: String,
        /// How that warehouse looks.
        brand: Box<Brand>,
        /// When it expired.
        expired_at: Timestamp,
    },
    /// A known link whose store is connected already, with the date (200: nothing is wrong).
    AlreadyConnected {
        /// Who was given access.
        warehouse: String,
        /// How that warehouse looks.
        brand: Box<Brand>,
        /// The cart's name.
        cart: String,
        /// When.
        connected_at: Timestamp,
    },
    /// A known link whose invite the warehouse withdrew (410).
    Revoked {
        /// Who withdrew it.
        warehouse: String,
        /// How that warehouse looks.
        brand: Box<Brand>,
    },
    /// A typed code did not work.
    WrongCode,
    /// Too many wrong codes.
    TooManyAttempts,
    /// The cart of the invite is not available.
    CartUnavailable,
    /// A form posted from another origin.
    ForeignOrigin,
    /// No such page.
    NotFound,
    /// The method is not served here.
    MethodNotAllowed,
    /// Something failed on our side.
    Unavailable,
}

impl PageError {
    /// The page and status, in the page's language. `in_popup`: the answer to the grant form,
    /// which the grant page submits into its popup; such a page keeps its opener, so the grant
    /// page can close it.
    fn into_response(self, ui: &Ui, in_popup: bool) -> Response {
        let (status, body) = match self {
            // Every unknown link gets the same page: its switcher reopens the access-code
            // page, never the link typed.
            PageError::InvalidLink => {
                let ui = Ui {
                    here: Some("/setup".to_owned()),
                    ..ui.clone()
                };
                (StatusCode::NOT_FOUND, pages::access_code(&ui, None))
            }
            PageError::Expired {
                warehouse,
                brand,
                expired_at,
            } => (
                StatusCode::GONE,
                pages::expired(ui, (&warehouse, &*brand), expired_at),
            ),
            PageError::AlreadyConnected {
                warehouse,
                brand,
                cart,
                connected_at,
            } => (
                StatusCode::OK,
                pages::already_connected(ui, (&warehouse, &*brand), &cart, connected_at),
            ),
            PageError::Revoked { warehouse, brand } => {
                (StatusCode::GONE, pages::revoked(ui, (&warehouse, &*brand)))
            }
            PageError::WrongCode => (
                StatusCode::BAD_REQUEST,
                pages::access_code(ui, Some("code.wrong")),
            ),
            PageError::TooManyAttempts => (
                StatusCode::TOO_MANY_REQUESTS,
                pages::access_code(ui, Some("code.too_many")),
            ),
            PageError::CartUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                pages::message(ui, "state.cart_unavailable"),
            ),
            PageError::ForeignOrigin => {
                (StatusCode::FORBIDDEN, pages::message(ui, "state.foreign"))
            }
            PageError::NotFound => (StatusCode::NOT_FOUND, pages::message(ui, "state.not_found")),
            PageError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                pages::message(ui, "state.not_found"),
            ),
            PageError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                pages::message(ui, "state.unavailable"),
            ),
        };
        if in_popup {
            web::popup_html(status, body)
        } else {
            web::html(status, body, &[])
        }
    }
}

impl From<SetupError> for PageError {
    fn from(e: SetupError) -> Self {
        match e {
            SetupError::InvalidLink => PageError::InvalidLink,
            SetupError::Expired {
                warehouse,
                brand,
                expired_at,
            } => PageError::Expired {
                warehouse,
                brand,
                expired_at,
            },
            SetupError::AlreadyConnected {
                warehouse,
                brand,
                cart,
                connected_at,
            } => PageError::AlreadyConnected {
                warehouse,
                brand,
                cart,
                connected_at,
            },
            SetupError::Revoked { warehouse, brand } => PageError::Revoked { warehouse, brand },
            SetupError::TooManyAttempts => PageError::TooManyAttempts,
            SetupError::CartUnavailable => PageError::CartUnavailable,
            SetupError::Store(e) => {
                tracing::error!(error = %e, "store failed on a setup page");
                PageError::Unavailable
            }
        }
    }
}

/// The page's language and place: a GET reopens itself in another language; the answer to a
/// form reopens the page a GET shows for the same link (the access-code page for a code).
fn ui_for(svc: &Services, req: &Request) -> Ui {
    let (locale, _) = lang::page_locale(req);
    let here = if req.is_read() {
        req.path.clone()
    } else {
        let segments = req.segments();
        match segments.as_slice() {
            ["setup", token, ..] | ["manage", token, ..] => {
                format!("/{}/{token}", segments[0])
            }
            _ => "/setup".to_owned(),
        }
    };
    Ui {
        base: svc.config.public_base_url.clone(),
        locale,
        here: Some(here),
    }
}

/// Handles a setup-page request.
pub async fn handle(svc: &Services, req: Request) -> Response {
    let method = req.method.clone();
    let grant_form = method == Method::POST && req.segments().get(2) == Some(&"grant");
    let ui = ui_for(svc, &req);
    let mut resp = match route(svc, &ui, &req).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(&ui, grant_form),
    };
    if let (locale, true) = lang::page_locale(&req) {
        lang::remember(&mut resp, locale, !svc.config.is_local_http());
    }
    web::for_method(&method, resp)
}

fn grant_page(svc: &Services, ui: &Ui, view: &GrantView<'_>) -> Response {
    grant_page_with(svc, ui, view, None)
}

/// The grant page, with what went wrong with credentials typed on it.
fn grant_page_with(
    svc: &Services,
    ui: &Ui,
    view: &GrantView<'_>,
    problem: Option<&str>,
) -> Response {
    let page = rendered_grant_page(svc, ui, view, problem);
    web::html(StatusCode::OK, page.body, &page.form_targets)
}

/// The grant page's HTML and the origins its form posts to (what [`Services::grant_page_for`]
/// keeps of a page without a problem).
fn rendered_grant_page(
    svc: &Services,
    ui: &Ui,
    view: &GrantView<'_>,
    problem: Option<&str>,
) -> RenderedPage {
    let ui = Ui {
        here: Some(format!("/setup/{}", view.token.expose())),
        ..ui.clone()
    };
    RenderedPage {
        body: pages::grant(&ui, &svc.config.public_origin(), view, problem).into(),
        form_targets: view.authorize_origin.iter().cloned().collect(),
    }
}

/// The answer to a grant page's beacon about its link: `{"ok": true}` when the link is known,
/// the not-found page otherwise.
fn beacon_answer(known: Result<bool, shared::store::StoreError>) -> Result<Response, PageError> {
    match known.map_err(|e| PageError::from(SetupError::Store(e)))? {
        true => Ok(web::json(StatusCode::OK, &json!({ "ok": true }))),
        false => Err(PageError::NotFound),
    }
}

/// Refuses a form posted from another site ([`Request::is_same_origin_post`]).
fn same_origin(svc: &Services, req: &Request) -> Result<(), PageError> {
    if req.is_same_origin_post(&svc.config.public_origin()) {
        Ok(())
    } else {
        Err(PageError::ForeignOrigin)
    }
}

async fn route(svc: &Services, ui: &Ui, req: &Request) -> Result<Response, PageError> {
    let segments = req.segments();
    if segments.first() == Some(&"manage") {
        return manage::route(svc, ui, req, &segments)
            .await
            .unwrap_or(Err(PageError::MethodNotAllowed));
    }
    match (segments.as_slice(), req.is_read(), &req.method) {
        (["assets", name], true, _) => asset(name)
            .or_else(|| brand::accent_stylesheet(name))
            .ok_or(PageError::NotFound),
        (["setup"], true, _) => Ok(web::html(StatusCode::OK, pages::access_code(ui, None), &[])),
        (["setup"], false, &Method::POST) => {
            same_origin(svc, req)?;
            let code = req.form().remove("code").unwrap_or_default();
            match svc.redeem_access_code(&code, req.client_ip).await {
                Ok(view) => Ok(grant_page(svc, ui, &view)),
                Err(SetupError::InvalidLink) => Err(PageError::WrongCode),
                Err(e) => Err(e.into()),
            }
        }
        (["setup", token], true, _) => {
            let page = svc
                .grant_page_for(token, req.client_ip, ui.locale, |view| {
                    rendered_grant_page(svc, ui, view, None)
                })
                .await?;
            Ok(web::html(StatusCode::OK, page.body, &page.form_targets))
        }
        (["setup", token, "grant"], false, &Method::POST) => {
            same_origin(svc, req)?;
            let started = svc.start_grant(token).await?;
            match &started.next {
                GrantNext::Redirect(url) => {
                    let mut resp = web::see_other(url);
                    let local_http = svc.config.is_local_http();
                    BindingCookie::for_local_http(local_http)
                        .attach(&mut resp, started.binding.expose());
                    if let Some(state) = &started.state_cookie {
                        BindingCookie::state_for_local_http(local_http)
                            .attach(&mut resp, state.expose());
                    }
                    Ok(resp)
                }
                // Nothing comes back to this browser from the store: no binding cookie. The
                // page is the answer to the form, shown in this tab.
                GrantNext::AdminIntegration(settings) => Ok(web::html(
                    StatusCode::OK,
                    pages::integration(ui, &svc.config.public_origin(), &started.view, settings),
                    &[],
                )),
            }
        }
        (["setup", token, "credentials"], false, &Method::POST) => {
            same_origin(svc, req)?;
            typed::connect(svc, ui, token, req).await
        }
        // The grant page's script reports that a browser showed it: the invite's "opened"
        // event. A GET of the link (a mail scanner's too) records nothing.
        (["setup", token, "opened"], false, &Method::POST) => {
            same_origin(svc, req)?;
            beacon_answer(svc.link_opened(token).await)
        }
        // The grant page's script reports that the browser blocked its popup: counted for
        // operators (the PopupsBlocked metric), nothing stored.
        (["setup", token, "popup-blocked"], false, &Method::POST) => {
            same_origin(svc, req)?;
            beacon_answer(svc.popup_blocked(token).await)
        }
        (["setup", token, "status"], true, _) => {
            let progress = svc.grant_progress(token).await?;
            Ok(web::json(
                StatusCode::OK,
                &json!({ "status": progress.as_str() }),
            ))
        }
        (["setup", ..], _, _) => Err(PageError::MethodNotAllowed),
        _ => Err(PageError::NotFound),
    }
}

fn asset(name: &str) -> Option<Response> {
    let (content_type, body) = match name {
        "cartlink.css" => (
            "text/css; charset=utf-8",
            include_str!("../assets/cartlink.css"),
        ),
        "grant.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../assets/grant.js"),
        ),
        "integration.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../assets/integration.js"),
        ),
        "callback.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../assets/callback.js"),
        ),
        "cartlink-mark.svg" => ("image/svg+xml", include_str!("../assets/cartlink-mark.svg")),
        _ => return None,
    };
    Some(web::asset(content_type, body))
}

mod typed;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_metrics;
#[cfg(test)]
mod tests_typed;
