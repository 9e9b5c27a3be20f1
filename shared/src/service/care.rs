//! Proactive care (the scheduled `care` function; a timer locally): every connection due by its
//! care time (`domain::care`, read through one indexed query, never a scan) is looked after
//! under a per-connection lease, so concurrent runs act once:
//!
//! - tokens nearing the cart's inactivity limit are refreshed through the refresh flow (its own
//!   lease and version checks make it safe beside a warehouse's fetch);
//! - a hard re-authorization deadline within 30 days gets one reconnect invite to the merchant
//!   (`service::reconnect`) and one `reauthorization_due` step in the original invite's history,
//!   which tells the warehouse by webhook. The invite's id comes from the connection and the
//!   deadline ([`care_invite_id`]) and is stored only if absent, its email goes through its send
//!   record, the step is recorded once per deadline: a run that dies anywhere in between is
//!   finished by the next one without a second invite or email;
//! - then the care time moves (with the noticed deadline), under the version read: a refresh
//!   that lands meanwhile wrote its own care time, and the next run settles the rest.

use super::confirm::{SendOnce, SEND_LEASE_SECS};
use super::connections::ConnectionError;
use super::history::step_key;
use super::reconnect::{derived_invite_id, ReconnectError};
use super::refresh::RefreshWhy;
use super::Services;
use crate::carts::CartSpec;
use crate::domain::secrets::random_token;
use crate::domain::{
    AccessCode, CareLimits, CartId, Connection, ConnectionId, ConnectionStatus, Invite,
    InviteEvent, InviteEventKind, InviteId, InviteStatus, InviteToken, Timestamp,
};
use crate::email::reauthorization_due_email;
use crate::mailer::MailError;
use crate::store::{EmailKind, SendClaim, StoreError};

mod subscribe;

/// How many due connections one query reads.
pub const CARE_PAGE: usize = 100;
/// How many pages one run takes on at most (the schedule runs again within the hour).
pub const CARE_PAGES_PER_RUN: usize = 10;
/// How long one run holds a connection's care lease at most (a refresh and an email).
pub const CARE_LEASE_SECS: i64 = 120;
/// How long one run takes on new connections: the function's timeout (60 s) less a refresh's
/// worst case; what is left stays due for the next run (every 15 minutes).
pub const CARE_RUN_BUDGET: std::time::Duration = std::time::Duration::from_secs(40);

/// Why one connection's care did not finish; it stays due, and the next run tries again.
#[derive(Debug, thiserror::Error)]
pub enum CareError {
    /// The refresh failed (the cart, the key service or the store).
    #[error("refresh: {0}")]
    Refresh(#[from] ConnectionError),
    /// The reconnect invite was not made or emailed.
    #[error("reconnect invite: {0}")]
    Reconnect(#[from] ReconnectError),
    /// The site's uninstall subscription was not made sure of.
    #[error("subscription: {0}")]
    Subscribe(#[from] subscribe::SubscribeError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CareRun {
    /// Due connections read.
    pub due: usize,
    /// Connections whose tokens this run refreshed.
    pub refreshed: usize,
    /// Connections whose merchant this run invited to reconnect ahead of a deadline.
    pub noticed: usize,
    /// Connections another run was caring for.
    pub busy: usize,
    /// Connections whose care failed (they stay due).
    pub failed: usize,
}

/// What care did for one connection.
#[derive(Debug, Default)]
struct Cared {
    refreshed: bool,
    noticed: bool,
    busy: bool,
}

/// The id of the reconnect invite care makes for `connection` ahead of `deadline`: the same for
/// every run, so racing or repeated runs store one invite per deadline.
pub fn care_invite_id(connection: &ConnectionId, deadline: Timestamp) -> InviteId {
    derived_invite_id(&[
        b"care-reconnect#",
        connection.as_str().as_bytes(),
        &deadline.0.to_be_bytes(),
    ])
}

impl Services {
    /// The care limits of `cart` (none for a cart no longer in the catalog).
    pub(super) fn care_limits(&self, cart: &CartId) -> CareLimits {
        self.catalog
            .get(cart)
            .map(CartSpec::care_limits)
            .unwrap_or_default()
    }

    /// One run of proactive care over every connection due now, a page at a time (one query
    /// each). Fails only when the schedule cannot be read; each connection's failure is logged
    /// and counted, and it stays due.
    pub async fn run_care(&self) -> Result<CareRun, StoreError> {
        self.run_care_within(CARE_RUN_BUDGET).await
    }

    /// [`Services::run_care`], taking on no new connection once `budget` has passed (by the
    /// process's own monotonic clock, not the clock port: it bounds the function's run time).
    pub async fn run_care_within(
        &self,
        budget: std::time::Duration,
    ) -> Result<CareRun, StoreError> {
        let started = tokio::time::Instant::now();
        let mut run = CareRun::default();
        for _ in 0..CARE_PAGES_PER_RUN {
            let due = self.store.due_for_care(self.clock.now(), CARE_PAGE).await?;
            let read = due.len();
            let failed_before = run.failed;
            for connection in due {
                if started.elapsed() >= budget {
                    tracing::info!(due = run.due, "care run out of time; the rest stays due");
                    return Ok(run);
                }
                run.due += 1;
                match self.care_for(&connection.id).await {
                    Ok(cared) => {
                        run.refreshed += usize::from(cared.refreshed);
                        run.noticed += usize::from(cared.noticed);
                        run.busy += usize::from(cared.busy);
                    }
                    Err(e) => {
                        tracing::warn!(connection_id = %connection.id, error = %e, "care not finished; tried again next run");
                        run.failed += 1;
                    }
                }
            }
            // A short page is the last; a page with failures would be read again as it is.
            if read < CARE_PAGE || run.failed > failed_before {
                break;
            }
        }
        tracing::info!(
            due = run.due,
            refreshed = run.refreshed,
            noticed = run.noticed,
            busy = run.busy,
            failed = run.failed,
            "care run done"
        );
        Ok(run)
    }

    /// Cares for one connection under its care lease; another run holding it is left to it.
    async fn care_for(&self, id: &ConnectionId) -> Result<Cared, CareError> {
        let lease = format!("care:{id}");
        let owner = random_token();
        if !self
            .store
            .take_lease(&lease, &owner, self.clock.now(), CARE_LEASE_SECS)
            .await?
        {
            return Ok(Cared {
                busy: true,
                ..Cared::default()
            });
        }
        let cared = self.care_under_lease(id).await;
        if let Err(e) = self.store.release_lease(&lease, &owner).await {
            // It expires on its own.
            tracing::warn!(connection_id = %id, error = %e, "care lease not released");
        }
        cared
    }

    /// Refreshes, notices, then moves the care time of the connection as it is stored now (the
    /// index may lag).
    async fn care_under_lease(&self, id: &ConnectionId) -> Result<Cared, CareError> {
        let mut cared = Cared::default();
        let Some(mut connection) = self.store.connection(id).await? else {
            return Ok(cared);
        };
        if connection.status != ConnectionStatus::Active {
            return Ok(cared);
        }
        let limits = self.care_limits(&connection.cart);
        let now = self.clock.now();
        if connection
            .refresh_care_at(&limits)
            .is_some_and(|t| t <= now)
        {
            let read = connection.version;
            let open = self.open_stored(connection).await?;
            match self.freshen(open, RefreshWhy::Care).await {
                Ok(fresh) => connection = fresh.connection,
                // The refusal path marked it, told the warehouse and invited the merchant.
                Err(ConnectionError::NeedsReauthorization) => return Ok(cared),
                Err(e) => return Err(e.into()),
            }
            cared.refreshed = connection.version != read;
        }
        let mut connection = self.subscribe_if_owed(connection).await?;
        let mut noticed = None;
        if connection.notice_care_at(&limits).is_some_and(|t| t <= now) {
            let deadline = connection
                .reauthorize_by(&limits)
                .expect("a notice time comes from a deadline");
            self.notice_deadline(&connection, deadline).await?;
            connection.care_noticed = Some(deadline);
            noticed = Some(deadline);
            cared.noticed = true;
        }
        let next = connection.next_care_at(&limits);
        if !cared.refreshed && noticed.is_none() && next.is_some_and(|t| t <= now) {
            // Due, yet nothing to do (no refresh token, a cart that does not refresh): retried
            // each run, so it is said once per run.
            tracing::warn!(connection_id = %id, cart = %connection.cart, "care due but no refresh possible");
        }
        match self
            .store
            .reschedule_care(id, next, noticed, connection.version)
            .await
        {
            // A write since the read set its own care time; the next run settles the notice.
            Ok(()) | Err(StoreError::Conflict(_)) | Err(StoreError::Missing(_)) => Ok(cared),
            Err(e) => Err(e.into()),
        }
    }

    /// The merchant's reconnect invite ahead of `deadline` (made, or finished if an earlier run
    /// stored it and died before its email), then the warehouse's `reauthorization_due` step.
    async fn notice_deadline(
        &self,
        connection: &Connection,
        deadline: Timestamp,
    ) -> Result<(), CareError> {
        let original = self
            .store
            .invite(&connection.invite_id)
            .await?
            .ok_or(ReconnectError::NotFound)?;
        let id = care_invite_id(&connection.id, deadline);
        match self.store.invite(&id).await? {
            None => match self
                .make_reconnect_invite(&original, connection, id.clone(), Some(deadline))
                .await
            {
                Ok(_) => {
                    tracing::info!(connection_id = %connection.id, "reconnect invite sent ahead of the re-authorization deadline");
                }
                Err(ReconnectError::Store(StoreError::Conflict(_))) => {}
                Err(e) => return Err(e.into()),
            },
            Some(made) if made.status == InviteStatus::Pending => {
                self.finish_care_invite(made, deadline).await?;
            }
            // Emailed, failed for good, granted, withdrawn or expired: never again for this
            // deadline.
            Some(_) => {}
        }
        let event = InviteEvent {
            kind: InviteEventKind::ReauthorizationDue,
            at: self.clock.now(),
            reason: None,
        };
        let key = step_key(
            InviteEventKind::ReauthorizationDue,
            Some(&deadline.0.to_string()),
        );
        self.store.record_event(&original.id, &key, &event).await?;
        self.tell_warehouse_due(&original, connection, &id, deadline)
            .await
    }

    /// The warehouse's email of the deadline, once (the send record of `care_invite`'s
    /// [`EmailKind::ReauthorizationDue`]). A mail service that cannot take it now leaves the
    /// connection due (the next run sends it); one that refuses it for good is logged and passed
    /// (the webhook told the warehouse already).
    async fn tell_warehouse_due(
        &self,
        original: &Invite,
        connection: &Connection,
        care_invite: &InviteId,
        deadline: Timestamp,
    ) -> Result<(), CareError> {
        let cart_name = self.catalog.display_name(&connection.cart);
        let email =
            || reauthorization_due_email(original, &cart_name, connection.id.as_str(), deadline);
        match self
            .send_once(care_invite, EmailKind::ReauthorizationDue, email)
            .await?
        {
            SendOnce::Sent | SendOnce::SentBefore => Ok(()),
            SendOnce::Busy | SendOnce::Failed(MailError::Unavailable(_)) => {
                Err(ReconnectError::MailUnavailable.into())
            }
            SendOnce::Failed(e) => {
                tracing::warn!(connection_id = %connection.id, error = %e, "deadline email to the warehouse refused");
                Ok(())
            }
        }
    }

    /// A care invite stored by a run that died before its email was recorded: if the email went
    /// out, its status is settled; if not, it gets a new link and code (nobody holds the first
    /// ones, or, when the mail service took the email and the run died before its send record
    /// said so, they open nothing any more) and is emailed through the send record of that
    /// replacement, so the email that goes out last always carries the link that works.
    async fn finish_care_invite(
        &self,
        invite: Invite,
        deadline: Timestamp,
    ) -> Result<(), CareError> {
        let now = self.clock.now();
        match self
            .store
            .claim_send(&invite.id, EmailKind::ReconnectInvite, now, SEND_LEASE_SECS)
            .await?
        {
            SendClaim::AlreadySent(_) => {
                let mut invite = invite;
                self.settle_invite_email(&mut invite, InviteStatus::Emailed, None)
                    .await?;
                return Ok(());
            }
            SendClaim::Busy => return Err(ReconnectError::MailUnavailable.into()),
            SendClaim::Claimed => {
                self.store
                    .release_send(&invite.id, EmailKind::ReconnectInvite)
                    .await?
            }
        }
        let token = InviteToken::generate();
        let code = AccessCode::generate();
        let resends = self
            .store
            .replace_secrets(
                &invite.id,
                invite.resends,
                &token.hash(),
                &code.hash(),
                &code.hint(),
                now,
            )
            .await?;
        let invite = Invite {
            access_code_hash: code.hash(),
            access_code_hint: code.hint(),
            resends,
            updated_at: now,
            ..invite
        };
        let kind = EmailKind::InviteResend(resends);
        self.email_reconnect_invite(invite, (&token, &code), kind, Some(deadline))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
