//! Anchored patterns, compiled once when the catalog is read rather than on every check.
//!
//! They are compiled by `regex-lite`: every process reads the whole catalog at start (about 50
//! patterns), and `regex` spent 25 M instructions building its automata for them, three
//! quarters of reading the catalog, for patterns that check a shop's domain a few times per
//! request. `regex-lite` compiles them for a fraction of that and matches such short values
//! just as well.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An anchored regular expression (`^…$`) of the catalog: a merchant input, a callback value,
/// a host, a credential shape. It is compiled when the entry is read, so a pattern that does
/// not compile, or is not anchored, stops the entry from loading at all.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    regex: regex_lite::Regex,
}

impl Pattern {
    /// Compiles `source`, which must start with `^` and end with `$`.
    pub fn new(source: &str) -> Result<Pattern, String> {
        if !(source.starts_with('^') && source.ends_with('$')) {
            return Err(format!("pattern {source:?} is not anchored (^…$)"));
        }
        let regex = regex_lite::Regex::new(source)
            .map_err(|e| format!("pattern {source:?} does not compile: {e}"))?;
        Ok(Pattern {
            source: source.to_owned(),
            regex,
        })
    }

    /// The pattern matching exactly `literal` (a host of a configured endpoint).
    pub fn exactly(literal: &str) -> Result<Pattern, String> {
        Pattern::new(&format!("^{}$", regex_lite::escape(literal)))
    }

    /// The pattern's text.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// Whether `value` matches `pattern` as a whole.
pub fn pattern_matches(pattern: &Pattern, value: &str) -> bool {
    pattern.regex.is_match(value)
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.source, f)
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        Pattern::new(&source).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_anchored_patterns_that_compile_are_taken() {
        assert!(Pattern::new("^[a-z]+$").is_ok());
        for bad in ["[a-z]+", "^[a-z]+", "[a-z]+$", "^([a-z]$", ""] {
            assert!(Pattern::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_pattern_matches_whole_values_only() {
        let p = Pattern::new("^[a-z]+$").unwrap();
        assert!(pattern_matches(&p, "abc"));
        assert!(!pattern_matches(&p, "abc1"));
        assert!(!pattern_matches(&p, ""));
    }

    #[test]
    fn an_exact_pattern_takes_its_literal_and_nothing_else() {
        let p = Pattern::exactly("auth.x.test:8443").unwrap();
        assert_eq!(p.as_str(), r"^auth\.x\.test:8443$");
        assert!(pattern_matches(&p, "auth.x.test:8443"));
        assert!(!pattern_matches(&p, "authxxtest:8443"));
    }
}
