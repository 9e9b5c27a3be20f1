//! `POST /setup/{token}/credentials`: a `credentials` cart's grant page posts the credentials the
//! merchant created in their admin. Connected: "Successful Authorization". Not: the grant page
//! again, saying what went wrong in plain words and holding none of what was typed.

use http::StatusCode;
use shared::service::callback::CallbackError;
use shared::service::typed_credentials::CredentialsError;
use shared::service::Services;
use shared::web::page::Ui;
use shared::web::{self, Request, Response};

use super::{grant_page_with, pages, PageError};

/// Connects with the posted credentials (the request is a same-origin form post).
pub async fn connect(
    svc: &Services,
    ui: &Ui,
    token: &str,
    req: &Request,
) -> Result<Response, PageError> {
    let fields = req.form();
    let problem = match svc.connect_with_credentials(token, &fields).await {
        Ok(done) => {
            let warehouse = &done.invite.warehouse;
            let cart = svc.catalog.display_name(&done.invite.cart);
            let body = pages::credentials_connected(
                ui,
                (&warehouse.display_name, &warehouse.brand),
                &cart,
            );
            return Ok(web::html(StatusCode::OK, body, &[]));
        }
        Err(CredentialsError::Setup(e)) => return Err(e.into()),
        Err(CredentialsError::Malformed { field }) => {
            (StatusCode::BAD_REQUEST, Problem::Malformed(field))
        }
        Err(CredentialsError::Refused) => (StatusCode::UNPROCESSABLE_ENTITY, Problem::Refused),
        Err(CredentialsError::Unreachable) => (StatusCode::BAD_GATEWAY, Problem::Unreachable),
        Err(CredentialsError::Commit(CallbackError::InProgress)) => {
            (StatusCode::CONFLICT, Problem::Busy)
        }
        // Another submit connected it: the link now says so.
        Err(CredentialsError::Commit(CallbackError::AlreadyConnected { .. })) => {
            return Err(svc
                .open_link(token)
                .await
                .err()
                .map_or(PageError::Unavailable, Into::into));
        }
        Err(CredentialsError::Commit(e)) => {
            tracing::warn!(error = %e, "typed credentials not committed");
            return Err(PageError::Unavailable);
        }
    };
    let (status, problem) = problem;
    let view = svc.open_link(token).await?;
    let names = [("cart", view.cart.name.as_str())];
    let text = match problem {
        Problem::Malformed(field) => ui.text(
            "grant.credentials_malformed",
            &[("field", field.as_str()), names[0]],
        ),
        Problem::Refused => ui.text("grant.credentials_refused", &names),
        Problem::Unreachable => ui.text("grant.credentials_unreachable", &names),
        Problem::Busy => ui.text("grant.credentials_busy", &names),
    };
    let mut page = grant_page_with(svc, ui, &view, Some(&text));
    *page.status_mut() = status;
    Ok(page)
}

/// What went wrong, to say on the page.
enum Problem {
    Malformed(String),
    Refused,
    Unreachable,
    Busy,
}
