//! The catalog: every cart cartlink knows, by id.

use std::borrow::Cow;

use super::spec::CartSpec;
use crate::domain::CartId;

/// Every cart cartlink knows (a configuration's: `Catalog::from_config`, where the
/// configuration is read).
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// A built-in cart the configuration leaves as it is stays borrowed from the built-in
    /// catalog: copying all of them cost every Lambda function's start 0.28 M instructions.
    carts: Vec<Cow<'static, CartSpec>>,
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
        self.put(Cow::Owned(cart));
    }

    /// Adds or replaces one entry that lives for the whole process (a built-in cart), without
    /// copying it.
    pub fn add_static(&mut self, cart: &'static CartSpec) {
        self.put(Cow::Borrowed(cart));
    }

    fn put(&mut self, cart: Cow<'static, CartSpec>) {
        self.carts.retain(|c| c.id != cart.id);
        self.carts.push(cart);
    }

    /// The entry for `id`.
    pub fn get(&self, id: &CartId) -> Option<&CartSpec> {
        self.iter().find(|c| &c.id == id)
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
        self.carts.iter().map(|c| &**c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::acme_cart;

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
