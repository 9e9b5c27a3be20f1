//! The catalog: every cart cartlink knows, by id.

use super::spec::CartSpec;
use crate::domain::CartId;

/// Every cart cartlink knows (a configuration's: `Catalog::from_config`, where the
/// configuration is read).
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    carts: Vec<CartSpec>,
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
        self.carts.retain(|c| c.id != cart.id);
        self.carts.push(cart);
    }

    /// The entry for `id`.
    pub fn get(&self, id: &CartId) -> Option<&CartSpec> {
        self.carts.iter().find(|c| &c.id == id)
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = &CartSpec> {
        self.carts.iter()
    }
}
