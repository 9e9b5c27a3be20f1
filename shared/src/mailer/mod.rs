//! The mailer port: sends one email with a text and an HTML part.

#[cfg(feature = "embedded")]
pub mod outbox;
#[cfg(feature = "aws")]
pub mod ses;

use async_trait::async_trait;

#[cfg(feature = "embedded")]
pub use outbox::Outbox;
#[cfg(feature = "aws")]
pub use ses::SesMailer;

/// What went wrong sending an email.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A header value (recipient, subject, sender) holds CR, LF or NUL: refused before sending.
    #[error("the {0} holds a line break or NUL")]
    HeaderInjection(&'static str),
    /// The mail service refused the message (for example an unverified sender): retrying the
    /// same message will not help until someone fixes the cause.
    #[error("the mail service refused the message: {0}")]
    Rejected(String),
    /// The mail service could not be reached or throttled us: retry later.
    #[error("the mail service is unavailable: {0}")]
    Unavailable(String),
}

impl MailError {
    /// The stable code a warehouse is answered with (`email_error`): the mail service's own
    /// words stay in the log, never in an answer.
    pub fn code(&self) -> &'static str {
        match self {
            MailError::HeaderInjection(_) => "invalid_header",
            MailError::Rejected(_) => "mail_rejected",
            MailError::Unavailable(_) => "mail_unavailable",
        }
    }
}

/// One message, built by [`OutgoingEmail::new`], which refuses header injection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The single recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// Opaque correlation tags (`invite_id`, `kind`), never personal data.
    pub tags: Vec<(String, String)>,
    /// Names the message, for a sender that may send it again after a crash (a send record
    /// taken over when its lease ran out): a mailer that can keep one copy per key does (the
    /// outbox writes one file per key). SES cannot: there a repeat is a second email.
    pub idempotency_key: Option<String>,
    /// Where replies go (a warehouse's support address), if not to the sender.
    pub reply_to: Option<String>,
}

/// Refuses a header value holding CR, LF or NUL.
pub fn check_header(what: &'static str, value: &str) -> Result<(), MailError> {
    if value.contains(['\r', '\n', '\0']) {
        Err(MailError::HeaderInjection(what))
    } else {
        Ok(())
    }
}

impl OutgoingEmail {
    /// Builds a message; CR, LF or NUL in the recipient or subject is refused.
    pub fn new(
        to: &str,
        subject: &str,
        text: String,
        html: String,
        tags: Vec<(String, String)>,
    ) -> Result<Self, MailError> {
        check_header("recipient", to)?;
        check_header("subject", subject)?;
        Ok(OutgoingEmail {
            to: to.to_owned(),
            subject: subject.to_owned(),
            text,
            html,
            tags,
            idempotency_key: None,
            reply_to: None,
        })
    }

    /// The same message, named `key` for mailers that keep one copy per key (an opaque id:
    /// never personal data).
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

impl OutgoingEmail {
    /// The same message with replies going to `address`; CR, LF or NUL in it is refused.
    pub fn with_reply_to(mut self, address: &str) -> Result<Self, MailError> {
        check_header("reply-to", address)?;
        self.reply_to = Some(address.to_owned());
        Ok(self)
    }
}

/// The mailer port.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `email`; answers the message id the service gave it.
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_injection_is_refused() {
        for (to, subject) in [
            ("a@b.test\r\nBcc: x@evil.test", "Hi"),
            ("a@b.test", "Hi\nBcc: x@evil.test"),
            ("a@b.test", "Hi\0"),
        ] {
            assert!(matches!(
                OutgoingEmail::new(to, subject, String::new(), String::new(), vec![]),
                Err(MailError::HeaderInjection(_))
            ));
        }
        assert!(OutgoingEmail::new("a@b.test", "Hi", "t".into(), "h".into(), vec![]).is_ok());
    }
}
