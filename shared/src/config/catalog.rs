//! The catalog of a configuration.

use super::Config;
use crate::carts::Catalog;
use crate::domain::CartId;

/// The catalog is built from the configuration here, where the configuration is read: the
/// catalog does not know the configuration.
impl Catalog {
    /// The catalog of a configuration: the built-in carts with the credentials configured for
    /// them, then the operator's own.
    pub fn from_config(config: &Config) -> Self {
        let mut catalog = Catalog::default();
        for cart in crate::carts::builtin::entries() {
            match config.cart_credentials.get(&CartId::new(cart.id())) {
                Some(c) => {
                    catalog.add_configured(cart, c.credentials.clone(), c.base_url_override.clone())
                }
                None => catalog.add_builtin(cart),
            }
        }
        for cart in &config.carts {
            catalog.add(cart.clone());
        }
        catalog
    }
}
