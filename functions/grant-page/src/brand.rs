//! A stored warehouse's brand on the grant page: its logo (from our origin) in place of its
//! letter mark, its accent on the page's button through a stylesheet of ours, and a link to
//! its privacy policy. Nothing inline (the CSP forbids it) and nothing from another origin.

use maud::{html, Markup};
use shared::domain::{Accent, Brand, WarehouseRef};
use shared::web::page::Ui;
use shared::web::Response;

use crate::pages::letter_mark;

/// The top of a state page (expired, connected, withdrawn) of a branded warehouse: its logo
/// and name, and its accent stylesheet; nothing for a warehouse without a brand.
pub fn state_header(base: &str, name: &str, brand: &Brand) -> Markup {
    html! {
        @if let Some(accent) = &brand.accent {
            (accent_stylesheet_link(base, accent))
        }
        @if let Some(url) = &brand.logo_url {
            div class="parties" aria-hidden="true" {
                div class="party" {
                    img class="mark mark-logo" src=(url) alt="" width="52" height="52";
                    span class="party-name" { (name) }
                }
            }
        }
    }
}

fn accent_stylesheet_link(base: &str, accent: &str) -> Markup {
    html! {
        link rel="stylesheet" href={ (base) "/assets/accent-" (accent.trim_start_matches('#')) ".css" };
    }
}

/// The warehouse's mark: its logo if it has one, else its letter mark.
pub fn mark(w: &WarehouseRef) -> Markup {
    match &w.brand.logo_url {
        Some(url) => html! {
            img class="mark mark-logo" src=(url) alt="" width="52" height="52";
        },
        None => letter_mark(&w.display_name),
    }
}

/// The accent stylesheet's link, if the warehouse has an accent (a `<link>` in the body is
/// allowed for stylesheets; the layout stays the same for every page).
pub fn accent_link(base: &str, w: &WarehouseRef) -> Markup {
    html! {
        @if let Some(accent) = &w.brand.accent {
            (accent_stylesheet_link(base, accent))
        }
    }
}

/// The link to the warehouse's privacy policy, if it gave one, in the page's language.
pub fn privacy(ui: &Ui, w: &WarehouseRef) -> Markup {
    html! {
        @if let Some(url) = &w.brand.privacy_url {
            p class="help privacy" {
                a href=(url) rel="noopener noreferrer" target="_blank" {
                    (ui.say("grant.privacy", &[("warehouse", w.display_name.as_str())]))
                }
            }
        }
    }
}

/// `GET /assets/accent-<rrggbb>.css`: the button in that colour. Only a colour that passes the
/// same check as when it was set (white text at WCAG AA) gets a stylesheet; `None` otherwise.
pub fn accent_stylesheet(name: &str) -> Option<Response> {
    let hex = name.strip_prefix("accent-")?.strip_suffix(".css")?;
    let accent = Accent::parse(&format!("#{hex}")).ok()?;
    let colour = accent.as_str();
    let css = format!(
        "button.primary, .button.primary {{ background: {colour}; border-color: {colour}; color: #ffffff; }}\n\
         button.primary:hover, .button.primary:hover {{ background: {colour}; filter: brightness(0.9); }}\n"
    );
    let mut resp = http::Response::new(bytes::Bytes::from(css));
    let h = resp.headers_mut();
    for (k, v) in [
        ("x-content-type-options", "nosniff"),
        ("content-type", "text/css; charset=utf-8"),
        ("cache-control", "public, max-age=86400"),
    ] {
        h.insert(k, http::HeaderValue::from_static(v));
    }
    Some(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accent_stylesheet_is_served_only_for_a_colour_that_passes_aa() {
        // GIVEN a dark accent, a light one, and a name that is no accent
        // THEN only the dark one gets a stylesheet, in that colour
        let dark = accent_stylesheet("accent-1a4d8f.css").unwrap();
        assert_eq!(dark.headers()["content-type"], "text/css; charset=utf-8");
        assert!(std::str::from_utf8(dark.body())
            .unwrap()
            .contains("#1a4d8f"));
        assert!(accent_stylesheet("accent-ffff00.css").is_none());
        assert!(accent_stylesheet("accent-1a4d8f.js").is_none());
        assert!(accent_stylesheet("accent-;}body{.css").is_none());
    }
}
