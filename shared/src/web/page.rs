//! The page layout every HTML page shares: our mark and name on top, one card, a footer that
//! says what cartlink is. Styles and scripts come only from our own `/assets/`; nothing inline.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::domain::{Locale, Timestamp};
use crate::i18n::{self, Arg, Part};

/// Renders a full page in English, without a language switcher (pages not yet in the
/// catalogs: the sandbox cart, the local home page, the callback's answers).
pub fn layout(base_url: &str, title: &str, body: Markup, scripts: &[&str]) -> String {
    let ui = Ui {
        base: base_url.to_owned(),
        locale: Locale::En,
        here: None,
    };
    layout_in(&ui, title, body, scripts)
}

/// What a merchant-facing page is rendered for: our base URL, the language, and the page's own
/// path (for the language switcher, whose links reopen this same page in another language).
#[derive(Clone, Debug)]
pub struct Ui {
    /// The public base URL.
    pub base: String,
    /// The page's language.
    pub locale: Locale,
    /// The path a GET of this page has (`/setup/{token}`); `None`: no switcher.
    pub here: Option<String>,
}

impl Ui {
    /// A message of the catalog as text.
    pub fn text(&self, key: &str, args: &[(&str, &str)]) -> String {
        i18n::text(self.locale, key, args)
    }

    /// A message of the catalog as markup, the values marked [`Arg::Strong`] in `<strong>`.
    pub fn msg(&self, key: &str, args: &[(&str, Arg<'_>)]) -> Markup {
        html! {
            @for part in i18n::parts(self.locale, key, args) {
                @match part {
                    Part::Text(s) => (s),
                    Part::Strong(s) => strong { (s) },
                }
            }
        }
    }

    /// A date as this page's language writes it.
    pub fn date(&self, at: Timestamp) -> String {
        i18n::date(self.locale, at)
    }
}

/// The language switcher: each language by its own name, a link to this same page in it.
fn switcher(ui: &Ui, here: &str) -> Markup {
    html! {
        nav class="languages" aria-label=(ui.text("layout.language", &[])) {
            ul {
                @for l in Locale::ALL {
                    li {
                        @if l == ui.locale {
                            span lang=(l.as_str()) aria-current="true" { (l.native_name()) }
                        } @else {
                            a lang=(l.as_str()) hreflang=(l.as_str())
                                href={ (ui.base) (here) "?lang=" (l.as_str()) } { (l.native_name()) }
                        }
                    }
                }
            }
        }
    }
}

/// Renders a full page in `ui`'s language: title, our stylesheet and mark, the language
/// body in one card, the language switcher below it, and our scripts (by file name under `/assets/`).
pub fn layout_in(ui: &Ui, title: &str, body: Markup, scripts: &[&str]) -> String {
    let base_url = ui.base.as_str();
    html! {
        (DOCTYPE)
        html lang=(ui.locale.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · cartlink" }
                link rel="icon" type="image/svg+xml" href={ (base_url) "/assets/cartlink-mark.svg" };
                link rel="stylesheet" href={ (base_url) "/assets/cartlink.css" };
            }
            body {
                header class="site" {
                    img class="site-mark" src={ (base_url) "/assets/cartlink-mark.svg" } alt="" width="28" height="28";
                    span class="site-name" { "cartlink" }
                    span class="site-tag" { (ui.text("layout.tag", &[])) }
                }
                main class="card" {
                    (body)
                }
                footer class="site" {
                    (ui.text("layout.footer", &[]))
                    // After the card, so the page's own action is the first thing a keyboard
                    // reaches.
                    @if let Some(here) = &ui.here { (switcher(ui, here)) }
                }
                @for s in scripts {
                    script src={ (base_url) "/assets/" (s) } {}
                }
            }
        }
    }
    .into_string()
}

/// Serializes `value` for a `<script type="application/json">` data island: `<`, `>`, `&` and
/// the JavaScript line separators are escaped so the markup cannot be closed from inside.
pub fn data_island<T: serde::Serialize + ?Sized>(id: &str, value: &T) -> Markup {
    // Serializing plain data into a string cannot fail; an empty island is the safe answer.
    let raw = serde_json::to_string(value).unwrap_or_default();
    // 0xE2 leads the UTF-8 of both line separators (and of other characters, which then take
    // the careful path for nothing).
    let json = if raw.bytes().any(|b| matches!(b, b'<' | b'>' | b'&' | 0xE2)) {
        let mut json = String::with_capacity(raw.len() + 16);
        for c in raw.chars() {
            match c {
                '<' => json.push_str("\\u003c"),
                '>' => json.push_str("\\u003e"),
                '&' => json.push_str("\\u0026"),
                '\u{2028}' => json.push_str("\\u2028"),
                '\u{2029}' => json.push_str("\\u2029"),
                c => json.push(c),
            }
        }
        json
    } else {
        raw
    };
    html! { script type="application/json" id=(id) { (PreEscaped(json)) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_island_escapes_line_separators_and_leaves_plain_data_as_written() {
        // GIVEN a value with the JavaScript line separators, and one with nothing to escape
        let separated = serde_json::json!({ "t": "a\u{2028}b\u{2029}c" });
        let plain = serde_json::json!({ "t": "plain words" });
        // WHEN each is written into a data island
        let separated = data_island("x", &separated).into_string();
        let plain = data_island("y", &plain).into_string();
        // THEN the separators are JSON escapes, and the plain value is serde's text unchanged
        assert!(
            separated.contains(r#"{"t":"a\u2028b\u2029c"}"#),
            "{separated}"
        );
        assert!(plain.contains(r#">{"t":"plain words"}<"#), "{plain}");
    }

    #[test]
    fn a_page_loads_only_our_assets_and_holds_no_inline_style_or_script() {
        // GIVEN a page with a script
        let page = layout(
            "https://cartlink.test",
            "T",
            html! { p { "x" } },
            &["grant.js"],
        );
        // THEN every resource comes from our base URL, and nothing is inline
        for needle in [
            "href=\"https://cartlink.test/assets/cartlink.css\"",
            "src=\"https://cartlink.test/assets/cartlink-mark.svg\"",
            "<script src=\"https://cartlink.test/assets/grant.js\"></script>",
        ] {
            assert!(page.contains(needle), "{needle}");
        }
        assert!(!page.contains("style="));
        assert!(!page.contains("<style"));
        assert_eq!(page.matches("<script").count(), 1);
    }
}
