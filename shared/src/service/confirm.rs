//! Confirmation: once an invite is authorized, the merchant and the warehouse are each told
//! exactly once, through a send record per (invite, email kind) that is leased while sending
//! (`Services::send_once`, which the re-authorization notice uses too).
//!
//! What is owed is read from the store: every invite in `authorized` ([`Services::confirm_owed`]),
//! so a confirmation whose "invite authorized" event was lost with a process is still sent.
//! Exactly once holds for the send records; the message itself carries the idempotency key
//! `<invite id>-<kind>`, so a sender that died after the mailer took the message and before the
//! record said so, and whose lease another sender took over, leaves one email in the outbox.
//! SES has no such key: there that window sends the email a second time (at least once).

use super::Services;
use crate::domain::{InviteId, InviteStatus};
use crate::email::{merchant_confirmation, warehouse_confirmation};
use crate::mailer::{MailError, OutgoingEmail};
use crate::store::{EmailKind, SendClaim, StoreError};

/// How long a sender holds a send record before another may take it over: one lease for every
/// email sent once.
pub const SEND_LEASE_SECS: i64 = 120;
/// How many owed invites one [`Services::confirm_owed`] takes on.
pub const OWED_PER_SWEEP: usize = 100;

/// Why a confirmation is not finished; the event should be delivered again later.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// The invite is unknown, or not authorized (a stray event).
    #[error("invite {0} is not authorized")]
    NotAuthorized(InviteId),
    /// Another sender holds the lease of one of the emails.
    #[error("another sender is sending")]
    Busy,
    /// The mail service refused or failed.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a confirmation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Confirmed {
    /// Emails sent by this call.
    pub sent: Vec<EmailKind>,
}

impl Services {
    /// Sends the two confirmations of an authorized invite, each at most once across retries
    /// and concurrent deliveries, then moves the invite to `confirmed`.
    pub async fn confirm(&self, invite_id: &InviteId) -> Result<Confirmed, ConfirmError> {
        let invite = self
            .store
            .invite(invite_id)
            .await?
            .ok_or_else(|| ConfirmError::NotAuthorized(invite_id.clone()))?;
        if invite.status == InviteStatus::Confirmed {
            return Ok(Confirmed::default());
        }
        if invite.status != InviteStatus::Authorized {
            return Err(ConfirmError::NotAuthorized(invite_id.clone()));
        }
        let connection = self.store.connection_for_invite(invite_id).await?;
        let connected_at = connection
            .as_ref()
            .map_or(invite.updated_at, |c| c.created_at);
        let account = connection.as_ref().and_then(|c| c.account.clone());
        let cart_name = self.catalog.display_name(&invite.cart);
        let manage_url = match &connection {
            Some(c) => Some(self.issue_manage_link(c, &invite).await?),
            None => None,
        };
        let (invite, cart_name) = (&invite, &cart_name);
        let (manage_url, account) = (manage_url.as_deref(), account.as_deref());
        let send = |kind: EmailKind| {
            let email = move || match kind {
                EmailKind::MerchantConfirmation => {
                    merchant_confirmation(invite, cart_name, connected_at, manage_url)
                }
                _ => warehouse_confirmation(invite, cart_name, connected_at, account),
            };
            async move { (kind, self.send_once(invite_id, kind, email).await) }
        };
        // One after the other, on purpose: side by side, a crash during one send could catch
        // the other between the mail service taking it and its send record, and SES (which has
        // no idempotency key) would send it again after recovery. The confirmation is off the
        // merchant's critical path (the page already said "Successful Authorization").
        let merchant = send(EmailKind::MerchantConfirmation).await;
        let warehouse = send(EmailKind::WarehouseConfirmation).await;
        let mut done = Confirmed::default();
        let mut first_error: Option<ConfirmError> = None;
        for (kind, outcome) in [merchant, warehouse] {
            match outcome? {
                SendOnce::Sent => {
                    tracing::info!(invite_id = %invite_id, kind = kind.as_str(), "confirmation sent");
                    done.sent.push(kind);
                }
                SendOnce::SentBefore => {}
                SendOnce::Busy => {
                    first_error.get_or_insert(ConfirmError::Busy);
                }
                SendOnce::Failed(e) => {
                    tracing::warn!(invite_id = %invite_id, kind = kind.as_str(), error = %e, "confirmation not sent");
                    first_error.get_or_insert(e.into());
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        match self
            .store
            .set_invite_status(invite_id, InviteStatus::Confirmed, None, self.clock.now())
            .await
        {
            Ok(()) => {
                // Once per grant: only the write that moved the invite counts it (seconds, as
                // timestamps are kept).
                let waited = self.clock.now().0.saturating_sub(connected_at.0);
                crate::telemetry::metric::confirmation_latency(waited.unsigned_abs() * 1000);
                Ok(done)
            }
            Err(StoreError::Conflict(_)) => Ok(done),
            Err(e) => Err(e.into()),
        }
    }

    /// Confirms the invites the store says are owed their confirmations (those in
    /// `authorized`, oldest first, up to [`OWED_PER_SWEEP`]), one after the other; answers each
    /// invite's outcome. What runs at start and every few seconds where no change stream
    /// redelivers (the local server). The send records keep it from sending anything twice,
    /// also while an event for the same invite is being handled.
    pub async fn confirm_owed(
        &self,
    ) -> Result<Vec<(InviteId, Result<Confirmed, ConfirmError>)>, StoreError> {
        let owed = self.store.authorized_invites(OWED_PER_SWEEP).await?;
        let mut outcomes = Vec::with_capacity(owed.len());
        for invite in owed {
            let outcome = self.confirm(&invite.id).await;
            outcomes.push((invite.id, outcome));
        }
        Ok(outcomes)
    }

    /// Sends the `kind` email of an invite at most once, however many senders try at once: it
    /// claims the send record (leased for [`SEND_LEASE_SECS`]), builds and sends the email with
    /// the idempotency key `<invite id>-<kind>`, then records it sent, or releases the record
    /// when the email could not be built or sent, so a later try sends it. Confirmations and the
    /// re-authorization notice go out through here.
    pub(super) async fn send_once(
        &self,
        invite_id: &InviteId,
        kind: EmailKind,
        email: impl FnOnce() -> Result<OutgoingEmail, MailError>,
    ) -> Result<SendOnce, StoreError> {
        let now = self.clock.now();
        match self
            .store
            .claim_send(invite_id, kind, now, SEND_LEASE_SECS)
            .await?
        {
            SendClaim::AlreadySent(_) => return Ok(SendOnce::SentBefore),
            SendClaim::Busy => return Ok(SendOnce::Busy),
            SendClaim::Claimed => {}
        }
        let key = format!("{invite_id}-{}", kind.record_key());
        let sent = match email() {
            Ok(mail) => self.mailer.send(&mail.with_idempotency_key(key)).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(message_id) => {
                self.store
                    .finish_send(invite_id, kind, &message_id, self.clock.now())
                    .await?;
                Ok(SendOnce::Sent)
            }
            Err(e) => {
                self.store.release_send(invite_id, kind).await?;
                Ok(SendOnce::Failed(e))
            }
        }
    }
}

/// What one [`Services::send_once`] came to.
#[derive(Debug)]
pub(super) enum SendOnce {
    /// This call sent it.
    Sent,
    /// It was sent before.
    SentBefore,
    /// Another sender holds the record's lease.
    Busy,
    /// It could not be built or sent; the record is released for a later try.
    Failed(MailError),
}

#[cfg(test)]
mod round_trips;
#[cfg(test)]
mod tests;
