//! The page layout every HTML page shares.

use maud::{html, Markup, DOCTYPE};

/// Renders a full page: title, our stylesheet, the body, and our scripts (by path).
pub fn layout(base_url: &str, title: &str, body: Markup, scripts: &[&str]) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · cartlink" }
                link rel="stylesheet" href={ (base_url) "/assets/cartlink.css" };
            }
            body {
                main class="card" {
                    (body)
                }
                footer { "cartlink connects your store to the warehouse that ships your orders. It never sees your password." }
                @for s in scripts {
                    script src={ (base_url) "/assets/" (s) } {}
                }
            }
        }
    }
    .into_string()
}
