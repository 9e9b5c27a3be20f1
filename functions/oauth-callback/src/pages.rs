//! The callback's pages. They load only our own script, which tells an opener (our origin
//! only) one non-secret word; no code or token is ever on them.

use maud::{html, Markup};
use shared::web::page::{data_island, layout};

use super::CallbackPage;

fn island(status: &str, origin: &str) -> Markup {
    data_island(
        "callback-data",
        &serde_json::json!({ "status": status, "origin": origin }),
    )
}

fn retry(url: &Option<String>) -> Markup {
    html! {
        @if let Some(u) = url {
            p { a class="button primary" href=(u) { "Try again" } }
        } @else {
            p { "To try again, open the link in your email." }
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

/// Renders a callback outcome.
pub fn render(base: &str, origin: &str, page: &CallbackPage) -> String {
    let (title, status, body) = match page {
        CallbackPage::Authorized { warehouse, cart } => (
            "Successful Authorization".to_owned(),
            "authorized",
            html! {
                (sign(true))
                h1 { "Successful Authorization" }
                p class="lead" { (warehouse) " can now work with your " (cart) " store. We have emailed you a confirmation." }
                p { "You can withdraw this access at any time in your " (cart) " admin. You can close this window." }
            },
        ),
        CallbackPage::AlreadyConnected { at } => (
            "Already connected".to_owned(),
            "authorized",
            html! {
                (sign(true))
                h1 { "Already connected" }
                p class="lead" { "This store was connected on " strong { (at) } ". There is nothing more to do." }
            },
        ),
        CallbackPage::KeysPending => (
            "Finishing the connection".to_owned(),
            "waiting",
            html! {
                h1 { "Finishing the connection" }
                p { "Your store is sending the keys to us. The page where you started will show the result in a few seconds." }
            },
        ),
        CallbackPage::AlmostDone => (
            "Almost done".to_owned(),
            "waiting",
            html! {
                h1 { "Almost done" }
                p class="lead" { "We are finishing the connection with your store. This window can be closed." }
                p { "The page where you started will show the result in a few seconds." }
            },
        ),
        CallbackPage::Refused => (
            "This sign-in could not be completed".to_owned(),
            "failed",
            html! {
                (sign(false))
                h1 { "This sign-in could not be completed" }
                p class="lead" { "It did not come from the page where you started, or it was already used. Nothing was shared." }
                p { "Open the link in your email and press the button again, in this same browser." }
            },
        ),
        CallbackPage::Expired => (
            "This invitation has expired".to_owned(),
            "expired",
            html! {
                (sign(false))
                h1 { "This invitation has expired" }
                p class="lead" { "Nothing was shared. Ask the warehouse that sent it for a new link." }
            },
        ),
        CallbackPage::Declined { retry_url } => (
            "Access was not granted".to_owned(),
            "declined",
            html! {
                (sign(false))
                h1 { "Access was not granted" }
                p class="lead" { "You declined at the store's sign-in page, so nothing was shared." }
                (retry(retry_url))
            },
        ),
        CallbackPage::CartFailed { retry_url, emailed } => (
            "The connection did not complete".to_owned(),
            "failed",
            html! {
                (sign(false))
                h1 { "The connection did not complete" }
                p class="lead" { "The store did not finish the sign-in, so nothing was shared." }
                @if *emailed { p { "We have also emailed you a link to try again later." } }
                (retry(retry_url))
            },
        ),
        CallbackPage::NotFound => (
            "Page not found".to_owned(),
            "failed",
            html! { (sign(false)) h1 { "Page not found" } p { "Open the link in your email to start again." } },
        ),
        CallbackPage::Unavailable => (
            "Something went wrong on our side".to_owned(),
            "failed",
            html! {
                (sign(false))
                h1 { "Something went wrong on our side" }
                p class="lead" { "Nothing was shared. Please open the link in your email and try again in a minute." }
            },
        ),
    };
    layout(
        base,
        &title,
        html! {
            (body)
            button id="close-window" type="button" hidden { "Close this window" }
            (island(status, origin))
        },
        &["callback.js"],
    )
}
