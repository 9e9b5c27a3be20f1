//! The embedded mailer: writes each message as an `.eml` file under `<data dir>/outbox/` and
//! logs only the recipient and subject.
//!
//! A message with an idempotency key is written once: its file is named by the key (written
//! to a temporary file, then renamed into place, so a crash leaves either no message or the
//! whole one), and sending it again while that file exists writes nothing. So a sender that
//! died between writing a message and recording it sent, and sends it again, leaves one email.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

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

/// Encodes a header value as an RFC 2047 encoded word when it is not plain ASCII.
fn header_value(value: &str) -> String {
    if value.is_ascii() {
        value.to_owned()
    } else {
        format!("=?UTF-8?B?{}?=", STANDARD.encode(value))
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

/// Folds base64 into 76-character lines.
fn base64_lines(body: &str) -> String {
    let encoded = STANDARD.encode(body);
    encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// Renders a message as MIME multipart/alternative (text, then HTML, each base64).
pub fn to_mime(from: &str, email: &OutgoingEmail, message_id: &str, date: &str) -> String {
    let boundary = format!("cartlink-{}", hex::encode(random_bytes::<12>()));
    let mut out = String::new();
    out.push_str(&format!("From: {}\r\n", header_value(from)));
    out.push_str(&format!("To: {}\r\n", email.to));
    out.push_str(&format!("Subject: {}\r\n", header_value(&email.subject)));
    out.push_str(&format!("Date: {date}\r\n"));
    out.push_str(&format!("Message-ID: <{message_id}@cartlink.local>\r\n"));
    for (k, v) in &email.tags {
        out.push_str(&format!("X-Cartlink-{k}: {v}\r\n"));
    }
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str(&format!(
        "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n"
    ));
    for (kind, body) in [("plain", &email.text), ("html", &email.html)] {
        out.push_str(&format!("--{boundary}\r\n"));
        out.push_str(&format!("Content-Type: text/{kind}; charset=utf-8\r\n"));
        out.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
        out.push_str(&base64_lines(body));
        out.push_str("\r\n");
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out
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
        let date = now
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap_or_default();
        let mime = to_mime(&self.from, email, &message_id, &date);
        let tmp = self.dir.join(format!(".{message_id}.{nonce}.tmp"));
        tokio::fs::write(&tmp, mime)
            .await
            .map_err(|e| MailError::Unavailable(e.to_string()))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| MailError::Unavailable(e.to_string()))?;
        tracing::info!(to = %email.to, subject = %email.subject, "email written to the outbox");
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
        // THEN exactly one .eml file holds it, with an encoded subject and both parts
        let files: Vec<_> = std::fs::read_dir(outbox.dir()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let raw = std::fs::read_to_string(outbox.dir().join(format!("{id}.eml"))).unwrap();
        assert!(raw.contains("To: m@shop.test\r\n"));
        assert!(raw.contains("Subject: =?UTF-8?B?"));
        assert!(raw.contains("X-Cartlink-invite-id: inv-1"));
        assert!(raw.contains(&STANDARD.encode("plain body")));
        assert!(raw.contains(&STANDARD.encode("<p>html body</p>")));
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
