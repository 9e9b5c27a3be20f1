//! The callback's pages. They load only our own script, which tells an opener (our origin
//! only) one non-secret word; no code or token is ever on them.

use maud::{html, Markup, PreEscaped};
use shared::web::page::layout;

use super::CallbackPage;

fn island(status: &str, origin: &str) -> Markup {
    let json = serde_json::json!({ "status": status, "origin": origin })
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    html! { script type="application/json" id="callback-data" { (PreEscaped(json)) } }
}

fn retry(url: &Option<String>) -> Markup {
    html! {
        @if let Some(u) = url {
            p { a class="button" href=(u) { "Try again" } }
        } @else {
            p { "To try again, open the link in your email." }
        }
    }
}

/// Renders a callback outcome.
pub fn render(base: &str, origin: &str, page: &CallbackPage) -> String {
    let (title, status, body) = match page {
        CallbackPage::Authorized { warehouse, cart } => (
            "Successful Authorization".to_owned(),
            "authorized",
            html! {
                h1 { "Successful Authorization" }
                p { (warehouse) " can now work with your " (cart) " store. We have emailed you a confirmation." }
                p { "You can close this window." }
            },
        ),
        CallbackPage::AlreadyConnected { at } => (
            "Already connected".to_owned(),
            "authorized",
            html! {
                h1 { "Already connected" }
                p { "This store was connected on " (at) ". There is nothing more to do." }
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
        CallbackPage::Refused => (
            "This sign-in could not be completed".to_owned(),
            "failed",
            html! {
                h1 { "This sign-in could not be completed" }
                p { "It did not come from the page where you started, or it was already used. Nothing was shared." }
                p { "Open the link in your email and press the button again, in this same browser." }
            },
        ),
        CallbackPage::Expired => (
            "This invitation has expired".to_owned(),
            "expired",
            html! {
                h1 { "This invitation has expired" }
                p { "Nothing was shared. Ask the warehouse that sent it for a new link." }
            },
        ),
        CallbackPage::Declined { retry_url } => (
            "Access was not granted".to_owned(),
            "declined",
            html! {
                h1 { "Access was not granted" }
                p { "You declined at the store's sign-in page, so nothing was shared." }
                (retry(retry_url))
            },
        ),
        CallbackPage::CartFailed { retry_url } => (
            "The connection did not complete".to_owned(),
            "failed",
            html! {
                h1 { "The connection did not complete" }
                p { "The store did not finish the sign-in. Nothing was shared." }
                (retry(retry_url))
            },
        ),
        CallbackPage::NotFound => (
            "Page not found".to_owned(),
            "failed",
            html! { h1 { "Page not found" } p { "Open the link in your email to start again." } },
        ),
        CallbackPage::Unavailable => (
            "Something went wrong on our side".to_owned(),
            "failed",
            html! {
                h1 { "Something went wrong on our side" }
                p { "Nothing was shared. Please open the link in your email and try again in a minute." }
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
