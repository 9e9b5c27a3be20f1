//! API keys minted by cartlink: `clk_live_` + 32 random base62 symbols + a 6-symbol checksum.
//!
//! The fixed prefix lets secret scanners find a leaked key; the checksum (the first 32 bits of
//! the SHA-256 of prefix and body, in base62) tells a mistyped or truncated key from one that
//! was never issued without asking the store. Only [`TokenHash`] of a key is ever stored.

use sha2::{Digest, Sha256};

use super::secrets::{random_bytes, Secret, TokenHash};

/// What every key cartlink mints starts with.
pub const API_KEY_PREFIX: &str = "clk_live_";

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LEN: usize = 32;
const CHECK_LEN: usize = 6;
/// How many symbols of the body, after the prefix, a listing shows to tell keys apart.
const SHOWN_LEN: usize = 6;

/// What a presented key looks like, before any lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyShape {
    /// A well-formed cartlink key whose checksum matches: look it up.
    Minted,
    /// It has cartlink's prefix but its checksum or length is wrong: a typo, not a key.
    BadChecksum,
    /// Anything else (a key from the configuration file, or garbage).
    Other,
}

/// Tells a presented key's shape.
pub fn shape(key: &str) -> KeyShape {
    let Some(rest) = key.strip_prefix(API_KEY_PREFIX) else {
        return KeyShape::Other;
    };
    let well_formed =
        rest.len() == BODY_LEN + CHECK_LEN && rest.bytes().all(|b| BASE62.contains(&b));
    if well_formed && checksum(&rest[..BODY_LEN]) == rest[BODY_LEN..] {
        KeyShape::Minted
    } else {
        KeyShape::BadChecksum
    }
}

fn checksum(body: &str) -> String {
    let digest = Sha256::new()
        .chain_update(API_KEY_PREFIX)
        .chain_update(body)
        .finalize();
    let mut n = u64::from(u32::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3],
    ]));
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A freshly minted key: shown once, then only its hash and its shown prefix are kept.
pub struct MintedKey {
    /// The key itself.
    pub secret: Secret,
    /// Its hash, the only form stored.
    pub hash: TokenHash,
    /// `clk_live_` and the first symbols of the body, to tell keys apart in a listing.
    pub prefix: String,
}

impl MintedKey {
    /// Mints a key from the operating system's random source.
    pub fn generate() -> MintedKey {
        let mut body = String::with_capacity(BODY_LEN);
        while body.len() < BODY_LEN {
            // 62 * 4 = 248: bytes at or above it are dropped, so every symbol is equally likely.
            for b in random_bytes::<48>() {
                if b < 248 && body.len() < BODY_LEN {
                    body.push(char::from(BASE62[usize::from(b % 62)]));
                }
            }
        }
        let key = format!("{API_KEY_PREFIX}{body}{}", checksum(&body));
        MintedKey {
            hash: TokenHash::of(&key),
            prefix: format!("{API_KEY_PREFIX}{}", &body[..SHOWN_LEN]),
            secret: Secret::new(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_key_has_the_prefix_and_a_matching_checksum() {
        // GIVEN a freshly minted key
        let key = MintedKey::generate();
        // THEN it is prefix + 32 + 6 base62 symbols, recognised as minted, hashed as stored
        let text = key.secret.expose();
        assert!(text.starts_with("clk_live_"));
        assert_eq!(text.len(), API_KEY_PREFIX.len() + BODY_LEN + CHECK_LEN);
        assert_eq!(shape(text), KeyShape::Minted);
        assert_eq!(key.hash, TokenHash::of(text));
        assert!(text.starts_with(&key.prefix));
    }

    #[test]
    fn one_changed_symbol_is_told_apart_as_a_bad_checksum() {
        // GIVEN a minted key with one body symbol changed, and one cut short
        let key = MintedKey::generate();
        let text = key.secret.expose().to_owned();
        let i = API_KEY_PREFIX.len() + 3;
        let swapped = if &text[i..=i] == "a" { "b" } else { "a" };
        let typo = format!("{}{}{}", &text[..i], swapped, &text[i + 1..]);
        let cut = &text[..text.len() - 1];
        // THEN both are bad checksums, and a key without the prefix is another kind of key
        assert_eq!(shape(&typo), KeyShape::BadChecksum);
        assert_eq!(shape(cut), KeyShape::BadChecksum);
        assert_eq!(shape("dev-key-from-the-config"), KeyShape::Other);
    }

    #[test]
    fn minted_keys_are_distinct() {
        // GIVEN many minted keys
        let keys: std::collections::HashSet<String> = (0..2000)
            .map(|_| MintedKey::generate().secret.expose().to_owned())
            .collect();
        // THEN none repeats
        assert_eq!(keys.len(), 2000);
    }
}
