//! Wix's webhooks to the app (`[wix_webhooks]`): the app's public key, as the app dashboard
//! shows it (a PEM `PUBLIC KEY`, an RSA SubjectPublicKeyInfo), with which every webhook's JWT
//! is verified. It is read and checked when the configuration loads, so a key pasted wrong
//! stops the start instead of refusing every uninstall.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use spki::der::Decode;
use spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

use super::{err, ConfigError};

/// The algorithm of an RSA SubjectPublicKeyInfo (`rsaEncryption`, RFC 8017 A.1).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The app's public key for Wix's webhooks.
#[derive(Clone, Debug)]
pub struct WixWebhooks {
    /// The key as an RSAPublicKey (PKCS #1) in DER: what an RS256 signature is verified with.
    pub public_key: Vec<u8>,
}

/// `[wix_webhooks]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WixWebhooksEntry {
    public_key: Option<String>,
    public_key_env: Option<String>,
}

impl WixWebhooksEntry {
    /// The key, inline or from the named variable, checked to be one RSA public key in PEM.
    pub(super) fn read(
        self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<WixWebhooks, ConfigError> {
        let what = "wix_webhooks";
        let pem = match (self.public_key, self.public_key_env) {
            (Some(key), None) => key,
            (None, Some(var)) => {
                env(&var).ok_or_else(|| err(format!("{what}: the variable {var} is not set")))?
            }
            _ => {
                return Err(err(format!(
                    "{what}: give exactly one of public_key and public_key_env"
                )))
            }
        };
        let public_key = rsa_public_key(&pem).ok_or_else(|| {
            err(format!(
                "{what}: the public key must be the app's RSA key in PEM, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----"
            ))
        })?;
        Ok(WixWebhooks { public_key })
    }
}

/// The RSAPublicKey inside a PEM `PUBLIC KEY` (SubjectPublicKeyInfo of `rsaEncryption`).
pub fn rsa_public_key(pem: &str) -> Option<Vec<u8>> {
    let pem = pem.trim();
    let body = pem
        .strip_prefix("-----BEGIN PUBLIC KEY-----")?
        .strip_suffix("-----END PUBLIC KEY-----")?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD.decode(b64).ok()?;
    let info = SubjectPublicKeyInfoRef::from_der(&der).ok()?;
    if info.algorithm.oid != RSA_ENCRYPTION {
        return None;
    }
    info.subject_public_key.as_bytes().map(<[u8]>::to_vec)
}
