//! Secret values and the one place where randomness for them comes from.
//!
//! Every secret cartlink mints (link tokens, access codes, OAuth `state`, browser bindings) is
//! drawn here from the operating system's CSPRNG. Secret strings live in [`Secret`], which never
//! prints its value and cannot be serialized by accident.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Fills `N` bytes from the operating system's CSPRNG.
///
/// An OS without a working random source cannot run cartlink safely, so this panics rather than
/// hand out predictable secrets.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).expect("the operating system's random source failed");
    buf
}

/// 256 random bits as unpadded base64url (43 characters).
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// A secret string. `Debug` and `Display` print a placeholder, it has no `Serialize`, and its
/// memory is wiped on drop. Read it with [`Secret::expose`], only where it must leave the process.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The SHA-256 of a secret, in lowercase hex: what cartlink stores and looks secrets up by.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenHash(String);

impl TokenHash {
    /// Hashes a secret value.
    pub fn of(secret: &str) -> Self {
        // Into a buffer of the digest's length: `hex::encode` collects the digits one `char` at
        // a time, a third of the cost of a hash looked up on every page.
        let mut digits = [0u8; 64];
        hex::encode_to_slice(Sha256::digest(secret.as_bytes()), &mut digits)
            .expect("64 digits hold 32 bytes");
        TokenHash(std::str::from_utf8(&digits).expect("hex digits").to_owned())
    }

    /// Rebuilds a hash read back from storage (64 lowercase hex characters).
    pub fn from_stored(hex_digest: &str) -> Option<Self> {
        let ok = hex_digest.len() == 64
            && hex_digest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| TokenHash(hex_digest.to_owned()))
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_token_shaped(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

macro_rules! random_secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Secret);

        impl $name {
            /// Mints a fresh value: 256 bits from the OS CSPRNG, base64url without padding.
            pub fn generate() -> Self {
                $name(Secret::new(random_token()))
            }

            /// Accepts a value received from outside if it has the shape cartlink mints
            /// (43 base64url characters); anything else is refused before any lookup.
            pub fn parse(value: &str) -> Option<Self> {
                is_token_shaped(value).then(|| $name(Secret::new(value)))
            }

            /// The value, for the one place it must be sent.
            pub fn expose(&self) -> &str {
                self.0.expose()
            }

            /// What is stored in its place.
            pub fn hash(&self) -> TokenHash {
                TokenHash::of(self.0.expose())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(***)", stringify!($name))
            }
        }
    };
}

random_secret_type!(
    /// The secret in a merchant's setup link (`/setup/{token}`). Only its hash is stored.
    InviteToken
);
random_secret_type!(
    /// The OAuth `state` of one grant attempt: fresh per attempt, never the link token.
    GrantState
);
random_secret_type!(
    /// The value of the cookie that binds a grant attempt to the browser that started it.
    BrowserBinding
);
random_secret_type!(
    /// The secret in a merchant's "Manage this connection" link (`/manage/{token}`), as strong
    /// as a setup link. Only its hash is stored.
    ManageToken
);

/// The PKCE S256 code verifier of a grant attempt.
///
/// It is never stored: it is derived from the browser binding (held only in the merchant's
/// cookie) and the attempt's `state`, so the callback can rebuild it and the store holds nothing
/// that would let someone else redeem a stolen code.
#[derive(Clone)]
pub struct PkceVerifier(Secret);

impl PkceVerifier {
    /// Derives the verifier: base64url(HMAC-SHA256(binding, "cartlink-pkce:" + state)),
    /// 43 characters of the unreserved alphabet (RFC 7636 §4.1), 256 bits of entropy.
    pub fn derive(binding: &BrowserBinding, state: &GrantState) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(binding.expose().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(b"cartlink-pkce:");
        mac.update(state.expose().as_bytes());
        PkceVerifier(Secret::new(
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
        ))
    }

    /// The verifier, for the token request.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The S256 challenge: base64url(SHA-256(verifier)).
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.expose().as_bytes()))
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier(***)")
    }
}

/// Compares two byte strings in constant time.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn minted_tokens_are_256_bit_base64url_and_distinct() {
        // GIVEN many freshly minted link tokens
        let tokens: Vec<InviteToken> = (0..10_000).map(|_| InviteToken::generate()).collect();
        // THEN each decodes to 32 bytes of the URL-safe alphabet and none repeats
        let mut seen = HashSet::new();
        for t in &tokens {
            assert_eq!(URL_SAFE_NO_PAD.decode(t.expose()).unwrap().len(), 32);
            assert!(is_token_shaped(t.expose()));
            assert!(seen.insert(t.expose().to_owned()));
        }
    }

    /// Whether `T` implements `Serialize`, told at compile time by method resolution (the
    /// by-value impl is found first when it applies, else the one on the reference).
    struct Probe<T>(std::marker::PhantomData<T>);
    trait Serializable {
        fn serializable(&self) -> bool {
            true
        }
    }
    impl<T: Serialize> Serializable for Probe<T> {}
    trait NotSerializable {
        fn serializable(&self) -> bool {
            false
        }
    }
    impl<T> NotSerializable for &Probe<T> {}

    #[test]
    // The borrow is the probe: it is what lets resolution fall back to the `&Probe` impl.
    #[allow(clippy::needless_borrow)]
    fn a_secret_cannot_be_serialized_whole_into_a_log_or_an_answer() {
        // GIVEN the probe, shown to tell a serializable type (String) from others
        assert!((&Probe::<String>(std::marker::PhantomData)).serializable());
        // THEN a secret is not serializable: it leaves the process only through `expose`
        assert!(!(&Probe::<Secret>(std::marker::PhantomData)).serializable());
    }

    #[test]
    fn secrets_never_print_their_value() {
        // GIVEN secrets of every kind
        let token = InviteToken::generate();
        let state = GrantState::generate();
        let secret = Secret::new("CANARY_SECRET");
        // WHEN they are formatted for a log line
        let printed = format!("{token:?} {state:?} {secret:?} {secret}");
        // THEN none of their values appears
        assert!(!printed.contains(token.expose()));
        assert!(!printed.contains(state.expose()));
        assert!(!printed.contains("CANARY_SECRET"));
    }

    #[test]
    fn parse_refuses_anything_not_shaped_like_a_minted_token() {
        // GIVEN values of the wrong length or alphabet
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
            &"a/".repeat(21),
        ] {
            // THEN they are refused
            assert!(InviteToken::parse(bad).is_none(), "{bad}");
        }
        // AND a minted one round-trips with the same hash
        let t = InviteToken::generate();
        assert_eq!(InviteToken::parse(t.expose()).unwrap().hash(), t.hash());
    }

    #[test]
    fn pkce_verifier_meets_rfc_7636_and_challenge_is_s256() {
        // GIVEN a binding and a state
        let binding = BrowserBinding::generate();
        let state = GrantState::generate();
        // WHEN the verifier is derived twice
        let v = PkceVerifier::derive(&binding, &state);
        let again = PkceVerifier::derive(&binding, &state);
        // THEN it is stable, 43..=128 unreserved characters, and the challenge is its S256
        assert_eq!(v.expose(), again.expose());
        assert!((43..=128).contains(&v.expose().len()));
        assert!(v
            .expose()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(v.expose().as_bytes()));
        assert_eq!(v.challenge(), expected);
        // AND another state or another browser yields another verifier
        assert_ne!(
            PkceVerifier::derive(&binding, &GrantState::generate()).expose(),
            v.expose()
        );
        assert_ne!(
            PkceVerifier::derive(&BrowserBinding::generate(), &state).expose(),
            v.expose()
        );
    }

    #[test]
    fn token_hash_is_sha256_hex_and_validates_stored_form() {
        let h = TokenHash::of("abc");
        assert_eq!(
            h.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(TokenHash::from_stored(h.as_str()), Some(h));
        assert!(TokenHash::from_stored("zz").is_none());
    }
}
