//! A grant that did not complete at the cart: the attempt closed as declined or failed, a fresh
//! link to try again, and (for a failure, once) an email to the merchant with it.

use super::{refused, CallbackError};
use crate::domain::{
    AttemptStatus, GrantAttempt, Invite, InviteEventKind, InviteToken, Refusal, Timestamp,
};
use crate::email::grant_failed_email;
use crate::service::history::attempt_scope;
use crate::service::Services;
use crate::store::StoreError;

/// The `failed` event's reason when the cart answered the authorization with an error.
pub const FAILED_CART_ERROR: &str = "cart_error";
/// The `failed` event's reason when the cart did not complete the exchange (or the key or
/// token calls of other flavours).
pub const FAILED_AT_CART: &str = "cart_refused";

impl Services {
    /// The cart's own error answer (`error=access_denied` when the merchant declined): closes
    /// the open attempt, unclaimed since nothing is sent to the cart, as declined or failed, and
    /// offers a link to try again; a failure (not a decline) is emailed to the merchant.
    pub(in crate::service) async fn cart_error(
        &self,
        attempt: &GrantAttempt,
        invite: &Invite,
        error: &str,
    ) -> Result<CallbackError, StoreError> {
        let declined = error == "access_denied";
        let outcome = if declined {
            AttemptStatus::Declined
        } else {
            AttemptStatus::Failed
        };
        // The cart's own answer, sent to no cart: the attempt is closed from open, unclaimed.
        match self
            .store
            .close_attempt(&attempt.state_hash, AttemptStatus::Open, outcome)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(refused(Refusal::AttemptUsed)),
            Err(e) => return Err(e),
        }
        let (kind, reason) = if declined {
            (InviteEventKind::Declined, None)
        } else {
            (InviteEventKind::Failed, Some(FAILED_CART_ERROR))
        };
        let scope = attempt_scope(&attempt.state_hash);
        self.record_invite_event(&invite.id, kind, Some(scope), reason)
            .await;
        let retry_url = self.retry_url(invite, self.clock.now()).await;
        // The error code is the cart's word; keep only a short, plain form of it.
        let code: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect();
        tracing::info!(invite_id = %invite.id, reason = if declined { "declined" } else { "cart_error" }, error = %code, "grant not completed at the cart");
        Ok(if declined {
            CallbackError::Declined { retry_url }
        } else {
            let emailed = self.email_failure(invite, retry_url.as_deref()).await;
            CallbackError::CartFailed {
                reason: format!("the cart answered {code}"),
                retry_url,
                emailed,
            }
        })
    }

    /// The cart did not complete a grant (a failed exchange, keys or token calls refused):
    /// closes this request's claim as failed, mints a link to try again, and emails it to the
    /// merchant. Only the call that closed the attempt sends the email, so a repeat does not.
    pub(in crate::service) async fn failed_at_cart(
        &self,
        attempt: &GrantAttempt,
        invite: &Invite,
        now: Timestamp,
        reason: String,
    ) -> CallbackError {
        let (retry_url, emailed) = self
            .close_as_failed(attempt, invite, now, FAILED_AT_CART)
            .await;
        CallbackError::CartFailed {
            reason,
            retry_url,
            emailed,
        }
    }

    /// Closes this request's claim as failed and records `failed` with `code` (only the call
    /// that closed it records and emails), then mints a link to try again: answers the link
    /// and whether the email with it went out.
    pub(in crate::service) async fn close_as_failed(
        &self,
        attempt: &GrantAttempt,
        invite: &Invite,
        now: Timestamp,
        code: &'static str,
    ) -> (Option<String>, bool) {
        let closed = self.close_quietly(attempt, AttemptStatus::Failed).await;
        if closed {
            let scope = attempt_scope(&attempt.state_hash);
            self.record_invite_event(&invite.id, InviteEventKind::Failed, Some(scope), Some(code))
                .await;
        }
        let retry_url = self.retry_url(invite, now).await;
        let emailed = closed && self.email_failure(invite, retry_url.as_deref()).await;
        (retry_url, emailed)
    }

    /// Closes the attempt this request claimed; answers whether this call closed it.
    pub(in crate::service) async fn close_quietly(
        &self,
        attempt: &GrantAttempt,
        outcome: AttemptStatus,
    ) -> bool {
        match self
            .store
            .close_attempt(&attempt.state_hash, AttemptStatus::Exchanging, outcome)
            .await
        {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "could not close the grant attempt");
                false
            }
        }
    }

    /// Tells the merchant that the grant failed, with the link to try again. A mail failure is
    /// logged and does not change what the callback answers; answers whether it went out.
    pub(in crate::service) async fn email_failure(
        &self,
        invite: &Invite,
        retry_url: Option<&str>,
    ) -> bool {
        let cart_name = self.catalog.display_name(&invite.cart);
        let sent = match grant_failed_email(invite, &cart_name, retry_url) {
            Ok(mail) => self.mailer.send(&mail).await.map(|_| ()),
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => {
                tracing::info!(invite_id = %invite.id, "failure email sent");
                true
            }
            Err(e) => {
                tracing::warn!(invite_id = %invite.id, error = %e, "failure email not sent");
                false
            }
        }
    }

    /// A fresh setup link so the merchant can try again without the email.
    pub(in crate::service) async fn retry_url(
        &self,
        invite: &Invite,
        now: Timestamp,
    ) -> Option<String> {
        if !invite.accepts_grant(now) {
            return None;
        }
        let token = InviteToken::generate();
        match self.store.add_link(&invite.id, &token.hash(), now).await {
            Ok(()) => Some(
                self.config
                    .public_url(&format!("/setup/{}", token.expose())),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not mint a retry link");
                None
            }
        }
    }
}
