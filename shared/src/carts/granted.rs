//! What a cart's token answer says about the scopes it granted, as data: the field's separator,
//! which granted scopes cover others (Shopify's `write_orders` covers `read_orders`), and where
//! the cart documents it. The callback refuses a grant that covers less than the invite needs.

use serde::Deserialize;

/// The placeholder of an [`Implication`]'s two templates.
const NAME: &str = "{name}";

/// A granted scope that covers another: `granted` and `covers` are templates over one
/// `{name}` (`["write_{name}", "read_{name}"]`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Implication(pub String, pub String);

/// How a cart reports the scopes it granted in its token answer (`scope`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantedScopes {
    /// What separates the scopes in the answer's `scope` (Shopify `,`, BigCommerce ` `).
    pub separator: String,
    /// Granted scopes that cover others.
    #[serde(default)]
    pub implies: Vec<Implication>,
    /// Where the cart documents the answer's `scope`.
    pub source: String,
}

/// The text between `template`'s prefix and suffix around `{name}`, if `scope` has that form.
fn name_in<'a>(template: &str, scope: &'a str) -> Option<&'a str> {
    let (prefix, suffix) = template.split_once(NAME)?;
    scope
        .strip_prefix(prefix)?
        .strip_suffix(suffix)
        .filter(|name| !name.is_empty())
}

impl GrantedScopes {
    /// Checks the entry as written: a separator, a source, and templates with one `{name}`.
    pub fn check(&self) -> Result<(), String> {
        if self.separator.is_empty() {
            return Err("granted_scopes.separator must not be empty".into());
        }
        if self.source.trim().is_empty() {
            return Err("granted_scopes.source must name where it is documented".into());
        }
        for Implication(granted, covers) in &self.implies {
            if granted.matches(NAME).count() != 1 || covers.matches(NAME).count() != 1 {
                return Err(format!(
                    "granted_scopes.implies [{granted:?}, {covers:?}] needs one {{name}} in each"
                ));
            }
        }
        Ok(())
    }

    /// The scopes of an answer's `scope`, each trimmed, empty ones dropped.
    pub fn parse(&self, reported: &str) -> Vec<String> {
        reported
            .split(self.separator.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Whether the scopes granted cover `needed` (itself, or through an implication).
    fn covers(&self, granted: &[String], needed: &str) -> bool {
        granted.iter().any(|g| {
            g == needed
                || self.implies.iter().any(|Implication(from, to)| {
                    name_in(from, g).is_some_and(|name| to.replace(NAME, name) == needed)
                })
        })
    }

    /// The scopes of `needed` the answer's `scope` does not cover, in `needed`'s order. An
    /// answer without `scope` covers none: a cart that documents the field and leaves it out
    /// has not shown what it granted.
    pub fn missing(&self, reported: Option<&str>, needed: &[String]) -> Vec<String> {
        let granted = reported.map(|r| self.parse(r)).unwrap_or_default();
        needed
            .iter()
            .filter(|n| !self.covers(&granted, n))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shopify() -> GrantedScopes {
        GrantedScopes {
            separator: ",".into(),
            implies: vec![Implication("write_{name}".into(), "read_{name}".into())],
            source: "shopify.dev".into(),
        }
    }

    fn needed(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_narrower_answer_misses_the_scopes_it_left_out() {
        // GIVEN a grant of read_orders only, for an invite that needs two scopes
        let need = needed(&["read_orders", "write_inventory"]);
        // WHEN the answer is checked
        let missing = shopify().missing(Some("read_orders"), &need);
        // THEN the one left out is missing
        assert_eq!(missing, vec!["write_inventory"]);
    }

    #[test]
    fn the_answer_is_split_on_the_carts_separator() {
        // GIVEN a comma-separated answer with a space after a comma
        let need = needed(&["read_orders", "write_inventory"]);
        // WHEN checked with the comma separator
        let missing = shopify().missing(Some("read_orders, write_inventory"), &need);
        // THEN both are granted
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn a_write_scope_covers_its_read_scope() {
        // GIVEN a grant of write_orders where read_orders is needed
        let need = needed(&["read_orders"]);
        // WHEN checked with the implication write_{name} → read_{name}
        let missing = shopify().missing(Some("write_orders"), &need);
        // THEN nothing is missing
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn a_read_scope_does_not_cover_its_write_scope() {
        // GIVEN a grant of read_inventory where write_inventory is needed
        let need = needed(&["write_inventory"]);
        // WHEN checked
        let missing = shopify().missing(Some("read_inventory"), &need);
        // THEN write_inventory is missing
        assert_eq!(missing, vec!["write_inventory"]);
    }

    #[test]
    fn a_suffix_implication_covers_the_read_only_variant() {
        // GIVEN BigCommerce's form: a modify scope covers its _read_only variant
        let bc = GrantedScopes {
            separator: " ".into(),
            implies: vec![Implication("{name}".into(), "{name}_read_only".into())],
            source: "bigcommerce".into(),
        };
        let need = needed(&["store_v2_orders_read_only", "store_v2_orders"]);
        // WHEN the answer grants store_v2_orders only
        let missing = bc.missing(Some("store_v2_orders"), &need);
        // THEN both are covered
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn an_answer_without_scope_covers_nothing() {
        // GIVEN an answer that leaves `scope` out
        let need = needed(&["read_orders"]);
        // WHEN checked
        let missing = shopify().missing(None, &need);
        // THEN every needed scope is missing
        assert_eq!(missing, vec!["read_orders"]);
    }

    #[test]
    fn an_implication_without_one_name_is_refused() {
        // GIVEN an implication whose template has no {name}
        let mut g = shopify();
        g.implies = vec![Implication("write_all".into(), "read_{name}".into())];
        // WHEN the entry is checked THEN it is refused
        assert!(g.check().is_err());
    }

    #[test]
    fn an_entry_without_a_source_is_refused() {
        // GIVEN granted_scopes that names no source
        let mut g = shopify();
        g.source = " ".into();
        // WHEN the entry is checked THEN it is refused
        assert!(g.check().is_err());
    }
}
