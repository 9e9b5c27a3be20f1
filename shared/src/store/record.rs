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
///
/// Read as one JSON text: the fields appended to the body's object. A record whose body still
/// holds one of the fields (made before that field was mutable) reads as a duplicate field, an
/// error; that record, and any other that text does not read, is read again through a merged
/// [`Value`] ([`merged_with_fields`]), where the field's own value wins. The one text is the
/// fast way (no tree of values, no key copied), for every record written since.
pub fn with_fields<T: DeserializeOwned>(
    body: &str,
    fields: Vec<(&str, Value)>,
) -> Result<T, StoreError> {
    if let Some(joined) = joined_text(body, &fields) {
        if let Ok(record) = serde_json::from_slice(&joined) {
            return Ok(record);
        }
    }
    merged_with_fields(body, fields)
}

/// `body` (a JSON object's text) with `fields` appended as members; `None` when `body` does
/// not end as an object does.
fn joined_text(body: &str, fields: &[(&str, Value)]) -> Option<Vec<u8>> {
    let head = body.trim_end().strip_suffix('}')?;
    let mut joined = Vec::with_capacity(body.len() + 32 * fields.len());
    joined.extend_from_slice(head.as_bytes());
    let mut first = head.trim_end().ends_with('{');
    for (name, value) in fields {
        if !first {
            joined.push(b',');
        }
        first = false;
        // A name and a value write as JSON text without fail.
        serde_json::to_writer(&mut joined, name).ok()?;
        joined.push(b':');
        serde_json::to_writer(&mut joined, value).ok()?;
    }
    joined.push(b'}');
    Some(joined)
}

/// [`with_fields`] through a merged [`Value`]: each field replaces what the body holds under
/// its name.
fn merged_with_fields<T: DeserializeOwned>(
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

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Record {
        name: String,
        status: String,
        #[serde(default)]
        hint: Option<String>,
    }

    #[test]
    fn a_body_and_its_fields_read_as_one_record() {
        // GIVEN a body without its mutable fields, and those fields
        let body = r#"{"name":"Northwind"}"#;
        // WHEN the record is rebuilt
        let record: Record = with_fields(
            body,
            vec![("status", json!("issued")), ("hint", json!("AB"))],
        )
        .unwrap();
        // THEN it holds both
        assert_eq!(
            record,
            Record {
                name: "Northwind".into(),
                status: "issued".into(),
                hint: Some("AB".into()),
            }
        );
    }

    #[test]
    fn a_field_the_old_body_still_holds_takes_its_own_value() {
        // GIVEN a record made before `status` was mutable: its body holds an old status
        let body = r#"{"status":"issued","name":"Northwind"}"#;
        // WHEN it is rebuilt with its status field
        let record: Record = with_fields(body, vec![("status", json!("authorized"))]).unwrap();
        // THEN the field wins over the body
        assert_eq!(record.status, "authorized");
    }

    #[test]
    fn an_empty_body_reads_from_its_fields_alone() {
        // GIVEN an empty object and every field
        let fields = vec![("name", json!("N")), ("status", json!("issued"))];
        // WHEN it is rebuilt
        let record: Record = with_fields(" { } ", fields).unwrap();
        // THEN the fields are the record
        assert_eq!(record.name, "N");
    }

    #[test]
    fn a_body_that_is_not_an_object_is_corrupt() {
        // GIVEN a body that is a JSON array
        // WHEN it is rebuilt
        let read = with_fields::<Record>("[1]", vec![("status", json!("issued"))]);
        // THEN the store says the record is corrupt
        assert!(matches!(read, Err(StoreError::Corrupt(_))), "{read:?}");
    }

    #[test]
    fn a_record_missing_a_required_field_is_corrupt() {
        // GIVEN a body without `name`, which no field gives either
        // WHEN it is rebuilt
        let read = with_fields::<Record>("{}", vec![("status", json!("issued"))]);
        // THEN the store says the record is corrupt, naming the field
        match read {
            Err(StoreError::Corrupt(why)) => assert!(why.contains("name"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
