//! The page layout every HTML page shares: our mark and name on top, one card, a footer that
//! says what cartlink is. Styles and scripts come only from our own `/assets/`; nothing inline.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::domain::{Locale, Timestamp};
use crate::i18n::{self, Arg, Filled};

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

    /// A message of the catalog as markup, written straight into the page: the same words as
    /// [`Ui::text`], escaped (a page asks for dozens of messages; this one builds no string per
    /// message, and escapes a run of words without a character to escape in one copy).
    pub fn say<'a>(&self, key: &'a str, args: &'a [(&'a str, &'a str)]) -> MessageMarkup<'a> {
        MessageMarkup {
            locale: self.locale,
            key,
            args: MarkupArgs::Plain(args),
        }
    }

    /// A message of the catalog as markup, the values marked [`Arg::Strong`] in `<strong>`.
    pub fn msg<'a>(&self, key: &'a str, args: &'a [(&'a str, Arg<'a>)]) -> MessageMarkup<'a> {
        MessageMarkup {
            locale: self.locale,
            key,
            args: MarkupArgs::Marked(args),
        }
    }

    /// A date as this page's language writes it.
    pub fn date(&self, at: Timestamp) -> String {
        i18n::date(self.locale, at)
    }
}

/// A message of the catalog as markup ([`Ui::say`], [`Ui::msg`]): rendered where the page
/// writes it.
#[derive(Clone, Copy, Debug)]
pub struct MessageMarkup<'a> {
    locale: Locale,
    key: &'a str,
    args: MarkupArgs<'a>,
}

/// The values of a [`MessageMarkup`]: plain words, or each marked plain or standing out.
#[derive(Clone, Copy, Debug)]
enum MarkupArgs<'a> {
    Plain(&'a [(&'a str, &'a str)]),
    Marked(&'a [(&'a str, Arg<'a>)]),
}

impl maud::Render for MessageMarkup<'_> {
    fn render_to(&self, out: &mut String) {
        match self.args {
            MarkupArgs::Plain(args) => write_message(self.locale, self.key, args, out, |v, out| {
                escape_html(v, out);
            }),
            MarkupArgs::Marked(args) => {
                write_message(self.locale, self.key, args, out, |v, out| match v {
                    Arg::Text(v) => escape_html(v, out),
                    Arg::Strong(v) => {
                        out.push_str("<strong>");
                        escape_html(v, out);
                        out.push_str("</strong>");
                    }
                });
            }
        }
    }
}

/// Writes the message `key` into `out` as markup: its words escaped, each value by `value`, a
/// placeholder without a value as written (as [`i18n::text`] leaves it).
fn write_message<V: Copy>(
    locale: Locale,
    key: &str,
    args: &[(&str, V)],
    out: &mut String,
    value: impl Fn(V, &mut String),
) {
    for piece in i18n::fill(locale, key, args) {
        match piece {
            Filled::Words(words) => escape_html(words, out),
            Filled::Value(v) => value(v, out),
            Filled::Unfilled(name) => {
                out.push('{');
                escape_html(name, out);
                out.push('}');
            }
        }
    }
}

/// Writes `text` into `out` escaped as maud escapes text and attribute values (`&`, `<`, `>`,
/// `"`), copying each run between those characters whole rather than byte by byte.
pub fn escape_html(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(at) = next_to_escape(rest.as_bytes()) {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&quot;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

/// Where the first character HTML escapes is in `bytes`, if it holds one.
fn next_to_escape(bytes: &[u8]) -> Option<usize> {
    let angle_or_amp = memchr::memchr3(b'&', b'<', b'>', bytes);
    let before = angle_or_amp.unwrap_or(bytes.len());
    memchr::memchr(b'"', &bytes[..before]).or(angle_or_amp)
}

/// Text rendered into a page escaped as maud escapes it, through [`escape_html`]: for the
/// values a page writes many times (the base URL and the page's own path in every link).
#[derive(Clone, Copy, Debug)]
pub struct Text<'a>(pub &'a str);

impl maud::Render for Text<'_> {
    fn render_to(&self, out: &mut String) {
        escape_html(self.0, out);
    }
}

/// The language switcher: each language by its own name, a link to this same page in it.
fn switcher(ui: &Ui, here: &str) -> Markup {
    html! {
        nav class="languages" aria-label=(ui.say("layout.language", &[])) {
            ul {
                @for l in Locale::ALL {
                    li {
                        @if l == ui.locale {
                            span lang=(l.as_str()) aria-current="true" { (l.native_name()) }
                        } @else {
                            a lang=(l.as_str()) hreflang=(l.as_str())
                                href={ (Text(&ui.base)) (Text(here)) "?lang=" (l.as_str()) } { (l.native_name()) }
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
                title { (Text(title)) " · cartlink" }
                link rel="icon" type="image/svg+xml" href={ (Text(base_url)) "/assets/cartlink-mark.svg" };
                link rel="stylesheet" href={ (Text(base_url)) "/assets/cartlink.css" };
            }
            body {
                header class="site" {
                    img class="site-mark" src={ (Text(base_url)) "/assets/cartlink-mark.svg" } alt="" width="28" height="28";
                    span class="site-name" { "cartlink" }
                    span class="site-tag" { (ui.say("layout.tag", &[])) }
                }
                main class="card" {
                    (body)
                }
                footer class="site" {
                    (ui.say("layout.footer", &[]))
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
    let json = if memchr::memchr3(b'<', b'>', b'&', raw.as_bytes()).is_some()
        || raw.contains('\u{2028}')
        || raw.contains('\u{2029}')
    {
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
    use maud::Render;
    use proptest::prelude::*;

    use super::*;

    /// `text` as maud itself escapes it.
    fn maud_escaped(text: &str) -> String {
        text.render().into_string()
    }

    fn ui_in(locale: Locale) -> Ui {
        Ui {
            base: "https://cartlink.test".into(),
            locale,
            here: None,
        }
    }

    proptest! {
        #[test]
        fn escape_html_writes_what_maud_writes(text in ".{0,64}", tail in "[&<>\"a-z\u{e9}]{0,16}") {
            // GIVEN any text, with and without the characters HTML escapes
            let text = format!("{text}{tail}");
            // WHEN it is escaped through escape_html
            let mut ours = String::new();
            escape_html(&text, &mut ours);
            // THEN it is what maud writes for it
            prop_assert_eq!(ours, maud_escaped(&text));
        }
    }

    #[test]
    fn said_is_the_text_of_its_message_escaped_for_every_key_and_language() {
        // GIVEN values holding every character HTML escapes
        let args = [
            ("warehouse", "Tom & Jerry's <b>\"Depot\""),
            ("cart", "Cart>"),
            ("date", "1 < 2"),
            ("store", "a&b"),
            ("email", "x\"@y"),
        ];
        for locale in Locale::ALL {
            for key in i18n::catalog(Locale::En).keys() {
                // WHEN each message is said on a page
                let said = ui_in(locale).say(key, &args).render().into_string();
                // THEN it is its text, escaped as maud escapes any text
                let expected = maud_escaped(&i18n::text(locale, key, &args));
                assert_eq!(said, expected, "{}: {key}", locale.as_str());
            }
        }
    }

    #[test]
    fn a_strong_value_is_escaped_inside_its_strong_element() {
        // GIVEN a message with a value that stands out and one that does not
        let args = [
            ("date", Arg::Strong("<1 Dec>")),
            ("warehouse", Arg::Text("A&B")),
        ];
        // WHEN it is said
        let said = ui_in(Locale::En)
            .msg("state.expired.lead", &args)
            .render()
            .into_string();
        // THEN the strong value is escaped within <strong>, the plain one escaped as text
        assert_eq!(
            said,
            "This link expired on <strong>&lt;1 Dec&gt;</strong>: ask A&amp;B for a new one."
        );
    }

    #[test]
    fn a_place_without_a_value_is_said_as_written() {
        // GIVEN a message with a place, said without a value
        // WHEN it is said
        let said = ui_in(Locale::En)
            .say("grant.intro", &[])
            .render()
            .into_string();
        // THEN its place stays as written, as in its text
        assert_eq!(
            said,
            maud_escaped(&i18n::text(Locale::En, "grant.intro", &[]))
        );
        assert!(said.starts_with("{warehouse} "), "{said}");
    }

    #[test]
    fn a_key_no_catalog_has_is_said_as_nothing() {
        // GIVEN a key that is in no catalog
        // WHEN it is said
        let said = ui_in(Locale::De)
            .say("no.such.key", &[])
            .render()
            .into_string();
        // THEN nothing is written, as its text is empty
        assert_eq!(said, "");
        assert_eq!(i18n::text(Locale::De, "no.such.key", &[]), "");
    }

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
