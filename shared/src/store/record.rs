//! How records are split between indexed attributes (or columns) and an immutable JSON body,
//! the same for every adapter: fields that change after a record is made are never in `body`,
//! so no writer rewrites a whole record it read earlier.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::StoreError;

/// Fields of an invite that change after it is made (the access code and `resends` by a
/// resend). Records made before a field was mutable still hold it in `body`; an adapter
/// overrides it only where the record has its own attribute.
pub const INVITE_MUTABLE: [&str; 8] = [
    "version",
    "status",
    "status_reason",
    "updated_at",
    "expires_at",
    "access_code_hash",
    "access_code_hint",
    "resends",
];
/// Fields of an attempt that change after it is made.
pub const ATTEMPT_MUTABLE: [&str; 2] = ["status", "claim_until"];
/// Fields of a connection that change after it is made.
pub const CONNECTION_MUTABLE: [&str; 9] = [
    "status",
    "version",
    "tokens",
    "token_expires_at",
    "refreshed_at",
    "granted_at",
    "care_at",
    "care_noticed",
    "subscribed_at",
];

/// The one field of a disconnection that changes after it is made.
pub const DISCONNECTION_MUTABLE: [&str; 1] = ["revocation"];

/// The JSON body of `record` without its `mutable` fields.
pub fn body_without<T: Serialize>(record: &T, mutable: &[&str]) -> Result<String, StoreError> {
    let mut value = serde_json::to_value(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if let Some(obj) = value.as_object_mut() {
        for field in mutable {
            obj.remove(*field);
        }
    }
    Ok(value.to_string())
}

/// Rebuilds a record from its body and its mutable fields.
pub fn with_fields<T: DeserializeOwned>(
    body: &str,
    fields: Vec<(&str, Value)>,
) -> Result<T, StoreError> {
    let mut value: Value =
        serde_json::from_str(body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| StoreError::Corrupt("record body is not an object".into()))?;
    for (k, v) in fields {
        obj.insert(k.to_owned(), v);
    }
    serde_json::from_value(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}
