//! Sealed records as the domain keeps them: the encryption context a record is bound to, and
//! the envelope it is stored in. Sealing and opening are the vault port's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The application name every context carries (`app`), which key policies condition on.
pub const APP: &str = "cartlink";

/// The encryption context of a sealed record: opaque ids only (it is not secret, and KMS logs it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealContext(BTreeMap<String, String>);

impl SealContext {
    /// A context of `app = cartlink` plus these pairs.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut map = BTreeMap::from([("app".to_owned(), APP.to_owned())]);
        for (k, v) in pairs {
            map.insert(k.to_owned(), v.to_owned());
        }
        SealContext(map)
    }

    /// The pairs, sorted by key.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// An unambiguous byte form (JSON of the sorted map), used as AES-GCM associated data.
    pub fn aad(&self) -> Vec<u8> {
        serde_json::to_vec(&self.0).expect("a string map always serializes")
    }
}

/// A sealed record as stored: format version, master key id, wrapped data key, nonce and
/// ciphertext (binary fields in base64).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedBlob {
    /// Format version (1).
    pub v: u8,
    /// Which master key wrapped the data key.
    pub key_id: String,
    /// The wrapped data key.
    pub edk: String,
    /// The AES-GCM nonce of the record.
    pub nonce: String,
    /// The record, encrypted, with its tag.
    pub ct: String,
}

/// The current envelope format.
pub const FORMAT_VERSION: u8 = 1;
