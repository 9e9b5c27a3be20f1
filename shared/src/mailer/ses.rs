//! The SES mailer: SESv2 `SendEmail` with Simple content (subject, text and HTML bodies), so SES
//! builds the headers; From and the configuration set come from configuration. CR, LF and NUL
//! are refused in every header value before anything is sent.

use async_trait::async_trait;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};
use aws_sdk_sesv2::Client;

use super::{check_header, MailError, Mailer, OutgoingEmail};
use crate::telemetry::alarm;

/// The SES mailer.
pub struct SesMailer {
    client: Client,
    from: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// Sends as `from`, through `configuration_set` if given.
    pub fn new(
        client: Client,
        from: &str,
        configuration_set: Option<String>,
    ) -> Result<Self, MailError> {
        check_header("sender", from)?;
        Ok(SesMailer {
            client,
            from: from.to_owned(),
            configuration_set,
        })
    }
}

fn content(text: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Rejected(e.to_string()))
}

/// SES tag values allow only ASCII letters, digits, `_` and `-`.
fn tag_safe(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        check_header("recipient", &email.to)?;
        check_header("subject", &email.subject)?;
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .text(content(&email.text)?)
                    .html(content(&email.html)?)
                    .build(),
            )
            .build();
        let mut req = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .set_reply_to_addresses(email.reply_to.clone().map(|r| vec![r]));
        for (k, v) in &email.tags {
            req = req.email_tags(
                MessageTag::builder()
                    .name(tag_safe(k))
                    .value(tag_safe(v))
                    .build()
                    .map_err(|e| MailError::Rejected(e.to_string()))?,
            );
        }
        match req.send().await {
            Ok(out) => {
                // The tags are opaque ids; the address and subject are personal data.
                tracing::info!(tags = ?email.tags, "email sent through SES");
                Ok(out.message_id.unwrap_or_default())
            }
            Err(e) => {
                let code = e
                    .as_service_error()
                    .and_then(|se| se.code())
                    .map(str::to_owned);
                let text = DisplayErrorContext(&e).to_string();
                Err(match code.as_deref() {
                    Some(
                        "MessageRejected"
                        | "MailFromDomainNotVerifiedException"
                        | "AccountSuspendedException"
                        | "SendingPausedException"
                        | "BadRequestException"
                        | "NotFoundException",
                    ) => MailError::Rejected(format!(
                        "{}: {}",
                        code.unwrap_or_default(),
                        e.as_service_error()
                            .and_then(|se| se.message())
                            .unwrap_or_default()
                    )),
                    _ => {
                        tracing::error!(alarm = alarm::MAIL_UNAVAILABLE, code = code.as_deref().unwrap_or("none"), error = %text, "mail service call failed");
                        MailError::Unavailable(text)
                    }
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_made_ses_safe() {
        assert_eq!(tag_safe("inv-abc_1"), "inv-abc_1");
        assert_eq!(tag_safe("a b@c"), "a_b_c");
    }
}
