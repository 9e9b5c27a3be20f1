//! Resending an invite: a new link and access code, emailed; the old ones open nothing from the
//! moment the new ones are stored.
//!
//! Order: count the resend (at most [`RESENDS_PER_DAY`] per invite per UTC day, one conditional
//! write), store the new secrets in one conditional write on the invite's `resends`
//! ([`crate::store::InviteStore::replace_secrets`]: of concurrent resends exactly one stores
//! its secrets, the others store nothing and send nothing), then email them through the send
//! record of that resend (`EmailKind::InviteResend(n)`), so the one email per resend goes out
//! once and carries the link that works. A process that dies between storing and sending
//! leaves a link nobody holds: the warehouse resends again (the answer it never got claimed
//! nothing).

use super::confirm::SendOnce;
use super::Services;
use crate::domain::{
    AccessCode, Invite, InviteEventKind, InviteId, InviteStatus, InviteToken, WarehouseId,
};
use crate::email::invite_email;
use crate::mailer::MailError;
use crate::store::{EmailKind, StoreError};

/// How many resends one invite may have in a UTC day.
pub const RESENDS_PER_DAY: u32 = 5;
const DAY_SECS: i64 = 24 * 3600;

/// Why an invite was not resent.
#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    /// No such invite of this warehouse.
    #[error("no such invite")]
    NotFound,
    /// The merchant connected their store through it.
    #[error("the invite is connected")]
    Connected,
    /// The warehouse withdrew it.
    #[error("the invite is withdrawn")]
    Withdrawn,
    /// Its email bounced for good: the address takes no mail, a new invite is the way on.
    #[error("the invite is undeliverable")]
    Undeliverable,
    /// It expired: a new link would open an expired invite.
    #[error("the invite expired")]
    Expired,
    /// [`RESENDS_PER_DAY`] resends today already; the next day starts in `retry_after` seconds.
    #[error("too many resends today")]
    RateLimited {
        /// Seconds until the next UTC day.
        retry_after: i64,
    },
    /// Another resend of the same invite stored its link and code first; its email carries
    /// the ones that work, and this one sent nothing.
    #[error("another resend ran at the same time")]
    Concurrent,
    /// The mail service did not take the email. The new link and code are stored (the old
    /// ones are dead) and nobody holds them: resend again later.
    #[error("the mail service is unavailable")]
    MailUnavailable,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A resend done: the new link and code are stored, and the email was sent or refused.
#[derive(Debug)]
pub struct Resent {
    /// The invite as it is now (new `resends`, access code hint and status).
    pub invite: Invite,
    /// The new setup link (a secret, for the merchant only).
    pub setup_url: String,
    /// Why the mail service refused the email, if it did (then nothing was sent).
    pub email_error: Option<String>,
}

impl Services {
    /// Replaces the link and access code of a warehouse's own invite and emails the new ones
    /// to the merchant (see the module's order). The answer says `emailed` only after the mail
    /// service took the email.
    pub async fn resend_invite(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<Resent, ResendError> {
        let state = self.warehouse_invite(warehouse, raw_id).await?;
        let invite = state.ok_or(ResendError::NotFound)?.invite;
        self.check_resendable(&invite)?;
        self.count_resend(&invite.id).await?;
        let token = InviteToken::generate();
        let code = AccessCode::generate();
        let now = self.clock.now();
        let round = match self
            .store
            .replace_secrets(
                &invite.id,
                invite.resends,
                &token.hash(),
                &code.hash(),
                &code.hint(),
                now,
            )
            .await
        {
            Ok(round) => round,
            Err(StoreError::Conflict(_)) => return Err(self.why_not_replaced(&invite.id).await),
            Err(StoreError::Missing(_)) => return Err(ResendError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let invite = Invite {
            access_code_hash: code.hash(),
            access_code_hint: code.hint(),
            resends: round,
            updated_at: now,
            ..invite
        };
        tracing::info!(invite_id = %invite.id, resends = round, "invite link and code replaced");
        // Once per resend: its round is the step's scope.
        self.record_invite_event(
            &invite.id,
            InviteEventKind::Resent,
            Some(&round.to_string()),
            None,
        )
        .await;
        let setup_url = self
            .config
            .public_url(&format!("/setup/{}", token.expose()));
        self.email_resend(invite, setup_url, &code).await
    }

    /// Refuses a resend the invite's standing does not take.
    fn check_resendable(&self, invite: &Invite) -> Result<(), ResendError> {
        match invite.status {
            s if s.is_connected() => Err(ResendError::Connected),
            InviteStatus::Revoked => Err(ResendError::Withdrawn),
            InviteStatus::Undeliverable => Err(ResendError::Undeliverable),
            _ if invite.is_expired(self.clock.now()) => Err(ResendError::Expired),
            s if s.takes_resend() => Ok(()),
            _ => Err(ResendError::Concurrent),
        }
    }

    /// Counts one resend of the invite in today's window, or refuses it past the limit.
    async fn count_resend(&self, id: &InviteId) -> Result<(), ResendError> {
        let now = self.clock.now();
        let counted = self
            .count_hit(&format!("resend:{id}"), DAY_SECS, RESENDS_PER_DAY, now)
            .await?;
        if counted {
            return Ok(());
        }
        Err(ResendError::RateLimited {
            retry_after: DAY_SECS - now.0.rem_euclid(DAY_SECS),
        })
    }

    /// Why the conditional replacement found another invite than it read: its standing
    /// changed (connected, withdrawn…), or another resend stored its secrets first.
    async fn why_not_replaced(&self, id: &InviteId) -> ResendError {
        match self.store.invite(id).await {
            Ok(Some(now)) => match self.check_resendable(&now) {
                Err(e) => e,
                Ok(()) => ResendError::Concurrent,
            },
            Ok(None) => ResendError::NotFound,
            Err(e) => e.into(),
        }
    }

    /// Emails the replaced link and code once (the send record of this resend), then moves an
    /// invite whose first email never went out to `emailed` (or `email_failed`).
    async fn email_resend(
        &self,
        mut invite: Invite,
        setup_url: String,
        code: &AccessCode,
    ) -> Result<Resent, ResendError> {
        let cart_name = self.catalog.display_name(&invite.cart);
        let setup_page = self.config.public_url("/setup");
        let kind = EmailKind::InviteResend(invite.resends);
        let email = || invite_email(&invite, &cart_name, &setup_url, &setup_page, code);
        let email_error = match self.send_once(&invite.id, kind, email).await? {
            SendOnce::Sent | SendOnce::SentBefore => None,
            SendOnce::Failed(MailError::Unavailable(_)) | SendOnce::Busy => {
                tracing::warn!(invite_id = %invite.id, "resent invite not sent: the mail service is unavailable");
                return Err(ResendError::MailUnavailable);
            }
            SendOnce::Failed(e) => {
                tracing::warn!(invite_id = %invite.id, error = %e, "resent invite not sent");
                Some(e.code().to_owned())
            }
        };
        let to = match email_error {
            None => InviteStatus::Emailed,
            Some(_) => InviteStatus::EmailFailed,
        };
        // Only an invite still waiting for its first email changes status: one that was
        // emailed, or is being granted, stays as it is.
        if matches!(
            invite.status,
            InviteStatus::Pending | InviteStatus::EmailFailed
        ) {
            let now = self.clock.now();
            match self
                .store
                .set_invite_status(&invite.id, to, email_error.as_deref(), now)
                .await
            {
                Ok(()) => {
                    invite.status = to;
                    invite.status_reason = email_error.clone();
                    invite.updated_at = now;
                }
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Resent {
            invite,
            setup_url,
            email_error,
        })
    }
}

#[cfg(test)]
mod tests;
