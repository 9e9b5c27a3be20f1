//! Anchored patterns, compiled once when the catalog is read rather than on every check.
//!
//! They are compiled by `regex-lite`: every process used to read the whole catalog at start
//! (about 50 patterns), and `regex` spent 25 M instructions building its automata for them, three
//! quarters of reading the catalog, for patterns that check a shop's domain a few times per
//! request. `regex-lite` compiles them for a fraction of that and matches such short values
//! just as well.

use std::cell::Cell;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An anchored regular expression (`^…$`) of the catalog: a merchant input, a callback value,
/// a host, a credential shape. It is compiled when the entry is read, so a pattern that does
/// not compile, or is not anchored, stops the entry from loading at all; the built-in
/// catalog's patterns, compiled-in data every one of which the tests compile, wait for their
/// first use ([`read_with_compile_on_use`]).
#[derive(Clone)]
pub struct Pattern {
    source: String,
    /// `None` inside: a pattern read for compiling on use that then did not compile; it
    /// matches nothing.
    regex: OnceLock<Option<regex_lite::Regex>>,
}

thread_local! {
    /// Whether the patterns read on this thread wait for their first use to compile.
    static COMPILE_ON_USE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `read` with every pattern it reads compiled on first use rather than when read: for
/// the built-in catalog's entries, whose ~50 patterns cost more to compile (1.6 M
/// instructions) than the rest of a process's start, while a request checks a few.
pub(super) fn read_with_compile_on_use<T>(read: impl FnOnce() -> T) -> T {
    /// Puts the default back however `read` ends (an unwinding panic too).
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            COMPILE_ON_USE.with(|on| on.set(false));
        }
    }
    COMPILE_ON_USE.with(|on| on.set(true));
    let _reset = Reset;
    read()
}

impl Pattern {
    /// Compiles `source`, which must start with `^` and end with `$`.
    pub fn new(source: &str) -> Result<Pattern, String> {
        let pattern = Pattern::anchored(source)?;
        let regex = regex_lite::Regex::new(source)
            .map_err(|e| format!("pattern {source:?} does not compile: {e}"))?;
        let _ = pattern.regex.set(Some(regex));
        Ok(pattern)
    }

    /// `source`, which must start with `^` and end with `$`, compiled on first use.
    fn anchored(source: &str) -> Result<Pattern, String> {
        if !(source.starts_with('^') && source.ends_with('$')) {
            return Err(format!("pattern {source:?} is not anchored (^…$)"));
        }
        Ok(Pattern {
            source: source.to_owned(),
            regex: OnceLock::new(),
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

    fn regex(&self) -> Option<&regex_lite::Regex> {
        self.regex
            .get_or_init(|| match regex_lite::Regex::new(&self.source) {
                Ok(regex) => Some(regex),
                Err(e) => {
                    tracing::error!(pattern = %self.source, error = %e, "a catalog pattern does not compile; it matches nothing");
                    None
                }
            })
            .as_ref()
    }
}

/// Whether `value` matches `pattern` as a whole.
pub fn pattern_matches(pattern: &Pattern, value: &str) -> bool {
    pattern.regex().is_some_and(|r| r.is_match(value))
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
        if COMPILE_ON_USE.with(Cell::get) {
            Pattern::anchored(&source)
        } else {
            Pattern::new(&source)
        }
        .map_err(serde::de::Error::custom)
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
    fn a_pattern_read_for_compiling_on_use_matches_as_one_compiled_when_read() {
        // GIVEN a pattern read both ways, and a broken one read for compiling on use
        let read = |s: &str| serde_json::from_value::<Pattern>(serde_json::json!(s));
        let eager = read("^[a-z]{1,3}$").unwrap();
        let lazy = read_with_compile_on_use(|| read("^[a-z]{1,3}$")).unwrap();
        let broken = read_with_compile_on_use(|| read("^([a-z]$")).unwrap();
        // THEN only the eager one is compiled yet, both match alike, the broken one matches
        // nothing, and reading afterwards compiles when read again
        assert!(eager.regex.get().is_some() && lazy.regex.get().is_none());
        for value in ["ab", "abcd", ""] {
            assert_eq!(
                pattern_matches(&eager, value),
                pattern_matches(&lazy, value)
            );
        }
        assert!(!pattern_matches(&broken, "a") && !pattern_matches(&broken, "^([a-z]$"));
        assert!(read("^([a-z]$").is_err());
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
