//! A warehouse's own app at a cart: the credentials a warehouse brings instead of cartlink's,
//! and the mark an invite, its grant attempts and its connection carry of the app they went
//! through.
//!
//! Where a cart keeps one active token per app and store (Shopify), two warehouses connecting
//! one store through cartlink's one app would take each other's access; a warehouse with its
//! own app at that cart does not share cartlink's.

use serde::{Deserialize, Serialize};

use super::ids::{CartId, Timestamp, WarehouseId};
use super::sealed::{SealContext, SealedBlob};

/// The warehouse's own app that an invite, its attempts and its connection go through. Records
/// without one went through cartlink's app at the cart.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OwnApp {
    /// The warehouse whose app it is.
    pub warehouse: WarehouseId,
    /// The app's client id at the cart when the invite was made: a later app of the warehouse
    /// with another client id is another app, whose grants these records are not.
    pub client_id: String,
}

/// The app a grant goes through, as the "one active token per app and store" rule compares
/// them: the client id the cart knows the app by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppIdentity<'a> {
    /// cartlink's own app at the cart (the catalog's credentials).
    Cartlink,
    /// A warehouse's own app, by client id.
    Own(&'a str),
}

impl<'a> AppIdentity<'a> {
    /// The identity of the app a record marked with `app` went through.
    pub fn of(app: Option<&'a OwnApp>) -> Self {
        app.map_or(AppIdentity::Cartlink, |a| AppIdentity::Own(&a.client_id))
    }

    /// The client id the cart knows this app by, where `cartlink` is cartlink's client id at
    /// the cart (if it has one there).
    pub fn client_id(&self, cartlink: Option<&'a str>) -> Option<&'a str> {
        match self {
            AppIdentity::Cartlink => cartlink,
            AppIdentity::Own(id) => Some(id),
        }
    }
}

/// A warehouse's own app credentials at one cart, as stored: the client secret sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartApp {
    /// Whose app it is.
    pub warehouse: WarehouseId,
    /// At which cart.
    pub cart: CartId,
    /// The app's client id (not secret).
    pub client_id: String,
    /// The client secret, sealed under [`CartApp::seal_context`]; absent for a cart whose
    /// clients take none.
    pub secret: Option<SealedBlob>,
    /// The app id, where the cart needs one besides the client id (Amazon's `application_id`).
    pub app_id: Option<String>,
    /// The RuName, where the cart needs one (eBay).
    pub ru_name: Option<String>,
    /// Whether the app is an unpublished draft (Amazon: `version=beta`).
    #[serde(default)]
    pub draft: bool,
    /// When the warehouse first registered an app at this cart.
    pub created_at: Timestamp,
    /// When the warehouse last wrote it.
    pub updated_at: Timestamp,
}

impl CartApp {
    /// The context its client secret is sealed under: bound to the warehouse and the cart, and
    /// of its own kind, so no function that opens tokens can open it by that right alone.
    pub fn seal_context(warehouse: &WarehouseId, cart: &CartId) -> SealContext {
        SealContext::new([
            ("kind", "cart-app-secret"),
            ("warehouse_id", warehouse.as_str()),
            ("cart", cart.as_str()),
        ])
    }

    /// The mark the records made through this app carry.
    pub fn mark(&self) -> OwnApp {
        OwnApp {
            warehouse: self.warehouse.clone(),
            client_id: self.client_id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_without_an_own_app_went_through_cartlinks() {
        // GIVEN no mark, and a warehouse's app's mark
        let own = OwnApp {
            warehouse: WarehouseId::parse("wh-1").unwrap(),
            client_id: "their-app".into(),
        };
        // THEN the first is cartlink's app, known by cartlink's client id
        assert_eq!(AppIdentity::of(None).client_id(Some("ours")), Some("ours"));
        // AND the second is known by its own client id, whatever cartlink's is
        assert_eq!(
            AppIdentity::of(Some(&own)).client_id(Some("ours")),
            Some("their-app")
        );
    }

    #[test]
    fn an_app_secret_opens_only_for_its_warehouse_and_cart() {
        // GIVEN the contexts of two warehouses' apps at one cart, and of one at two carts
        let wh = |id| WarehouseId::parse(id).unwrap();
        let a = CartApp::seal_context(&wh("wh-1"), &CartId::new("shopify"));
        // THEN each differs, and none is a token's kind
        assert_ne!(
            a,
            CartApp::seal_context(&wh("wh-2"), &CartId::new("shopify"))
        );
        assert_ne!(a, CartApp::seal_context(&wh("wh-1"), &CartId::new("ebay")));
        assert!(a.pairs().any(|p| p == ("kind", "cart-app-secret")));
    }
}
