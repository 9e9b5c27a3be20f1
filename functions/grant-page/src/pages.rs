//! The setup pages' markup. Every value is escaped by maud; values for scripts go through a
//! JSON data island; no inline style or script anywhere (the CSP allows neither).

use maud::{html, Markup};
use shared::carts::Flavour;
use shared::domain::Brand;
use shared::service::setup::{GrantView, IntegrationSettings};
use shared::web::page::layout;

pub use shared::web::page::data_island;

/// How many colours the letter marks come in (`.mark-0` … `.mark-7` in the stylesheet).
const MARK_COLOURS: u32 = 8;

/// A letter mark: the first letter of a name on one of eight colours, the colour chosen by the
/// name so a warehouse or cart always looks the same. Decorative: the name is in the text.
pub fn letter_mark(name: &str) -> Markup {
    let letter = name
        .chars()
        .find(|c| c.is_alphanumeric())
        .map_or_else(|| "?".to_owned(), |c| c.to_uppercase().collect());
    let colour = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % MARK_COLOURS;
    html! { span class={ "mark mark-" (colour) } aria-hidden="true" { (letter) } }
}

/// A small padlock, drawn inline (an SVG element is markup, not a style or a script).
fn lock_icon() -> Markup {
    html! {
        svg class="icon" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false" {
            rect x="4" y="9" width="12" height="9" rx="2" fill="currentColor" {}
            path d="M7 9V6.5a3 3 0 0 1 6 0V9" fill="none" stroke="currentColor" stroke-width="2" {}
        }
    }
}

/// The round sign at the top of a state page.
fn state_sign(kind: &str, symbol: &str) -> Markup {
    html! { div class={ "state-sign " (kind) } aria-hidden="true" { (symbol) } }
}

/// The access-code page: "this link is invalid or incomplete".
pub fn access_code(base: &str, error: Option<&str>) -> String {
    let described_by = if error.is_some() {
        "code-help code-error"
    } else {
        "code-help"
    };
    layout(
        base,
        "Enter your access code",
        html! {
            h1 { "This link is invalid or incomplete" }
            p { "Type the access code from your email, or ask the warehouse that sent it for a new link." }
            @if let Some(e) = error { p class="error" role="alert" id="code-error" { (e) } }
            form method="post" action={ (base) "/setup" } class="stack" {
                label for="code" { "Access Code" }
                input id="code" name="code" type="text" autocomplete="one-time-code"
                    autocapitalize="characters" spellcheck="false" maxlength="32" required
                    aria-describedby=(described_by)
                    aria-invalid=[error.map(|_| "true")];
                p id="code-help" class="help" { "Ten letters and digits, like 7QK2M-9XH4D. It is printed below the button in the email." }
                button type="submit" class="primary" { "Continue" }
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
            (state_sign("warn", "!"))
            h1 { (title) }
            p { (text) }
        },
        &[],
    )
}

/// A known link whose invite expired.
pub fn expired(base: &str, (warehouse, brand): (&str, &Brand), expired_on: &str) -> String {
    layout(
        base,
        "This link has expired",
        html! {
            (crate::brand::state_header(base, warehouse, brand))
            (state_sign("warn", "!"))
            h1 { "This link has expired" }
            p class="lead" { "This link expired on " strong { (expired_on) } ": ask " (warehouse) " for a new one." }
            p { "Nothing was shared. A new link comes by email, like this one did." }
        },
        &[],
    )
}

/// A known link whose store is connected already.
pub fn already_connected(
    base: &str,
    (warehouse, brand): (&str, &Brand),
    cart: &str,
    connected_on: &str,
) -> String {
    layout(
        base,
        "Your store is already connected",
        html! {
            (crate::brand::state_header(base, warehouse, brand))
            (state_sign("ok", "✓"))
            h1 { "Your " (cart) " store is already connected" }
            p class="lead" { "You gave " (warehouse) " access on " strong { (connected_on) } ". There is nothing more to do." }
            p { "You can withdraw this access at any time in your " (cart) " admin, where " (warehouse) " is listed among your apps." }
        },
        &[],
    )
}

/// A known link whose invite the warehouse withdrew.
pub fn revoked(base: &str, (warehouse, brand): (&str, &Brand)) -> String {
    layout(
        base,
        "This request was withdrawn",
        html! {
            (crate::brand::state_header(base, warehouse, brand))
            (state_sign("warn", "!"))
            h1 { "This request was withdrawn" }
            p class="lead" { (warehouse) " withdrew this request, so the link no longer works. Nothing was shared." }
            p { "If you still want to connect your store, ask " (warehouse) " for a new link." }
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
    let expires = invite.expires_at.human();
    let integration = view.cart.flavour == Flavour::AdminIntegration;
    let popup = view.cart.admin_steps.is_empty();
    let data = serde_json::json!({
        "statusUrl": format!("{base}/setup/{token}/status"),
        "openedUrl": format!("{base}/setup/{token}/opened"),
        "origin": origin,
        "cart": cart,
        "warehouse": warehouse,
        "expires": expires,
    });
    layout(
        base,
        &format!("{warehouse} asks for access to your {cart} store"),
        html! {
            (crate::brand::accent_link(base, &invite.warehouse))
            (parties(crate::brand::mark(&invite.warehouse), warehouse, cart))
            h1 { (warehouse) " asks for access to your " (cart) " store" }
            div id="grant-intro" {
                p class="lead" { (warehouse) " fulfils orders for your store. If you agree, it will be able to:" }
                ul class="functions" {
                    @for f in &invite.functions { li { (f.plain_words()) } }
                }
                @if let Some(store) = &invite.store {
                    p class="help" { "Store: " strong { (store) } }
                }
                @if integration {
                    p class="promise" {
                        (lock_icon())
                        span { "You create the connection in your own " (cart) " Admin; neither cartlink nor " (warehouse) " ever sees your password." }
                    }
                    form id="integration-form" method="post" action={ (base) "/setup/" (token) "/grant" } {
                        button id="grant-button" type="submit" class="primary" { "Show my integration settings" }
                    }
                    p class="help" id="how-it-works" {
                        (cart) " connects through an integration you create in your store's Admin, which takes about five minutes. "
                        "The button shows the steps and the two addresses to enter there; this page then confirms. "
                        "You can withdraw access at any time in your " (cart) " Admin."
                    }
                } @else if popup {
                    p class="promise" {
                        (lock_icon())
                        span { "You sign in at " (cart) "; neither cartlink nor " (warehouse) " ever sees your password." }
                    }
                    form id="grant-form" method="post" action={ (base) "/setup/" (token) "/grant" } {
                        button id="grant-button" type="submit" class="primary" { "Grant API Access" }
                    }
                    p class="help" id="how-it-works" {
                        "The button opens " (cart) " in a new window. Sign in there and approve; this page then confirms. "
                        "You can withdraw access at any time in your " (cart) " admin."
                    }
                } @else {
                    p class="promise" {
                        (lock_icon())
                        span { "You sign in at " (cart) "; neither cartlink nor " (warehouse) " ever sees your password." }
                    }
                    section id="admin-steps" {
                        h2 { (cart) " connects from your store's admin" }
                        p { (cart) " does not let apps ask for access from outside your store, so there is no button here. In your " (cart) " admin:" }
                        ol { @for step in &view.cart.admin_steps { li { (step) } } }
                    }
                }
                p class="help expiry" { "This link works until " strong { (expires) } "." }
                (crate::brand::privacy(&invite.warehouse))
            }
            @if popup && !integration {
                div id="popup-blocked" class="notice" role="alert" hidden {
                    h2 { "Your browser blocked the " (cart) " window" }
                    p { "To use a window, allow pop-ups for this site (look for the blocked-window icon at the end of the address bar) and press Grant API Access again." }
                    p { "Or continue here: " (cart) " opens in this tab, and you come back to a confirmation page when you are done." }
                    button id="continue-here" type="button" class="primary" { "Continue in this tab" }
                }
                div id="waiting" class="notice" role="status" hidden {
                    p { (cart) " is open in a new window. Sign in there and approve access; this page updates by itself." }
                }
                div id="outcome" role="status" aria-live="polite" {}
                (data_island("grant-data", &data))
            }
        },
        if popup && !integration {
            &["grant.js"]
        } else {
            &[]
        },
    )
}

fn parties(warehouse_mark: Markup, warehouse: &str, cart: &str) -> Markup {
    html! {
        div class="parties" aria-hidden="true" {
            div class="party" { (warehouse_mark) span class="party-name" { (warehouse) } }
            div class="party-link" { (lock_icon()) }
            div class="party" { (letter_mark(cart)) span class="party-name" { (cart) } }
        }
    }
}

/// One value the merchant copies into their admin: a labelled read-only field (selectable
/// without JavaScript) and a Copy button the script reveals.
fn setting(id: &str, label: &str, value: &str) -> Markup {
    html! {
        span class="setting" {
            label for=(id) { (label) }
            span class="setting-row" {
                input id=(id) type="text" readonly value=(value) spellcheck="false" autocomplete="off";
                button type="button" class="copy" data-copy=(id) hidden { "Copy" }
            }
        }
    }
}

/// A placeholder of an admin step, and the field that replaces it: id, label, value.
type Placeholder<'a> = (&'a str, &'a str, &'a str, &'a str);

/// One admin step, its `{callback_url}` and `{identity_url}` shown as copyable fields.
fn integration_step(text: &str, settings: &IntegrationSettings) -> Markup {
    let fields = [
        (
            "{callback_url}",
            "callback-url",
            "Callback URL",
            settings.callback_url.as_str(),
        ),
        (
            "{identity_url}",
            "identity-url",
            "Identity link URL",
            settings.identity_url.as_str(),
        ),
    ];
    let mut parts: Vec<(&str, Option<&Placeholder<'_>>)> = Vec::new();
    let mut rest = text;
    loop {
        let next = fields
            .iter()
            .filter_map(|f| rest.find(f.0).map(|at| (at, f)))
            .min_by_key(|(at, _)| *at);
        match next {
            None => {
                parts.push((rest, None));
                break;
            }
            Some((at, f)) => {
                parts.push((&rest[..at], Some(f)));
                rest = &rest[at + f.0.len()..];
            }
        }
    }
    html! {
        li {
            @for (words, field) in parts {
                (words)
                @if let Some((_, id, label, value)) = field { (setting(id, label, value)) }
            }
        }
    }
}

/// The answer to "Show my integration settings" (an admin integration, Magento): the steps
/// in the merchant's admin with this attempt's Callback URL and Identity link URL, and the
/// status the page keeps polling. Without JavaScript the merchant follows the link back to
/// the grant page, which says when the store is connected.
pub fn integration(
    base: &str,
    origin: &str,
    view: &GrantView<'_>,
    settings: &IntegrationSettings,
) -> String {
    let invite = &view.invite;
    let warehouse = &invite.warehouse.display_name;
    let cart = &view.cart.name;
    let token = view.token.expose();
    let data = serde_json::json!({
        "statusUrl": format!("{base}/setup/{token}/status"),
        "origin": origin,
        "cart": cart,
        "warehouse": warehouse,
        "expires": invite.expires_at.human(),
    });
    layout(
        base,
        &format!("Connect your {cart} store to {warehouse}"),
        html! {
            (crate::brand::accent_link(base, &invite.warehouse))
            (parties(crate::brand::mark(&invite.warehouse), warehouse, cart))
            h1 { "Connect your " (cart) " store to " (warehouse) }
            div id="grant-intro" {
                @if let Some(store) = &invite.store {
                    p class="help" { "Store: " strong { (store) } }
                }
                section id="admin-steps" {
                    h2 { "In your " (cart) " Admin" }
                    ol class="steps" {
                        @for step in &view.cart.admin_steps { (integration_step(step, settings)) }
                    }
                }
                p class="help" {
                    "These two addresses are for this store only and work until " strong { (settings.expires_at.human()) } ". "
                    "If that time passes, open the link in your email again for new ones."
                }
                div id="waiting" class="notice" role="status" {
                    p { "This page updates by itself when your store is connected. " a href={ (base) "/setup/" (token) } { "Check whether it is connected" } }
                }
            }
            div id="outcome" role="status" aria-live="polite" {}
            (data_island("integration-data", &data))
        },
        &["integration.js"],
    )
}
