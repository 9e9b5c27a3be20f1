//! The KMS vault: `GenerateDataKey` (AES_256) per sealed record under the record's encryption
//! context; the record is encrypted locally with AES-256-GCM and the same context as associated
//! data. `Decrypt` always passes the expected context and the configured key, and fails closed.
//! Plaintext data keys are wiped after use.

use async_trait::async_trait;
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use aws_sdk_kms::Client;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

use super::{decrypt_record, encrypt_record, SealContext, SealedBlob, Vault, VaultError};

/// The KMS vault.
pub struct KmsVault {
    client: Client,
    key_id: String,
}

impl KmsVault {
    /// A vault on the KMS key `key_id` (id, ARN or `alias/…`, from configuration).
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        KmsVault {
            client,
            key_id: key_id.into(),
        }
    }
}

/// KMS errors that mean "this blob does not open here" (wrong context, tampered, other key).
fn refused(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "InvalidCiphertextException"
                | "IncorrectKeyException"
                | "AccessDeniedException"
                | "InvalidKeyUsageException"
        )
    )
}

#[async_trait]
impl Vault for KmsVault {
    async fn seal(
        &self,
        context: &SealContext,
        plaintext: &[u8],
    ) -> Result<SealedBlob, VaultError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(
                context
                    .pairs()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| VaultError::Unavailable(DisplayErrorContext(e).to_string()))?;
        let key = Zeroizing::new(
            out.plaintext
                .map(Blob::into_inner)
                .ok_or_else(|| VaultError::Unavailable("no data key returned".into()))?,
        );
        let key: Zeroizing<[u8; 32]> = Zeroizing::new(
            key.as_slice()
                .try_into()
                .map_err(|_| VaultError::Unavailable("data key is not 256 bits".into()))?,
        );
        let edk = out
            .ciphertext_blob
            .ok_or_else(|| VaultError::Unavailable("no encrypted data key returned".into()))?;
        let (nonce, ct) = encrypt_record(&key, context, plaintext);
        Ok(SealedBlob {
            v: super::FORMAT_VERSION,
            key_id: out.key_id.unwrap_or_else(|| self.key_id.clone()),
            edk: STANDARD.encode(edk.as_ref()),
            nonce,
            ct,
        })
    }

    async fn open(
        &self,
        context: &SealContext,
        blob: &SealedBlob,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if blob.v != super::FORMAT_VERSION {
            return Err(VaultError::Refused);
        }
        let edk = STANDARD
            .decode(&blob.edk)
            .map_err(|_| VaultError::Refused)?;
        let out = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(edk))
            .set_encryption_context(Some(
                context
                    .pairs()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| {
                if refused(e.as_service_error().and_then(|se| se.code())) {
                    VaultError::Refused
                } else {
                    VaultError::Unavailable(DisplayErrorContext(e).to_string())
                }
            })?;
        let key = Zeroizing::new(
            out.plaintext
                .map(Blob::into_inner)
                .ok_or(VaultError::Refused)?,
        );
        decrypt_record(&key, context, blob)
    }
}
