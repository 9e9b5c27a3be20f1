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

impl<K, V: Clone> Memo<K, V> {
    /// The value for the inputs `same_inputs` recognizes: the kept one when it was derived
    /// from them, otherwise the one `derive` gives with its inputs (kept if nothing is kept
    /// yet). `same_inputs` compares without copying, so a kept value costs no allocation.
    pub fn get_or(&self, same_inputs: impl Fn(&K) -> bool, derive: impl FnOnce() -> (K, V)) -> V {
        if let Some((kept, value)) = self.0.get() {
            if same_inputs(kept) {
                return value.clone();
            }
        }
        let (inputs, value) = derive();
        let _ = self.0.set((inputs, value.clone()));
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
        let key = "abc".to_owned();
        let derive = || {
            derived.set(derived.get() + 1);
            (key.clone(), key.len())
        };
        assert_eq!(memo.get_or(|k: &String| *k == key, derive), 3);
        // WHEN it is asked again with an equal key
        let again = memo.get_or(|k: &String| *k == key, derive);
        // THEN the answer is the same and was worked out once
        assert_eq!((again, derived.get()), (3, 1));
    }

    #[test]
    fn another_key_is_worked_out_afresh() {
        // GIVEN a memo that keeps the value of one key
        let memo = Memo::default();
        let (abc, abcdef) = ("abc".to_owned(), "abcdef".to_owned());
        assert_eq!(memo.get_or(|k| *k == abc, || (abc.clone(), abc.len())), 3);
        // WHEN it is asked with another
        let other = memo.get_or(|k| *k == abcdef, || (abcdef.clone(), abcdef.len()));
        // THEN the answer is that key's, never the kept one
        assert_eq!(other, 6);
    }
}
