//! The table's stream, read: which records say that an invite moved into `authorized`.
//!
//! It reads the item images a DynamoDB stream delivers (NEW_AND_OLD_IMAGES), so it knows the
//! item layout the rest of the adapter writes; the confirmation function asks it what each
//! record means.

use serde_dynamo::{AttributeValue, Item};

use super::item::INVITE_ENTITY;
use crate::domain::{InviteId, InviteStatus};

/// What a stream record says happened, as far as the flows act on it.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamChange {
    /// An invite's `status` changed into `authorized`: its confirmations are owed.
    InviteAuthorized(InviteId),
    /// Anything else: another item, another change, or a removal (TTL deletions).
    Other,
}

/// The history step a record inserts, if it is the insert of an invite event item (the
/// `webhooks` function turns each into messages).
pub fn step_of(event_name: &str, new: &Item) -> Option<crate::webhooks::FedStep> {
    if event_name != "INSERT" || string_attr(new, "entity") != Some("event") {
        return None;
    }
    let invite = string_attr(new, "pk")?
        .strip_prefix("INV#")
        .and_then(InviteId::parse)?;
    let key = string_attr(new, "sk")?.strip_prefix("EVT#")?.to_owned();
    let kind = string_attr(new, "kind").and_then(crate::domain::InviteEventKind::parse)?;
    let at = match new.get("at")? {
        AttributeValue::N(n) => n.parse().ok()?,
        _ => return None,
    };
    Some(crate::webhooks::FedStep {
        invite,
        key,
        event: crate::domain::InviteEvent {
            kind,
            at: crate::domain::Timestamp(at),
            reason: string_attr(new, "reason").map(str::to_owned),
        },
    })
}

/// A record of an invite changing into `authorized` that names no valid invite.
#[derive(Debug, thiserror::Error)]
#[error("a stream record of an invite changing into authorized names no valid invite")]
pub struct UnreadableRecord;

fn string_attr<'a>(image: &'a Item, name: &str) -> Option<&'a str> {
    match image.get(name)? {
        AttributeValue::S(s) => Some(s.as_str()),
        _ => None,
    }
}

/// What a stream record (its `eventName` and its old and new images) says happened; a record
/// that looks like an invite changing into `authorized` but does not name a valid invite is an
/// error.
pub fn classify(
    event_name: &str,
    old: &Item,
    new: &Item,
) -> Result<StreamChange, UnreadableRecord> {
    if event_name == "REMOVE" {
        return Ok(StreamChange::Other);
    }
    let authorized = InviteStatus::Authorized.as_str();
    if string_attr(new, "entity") != Some(INVITE_ENTITY)
        || string_attr(new, "status") != Some(authorized)
        || string_attr(old, "status") == Some(authorized)
    {
        return Ok(StreamChange::Other);
    }
    string_attr(new, "invite_id")
        .and_then(InviteId::parse)
        .map(StreamChange::InviteAuthorized)
        .ok_or(UnreadableRecord)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn image(value: Value) -> Item {
        serde_json::from_value(value).unwrap()
    }

    fn invite_image(id: &str, status: &str) -> Item {
        image(json!({"entity": {"S": "invite"}, "invite_id": {"S": id}, "status": {"S": status}}))
    }

    #[test]
    fn only_a_change_into_authorized_is_acted_on() {
        // GIVEN records of an invite's changes, a removal and another item's change
        let id = "inv-abc";
        let empty = || image(json!({}));
        let cases = [
            (
                "MODIFY",
                invite_image(id, "granting"),
                invite_image(id, "authorized"),
                true,
            ),
            (
                "MODIFY",
                invite_image(id, "authorized"),
                invite_image(id, "authorized"),
                false,
            ),
            (
                "MODIFY",
                invite_image(id, "authorized"),
                invite_image(id, "confirmed"),
                false,
            ),
            ("INSERT", empty(), invite_image(id, "pending"), false),
            ("REMOVE", invite_image(id, "authorized"), empty(), false),
            (
                "MODIFY",
                empty(),
                image(json!({"entity": {"S": "send"}, "status": {"S": "authorized"}})),
                false,
            ),
        ];
        for (event_name, old, new, acts) in cases {
            // WHEN each is read
            let change = classify(event_name, &old, &new).unwrap();
            // THEN only the change into authorized names the invite
            assert_eq!(
                change == StreamChange::InviteAuthorized(InviteId::parse(id).unwrap()),
                acts,
                "{event_name}: {change:?}"
            );
        }
    }

    #[test]
    fn a_change_into_authorized_without_a_valid_invite_id_is_unreadable() {
        // GIVEN an invite changing into authorized whose id is malformed, and one without an id
        let bad = invite_image("BAD ID", "authorized");
        let missing = image(json!({"entity": {"S": "invite"}, "status": {"S": "authorized"}}));
        let old = invite_image("BAD ID", "granting");
        // WHEN each is read THEN it is an error, not an invite to confirm
        assert!(classify("MODIFY", &old, &bad).is_err());
        assert!(classify("MODIFY", &old, &missing).is_err());
    }
}
