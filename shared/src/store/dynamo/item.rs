//! The table's items as every part of the adapter sees them: attribute values, keys and index
//! keys.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{InviteId, InviteStatus, Timestamp, TokenHash};
use crate::store::{EmailKind, StoreError};

/// An item, or a key, as the SDK takes it.
pub(super) type Item = HashMap<String, AttributeValue>;

/// The one `gsi2pk` value: invites whose confirmations are owed.
pub(super) const GSI2_AUTHORIZED: &str = "AUTHORIZED";
/// How long invites, links and codes are kept after they expire (garbage collection only).
pub(super) const KEEP_AFTER_EXPIRY: i64 = 30 * 24 * 3600;
/// The `entity` of an invite item (the stream's reader looks for it too).
pub(super) const INVITE_ENTITY: &str = "invite";

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn get_s<'a>(item: &'a Item, k: &str) -> Option<&'a str> {
    item.get(k)?.as_s().ok().map(String::as_str)
}

pub(super) fn get_n(item: &Item, k: &str) -> Option<i64> {
    item.get(k)?.as_n().ok()?.parse().ok()
}

pub(super) fn need_s<'a>(item: &'a Item, k: &'static str) -> Result<&'a str, StoreError> {
    get_s(item, k).ok_or(StoreError::Corrupt(format!("item lacks {k}")))
}

pub(super) fn need_n(item: &Item, k: &'static str) -> Result<i64, StoreError> {
    get_n(item, k).ok_or(StoreError::Corrupt(format!("item lacks {k}")))
}

/// A record kept whole as one JSON `body` attribute, read as `what` (the error names it, never
/// the body's text: a body may hold a sealed secret).
pub(super) fn body_of<T: serde::de::DeserializeOwned>(
    item: &Item,
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(need_s(item, "body")?).map_err(|_| StoreError::Corrupt(what.into()))
}

pub(super) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

pub(super) fn invite_key(id: &str) -> Item {
    key(format!("INV#{id}"), "INV")
}

pub(super) fn attempt_key(state: &TokenHash) -> Item {
    key(format!("ATT#{}", state.as_str()), "ATT")
}

pub(super) fn connection_key(id: &str) -> Item {
    key(format!("CON#{id}"), "CON")
}

pub(super) fn send_key(invite: &InviteId, kind: EmailKind) -> Item {
    key(
        format!("INV#{invite}"),
        &format!("SEND#{}", kind.record_key()),
    )
}

pub(super) fn gsi1sk(status: InviteStatus, created_at: Timestamp, id: &str) -> String {
    format!("{}#{:012}#{}", status.as_str(), created_at.0, id)
}

pub(super) fn gsi2sk(authorized_at: Timestamp, id: &str) -> String {
    format!("{:012}#{}", authorized_at.0, id)
}

/// The `gsi3sk` of a listed record: creation time (12 digits), then id, so the order is total.
pub(super) fn list_sk(created_at: Timestamp, id: &str) -> String {
    format!("{:012}#{}", created_at.0, id)
}

/// The `:from0, :from1, …` of a status condition, with their values.
pub(super) fn status_in(from: &[InviteStatus]) -> (String, Vec<(String, AttributeValue)>) {
    let names: Vec<String> = (0..from.len()).map(|i| format!(":from{i}")).collect();
    let values = names
        .iter()
        .zip(from)
        .map(|(k, v)| (k.clone(), s(v.as_str())))
        .collect();
    (names.join(", "), values)
}
