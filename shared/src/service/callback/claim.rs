//! The claim of an attempt: one conditional write before anything is sent to the cart, so only
//! one request ever calls it; and what every other request for the attempt answers, the claim
//! holder's outcome, waited for.

use super::{
    refused, Authorized, CallbackError, OUTCOME_FIRST_POLL, OUTCOME_MAX_POLL, OUTCOME_WAIT,
};
use crate::domain::{
    claim_deadline, AttemptStatus, GrantAttempt, Invite, Refusal, Timestamp, TokenHash,
};
use crate::service::Services;
use crate::store::StoreError;

impl Services {
    /// Claims `attempt` for this request's `outbound_calls` calls to the cart, until
    /// [`claim_deadline`]; answers whether this request holds it. Called after every local
    /// check and before anything is sent to the cart.
    pub(in crate::service) async fn claim(
        &self,
        attempt: &GrantAttempt,
        now: Timestamp,
        outbound_calls: u32,
    ) -> Result<bool, StoreError> {
        let until = claim_deadline(now, self.config.http_timeout, outbound_calls);
        match self
            .store
            .claim_attempt(&attempt.state_hash, now, until)
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(_)) => {
                tracing::info!(invite_id = %attempt.invite_id, reason = "claimed_elsewhere", "another request holds the grant attempt");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// The answer to a callback whose claim (with its invite's check) was refused: the
    /// outcome of the request that holds or ended the attempt, or, for an attempt still open,
    /// why its invite (as read beside the claim) cannot complete.
    pub(super) async fn unclaimed(
        &self,
        attempt: &GrantAttempt,
        invite: Invite,
    ) -> Result<Authorized, CallbackError> {
        let current = self
            .store
            .attempt(&attempt.state_hash)
            .await?
            .ok_or_else(|| refused(Refusal::StateUnknown))?;
        if current.status != AttemptStatus::Open {
            return self.callback_outcome(&attempt.state_hash).await;
        }
        self.ensure_completable(&current, &invite, self.clock.now(), super::USED_ATTEMPT)
            .await?;
        // The invite stopped granting between the claim and its read.
        Err(refused(Refusal::InviteNotGranting))
    }

    /// The attempt `state` names and its invite, once no live claim is held on the attempt, or
    /// as they stand when [`OUTCOME_WAIT`] has passed. Reads only.
    pub(in crate::service) async fn attempt_outcome(
        &self,
        state: &TokenHash,
    ) -> Result<(GrantAttempt, Invite), CallbackError> {
        let deadline = tokio::time::Instant::now() + OUTCOME_WAIT;
        let mut pause = OUTCOME_FIRST_POLL;
        loop {
            let attempt = self
                .store
                .attempt(state)
                .await?
                .ok_or_else(|| refused(Refusal::StateUnknown))?;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if attempt.effective_status(self.clock.now()) != AttemptStatus::Exchanging
                || left.is_zero()
            {
                let invite = self
                    .store
                    .invite(&attempt.invite_id)
                    .await?
                    .ok_or_else(|| refused(Refusal::InviteMissing))?;
                return Ok((attempt, invite));
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(OUTCOME_MAX_POLL);
        }
    }

    /// The answer to this browser's callback for an attempt that is not open: the outcome of
    /// the request that claimed it (waited for, see [`Services::attempt_outcome`]). No email is
    /// sent and no link minted: the claim holder did both.
    pub(super) async fn callback_outcome(
        &self,
        state: &TokenHash,
    ) -> Result<Authorized, CallbackError> {
        let (attempt, invite) = self.attempt_outcome(state).await?;
        let outcome = attempt.effective_status(self.clock.now());
        tracing::info!(invite_id = %invite.id, outcome = outcome.as_str(), "callback answered with its attempt's outcome");
        match outcome {
            AttemptStatus::Completed if invite.status.is_connected() => {
                let connection = self
                    .store
                    .connection_for_invite(&invite.id)
                    .await?
                    .ok_or_else(|| refused(Refusal::AttemptUsed))?;
                Ok(Authorized {
                    invite,
                    connection,
                    finish_url: None,
                })
            }
            AttemptStatus::Exchanging => Err(CallbackError::InProgress),
            AttemptStatus::Failed => Err(CallbackError::CartFailed {
                reason: "the grant attempt failed".into(),
                retry_url: None,
                emailed: false,
            }),
            AttemptStatus::Declined => Err(CallbackError::Declined { retry_url: None }),
            AttemptStatus::Open | AttemptStatus::Completed => Err(refused(Refusal::AttemptUsed)),
        }
    }

    /// For a server-to-server delivery whose attempt another request claimed: that request's
    /// outcome, waited for, answered as to any later delivery of the same nonce (already
    /// connected, or used), or [`CallbackError::InProgress`] if it is still at the store.
    pub(in crate::service) async fn delivery_outcome(
        &self,
        state: &TokenHash,
        used: [Refusal; 2],
    ) -> CallbackError {
        let (attempt, invite) = match self.attempt_outcome(state).await {
            Ok(found) => found,
            Err(e) => return e,
        };
        if attempt.effective_status(self.clock.now()) == AttemptStatus::Exchanging {
            return CallbackError::InProgress;
        }
        match self
            .ensure_completable(&attempt, &invite, self.clock.now(), used)
            .await
        {
            Err(e) => e,
            Ok(()) => refused(used[1]),
        }
    }
}
