//! A value worked out once from its inputs and kept beside them: asked again with the same
//! inputs it is answered from memory; asked with other inputs (a value whose inputs changed
//! since) it is worked out afresh, so it is never stale.

use std::sync::OnceLock;

/// A value derived from `K`, kept with the `K` it was derived from.
#[derive(Clone, Debug)]
pub struct Memo<K, V>(OnceLock<(K, V)>);

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo(OnceLock::new())
    }
}

impl<K: PartialEq, V: Clone> Memo<K, V> {
    /// The value for `key`: the kept one when it was derived from an equal key, otherwise
    /// `derive(key)` (kept if nothing is kept yet).
    pub fn get_or(&self, key: &K, derive: impl FnOnce(&K) -> V) -> V
    where
        K: Clone,
    {
        if let Some((kept, value)) = self.0.get() {
            if kept == key {
                return value.clone();
            }
        }
        let value = derive(key);
        let _ = self.0.set((key.clone(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn the_same_key_is_answered_from_memory() {
        // GIVEN a memo asked once
        let memo = Memo::default();
        let derived = Cell::new(0);
        let derive = |k: &String| {
            derived.set(derived.get() + 1);
            k.len()
        };
        assert_eq!(memo.get_or(&"abc".to_owned(), derive), 3);
        // WHEN it is asked again with an equal key
        let again = memo.get_or(&"abc".to_owned(), derive);
        // THEN the answer is the same and was worked out once
        assert_eq!((again, derived.get()), (3, 1));
    }

    #[test]
    fn another_key_is_worked_out_afresh() {
        // GIVEN a memo that keeps the value of one key
        let memo = Memo::default();
        assert_eq!(memo.get_or(&"abc".to_owned(), |k| k.len()), 3);
        // WHEN it is asked with another
        let other = memo.get_or(&"abcdef".to_owned(), |k| k.len());
        // THEN the answer is that key's, never the kept one
        assert_eq!(other, 6);
    }
}
