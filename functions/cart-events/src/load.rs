//! BigCommerce's load callback as a page in its control panel's frame: the warehouses that hold
//! a connection to the store, since when, and how each is withdrawn; or a refusal that says
//! what to do. The pages are the house's (layout, catalogs, stylesheet) and may be framed by the
//! store's control panel only (a refusal, which names no store and offers no action, by any
//! BigCommerce control panel).

use http::StatusCode;
use maud::html;
use shared::service::lifecycle::bigcommerce_load::StoreConnections;
use shared::service::lifecycle::CartEventError;
use shared::web::page::{layout_in, Ui};
use shared::web::{self, Response};

/// Where BigCommerce's control panels are (unverified: the control panel's documented host is
/// `store-{hash}.mybigcommerce.com`; see docs/carts.md).
const ANY_CONTROL_PANEL: &str = "https://*.mybigcommerce.com";

/// The load page for a verified store.
pub fn page(ui: &Ui, store: &StoreConnections) -> Response {
    let panel = format!("https://store-{}.mybigcommerce.com", store.store_hash);
    web::framed_html(StatusCode::OK, render(ui, store), &panel)
}

/// The load page's markup.
pub fn render(ui: &Ui, store: &StoreConnections) -> String {
    let title = ui.text("bcload.title", &[]);
    let body = html! {
        h1 { (title) }
        @if store.connections.is_empty() {
            p { (ui.say("bcload.none", &[])) }
        }
        @for held in &store.connections {
            section class="stack" {
                h2 { (held.warehouse) }
                dl class="facts" {
                    dt { (ui.say("bcload.since", &[])) } dd { (ui.date(held.since)) }
                }
                @if held.manage_link {
                    p { (ui.say("bcload.by_link", &[])) }
                    p { a href={ (ui.base) "/setup#lost-link" } target="_blank" rel="noopener" { (ui.say("bcload.lost", &[])) } }
                } @else {
                    p { (ui.say("bcload.by_warehouse", &[("warehouse", held.warehouse.as_str())])) }
                }
            }
        }
        @if !store.connections.is_empty() {
            p class="help" { (ui.say("bcload.uninstall", &[])) }
        }
    };
    layout_in(ui, &title, body, &[])
}

/// The refusal page of a load callback that was not answered, with its status.
pub fn refusal(ui: &Ui, e: &CartEventError) -> Response {
    let (status, title, text) = match e {
        CartEventError::BadSignature => (
            StatusCode::UNAUTHORIZED,
            "bcload.refused.title",
            "bcload.refused.signature",
        ),
        CartEventError::Stale => (
            StatusCode::BAD_REQUEST,
            "bcload.refused.title",
            "bcload.refused.stale",
        ),
        CartEventError::Malformed(_) | CartEventError::Replayed => (
            StatusCode::BAD_REQUEST,
            "bcload.refused.title",
            "bcload.refused.malformed",
        ),
        CartEventError::UnknownCart => (
            StatusCode::NOT_FOUND,
            "state.cart_unavailable.title",
            "state.cart_unavailable.text",
        ),
        CartEventError::KeysUnavailable | CartEventError::Store(_) => {
            tracing::error!(error = %e, "store failed answering a load callback");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "state.unavailable.title",
                "state.unavailable.text",
            )
        }
    };
    let title = ui.text(title, &[]);
    let body = html! { h1 { (title) } p { (ui.say(text, &[])) } };
    web::framed_html(status, layout_in(ui, &title, body, &[]), ANY_CONTROL_PANEL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::{Locale, Timestamp};
    use shared::service::lifecycle::bigcommerce_load::HeldConnection;

    fn ui() -> Ui {
        Ui {
            base: "https://cartlink.test".into(),
            locale: Locale::En,
            here: None,
        }
    }

    #[test]
    fn a_hostile_warehouse_name_is_written_as_text_on_the_load_page() {
        for name in shared::testing::HOSTILE_TEXTS {
            // GIVEN a store held by a warehouse whose name is markup, with and without a link
            let store = StoreConnections {
                store: "stores/abc123".into(),
                store_hash: "abc123".into(),
                connections: [true, false]
                    .into_iter()
                    .map(|manage_link| HeldConnection {
                        warehouse: (*name).into(),
                        since: Timestamp(1_800_000_000),
                        manage_link,
                    })
                    .collect(),
            };
            // WHEN the load page is rendered
            let page = render(&ui(), &store);
            // THEN the name is there, escaped, never as markup, and the page has no script
            let escaped = maud::html! { (name) }.into_string();
            assert!(page.contains(&escaped), "{name}: the name is shown");
            assert!(!page.contains(name), "{name}: written unescaped");
            assert!(!page.contains("<script"), "{name}: a script");
        }
    }

    #[test]
    fn the_load_page_may_be_framed_by_the_stores_control_panel_only() {
        // GIVEN a verified store
        let store = StoreConnections {
            store: "stores/abc123".into(),
            store_hash: "abc123".into(),
            connections: vec![],
        };
        // WHEN its page is answered
        let resp = page(&ui(), &store);
        // THEN only that store's control panel may frame it, and nothing else loosens
        let csp = resp.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors https://store-abc123.mybigcommerce.com;"),
            "{csp}"
        );
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(resp.headers().get("x-frame-options").is_none());
    }
}
