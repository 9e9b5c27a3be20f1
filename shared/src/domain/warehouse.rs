//! Warehouses and the API keys they call cartlink with.

use super::brand::Brand;
use super::ids::WarehouseId;
use super::invite::WarehouseRef;
use super::locale::Locale;
use super::secrets::{constant_time_eq, TokenHash};

/// A warehouse that may create invites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warehouse {
    /// Opaque id.
    pub id: WarehouseId,
    /// The name merchants see.
    pub display_name: String,
    /// Where its confirmations go.
    pub notify_email: String,
    /// SHA-256 of each API key it may use (several, so keys can be rotated).
    pub api_key_hashes: Vec<TokenHash>,
    /// Its look (a stored warehouse's branding; empty for a configured one).
    pub brand: Brand,
    /// The language of its merchants' emails when an invite names none (English if unset).
    pub locale: Option<Locale>,
}

impl Warehouse {
    /// The copy an invite keeps.
    pub fn to_ref(&self) -> WarehouseRef {
        WarehouseRef {
            id: self.id.clone(),
            display_name: self.display_name.clone(),
            notify_email: self.notify_email.clone(),
            brand: self.brand.clone(),
        }
    }
}

/// The warehouses cartlink serves, found by the hash of an API key.
#[derive(Clone, Debug, Default)]
pub struct WarehouseDirectory {
    warehouses: Vec<Warehouse>,
}

impl WarehouseDirectory {
    /// Builds the directory.
    pub fn new(warehouses: Vec<Warehouse>) -> Self {
        WarehouseDirectory { warehouses }
    }

    /// The warehouse an API key belongs to, if any. The key is hashed, then compared with every
    /// stored hash in constant time and without stopping at a match, so neither how long the
    /// answer takes nor which comparison matched tells anything about stored keys.
    pub fn authenticate(&self, api_key: &str) -> Option<&Warehouse> {
        if api_key.is_empty() || api_key.len() > 512 {
            return None;
        }
        let hash = TokenHash::of(api_key);
        let mut found = None;
        for w in &self.warehouses {
            for stored in &w.api_key_hashes {
                if constant_time_eq(stored.as_str().as_bytes(), hash.as_str().as_bytes()) {
                    found = Some(w);
                }
            }
        }
        found
    }

    /// Every warehouse.
    pub fn all(&self) -> &[Warehouse] {
        &self.warehouses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_names_its_warehouse_and_nothing_else() {
        // GIVEN two warehouses with one key each
        let wh = |id: &str, key: &str| Warehouse {
            id: WarehouseId::parse(id).unwrap(),
            display_name: id.into(),
            notify_email: format!("ops@{id}.test"),
            api_key_hashes: vec![TokenHash::of(key)],
            brand: Default::default(),
            locale: None,
        };
        let dir = WarehouseDirectory::new(vec![wh("wh-a", "key-a"), wh("wh-b", "key-b")]);
        // THEN each key finds its own warehouse, and unknown or empty keys find none
        assert_eq!(dir.authenticate("key-a").unwrap().id.as_str(), "wh-a");
        assert_eq!(dir.authenticate("key-b").unwrap().id.as_str(), "wh-b");
        assert!(dir.authenticate("key-c").is_none());
        assert!(dir.authenticate("").is_none());
    }
}
