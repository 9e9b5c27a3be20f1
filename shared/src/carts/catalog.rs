//! The catalog: every cart cartlink knows, by id.

use std::sync::OnceLock;

use url::Url;

use super::builtin::Builtin;
use super::credentials::ClientCredentials;
use super::spec::CartSpec;
use crate::domain::CartId;

/// Every cart cartlink knows (a configuration's: `Catalog::from_config`, where the
/// configuration is read).
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    carts: Vec<Held>,
}

/// One entry of a catalog.
#[derive(Clone, Debug)]
enum Held {
    /// A configuration's own entry, or a built-in one it gave credentials.
    Owned(Box<CartSpec>),
    /// A built-in cart the configuration leaves as it is: not copied, and not read until it is
    /// used (reading and copying all of them was half of every Lambda function's start).
    Builtin(&'static Builtin),
    /// A built-in cart the configuration gives credentials: not read until it is used either
    /// (six such carts were a fifth of a deployed function's start).
    Configured(Box<Configured>),
}

/// A built-in cart with the app's credentials at it, joined on first use.
#[derive(Clone, Debug)]
struct Configured {
    builtin: &'static Builtin,
    credentials: ClientCredentials,
    base_url_override: Option<Url>,
    spec: OnceLock<CartSpec>,
}

impl Held {
    /// The entry's id, a built-in one's without reading it.
    fn id(&self) -> &str {
        match self {
            Held::Owned(spec) => spec.id.as_str(),
            Held::Builtin(b) => b.id(),
            Held::Configured(c) => c.builtin.id(),
        }
    }

    fn spec(&self) -> &CartSpec {
        match self {
            Held::Owned(spec) => spec,
            Held::Builtin(b) => b.spec(),
            Held::Configured(c) => c.spec.get_or_init(|| CartSpec {
                credentials: Some(c.credentials.clone()),
                base_url_override: c.base_url_override.clone(),
                ..c.builtin.spec().clone()
            }),
        }
    }
}

impl Catalog {
    /// Builds a catalog; a later entry with the same id replaces an earlier one.
    pub fn new(carts: Vec<CartSpec>) -> Self {
        let mut catalog = Catalog::default();
        for cart in carts {
            catalog.add(cart);
        }
        catalog
    }

    /// Adds or replaces one entry.
    pub fn add(&mut self, cart: CartSpec) {
        self.put(Held::Owned(Box::new(cart)));
    }

    /// Adds or replaces a built-in cart as it is, without copying or reading it.
    pub fn add_builtin(&mut self, cart: &'static Builtin) {
        self.put(Held::Builtin(cart));
    }

    /// Adds or replaces a built-in cart with the app's `credentials` at it (and, in a loopback
    /// test configuration, its stand-in's `base_url_override`), read on its first use.
    pub fn add_configured(
        &mut self,
        cart: &'static Builtin,
        credentials: ClientCredentials,
        base_url_override: Option<Url>,
    ) {
        self.put(Held::Configured(Box::new(Configured {
            builtin: cart,
            credentials,
            base_url_override,
            spec: OnceLock::new(),
        })));
    }

    fn put(&mut self, cart: Held) {
        self.carts.retain(|c| c.id() != cart.id());
        self.carts.push(cart);
    }

    /// The entry for `id` (a built-in one is read on its first use).
    pub fn get(&self, id: &CartId) -> Option<&CartSpec> {
        self.carts
            .iter()
            .find(|c| c.id() == id.as_str())
            .map(Held::spec)
    }

    /// The name merchants and warehouses read for cart `id`: its entry's name, or the id itself
    /// for a cart the catalog no longer holds (removed from the configuration after invites for
    /// it were made), so an email or page about such an invite still names something.
    pub fn display_name(&self, id: &CartId) -> String {
        self.get(id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = &CartSpec> {
        self.carts.iter().map(Held::spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::acme_cart;

    #[test]
    fn a_configured_builtin_cart_is_its_entry_with_the_apps_credentials() {
        // GIVEN the built-in square cart given credentials and a stand-in's address
        let square = crate::carts::builtin::find(&CartId::new("square")).unwrap();
        let over = Url::parse("http://127.0.0.1:9").unwrap();
        let mut catalog = Catalog::default();
        catalog.add_configured(
            square,
            ClientCredentials::new("app", None),
            Some(over.clone()),
        );
        // WHEN it is asked for
        let cart = catalog.get(&CartId::new("square")).unwrap();
        // THEN it is the built-in entry with those credentials and that address
        assert_eq!(cart.name, square.spec().name);
        assert_eq!(cart.credentials.as_ref().unwrap().client_id, "app");
        assert_eq!(cart.base_url_override, Some(over));
        // AND the built-in entry itself is left without them
        assert!(square.spec().credentials.is_none() && square.spec().base_url_override.is_none());
    }

    #[test]
    fn a_cart_is_named_by_its_entry_or_else_by_its_id() {
        // GIVEN a catalog holding the `acme` cart, named "Acme Cart"
        let catalog = Catalog::new(vec![acme_cart()]);
        // THEN it is shown by its name
        assert_eq!(catalog.display_name(&CartId::new("acme")), "Acme Cart");
        // AND a cart the catalog no longer holds is shown by its id
        assert_eq!(catalog.display_name(&CartId::new("gone")), "gone");
    }
}
