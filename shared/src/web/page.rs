//! The page layout every HTML page shares: our mark and name on top, one card, a footer that
//! says what cartlink is. Styles and scripts come only from our own `/assets/`; nothing inline.

use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Renders a full page: title, our stylesheet and mark, the body in one card, and our scripts
/// (by file name under `/assets/`).
pub fn layout(base_url: &str, title: &str, body: Markup, scripts: &[&str]) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
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
                    span class="site-tag" { "Secure store connections" }
                }
                main class="card" {
                    (body)
                }
                footer class="site" {
                    "cartlink connects your store to the warehouse that ships your orders. It never sees your password."
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

#[cfg(test)]
mod tests {
    use super::*;

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
