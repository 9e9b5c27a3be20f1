//! The setup pages' markup. Every value is escaped by maud; values for scripts go through a
//! JSON data island.

use maud::{html, Markup, PreEscaped};
use shared::service::setup::GrantView;
use shared::web::page::layout;

/// Serializes `value` for a `<script type="application/json">` data island: `<`, `>`, `&` and
/// the JavaScript line separators are escaped so the markup cannot be closed from inside.
pub fn data_island(id: &str, value: &serde_json::Value) -> Markup {
    let json = value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    html! { script type="application/json" id=(id) { (PreEscaped(json)) } }
}

/// The access-code page: "this link is invalid or incomplete".
pub fn access_code(base: &str, error: Option<&str>) -> String {
    layout(
        base,
        "Enter your access code",
        html! {
            h1 { "This link is invalid or incomplete" }
            p { "Type the access code from your email, or ask the warehouse that sent it for a new link." }
            @if let Some(e) = error { p class="error" role="alert" { (e) } }
            form method="post" action={ (base) "/setup" } class="stack" {
                label for="code" { "Access Code" }
                input id="code" name="code" type="text" autocomplete="one-time-code"
                    autocapitalize="characters" spellcheck="false" maxlength="32" required
                    aria-describedby="code-help";
                p id="code-help" class="help" { "Ten letters and digits, like 7QK2M-9XH4D." }
                button type="submit" { "Continue" }
            }
        },
        &[],
    )
}

/// A page that only says something.
pub fn message(base: &str, title: &str, text: &str) -> String {
    layout(
        base,
        title,
        html! {
            h1 { (title) }
            p { (text) }
        },
        &[],
    )
}

/// The grant page.
pub fn grant(base: &str, origin: &str, view: &GrantView<'_>) -> String {
    let invite = &view.invite;
    let warehouse = &invite.warehouse.display_name;
    let cart = &view.cart.name;
    let token = view.token.expose();
    let data = serde_json::json!({
        "statusUrl": format!("{base}/setup/{token}/status"),
        "origin": origin,
        "cart": cart,
        "warehouse": warehouse,
    });
    layout(
        base,
        &format!("{warehouse} asks for access to your {cart} store"),
        html! {
            h1 { (warehouse) " asks for access to your " (cart) " store" }
            div id="grant-intro" {
                p { (warehouse) " fulfils orders for your store. With your permission it will be able to:" }
                ul class="functions" {
                    @for f in &invite.functions { li { (f.plain_words()) } }
                }
                p class="promise" { "You sign in at " (cart) "; neither cartlink nor " (warehouse) " ever sees your password." }
                p class="help" { "This link works until " (invite.expires_at.human()) "." }
                @if view.cart.admin_steps.is_empty() {
                    form id="grant-form" method="post" action={ (base) "/setup/" (token) "/grant" } {
                        button id="grant-button" type="submit" { "Grant API Access" }
                    }
                } @else {
                    section id="admin-steps" {
                        h2 { (cart) " connects from your store's admin" }
                        p { (cart) " does not let apps ask for access from outside your store, so there is no button here. In your " (cart) " admin:" }
                        ol { @for step in &view.cart.admin_steps { li { (step) } } }
                    }
                }
            }
            div id="popup-blocked" class="notice" role="alert" hidden {
                p { strong { "Your browser blocked the " (cart) " window." } }
                p { "Allow pop-ups for this site (look for the blocked-window icon in the address bar), or continue here: you will come back to this page when you are done." }
                button id="continue-here" type="button" { "Continue in this tab" }
            }
            div id="waiting" class="notice" role="status" hidden {
                p { "A " (cart) " window is open. Sign in there and approve access; this page updates by itself." }
            }
            div id="outcome" role="status" aria-live="polite" {}
            (data_island("grant-data", &data))
        },
        &["grant.js"],
    )
}
