//! The merchant's manage pages (`/manage/{token}`): the connection a confirmation email's
//! "Manage this connection" link opens, and withdrawing it.
//!
//! - `GET /manage/{token}`: the connection (or that it was withdrawn). Changes nothing.
//! - `GET /manage/{token}/withdraw`: the confirmation step. Changes nothing.
//! - `POST /manage/{token}/withdraw` with `confirm=yes`, same origin only: withdraws, then 303
//!   back to the manage page, which now says so.
//!
//! - `POST /manage` (`email`), same origin only: the access-code page's lost-link form; emails
//!   a fresh link for each connection managed from that address; answers the same either way.
//!
//! A link cartlink did not issue gets the access-code page, as a bad setup link does.

use http::{Method, StatusCode};
use maud::{html, Markup};
use shared::domain::DisconnectedBy;
use shared::i18n::{self, Arg};
use shared::service::manage::lost::LostLinkError;
use shared::service::manage::{ManageError, ManageView, Standing};
use shared::service::Services;
use shared::web::page::{layout_in, Ui};
use shared::web::{self, Request, Response};

use crate::pages::{self, letter_mark};
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
    ui: &Ui,
    req: &Request,
    segments: &[&str],
) -> Option<Result<Response, PageError>> {
    Some(match (segments, req.is_read(), &req.method) {
        (["manage", token], true, _) => svc
            .manage_view(token)
            .await
            .map(|view| web::html(StatusCode::OK, manage_page(ui, token, &view), &[]))
            .map_err(PageError::from),
        (["manage", token, "withdraw"], true, _) => svc
            .manage_view(token)
            .await
            .map_err(PageError::from)
            .map(|view| match view.standing {
                Standing::Connected { .. } => {
                    web::html(StatusCode::OK, confirm_page(ui, token, &view), &[])
                }
                Standing::Disconnected { .. } => {
                    web::html(StatusCode::OK, manage_page(ui, token, &view), &[])
                }
            }),
        (["manage", token, "withdraw"], false, &Method::POST) => {
            withdraw(svc, ui, req, token).await
        }
        (["manage"], false, &Method::POST) => lost_link(svc, ui, req).await,
        _ => return None,
    })
}

async fn withdraw(
    svc: &Services,
    ui: &Ui,
    req: &Request,
    token: &str,
) -> Result<Response, PageError> {
    if !req.is_same_origin_post(&svc.config.public_origin()) {
        return Err(PageError::ForeignOrigin);
    }
    if req.form().get("confirm").map(String::as_str) != Some("yes") {
        // Only the confirmation step's button withdraws; anything else shows that step.
        let view = svc.manage_view(token).await?;
        return Ok(web::html(
            StatusCode::BAD_REQUEST,
            confirm_page(ui, token, &view),
            &[],
        ));
    }
    svc.withdraw_access(token).await?;
    Ok(web::see_other(&format!("{}/manage/{token}", ui.base)))
}

/// The access-code page's lost-link form: the same answer whether or not the address manages
/// any connection.
async fn lost_link(svc: &Services, ui: &Ui, req: &Request) -> Result<Response, PageError> {
    if !req.is_same_origin_post(&svc.config.public_origin()) {
        return Err(PageError::ForeignOrigin);
    }
    let ui = Ui {
        here: Some("/setup".to_owned()),
        ..ui.clone()
    };
    let typed = req.form().remove("email").unwrap_or_default();
    match svc.send_lost_manage_links(&typed, req.client_ip).await {
        Ok(()) => Ok(web::html(
            StatusCode::OK,
            pages::lost_link_sent(&ui, typed.trim()),
            &[],
        )),
        Err(LostLinkError::InvalidAddress) => Ok(web::html(
            StatusCode::BAD_REQUEST,
            pages::lost_link_refused(&ui, "lost.invalid"),
            &[],
        )),
        Err(LostLinkError::TooMany) => Ok(web::html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::lost_link_refused(&ui, "lost.too_many"),
            &[],
        )),
        Err(LostLinkError::Store(e)) => Err(ManageError::Store(e).into()),
    }
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
fn manage_page(ui: &Ui, token: &str, view: &ManageView) -> String {
    let warehouse = view.invite.warehouse.display_name.as_str();
    let cart = view.cart_name.as_str();
    let names = [("warehouse", warehouse), ("cart", cart)];
    match &view.standing {
        Standing::Connected {
            since,
            last_token_fetch,
            needs_reauth,
        } => {
            let title = ui.text("manage.title", &names);
            layout_in(
                ui,
                &title,
                html! {
                    (heading(view))
                    h1 { (title) }
                    dl class="facts" {
                        @if let Some(store) = store_of(view) { dt { (ui.say("manage.store", &[])) } dd { (store) } }
                        dt { (ui.say("manage.since", &[])) } dd { (ui.date(*since)) }
                        dt { (ui.say("manage.last_fetch", &[])) }
                        dd id="last-fetch" {
                            @match last_token_fetch {
                                Some(t) => (ui.date(*t)),
                                None => (ui.say("manage.never_fetched", &[])),
                            }
                        }
                    }
                    @if *needs_reauth {
                        p class="notice" { (ui.say("manage.needs_reauth", &names)) }
                    }
                    p { (ui.say("manage.can", &names)) }
                    ul class="functions" { @for f in view.functions() { li { (i18n::function_words(ui.locale, *f)) } } }
                    p class="help" { (ui.say("manage.withdraw_help", &names)) }
                    div class="actions" {
                        a id="withdraw" class="button danger" href={ (ui.base) "/manage/" (token) "/withdraw" } { (ui.say("manage.withdraw", &[])) }
                    }
                },
                &[],
            )
        }
        Standing::Disconnected { at, by } => {
            let title = ui.text("manage.withdrawn.title", &[]);
            let date = ui.date(*at);
            let args = [
                ("warehouse", Arg::Strong(warehouse)),
                ("cart", Arg::Text(cart)),
                ("date", Arg::Strong(&date)),
            ];
            let key = match by {
                DisconnectedBy::Merchant => "manage.withdrawn.by_merchant",
                DisconnectedBy::Warehouse => "manage.withdrawn.by_warehouse",
                DisconnectedBy::Cart => "manage.withdrawn.by_cart",
            };
            layout_in(
                ui,
                &title,
                html! {
                    div class="state-sign ok" aria-hidden="true" { "✓" }
                    h1 { (title) }
                    p class="lead" id="withdrawn" { (ui.msg(key, &args)) }
                    p { (ui.say("manage.withdrawn.note", &names)) }
                },
                &[],
            )
        }
    }
}

/// The confirmation step: what withdrawing does, and the button that does it.
fn confirm_page(ui: &Ui, token: &str, view: &ManageView) -> String {
    let warehouse = view.invite.warehouse.display_name.as_str();
    let names = [("warehouse", warehouse), ("cart", view.cart_name.as_str())];
    let title = ui.text("manage.confirm.title", &names);
    layout_in(
        ui,
        &title,
        html! {
            (heading(view))
            h1 { (title) }
            p class="lead" { (ui.say("manage.confirm.lead", &names)) }
            p { (ui.say("manage.confirm.note", &names)) }
            form method="post" action={ (ui.base) "/manage/" (token) "/withdraw" } class="actions" {
                input type="hidden" name="confirm" value="yes";
                button id="confirm-withdraw" type="submit" class="danger" { (ui.say("manage.withdraw", &[])) }
                a class="button" href={ (ui.base) "/manage/" (token) } { (ui.say("manage.keep", &[])) }
            }
        },
        &[],
    )
}

#[cfg(test)]
#[path = "manage_tests.rs"]
mod tests;
