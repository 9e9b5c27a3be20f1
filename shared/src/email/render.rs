//! An email's body, written once as [`Block`]s and rendered twice: to the text part and to the
//! HTML part, so both say the same words by construction. The HTML is one fluid column with
//! inline styles (mail clients ignore style sheets), no images and no external resources, and
//! long links wrap.

use maud::{html, Markup, DOCTYPE};

/// A piece of running text.
pub(super) enum Inline {
    /// Plain words.
    Text(String),
    /// Words that stand out (names).
    Strong(String),
    /// A URL, shown as itself (and a link in HTML).
    Link(String),
}

/// A block of an email.
pub(super) enum Block {
    /// A paragraph.
    Para(Vec<Inline>),
    /// A bulleted list.
    List(Vec<String>),
    /// The email's one action: a button in HTML, the label and the URL in text. The URL is
    /// printed in both, for clients that show no buttons.
    Action {
        /// What pressing it does.
        label: String,
        /// Where it goes.
        url: String,
    },
    /// A code to type, set large.
    Code(String),
    /// Label and value pairs.
    Facts(Vec<(&'static str, String)>),
    /// A quieter paragraph.
    Note(Vec<Inline>),
}

/// Plain words.
pub(super) fn t(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}

/// Words that stand out.
pub(super) fn b(s: impl Into<String>) -> Inline {
    Inline::Strong(s.into())
}

/// A paragraph of `parts`.
pub(super) fn para(parts: Vec<Inline>) -> Block {
    Block::Para(parts)
}

fn inline_text(parts: &[Inline]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Inline::Text(s) | Inline::Strong(s) | Inline::Link(s) => s.as_str(),
        })
        .collect()
}

/// The text part: blocks apart by a blank line, lists and facts one per line.
pub(super) fn to_text(blocks: &[Block]) -> String {
    let mut out = Vec::new();
    for block in blocks {
        out.push(match block {
            Block::Para(p) | Block::Note(p) => inline_text(p),
            Block::List(items) => items
                .iter()
                .map(|i| format!("  - {i}"))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Action { label, url } => format!("{label}:\n{url}"),
            Block::Code(code) => format!("    {code}"),
            Block::Facts(facts) => facts
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("\n"),
        });
    }
    let mut text = out.join("\n\n");
    text.push('\n');
    text
}

/// The word mark above the HTML part's card (the text part has no letterhead).
pub(super) const BRAND: &str = "cartlink";

const LINK: &str = "color:#1f5fbf;word-break:break-all;overflow-wrap:anywhere";

fn inline_html(parts: &[Inline]) -> Markup {
    html! {
        @for p in parts {
            @match p {
                Inline::Text(s) => (s),
                Inline::Strong(s) => strong { (s) },
                Inline::Link(u) => a href=(u) style=(LINK) { (u) },
            }
        }
    }
}

/// What a stored warehouse's brand adds to the HTML part: its logo above the card, and its
/// accent on the action button. `Default` is cartlink's own look.
#[derive(Default)]
pub(super) struct Letterhead<'a> {
    /// The logo's URL (on our origin) and its alt text (the warehouse's name).
    pub logo: Option<(&'a str, &'a str)>,
    /// `#rrggbb` for the button (checked for white text when it was set).
    pub accent: Option<&'a str>,
}

/// The colour of the action button when no accent is set.
const BUTTON: &str = "#1f5fbf";

fn block_html(block: &Block, accent: &str) -> Markup {
    html! {
        @match block {
            Block::Para(p) => p style="margin:0 0 16px" { (inline_html(p)) },
            Block::Note(p) => p style="margin:0 0 16px;color:#4a5361;font-size:14px" { (inline_html(p)) },
            Block::List(items) => ul style="margin:0 0 16px;padding-left:22px" {
                @for i in items { li style="margin:0 0 6px" { (i) } }
            },
            Block::Action { label, url } => div style="margin:24px 0" {
                a href=(url) style={ "display:inline-block;background:" (accent) ";color:#ffffff;text-decoration:none;padding:12px 22px;border-radius:6px;font-weight:600;font-size:16px" } {
                    (label)
                }
                p style="margin:12px 0 0;font-size:13px;color:#4a5361" {
                    a href=(url) style=(LINK) { (url) }
                }
            },
            Block::Code(code) => p style="margin:0 0 16px;font-family:Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:22px;letter-spacing:2px;font-weight:700" {
                (code)
            },
            Block::Facts(facts) => table role="presentation" style="border-collapse:collapse;margin:0 0 16px" {
                @for (k, v) in facts {
                    tr {
                        td style="padding:2px 14px 2px 0;color:#4a5361;vertical-align:top" { (k) }
                        td style="padding:2px 0;word-break:break-all" { (v) }
                    }
                }
            },
        }
    }
}

/// The HTML part, in the language `lang`, under `letterhead`: the word mark (and the
/// warehouse's logo) above one card holding the blocks.
pub(super) fn to_html_with(
    lang: &str,
    title: &str,
    blocks: &[Block],
    letterhead: &Letterhead<'_>,
) -> String {
    let accent = letterhead.accent.unwrap_or(BUTTON);
    html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
            }
            body style="margin:0;padding:0;background:#eef1f5;color:#1d2430;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5" {
                div style="padding:16px 12px" {
                    div style="max-width:560px;margin:0 auto" {
                        p style="margin:0 0 10px;font-weight:700;font-size:17px;color:#1f5fbf" { (BRAND) }
                        @if let Some((url, alt)) = letterhead.logo {
                            p style="margin:0 0 10px" {
                                img src=(url) alt=(alt) height="48" style="height:48px;width:auto;border:0;display:block";
                            }
                        }
                        div style="background:#ffffff;border:1px solid #dde2ea;border-radius:10px;padding:22px 20px" {
                            @for block in blocks { (block_html(block, accent)) }
                        }
                    }
                }
            }
        }
    }
    .into_string()
}
