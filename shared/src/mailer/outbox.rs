//! The embedded mailer: writes each message as an `.eml` file under `<data dir>/outbox/` and
//! logs only the recipient and subject.
//!
//! A message with an idempotency key is written once: its file is named by the key (written
//! to a temporary file, then renamed into place, so a crash leaves either no message or the
//! whole one), and sending it again while that file exists writes nothing. So a sender that
//! died between writing a message and recording it sent, and sends it again, leaves one email.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use mail_builder::headers::address::Address;
use mail_builder::headers::text::Text;
use mail_builder::MessageBuilder;

use super::{check_header, MailError, Mailer, OutgoingEmail};
use crate::domain::secrets::random_bytes;

/// The outbox mailer.
pub struct Outbox {
    dir: PathBuf,
    from: String,
}

impl Outbox {
    /// An outbox in `<data_dir>/outbox`, sending as `from`.
    pub fn new(data_dir: &Path, from: &str) -> Result<Self, MailError> {
        check_header("sender", from)?;
        let dir = data_dir.join("outbox");
        std::fs::create_dir_all(&dir).map_err(|e| MailError::Unavailable(e.to_string()))?;
        Ok(Outbox {
            dir,
            from: from.to_owned(),
        })
    }

    /// The folder the messages are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The file name (without `.eml`) and message id of a message with idempotency key `key`: the
/// key itself when it is made of letters, digits, `-` and `_` only (an opaque id, so it is safe
/// as a file name and in a `Message-ID`), else its SHA-256.
fn keyed_name(key: &str) -> String {
    let plain = !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain {
        key.to_owned()
    } else {
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(key.as_bytes()))
    }
}

/// The display name and the address of a sender written `Name <address>` (or the address
/// alone).
fn sender_parts(from: &str) -> (Option<&str>, &str) {
    match from
        .trim()
        .strip_suffix('>')
        .and_then(|f| f.rsplit_once('<'))
    {
        Some((name, address)) => {
            let name = name.trim().trim_matches('"');
            ((!name.is_empty()).then_some(name), address.trim())
        }
        None => (None, from.trim()),
    }
}

/// Renders a message as MIME multipart/alternative (text, then HTML), with `mail-builder`
/// choosing each part's transfer encoding and encoding non-ASCII headers (RFC 2047).
pub fn to_mime(
    from: &str,
    email: &OutgoingEmail,
    message_id: &str,
    at: time::OffsetDateTime,
) -> Result<String, MailError> {
    let (name, address) = sender_parts(from);
    let sender = match name {
        Some(name) => Address::new_address(Some(name), address),
        None => Address::new_address(None::<&str>, address),
    };
    let mut message = MessageBuilder::new()
        .from(sender)
        .to(email.to.as_str())
        .subject(email.subject.as_str())
        .date(at.unix_timestamp())
        .message_id(format!("{message_id}@cartlink.local"));
    if let Some(reply_to) = &email.reply_to {
        message = message.reply_to(reply_to.as_str());
    }
    for (k, v) in &email.tags {
        message = message.header(format!("X-Cartlink-{k}"), Text::new(v.as_str()));
    }
    message
        .text_body(email.text.as_str())
        .html_body(email.html.as_str())
        .write_to_string()
        .map_err(|e| MailError::Unavailable(e.to_string()))
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        check_header("recipient", &email.to)?;
        check_header("subject", &email.subject)?;
        for (k, v) in &email.tags {
            check_header("tag", k)?;
            check_header("tag", v)?;
        }
        let now = time::OffsetDateTime::now_utc();
        let nonce = hex::encode(random_bytes::<6>());
        let message_id = match &email.idempotency_key {
            Some(key) => keyed_name(key),
            None => format!("{}-{nonce}", now.unix_timestamp_nanos()),
        };
        let path = self.dir.join(format!("{message_id}.eml"));
        if email.idempotency_key.is_some() && tokio::fs::try_exists(&path).await.unwrap_or(false) {
            tracing::info!(message_id = %message_id, "message already in the outbox; not written again");
            return Ok(message_id);
        }
        let mime = to_mime(&self.from, email, &message_id, now)?;
        let tmp = self.dir.join(format!(".{message_id}.{nonce}.tmp"));
        tokio::fs::write(&tmp, mime)
            .await
            .map_err(|e| MailError::Unavailable(e.to_string()))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| MailError::Unavailable(e.to_string()))?;
        // The tags say which email it is; the address and subject are personal data, kept out.
        tracing::info!(message_id = %message_id, tags = ?email.tags, "email written to the outbox");
        Ok(message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_message_becomes_one_eml_file_with_both_parts() {
        // GIVEN an outbox
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path(), "cartlink <no-reply@cartlink.test>").unwrap();
        let email = OutgoingEmail::new(
            "m@shop.test",
            "Zoë's Warehouse asks",
            "plain body".into(),
            "<p>html body</p>".into(),
            vec![("invite-id".into(), "inv-1".into())],
        )
        .unwrap();
        // WHEN a message is sent
        let id = outbox.send(&email).await.unwrap();
        // THEN exactly one .eml file holds it
        let files: Vec<_> = std::fs::read_dir(outbox.dir()).unwrap().collect();
        assert_eq!(files.len(), 1);
        // AND a MIME parser reads back the recipient, the subject, the tag and both parts
        let raw = std::fs::read(outbox.dir().join(format!("{id}.eml"))).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let to = parsed.to().and_then(|a| a.first()).unwrap();
        assert_eq!(to.address(), Some("m@shop.test"));
        assert_eq!(parsed.subject(), Some("Zoë's Warehouse asks"));
        let tag = parsed
            .header("X-Cartlink-invite-id")
            .and_then(|h| h.as_text());
        assert_eq!(tag, Some("inv-1"));
        assert_eq!(parsed.body_text(0).as_deref(), Some("plain body"));
        assert_eq!(parsed.body_html(0).as_deref(), Some("<p>html body</p>"));
    }

    #[tokio::test]
    async fn the_sender_keeps_its_display_name() {
        // GIVEN an outbox sending as `Name <address>`
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path(), "Cartlink Relay <no-reply@cartlink.test>").unwrap();
        let email =
            OutgoingEmail::new("m@shop.test", "Hi", "t".into(), "h".into(), vec![]).unwrap();
        // WHEN a message is sent
        let id = outbox.send(&email).await.unwrap();
        // THEN its From header carries both the name and the address
        let raw = std::fs::read(outbox.dir().join(format!("{id}.eml"))).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let from = parsed.from().and_then(|a| a.first()).unwrap();
        assert_eq!(from.name(), Some("Cartlink Relay"));
        assert_eq!(from.address(), Some("no-reply@cartlink.test"));
    }

    #[tokio::test]
    async fn a_message_sent_again_under_its_idempotency_key_stays_one_file() {
        // GIVEN an outbox and a message named by an idempotency key
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path(), "cartlink <no-reply@cartlink.test>").unwrap();
        let email = OutgoingEmail::new("m@shop.test", "Hi", "t".into(), "h".into(), vec![])
            .unwrap()
            .with_idempotency_key("inv-1-merchant_confirmation");
        // WHEN it is sent twice (a sender that died before recording the first send)
        let first = outbox.send(&email).await.unwrap();
        let second = outbox.send(&email).await.unwrap();
        // THEN the outbox holds one message, under the same id both times
        assert_eq!(first, second);
        let files: Vec<_> = std::fs::read_dir(outbox.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files, vec!["inv-1-merchant_confirmation.eml".to_owned()]);
        // AND messages without a key, or with another, are each their own file
        let plain =
            OutgoingEmail::new("m@shop.test", "Hi", "t".into(), "h".into(), vec![]).unwrap();
        outbox.send(&plain).await.unwrap();
        outbox.send(&plain).await.unwrap();
        outbox
            .send(&email.clone().with_idempotency_key("inv-1/../x"))
            .await
            .unwrap();
        assert_eq!(std::fs::read_dir(outbox.dir()).unwrap().count(), 4);
    }

    #[tokio::test]
    async fn a_sender_with_a_line_break_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Outbox::new(dir.path(), "a@b.test\nBcc: x@y.test").is_err());
    }
}
