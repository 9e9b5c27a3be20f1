//! The merchant's manage pages (`/manage/{token}`): the connection a confirmation email's
//! "Manage this connection" link opens, and withdrawing it.
//!
//! - `GET /manage/{token}`: the connection (or that it was withdrawn). Changes nothing.
//! - `GET /manage/{token}/withdraw`: the confirmation step. Changes nothing.
//! - `POST /manage/{token}/withdraw` with `confirm=yes`, same origin only: withdraws, then 303
//!   back to the manage page, which now says so.
//!
//! A link cartlink did not issue gets the access-code page, as a bad setup link does.

use http::{Method, StatusCode};
use maud::{html, Markup};
use shared::domain::{DisconnectedBy, Timestamp};
use shared::service::manage::{ManageError, ManageView, Standing};
use shared::service::Services;
use shared::web::page::layout;
use shared::web::{self, Request, Response};

use crate::pages::letter_mark;
use crate::PageError;

impl From<ManageError> for PageError {
    fn from(e: ManageError) -> Self {
        match e {
            ManageError::InvalidLink => PageError::InvalidLink,
            ManageError::KeyService(e) => {
                tracing::error!(error = %e, "key service failed withdrawing access");
                PageError::Unavailable
            }
            ManageError::Store(e) => {
                tracing::error!(error = %e, "store failed on a manage page");
                PageError::Unavailable
            }
        }
    }
}

/// Routes `/manage/…`; `None` for a path or method it does not serve.
pub(crate) async fn route(
    svc: &Services,
    req: &Request,
    segments: &[&str],
) -> Option<Result<Response, PageError>> {
    let base = &svc.config.public_base_url;
    Some(match (segments, req.is_read(), &req.method) {
        (["manage", token], true, _) => svc
            .manage_view(token)
            .await
            .map(|view| web::html(StatusCode::OK, manage_page(base, token, &view), &[]))
            .map_err(PageError::from),
        (["manage", token, "withdraw"], true, _) => svc
            .manage_view(token)
            .await
            .map_err(PageError::from)
            .map(|view| match view.standing {
                Standing::Connected { .. } => {
                    web::html(StatusCode::OK, confirm_page(base, token, &view), &[])
                }
                Standing::Disconnected { .. } => {
                    web::html(StatusCode::OK, manage_page(base, token, &view), &[])
                }
            }),
        (["manage", token, "withdraw"], false, &Method::POST) => withdraw(svc, req, token).await,
        _ => return None,
    })
}

async fn withdraw(svc: &Services, req: &Request, token: &str) -> Result<Response, PageError> {
    if !req.is_same_origin_post(&svc.config.public_origin()) {
        return Err(PageError::ForeignOrigin);
    }
    let base = &svc.config.public_base_url;
    if req.form().get("confirm").map(String::as_str) != Some("yes") {
        // Only the confirmation step's button withdraws; anything else shows that step.
        let view = svc.manage_view(token).await?;
        return Ok(web::html(
            StatusCode::BAD_REQUEST,
            confirm_page(base, token, &view),
            &[],
        ));
    }
    svc.withdraw_access(token).await?;
    Ok(web::see_other(&format!("{base}/manage/{token}")))
}

fn date(t: Timestamp) -> String {
    t.human()
}

fn heading(view: &ManageView) -> Markup {
    let warehouse = &view.invite.warehouse.display_name;
    html! {
        div class="parties" aria-hidden="true" {
            div class="party" { (letter_mark(warehouse)) span class="party-name" { (warehouse) } }
            div class="party" { (letter_mark(&view.cart_name)) span class="party-name" { (view.cart_name) } }
        }
    }
}

fn store_of(view: &ManageView) -> Option<&str> {
    view.invite.store.as_deref().or(view.account.as_deref())
}

/// The manage page: the connection and the Withdraw access button, or that it is gone.
fn manage_page(base: &str, token: &str, view: &ManageView) -> String {
    let warehouse = &view.invite.warehouse.display_name;
    let cart = &view.cart_name;
    match &view.standing {
        Standing::Connected {
            since,
            last_token_fetch,
            needs_reauth,
        } => layout(
            base,
            &format!("{warehouse} has access to your {cart} store"),
            html! {
                (heading(view))
                h1 { (warehouse) " has access to your " (cart) " store" }
                dl class="facts" {
                    @if let Some(store) = store_of(view) { dt { "Store" } dd { (store) } }
                    dt { "Connected since" } dd { (date(*since)) }
                    dt { "Last token fetch" }
                    dd id="last-fetch" {
                        @match last_token_fetch {
                            Some(t) => (date(*t)),
                            None => "Not yet",
                        }
                    }
                }
                @if *needs_reauth {
                    p class="notice" { (cart) " no longer accepts this access; " (warehouse) " must ask you to grant it again before it can use your store." }
                }
                p { "With this access, " (warehouse) " can:" }
                ul class="functions" { @for f in view.functions() { li { (f.plain_words()) } } }
                p class="help" { "Withdrawing deletes the stored access at once and tells " (warehouse) ". You can grant access again later from a new invitation." }
                div class="actions" {
                    a id="withdraw" class="button danger" href={ (base) "/manage/" (token) "/withdraw" } { "Withdraw access" }
                }
            },
            &[],
        ),
        Standing::Disconnected { at, by } => layout(
            base,
            "Access withdrawn",
            html! {
                div class="state-sign ok" aria-hidden="true" { "✓" }
                h1 { "Access withdrawn" }
                p class="lead" id="withdrawn" {
                    @match by {
                        DisconnectedBy::Merchant => { "You withdrew the access of " strong { (warehouse) } " to your " (cart) " store on " strong { (date(*at)) } "." }
                        DisconnectedBy::Warehouse => { strong { (warehouse) } " ended its access to your " (cart) " store on " strong { (date(*at)) } "." }
                    }
                }
                p { "The stored access was deleted; " (warehouse) " can no longer reach your store through cartlink. There is nothing more to do." }
            },
            &[],
        ),
    }
}

/// The confirmation step: what withdrawing does, and the button that does it.
fn confirm_page(base: &str, token: &str, view: &ManageView) -> String {
    let warehouse = &view.invite.warehouse.display_name;
    let cart = &view.cart_name;
    layout(
        base,
        &format!("Withdraw {warehouse}'s access?"),
        html! {
            (heading(view))
            h1 { "Withdraw " (warehouse) "'s access to your " (cart) " store?" }
            p class="lead" { (warehouse) " will no longer be able to reach your store through cartlink, and will be told by email." }
            p { "To connect again later, you will need a new invitation from " (warehouse) "." }
            form method="post" action={ (base) "/manage/" (token) "/withdraw" } class="actions" {
                input type="hidden" name="confirm" value="yes";
                button id="confirm-withdraw" type="submit" class="danger" { "Withdraw access" }
                a class="button" href={ (base) "/manage/" (token) } { "Keep access" }
            }
        },
        &[],
    )
}

#[cfg(test)]
#[path = "manage_tests.rs"]
mod tests;
