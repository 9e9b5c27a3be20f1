//! The setup pages' markup. Every value is escaped by maud; values for scripts go through a
//! JSON data island; no inline style or script anywhere (the CSP allows neither).

use maud::{html, Markup};
use serde::Serialize;
use serde_json::value::RawValue;
use shared::carts::Flavour;
use shared::domain::{Brand, Locale, Timestamp};
use shared::i18n::{self, Arg, PerLocale};
use shared::service::setup::{GrantView, IntegrationSettings};
use shared::web::page::{layout_in, Ui};

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

/// The access-code page: "this link is invalid or incomplete". `error`: a catalog key.
pub fn access_code(ui: &Ui, error: Option<&str>) -> String {
    access_code_page(ui, error, None)
}

/// The access-code page with the lost-link form's error (a catalog key) shown at that form.
pub fn lost_link_refused(ui: &Ui, error: &str) -> String {
    access_code_page(ui, None, Some(error))
}

fn access_code_page(ui: &Ui, error: Option<&str>, lost_error: Option<&str>) -> String {
    let described_by = if error.is_some() {
        "code-help code-error"
    } else {
        "code-help"
    };
    layout_in(
        ui,
        &ui.text("code.title", &[]),
        html! {
            h1 { (ui.say("code.heading", &[])) }
            p { (ui.say("code.intro", &[])) }
            @if let Some(e) = error { p class="error" role="alert" id="code-error" { (ui.say(e, &[])) } }
            form method="post" action={ (ui.base) "/setup" } class="stack" {
                label for="code" { (ui.say("code.label", &[])) }
                input id="code" name="code" type="text" autocomplete="one-time-code"
                    autocapitalize="characters" spellcheck="false" maxlength="32" required
                    aria-describedby=(described_by)
                    aria-invalid=[error.map(|_| "true")];
                p id="code-help" class="help" { (ui.say("code.help", &[])) }
                button type="submit" class="primary" { (ui.say("code.continue", &[])) }
            }
            section id="lost-link" class="lost" {
                h2 { (ui.say("lost.heading", &[])) }
                p id="lost-help" class="help" { (ui.say("lost.intro", &[])) }
                @if let Some(e) = lost_error { p class="error" role="alert" id="lost-error" { (ui.say(e, &[])) } }
                form method="post" action={ (ui.base) "/manage" } class="stack" {
                    label for="email" { (ui.say("lost.label", &[])) }
                    input id="email" name="email" type="email" autocomplete="email"
                        spellcheck="false" maxlength="254" required
                        aria-describedby=(if lost_error.is_some() { "lost-help lost-error" } else { "lost-help" })
                        aria-invalid=[lost_error.map(|_| "true")];
                    button type="submit" { (ui.say("lost.button", &[])) }
                }
            }
        },
        &[],
    )
}

/// The answer to the lost-link form: the same whether or not a connection is managed from
/// `email` (the address as typed, shown back so a typo can be seen).
pub fn lost_link_sent(ui: &Ui, email: &str) -> String {
    let title = ui.text("lost.sent.title", &[]);
    layout_in(
        ui,
        &title,
        html! {
            (state_sign("ok", "✓"))
            h1 { (title) }
            p class="lead" { (ui.msg("lost.sent.text", &[("email", Arg::Strong(email))])) }
        },
        &[],
    )
}

/// A page that only says something: the catalog keys `<key>.title` and `<key>.text`.
pub fn message(ui: &Ui, key: &str) -> String {
    let title = ui.text(&format!("{key}.title"), &[]);
    layout_in(
        ui,
        &title,
        html! {
            (state_sign("warn", "!"))
            h1 { (title) }
            p { (ui.say(&format!("{key}.text"), &[])) }
        },
        &[],
    )
}

/// A known link whose invite expired.
pub fn expired(ui: &Ui, (warehouse, brand): (&str, &Brand), expired_at: Timestamp) -> String {
    let title = ui.text("state.expired.title", &[]);
    let date = ui.date(expired_at);
    layout_in(
        ui,
        &title,
        html! {
            (crate::brand::state_header(&ui.base, warehouse, brand))
            (state_sign("warn", "!"))
            h1 { (title) }
            p class="lead" { (ui.msg("state.expired.lead", &[("date", Arg::Strong(&date)), ("warehouse", Arg::Text(warehouse))])) }
            p { (ui.say("state.expired.note", &[])) }
        },
        &[],
    )
}

/// A known link whose store is connected already.
pub fn already_connected(
    ui: &Ui,
    (warehouse, brand): (&str, &Brand),
    cart: &str,
    connected_at: Timestamp,
) -> String {
    let date = ui.date(connected_at);
    let names = [("warehouse", warehouse), ("cart", cart)];
    layout_in(
        ui,
        &ui.text("state.connected.title", &[]),
        html! {
            (crate::brand::state_header(&ui.base, warehouse, brand))
            (state_sign("ok", "✓"))
            h1 { (ui.say("state.connected.heading", &names)) }
            p class="lead" { (ui.msg("state.connected.lead", &[("warehouse", Arg::Text(warehouse)), ("date", Arg::Strong(&date))])) }
            p { (ui.say("state.connected.note", &names)) }
        },
        &[],
    )
}

/// A known link whose invite the warehouse withdrew.
pub fn revoked(ui: &Ui, (warehouse, brand): (&str, &Brand)) -> String {
    let title = ui.text("state.revoked.title", &[]);
    let names = [("warehouse", warehouse)];
    layout_in(
        ui,
        &title,
        html! {
            (crate::brand::state_header(&ui.base, warehouse, brand))
            (state_sign("warn", "!"))
            h1 { (title) }
            p class="lead" { (ui.say("state.revoked.lead", &names)) }
            p { (ui.say("state.revoked.note", &names)) }
        },
        &[],
    )
}

/// A title and its text, as the grant page's script shows them.
#[derive(Serialize)]
struct Said {
    title: String,
    text: String,
}

/// What the grant page's script says for each outcome, each message whole as the page's
/// language writes it, its `{warehouse}`, `{cart}` and `{date}` left for the script to fill in
/// from the island's [`ScriptValues`] (the script joins no words of its own). The same for
/// every grant page in a language, so it is written once per language.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScriptMessages {
    success: Said,
    expired: Said,
    gone: Said,
    declined: Said,
    failed: Said,
    slow: Said,
    closed: Said,
    try_again: String,
}

/// The values the script fills into its messages' places.
#[derive(Serialize)]
struct ScriptValues<'a> {
    warehouse: &'a str,
    cart: &'a str,
    date: &'a str,
}

/// What the grant page's script reads from its data island.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrantData<'a> {
    status_url: String,
    opened_url: String,
    popup_blocked_url: String,
    origin: &'a str,
    values: ScriptValues<'a>,
    messages: &'static RawValue,
}

/// The script's messages in `locale`, as JSON, written the first time a grant page in that
/// language is shown.
fn script_messages(locale: Locale) -> &'static RawValue {
    static WRITTEN: PerLocale<Box<RawValue>> = PerLocale::new();
    WRITTEN.get_or_init(locale, || {
        let said = |title: &str, text: &str| Said {
            title: i18n::text(locale, title, &[]),
            text: i18n::text(locale, text, &[]),
        };
        let messages = ScriptMessages {
            success: said("grant.success.title", "grant.success.text"),
            expired: said("state.expired.title", "grant.expired.text"),
            gone: said("grant.gone.title", "grant.gone.text"),
            declined: said("grant.declined.title", "grant.declined.text"),
            failed: said("grant.failed.title", "grant.failed.text"),
            slow: said("grant.slow.title", "grant.slow.text"),
            closed: said("grant.closed.title", "grant.closed.text"),
            try_again: i18n::text(locale, "grant.try_again", &[]),
        };
        // Plain strings always serialize, and serde_json's text is JSON.
        let json = serde_json::to_string(&messages).expect("strings serialize");
        RawValue::from_string(json).expect("serde_json writes JSON")
    })
}

/// The grant page. `problem`: what went wrong with credentials typed on it (a `credentials`
/// cart's page shown again; never any value typed).
pub fn grant(ui: &Ui, origin: &str, view: &GrantView<'_>, problem: Option<&str>) -> String {
    let base = ui.base.as_str();
    let invite = &view.invite;
    let warehouse = invite.warehouse.display_name.as_str();
    let cart = view.cart.name.as_str();
    let token = view.token.expose();
    let expires = ui.date(invite.expires_at);
    let integration = view.cart.flavour == Flavour::AdminIntegration;
    let typed = view.cart.flavour == Flavour::Credentials;
    let popup = view.cart.admin_steps.is_empty() && !typed;
    let names = [("warehouse", warehouse), ("cart", cart)];
    let data = GrantData {
        status_url: format!("{base}/setup/{token}/status"),
        opened_url: format!("{base}/setup/{token}/opened"),
        popup_blocked_url: format!("{base}/setup/{token}/popup-blocked"),
        origin,
        values: ScriptValues {
            warehouse,
            cart,
            date: &expires,
        },
        messages: script_messages(ui.locale),
    };
    let title = ui.text("grant.title", &names);
    layout_in(
        ui,
        &title,
        html! {
            (crate::brand::accent_link(&ui.base, &invite.warehouse))
            (parties(crate::brand::mark(&invite.warehouse), warehouse, cart))
            h1 { (title) }
            div id="grant-intro" {
                p class="lead" { (ui.say("grant.intro", &names)) }
                ul class="functions" {
                    @for f in &invite.functions { li { (i18n::function_words(ui.locale, *f)) } }
                }
                @if let Some(store) = &invite.store {
                    p class="help" { (ui.msg("grant.store", &[("store", Arg::Strong(store))])) }
                }
                @if integration {
                    p class="promise" {
                        (lock_icon())
                        span { (ui.say("grant.promise_admin", &names)) }
                    }
                    form id="integration-form" method="post" action={ (base) "/setup/" (token) "/grant" } {
                        button id="grant-button" type="submit" class="primary" { (ui.say("grant.integration_button", &[])) }
                    }
                    p class="help" id="how-it-works" { (ui.say("grant.integration_how", &names)) }
                } @else if typed {
                    p class="promise" {
                        (lock_icon())
                        span { (ui.say("grant.promise_credentials", &names)) }
                    }
                    (credentials_form(ui, token, view, problem))
                    p class="help" id="how-it-works" { (ui.say("grant.credentials_how", &names)) }
                } @else if popup {
                    p class="promise" {
                        (lock_icon())
                        span { (ui.say("grant.promise", &names)) }
                    }
                    form id="grant-form" method="post" action={ (base) "/setup/" (token) "/grant" } {
                        button id="grant-button" type="submit" class="primary" { (ui.say("grant.button", &[])) }
                    }
                    p class="help" id="how-it-works" { (ui.say("grant.how", &names)) }
                } @else {
                    p class="promise" {
                        (lock_icon())
                        span { (ui.say("grant.promise", &names)) }
                    }
                    section id="admin-steps" {
                        h2 { (ui.say("grant.admin_heading", &names)) }
                        p { (ui.say("grant.admin_intro", &names)) }
                        ol { @for step in &view.cart.admin_steps { li { (step) } } }
                    }
                }
                p class="help expiry" { (ui.msg("grant.expiry", &[("date", Arg::Strong(&expires))])) }
                (crate::brand::privacy(ui, &invite.warehouse))
            }
            @if popup && !integration {
                div id="popup-blocked" class="notice" role="alert" hidden {
                    h2 { (ui.say("grant.blocked_heading", &names)) }
                    p { (ui.say("grant.blocked_allow", &[])) }
                    p { (ui.say("grant.blocked_here", &names)) }
                    button id="continue-here" type="button" class="primary" { (ui.say("grant.continue_here", &[])) }
                }
                div id="waiting" class="notice" role="status" hidden {
                    p { (ui.say("grant.waiting", &names)) }
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

/// The fields a `credentials` cart's merchant types, each with where to find it; the values
/// are never written back into the page.
fn credentials_form(ui: &Ui, token: &str, view: &GrantView<'_>, problem: Option<&str>) -> Markup {
    let base = ui.base.as_str();
    html! {
        @if let Some(problem) = problem {
            div id="credentials-problem" class="notice" role="alert" { p { (problem) } }
        }
        form id="credentials-form" method="post" action={ (base) "/setup/" (token) "/credentials" } autocomplete="off" {
            @for field in &view.cart.credential_fields {
                div class="field" {
                    label for={ "credential-" (field.name) } { (field.label) }
                    p class="help" id={ "credential-" (field.name) "-help" } { (field.help) }
                    input id={ "credential-" (field.name) } name=(field.name) type="password" required
                        autocomplete="off" spellcheck="false" autocapitalize="off"
                        aria-describedby={ "credential-" (field.name) "-help" };
                }
            }
            button id="grant-button" type="submit" class="primary" { (ui.say("grant.credentials_button", &[])) }
        }
    }
}

/// Typed credentials worked: the store is connected.
pub fn credentials_connected(ui: &Ui, (warehouse, brand): (&str, &Brand), cart: &str) -> String {
    let names = [("warehouse", warehouse), ("cart", cart)];
    let title = ui.text("grant.success.title", &[]);
    layout_in(
        ui,
        &title,
        html! {
            (crate::brand::state_header(&ui.base, warehouse, brand))
            (state_sign("ok", "✓"))
            h1 { (title) }
            p class="lead" { (ui.say("callback.success.text", &names)) }
            p { (ui.say("state.connected.note", &names)) }
        },
        &[],
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
fn setting(ui: &Ui, id: &str, label: &str, value: &str) -> Markup {
    html! {
        span class="setting" {
            label for=(id) { (label) }
            span class="setting-row" {
                input id=(id) type="text" readonly value=(value) spellcheck="false" autocomplete="off";
                button type="button" class="copy" data-copy=(id) hidden { (ui.say("integration.copy", &[])) }
            }
        }
    }
}

/// A placeholder of an admin step, and the field that replaces it: id, label, value.
type Placeholder<'a> = (&'a str, &'a str, String, &'a str);

/// One admin step, its `{callback_url}` and `{identity_url}` shown as copyable fields.
fn integration_step(ui: &Ui, text: &str, settings: &IntegrationSettings) -> Markup {
    let fields = [
        (
            "{callback_url}",
            "callback-url",
            ui.text("integration.callback_url", &[]),
            settings.callback_url.as_str(),
        ),
        (
            "{identity_url}",
            "identity-url",
            ui.text("integration.identity_url", &[]),
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
                @if let Some((_, id, label, value)) = field { (setting(ui, id, label, value)) }
            }
        }
    }
}

/// The answer to "Show my integration settings" (an admin integration, Magento): the steps
/// in the merchant's admin with this attempt's Callback URL and Identity link URL, and the
/// status the page keeps polling. Without JavaScript the merchant follows the link back to
/// the grant page, which says when the store is connected.
pub fn integration(
    ui: &Ui,
    origin: &str,
    view: &GrantView<'_>,
    settings: &IntegrationSettings,
) -> String {
    let base = ui.base.as_str();
    let invite = &view.invite;
    let warehouse = invite.warehouse.display_name.as_str();
    let cart = view.cart.name.as_str();
    let token = view.token.expose();
    let names = [("warehouse", warehouse), ("cart", cart)];
    let expires = ui.date(invite.expires_at);
    let dated = [
        ("warehouse", warehouse),
        ("cart", cart),
        ("date", expires.as_str()),
    ];
    let pair = |title: &str, text: &str| serde_json::json!({ "title": ui.text(title, &dated), "text": ui.text(text, &dated) });
    let data = serde_json::json!({
        "statusUrl": format!("{base}/setup/{token}/status"),
        "origin": origin,
        "messages": {
            "success": pair("grant.success.title", "grant.success.text"),
            "failed": pair("grant.failed.title", "integration.failed.text"),
            "expired": pair("state.expired.title", "grant.expired.text"),
            "gone": pair("grant.gone.title", "grant.gone.text"),
            "stale": pair("integration.stale.title", "integration.stale.text"),
            "copy": ui.text("integration.copy", &[]),
            "copied": ui.text("integration.copied", &[]),
        },
    });
    let title = ui.text("integration.title", &names);
    let until = ui.date(settings.expires_at);
    layout_in(
        ui,
        &title,
        html! {
            (crate::brand::accent_link(&ui.base, &invite.warehouse))
            (parties(crate::brand::mark(&invite.warehouse), warehouse, cart))
            h1 { (title) }
            div id="grant-intro" {
                @if let Some(store) = &invite.store {
                    p class="help" { (ui.msg("grant.store", &[("store", Arg::Strong(store))])) }
                }
                section id="admin-steps" {
                    h2 { (ui.say("integration.admin_heading", &names)) }
                    ol class="steps" {
                        @for step in &view.cart.admin_steps { (integration_step(ui, step, settings)) }
                    }
                }
                p class="help" { (ui.msg("integration.until", &[("date", Arg::Strong(&until))])) }
                div id="waiting" class="notice" role="status" {
                    p { (ui.say("integration.waiting", &[])) " " a href={ (base) "/setup/" (token) } { (ui.say("integration.check", &[])) } }
                }
            }
            div id="outcome" role="status" aria-live="polite" {}
            (data_island("integration-data", &data))
        },
        &["integration.js"],
    )
}
