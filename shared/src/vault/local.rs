//! The embedded vault: a 256-bit master key in `<data dir>/vault.key` (mode 0600, created on
//! first run) wraps each record's data key with AES-256-GCM under the record's context.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{decrypt_record, DataKey, SealContext, SealedBlob, Vault, VaultError};
use crate::domain::secrets::random_bytes;

/// The file the master key lives in, under the data dir.
pub const KEY_FILE: &str = "vault.key";

/// The embedded vault.
pub struct LocalVault {
    master: Zeroizing<[u8; 32]>,
    key_id: String,
}

impl LocalVault {
    /// Opens the master key in `dir`, creating it (mode 0600) if it does not exist yet.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(KEY_FILE);
        let mut master = Zeroizing::new([0u8; 32]);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut file) => {
                master.copy_from_slice(&random_bytes::<32>());
                file.write_all(&master[..])?;
                file.sync_all()?;
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let mut file = OpenOptions::new().read(true).open(&path)?;
                let mut buf = Zeroizing::new(Vec::new());
                file.read_to_end(&mut buf)?;
                if buf.len() != 32 {
                    return Err(std::io::Error::new(
                        ErrorKind::InvalidData,
                        format!("{} must hold exactly 32 bytes", path.display()),
                    ));
                }
                master.copy_from_slice(&buf);
            }
            Err(e) => return Err(e),
        }
        let key_id = format!("local:{}", &hex::encode(Sha256::digest(&master[..]))[..16]);
        Ok(LocalVault { master, key_id })
    }

    fn master_cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(&self.master[..]).expect("32-byte key")
    }
}

#[async_trait]
impl Vault for LocalVault {
    async fn data_key(&self, context: &SealContext) -> Result<DataKey, VaultError> {
        let data_key = Zeroizing::new(random_bytes::<32>());
        let wrap_nonce = random_bytes::<12>();
        let wrapped = self
            .master_cipher()
            .encrypt(
                Nonce::from_slice(&wrap_nonce),
                Payload {
                    msg: &data_key[..],
                    aad: &context.aad(),
                },
            )
            .map_err(|_| VaultError::Unavailable("data key wrap failed".into()))?;
        let mut edk = wrap_nonce.to_vec();
        edk.extend_from_slice(&wrapped);
        Ok(DataKey::new(
            data_key,
            context,
            self.key_id.clone(),
            STANDARD.encode(edk),
        ))
    }

    async fn open(
        &self,
        context: &SealContext,
        blob: &SealedBlob,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if blob.key_id != self.key_id {
            return Err(VaultError::Refused);
        }
        let edk = STANDARD
            .decode(&blob.edk)
            .map_err(|_| VaultError::Refused)?;
        if edk.len() < 12 {
            return Err(VaultError::Refused);
        }
        let (wrap_nonce, wrapped) = edk.split_at(12);
        let data_key = Zeroizing::new(
            self.master_cipher()
                .decrypt(
                    Nonce::from_slice(wrap_nonce),
                    Payload {
                        msg: wrapped,
                        aad: &context.aad(),
                    },
                )
                .map_err(|_| VaultError::Refused)?,
        );
        decrypt_record(&data_key, context, blob)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn ctx(connection: &str) -> SealContext {
        SealContext::new([("warehouse_id", "wh-one"), ("connection_id", connection)])
    }

    #[tokio::test]
    async fn sealed_records_open_only_under_their_own_context() {
        // GIVEN a vault and a record sealed for connection A
        let dir = tempfile::tempdir().unwrap();
        let vault = LocalVault::open(dir.path()).unwrap();
        let blob = vault.seal(&ctx("con-aaaa"), b"CANARY_AT").await.unwrap();
        // THEN it opens under A's context
        assert_eq!(
            &vault.open(&ctx("con-aaaa"), &blob).await.unwrap()[..],
            b"CANARY_AT"
        );
        // AND copied onto connection B it is refused
        assert!(matches!(
            vault.open(&ctx("con-bbbb"), &blob).await,
            Err(VaultError::Refused)
        ));
        // AND the ciphertext does not contain the plaintext
        assert!(!serde_json::to_string(&blob).unwrap().contains("CANARY_AT"));
    }

    #[tokio::test]
    async fn each_record_gets_a_fresh_data_key_and_nonce() {
        let dir = tempfile::tempdir().unwrap();
        let vault = LocalVault::open(dir.path()).unwrap();
        let a = vault.seal(&ctx("con-aaaa"), b"same").await.unwrap();
        let b = vault.seal(&ctx("con-aaaa"), b"same").await.unwrap();
        assert_ne!(a.edk, b.edk);
        assert_ne!(a.ct, b.ct);
    }

    #[tokio::test]
    async fn tampered_blobs_fail_closed() {
        let dir = tempfile::tempdir().unwrap();
        let vault = LocalVault::open(dir.path()).unwrap();
        let blob = vault.seal(&ctx("con-aaaa"), b"secret").await.unwrap();
        let mut flipped = blob.clone();
        let mut ct = STANDARD.decode(&flipped.ct).unwrap();
        ct[0] ^= 1;
        flipped.ct = STANDARD.encode(ct);
        let mut other_key = blob.clone();
        other_key.key_id = "local:0000000000000000".into();
        let mut bad_version = blob.clone();
        bad_version.v = 9;
        for bad in [flipped, other_key, bad_version] {
            assert!(matches!(
                vault.open(&ctx("con-aaaa"), &bad).await,
                Err(VaultError::Refused)
            ));
        }
    }

    #[tokio::test]
    async fn the_master_key_is_created_once_with_mode_0600_and_survives_restart() {
        // GIVEN a fresh data dir
        let dir = tempfile::tempdir().unwrap();
        let blob = {
            let vault = LocalVault::open(dir.path()).unwrap();
            vault.seal(&ctx("con-aaaa"), b"kept").await.unwrap()
        };
        // THEN the key file is private
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // AND a vault opened again (a restart) still opens what the first one sealed
        let again = LocalVault::open(dir.path()).unwrap();
        assert_eq!(
            &again.open(&ctx("con-aaaa"), &blob).await.unwrap()[..],
            b"kept"
        );
    }

    #[test]
    fn a_truncated_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), b"short").unwrap();
        assert!(LocalVault::open(dir.path()).is_err());
    }
}
