//! The KMS vault: `GenerateDataKey` (AES_256) per sealed record under the record's encryption
//! context; the record is encrypted locally with AES-256-GCM and the same context as associated
//! data. `Decrypt` always passes the expected context and the configured key, and fails closed:
//! a record KMS says does not open is refused; any other failure is the key service being
//! unavailable (see [`does_not_open`]), logged with `alarm="key_service_unavailable"`.
//! Plaintext data keys are wiped after use.

use async_trait::async_trait;
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use aws_sdk_kms::Client;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

use super::{decrypt_record, DataKey, SealContext, SealedBlob, Vault, VaultError};
use crate::telemetry::alarm;

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

/// Whether a KMS error code says "this ciphertext does not open with this key and context"
/// (tampered, sealed under another context, or under another key): the only KMS answers that
/// may mark a record as unusable. Everything else (access denied, a disabled or unusable key,
/// throttling, timeouts, network errors, no code at all) is the key service not doing the work,
/// which says nothing about the record.
fn does_not_open(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("InvalidCiphertextException" | "IncorrectKeyException")
    )
}

/// The key service did not do the work: logged once with the alarm field (operation, KMS error
/// code and message; never a plaintext, a data key or a record), and answered as
/// [`VaultError::Unavailable`].
fn unavailable(operation: &'static str, code: Option<&str>, detail: String) -> VaultError {
    tracing::error!(
        alarm = alarm::KEY_SERVICE_UNAVAILABLE,
        operation,
        code = code.unwrap_or("none"),
        error = %detail,
        "key service call failed"
    );
    VaultError::Unavailable(detail)
}

#[async_trait]
impl Vault for KmsVault {
    async fn data_key(&self, context: &SealContext) -> Result<DataKey, VaultError> {
        const OP: &str = "GenerateDataKey";
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
            .map_err(|e| {
                let code = e.as_service_error().and_then(|se| se.code());
                unavailable(OP, code, DisplayErrorContext(&e).to_string())
            })?;
        let key = Zeroizing::new(
            out.plaintext
                .map(Blob::into_inner)
                .ok_or_else(|| unavailable(OP, None, "no data key returned".into()))?,
        );
        let key: Zeroizing<[u8; 32]> = Zeroizing::new(
            key.as_slice()
                .try_into()
                .map_err(|_| unavailable(OP, None, "the data key is not 256 bits".into()))?,
        );
        let edk = out
            .ciphertext_blob
            .ok_or_else(|| unavailable(OP, None, "no encrypted data key returned".into()))?;
        Ok(DataKey::new(
            key,
            context,
            out.key_id.unwrap_or_else(|| self.key_id.clone()),
            STANDARD.encode(edk.as_ref()),
        ))
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
                let code = e.as_service_error().and_then(|se| se.code());
                if does_not_open(code) {
                    VaultError::Refused
                } else {
                    unavailable("Decrypt", code, DisplayErrorContext(&e).to_string())
                }
            })?;
        let key = Zeroizing::new(
            out.plaintext
                .map(Blob::into_inner)
                .ok_or_else(|| unavailable("Decrypt", None, "no plaintext returned".into()))?,
        );
        decrypt_record(&key, context, blob)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_ciphertext_that_does_not_open_is_refused() {
        // GIVEN the error codes KMS answers Decrypt with
        // WHEN each is classified
        // THEN only "this ciphertext does not open with this key and context" refuses the
        // record; access, key state, throttling and transport failures are the key service's
        for code in ["InvalidCiphertextException", "IncorrectKeyException"] {
            assert!(does_not_open(Some(code)), "{code}");
        }
        for code in [
            "AccessDeniedException",
            "InvalidKeyUsageException",
            "DisabledException",
            "KMSInvalidStateException",
            "KeyUnavailableException",
            "NotFoundException",
            "DependencyTimeoutException",
            "KMSInternalException",
            "ThrottlingException",
            "InvalidGrantTokenException",
        ] {
            assert!(!does_not_open(Some(code)), "{code}");
        }
        // AND a failure without a code (timeout, connection refused) is not a refusal either
        assert!(!does_not_open(None));
    }
}
