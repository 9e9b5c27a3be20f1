//! The `credentials` flavour: the merchant creates API credentials in their own admin and types
//! them into the grant page. The entry names each field (with where to find it, in plain words)
//! and the read call that checks them before they are sealed (the entry's `token_url`, called
//! with HTTP Basic: the `key` field as the user, the `secret` field, or nothing, as the
//! password).

use serde::{Deserialize, Serialize};

use super::authorize::Flavour;
use super::pattern::{pattern_matches, Pattern};

/// The one read call that checks credentials before they are sealed (the entry's `token_url`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialCheck {
    /// `GET` with HTTP Basic: the key as the user, the secret (or nothing) as the password
    /// (WooCommerce's keys, PrestaShop's webservice key).
    #[default]
    BasicGet,
    /// `POST` of a JSON client-credentials grant (`grant_type`, `client_id` = the key,
    /// `client_secret` = the secret), answered with an access token (Shopware's integrations).
    ClientCredentials,
}

/// What a typed field is in the check call and in the sealed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialRole {
    /// The credential itself (PrestaShop's webservice key): the Basic user, sealed as the
    /// connection's access token.
    Key,
    /// The secret paired with the key, where the cart has one: the Basic password, sealed as
    /// the token secret.
    Secret,
}

/// One field the grant page asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialField {
    /// The form field's name (`^[a-z_]{1,32}$`).
    pub name: String,
    /// What the merchant's admin calls it.
    pub label: String,
    /// Where to find or create it, in plain words.
    pub help: String,
    /// What it is in the check call and the sealed record.
    pub role: CredentialRole,
    /// The shape a value must have (checked before any call).
    pub pattern: Pattern,
}

impl CredentialField {
    /// The value typed for this field, trimmed, if it has the field's shape.
    pub fn accept<'a>(&self, typed: Option<&'a str>) -> Option<&'a str> {
        let value = typed?.trim();
        (value.len() <= 512 && pattern_matches(&self.pattern, value)).then_some(value)
    }
}

/// Why an entry's credential fields are not usable, if they are not: only the `credentials`
/// flavour has them, and it has one `key` field, at most one `secret` field, names of the
/// right shape and each once.
pub fn check_fields(flavour: Flavour, fields: &[CredentialField]) -> Result<(), String> {
    if flavour != Flavour::Credentials {
        return match fields.is_empty() {
            true => Ok(()),
            false => Err("credential_fields belong to the credentials flavour".into()),
        };
    }
    let count = |role| fields.iter().filter(|f| f.role == role).count();
    if count(CredentialRole::Key) != 1 || count(CredentialRole::Secret) > 1 {
        return Err("credential_fields need one `key` field and at most one `secret` field".into());
    }
    for (i, f) in fields.iter().enumerate() {
        let shaped = !f.name.is_empty()
            && f.name.len() <= 32
            && f.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !shaped || fields[..i].iter().any(|g| g.name == f.name) {
            return Err(format!(
                "credential field {:?}: a name of a-z and _, once",
                f.name
            ));
        }
    }
    Ok(())
}
