//! The access code a merchant can type when the setup link is broken or incomplete.

use std::fmt;

use super::secrets::{random_bytes, Secret, TokenHash};

/// Crockford base32: no I, L, O or U, so the code survives being read aloud or retyped.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Number of symbols in a code: 10 × 5 = 50 random bits.
pub const ACCESS_CODE_LEN: usize = 10;

/// A short code printed in the invite email (`7QK2M-9XH4D`). Stored only as a hash.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessCode(Secret);

impl AccessCode {
    /// Mints a fresh code from the OS CSPRNG.
    pub fn generate() -> Self {
        let bytes = random_bytes::<ACCESS_CODE_LEN>();
        let code: String = bytes
            .iter()
            .map(|b| char::from(CROCKFORD[usize::from(b & 31)]))
            .collect();
        AccessCode(Secret::new(code))
    }

    /// Reads a code as a person typed it: case, spaces and hyphens do not matter, and the
    /// look-alikes `I`/`L` (one) and `O` (zero) are read as Crockford says. `None` if it cannot
    /// be a code.
    pub fn parse(typed: &str) -> Option<Self> {
        if typed.len() > 64 {
            return None;
        }
        let mut canonical = String::with_capacity(ACCESS_CODE_LEN);
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\t' => continue,
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            };
            if !c.is_ascii() || !CROCKFORD.contains(&(c as u8)) {
                return None;
            }
            canonical.push(c);
        }
        (canonical.len() == ACCESS_CODE_LEN).then(|| AccessCode(Secret::new(canonical)))
    }

    /// The code grouped for reading, `XXXXX-XXXXX`: what the email shows.
    pub fn display(&self) -> String {
        let c = self.0.expose();
        format!("{}-{}", &c[..5], &c[5..])
    }

    /// The last four symbols, safe to show a warehouse so support can tell codes apart.
    pub fn hint(&self) -> String {
        let c = self.0.expose();
        format!("…{}", &c[ACCESS_CODE_LEN - 4..])
    }

    /// What is stored: the SHA-256 of the canonical code.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.0.expose())
    }
}

impl fmt::Debug for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessCode(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_are_ten_crockford_symbols() {
        for _ in 0..1000 {
            let code = AccessCode::generate();
            let shown = code.display();
            assert_eq!(shown.len(), 11);
            assert_eq!(&shown[5..6], "-");
            assert!(shown
                .replace('-', "")
                .bytes()
                .all(|b| CROCKFORD.contains(&b)));
        }
    }

    #[test]
    fn typed_codes_are_read_forgivingly_and_hash_the_same() {
        // GIVEN a code as printed
        let code = AccessCode::parse("7QK2M-9XH10").unwrap();
        // WHEN a merchant types it in lower case, with spaces and look-alike letters
        let typed = AccessCode::parse(" 7qk2m 9xhlo ").unwrap();
        // THEN it is the same code
        assert_eq!(typed.hash(), code.hash());
    }

    #[test]
    fn malformed_codes_are_refused() {
        for bad in [
            "",
            "7QK2M",
            "7QK2M-9XH4DD",
            "7QK2M-9XH4U",
            "7QK2M-9XH4!",
            "ÄQK2M-9XH4D",
        ] {
            assert!(AccessCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn hint_shows_only_the_last_four_symbols() {
        let code = AccessCode::parse("ABCDE-FGH12").unwrap();
        assert_eq!(code.hint(), "…GH12");
        assert_eq!(format!("{code:?}"), "AccessCode(***)");
    }
}
