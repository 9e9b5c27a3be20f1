//! The callback's pages. They load only our own script, which tells an opener (our origin
//! only) one non-secret word; no code or token is ever on them.

use maud::{html, Markup};
use shared::i18n::Arg;
use shared::web::page::{data_island, layout_in, Ui};

use super::CallbackPage;
use shared::service::callback::MissingGrant;

fn island(status: &str, origin: &str) -> Markup {
    data_island(
        "callback-data",
        &serde_json::json!({ "status": status, "origin": origin }),
    )
}

fn retry(ui: &Ui, url: &Option<String>) -> Markup {
    html! {
        @if let Some(u) = url {
            p { a class="button primary" href=(u) { (ui.say("callback.try_again", &[])) } }
        } @else {
            p { (ui.say("callback.open_email", &[])) }
        }
    }
}

/// The round sign at the top of the page: a tick for good news, an exclamation mark otherwise.
fn sign(ok: bool) -> Markup {
    if ok {
        html! { div class="state-sign ok" aria-hidden="true" { "✓" } }
    } else {
        html! { div class="state-sign warn" aria-hidden="true" { "!" } }
    }
}

/// A page of a title and paragraphs, all catalog keys (the first paragraph the lead).
fn plain(ui: &Ui, ok: Option<bool>, title: &str, lead: &str, more: &[&str]) -> (String, Markup) {
    let title = ui.text(title, &[]);
    let body = html! {
        @if let Some(ok) = ok { (sign(ok)) }
        h1 { (title) }
        p class="lead" { (ui.say(lead, &[])) }
        @for key in more { p { (ui.say(key, &[])) } }
    };
    (title, body)
}

/// The page of a grant narrower than needed: each missing permission in plain words (the
/// function's own text), with the cart's scope names beside it for whoever helps the merchant.
fn scope_missing(
    ui: &Ui,
    missing: &[MissingGrant],
    retry_url: &Option<String>,
    emailed: bool,
) -> (String, Markup) {
    let title = ui.text("callback.scope.title", &[]);
    let body = html! {
        (sign(false))
        h1 { (title) }
        p class="lead" { (ui.say("callback.scope.lead", &[])) }
        ul class="missing-permissions" {
            @for m in missing {
                li {
                    (ui.say(&format!("function.{}", m.function.as_str()), &[]))
                    " " small { "(" code { (m.scopes.join(", ")) } ")" }
                }
            }
        }
        p { (ui.say("callback.scope.text", &[])) }
        @if emailed { p { (ui.say("callback.failed.emailed", &[])) } }
        (retry(ui, retry_url))
    };
    (title, body)
}

/// Renders a callback outcome in the page's language (`ui`, no switcher: the answer to a
/// redirect has no place of its own to reopen).
pub fn render(ui: &Ui, origin: &str, page: &CallbackPage) -> String {
    let (status, (title, body)) = match page {
        CallbackPage::Authorized { warehouse, cart } => {
            let names = [("warehouse", warehouse.as_str()), ("cart", cart.as_str())];
            let title = ui.text("grant.success.title", &[]);
            let body = html! {
                (sign(true))
                h1 { (title) }
                p class="lead" { (ui.say("callback.success.text", &names)) }
                p { (ui.say("callback.success.note", &names)) }
            };
            ("authorized", (title, body))
        }
        CallbackPage::AlreadyConnected { at } => {
            let title = ui.text("callback.connected.title", &[]);
            let date = ui.date(*at);
            let body = html! {
                (sign(true))
                h1 { (title) }
                p class="lead" { (ui.msg("callback.connected.lead", &[("date", Arg::Strong(&date))])) }
            };
            ("authorized", (title, body))
        }
        CallbackPage::KeysPending => (
            "waiting",
            plain(ui, None, "callback.keys.title", "callback.keys.text", &[]),
        ),
        CallbackPage::AlmostDone => (
            "waiting",
            plain(
                ui,
                None,
                "callback.almost.title",
                "callback.almost.lead",
                &["callback.almost.text"],
            ),
        ),
        CallbackPage::Refused => (
            "failed",
            plain(
                ui,
                Some(false),
                "callback.refused.title",
                "callback.refused.lead",
                &["callback.refused.text"],
            ),
        ),
        CallbackPage::StoreHeld => (
            "failed",
            plain(
                ui,
                Some(false),
                "callback.held.title",
                "callback.held.lead",
                &["callback.held.text"],
            ),
        ),
        CallbackPage::Expired => (
            "expired",
            plain(
                ui,
                Some(false),
                "callback.expired.title",
                "callback.expired.lead",
                &[],
            ),
        ),
        CallbackPage::Declined { retry_url } => {
            let (title, lead) = plain(
                ui,
                Some(false),
                "grant.declined.title",
                "callback.declined.lead",
                &[],
            );
            ("declined", (title, html! { (lead) (retry(ui, retry_url)) }))
        }
        CallbackPage::CartFailed { retry_url, emailed } => {
            let more: &[&str] = if *emailed {
                &["callback.failed.emailed"]
            } else {
                &[]
            };
            let (title, lead) = plain(
                ui,
                Some(false),
                "grant.failed.title",
                "callback.failed.lead",
                more,
            );
            ("failed", (title, html! { (lead) (retry(ui, retry_url)) }))
        }
        CallbackPage::ScopeMissing {
            missing,
            retry_url,
            emailed,
        } => ("failed", scope_missing(ui, missing, retry_url, *emailed)),
        CallbackPage::NotFound => (
            "failed",
            plain(
                ui,
                Some(false),
                "state.not_found.title",
                "callback.not_found.text",
                &[],
            ),
        ),
        CallbackPage::Unavailable => (
            "failed",
            plain(
                ui,
                Some(false),
                "state.unavailable.title",
                "callback.unavailable.lead",
                &[],
            ),
        ),
    };
    layout_in(
        ui,
        &title,
        html! {
            (body)
            button id="close-window" type="button" hidden { (ui.say("callback.close", &[])) }
            (island(status, origin))
        },
        &["callback.js"],
    )
}
