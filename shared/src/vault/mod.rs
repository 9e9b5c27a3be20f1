//! The vault port: envelope encryption of token records.
//!
//! Each sealed record gets a fresh 256-bit data key; the record is encrypted with AES-256-GCM
//! under that key with the encryption context as associated data, and the data key itself is
//! wrapped by a master key (a local key file, or KMS) under the same context. A blob only opens
//! with the context it was sealed with: copied onto another connection, it does not open.

#[cfg(feature = "aws")]
pub mod kms;
#[cfg(feature = "embedded")]
pub mod local;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

/// The sealed-record types live in the domain (a connection carries its sealed tokens); named
/// here too for the adapters that seal and open them.
pub use crate::domain::sealed::{SealContext, SealedBlob, FORMAT_VERSION};
#[cfg(feature = "aws")]
pub use kms::KmsVault;
#[cfg(feature = "embedded")]
pub use local::LocalVault;

/// What went wrong in the vault.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The blob does not open under the expected context or key (moved, tampered, or sealed by
    /// another key): fail closed.
    #[error("the sealed record does not open under its expected context")]
    Refused,
    /// The key service did not do the work (unreachable, timed out, throttled, access denied,
    /// the key disabled or not usable): this says nothing about the blob, so nothing may be
    /// marked for it; the operation may be retried.
    #[error("the key service failed: {0}")]
    Unavailable(String),
}

/// A fresh data key, wrapped by the master key under one context, ready to seal one record
/// under that context without another call to the key service. A flow that must not lose what
/// it is about to receive (a refresh, whose cart rotates the refresh token when it answers)
/// takes its data key first, so a key-service failure stops it before anything changes.
pub struct DataKey {
    key: Zeroizing<[u8; 32]>,
    context: SealContext,
    key_id: String,
    edk: String,
}

impl DataKey {
    /// A data key `key` that the master key `key_id` wrapped into `edk` (base64) under
    /// `context`: for the vault adapters.
    pub fn new(
        key: Zeroizing<[u8; 32]>,
        context: &SealContext,
        key_id: String,
        edk: String,
    ) -> Self {
        DataKey {
            key,
            context: context.clone(),
            key_id,
            edk,
        }
    }

    /// Seals `plaintext` under this key's context; a local step that cannot fail. The plaintext
    /// data key is wiped when this returns.
    pub fn seal(self, plaintext: &[u8]) -> SealedBlob {
        let (nonce, ct) = encrypt_record(&self.key, &self.context, plaintext);
        SealedBlob {
            v: FORMAT_VERSION,
            key_id: self.key_id,
            edk: self.edk,
            nonce,
            ct,
        }
    }
}

/// The vault port.
#[async_trait]
pub trait Vault: Send + Sync {
    /// A fresh data key wrapped under `context` (the one call to the key service of a seal).
    async fn data_key(&self, context: &SealContext) -> Result<DataKey, VaultError>;

    /// Seals `plaintext` under `context` with a fresh data key.
    async fn seal(
        &self,
        context: &SealContext,
        plaintext: &[u8],
    ) -> Result<SealedBlob, VaultError> {
        Ok(self.data_key(context).await?.seal(plaintext))
    }

    /// Opens `blob`, which must have been sealed under exactly `context`.
    async fn open(
        &self,
        context: &SealContext,
        blob: &SealedBlob,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError>;
}

/// Encrypts `plaintext` with a 256-bit data key; returns (nonce, ciphertext) in base64.
pub fn encrypt_record(
    data_key: &[u8; 32],
    context: &SealContext,
    plaintext: &[u8],
) -> (String, String) {
    let nonce = crate::domain::secrets::random_bytes::<12>();
    let cipher = Aes256Gcm::new_from_slice(data_key).expect("32-byte key");
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &context.aad(),
            },
        )
        .expect("AES-GCM encryption of a bounded record cannot fail");
    (STANDARD.encode(nonce), STANDARD.encode(ct))
}

/// Decrypts a record sealed by [`encrypt_record`]; [`VaultError::Refused`] on any mismatch.
pub fn decrypt_record(
    data_key: &[u8],
    context: &SealContext,
    blob: &SealedBlob,
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let nonce = STANDARD
        .decode(&blob.nonce)
        .map_err(|_| VaultError::Refused)?;
    let ct = STANDARD.decode(&blob.ct).map_err(|_| VaultError::Refused)?;
    if nonce.len() != 12 || blob.v != FORMAT_VERSION {
        return Err(VaultError::Refused);
    }
    let cipher = Aes256Gcm::new_from_slice(data_key).map_err(|_| VaultError::Refused)?;
    cipher
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &ct,
                aad: &context.aad(),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Refused)
}
