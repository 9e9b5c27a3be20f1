//! The OAuth callback: every check first, then the claim of the attempt, the one code exchange
//! and one atomic commit. Any other request for the same attempt (a reload, a double click, a
//! second function instance) never calls the cart: it answers the claim holder's outcome.

use std::collections::HashMap;
use std::time::Duration;

use super::Services;
use crate::carts::quirks::CheckInput;
use crate::carts::{
    fill, pattern_matches, with_client_id, CartId, CartSpec, ClientCredentials, StateReturn, Vars,
};
use crate::domain::{
    claim_deadline, AttemptStatus, Connection, ConnectionId, ConnectionStatus, GrantAttempt,
    GrantState, Invite, InviteStatus, InviteToken, PkceVerifier, Refusal, Secret, Standing,
    Timestamp, TokenHash, TokenSet,
};
use crate::email::grant_failed_email;
use crate::oauth::CodeExchange;
use crate::store::StoreError;
use crate::vault::VaultError;

/// How long a request whose attempt another request has claimed waits for that request's
/// outcome before it answers that the grant is being finished: well inside any function's
/// timeout, and longer than a cart usually takes to answer.
pub const OUTCOME_WAIT: Duration = Duration::from_secs(5);
/// The first pause between two looks at a claimed attempt; each pause doubles, up to a second,
/// so twenty waiting requests make a few reads a second between them.
const OUTCOME_FIRST_POLL: Duration = Duration::from_millis(100);
const OUTCOME_MAX_POLL: Duration = Duration::from_secs(1);

/// Why a callback did not store a connection. Each carries what the page needs to say.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// The request does not belong to a grant this browser started here (unknown, missing or
    /// reused state, another cart's callback path, another browser, a wrong `iss`). `reason` is
    /// a stable code for logs.
    #[error("callback refused: {reason}")]
    Refused {
        /// Stable reason code.
        reason: Refusal,
    },
    /// The invite is connected already (a replayed or concurrent callback).
    #[error("already connected")]
    AlreadyConnected {
        /// When it was connected.
        at: Timestamp,
    },
    /// The invite expired before the merchant came back.
    #[error("invite expired")]
    Expired,
    /// The merchant declined at the cart.
    #[error("declined at the cart")]
    Declined {
        /// A fresh setup link to try again.
        retry_url: Option<String>,
    },
    /// The cart answered with an error, or the code exchange failed. The merchant was emailed
    /// a link to try again (unless the mail failed).
    #[error("the cart did not complete the grant: {reason}")]
    CartFailed {
        /// What failed, without secrets.
        reason: String,
        /// A fresh setup link to try again.
        retry_url: Option<String>,
        /// Whether the failure email went out.
        emailed: bool,
    },
    /// Another request holds the attempt's claim and had not finished with the cart when
    /// [`OUTCOME_WAIT`] ran out; the grant page shows its outcome.
    #[error("another request is completing this grant")]
    InProgress,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// The cart's finish URL for this grant, built like any endpoint (https, an allowed host); a
/// URL that cannot be built is logged and left out, so the merchant sees our own page.
fn finish_url(
    cart: &CartSpec,
    credentials: &ClientCredentials,
    tokens: &TokenSet,
) -> Option<Secret> {
    let template = cart.finish_url.as_ref()?;
    let mut vars = with_client_id(&Vars::new(), credentials);
    vars.insert(
        "access_token".into(),
        url::form_urlencoded::byte_serialize(tokens.access_token.expose().as_bytes()).collect(),
    );
    match cart.endpoint(template, &vars) {
        Ok(url) => Some(Secret::new(url.as_str())),
        Err(e) => {
            tracing::warn!(cart = %cart.id, error = %e, "finish URL refused");
            None
        }
    }
}

pub(super) fn refused(reason: Refusal) -> CallbackError {
    tracing::warn!(reason = reason.as_str(), "callback refused");
    CallbackError::Refused { reason }
}

/// A completed grant.
#[derive(Debug)]
pub struct Authorized {
    /// The invite, now authorized.
    pub invite: Invite,
    /// The stored connection.
    pub connection: Connection,
    /// Where to send the popup now, when the cart's install dialog must be told it is done
    /// ([`CartSpec::finish_url`]). It may carry a short-lived access token (Wix): never logged.
    pub finish_url: Option<Secret>,
}

/// The parts of a callback request the service reads.
pub struct CallbackRequest<'a> {
    /// The cart named by the callback path.
    pub cart: &'a str,
    /// The query parameters (first value of each).
    pub params: &'a HashMap<String, String>,
    /// The browser-binding cookie, if the browser sent one.
    pub binding_cookie: Option<&'a str>,
    /// The state cookie, if the browser sent one (carts whose callback carries no `state`).
    pub state_cookie: Option<&'a str>,
}

impl Services {
    /// Completes a grant. Before anything is sent anywhere it checks the cart, the state, the
    /// attempt, the browser binding, the invite, its expiry and the issuer. Then it claims the
    /// attempt, exchanges the code, seals the tokens and commits connection, invite and attempt
    /// in one atomic step. A request for an attempt that is claimed or ended (this browser's
    /// reload or second load) answers that attempt's outcome instead, without calling the cart.
    pub async fn complete_callback(
        &self,
        req: CallbackRequest<'_>,
    ) -> Result<Authorized, CallbackError> {
        let now = self.clock.now();
        let cart_id = CartId::parse(req.cart).ok_or_else(|| refused(Refusal::UnknownCart))?;
        let cart = self
            .catalog
            .get(&cart_id)
            .ok_or_else(|| refused(Refusal::UnknownCart))?;
        let raw_state = match cart.callback.state_return {
            StateReturn::Query => req.params.get(&cart.callback.state).map(String::as_str),
            StateReturn::Cookie => req.state_cookie,
        };
        let state = raw_state
            .and_then(GrantState::parse)
            .ok_or_else(|| refused(Refusal::StateMissing))?;
        let (attempt, invite) = self
            .attempt_for(cart, &state, Refusal::StateUnknown)
            .await?;
        let binding = attempt
            .binding_from(req.binding_cookie)
            .ok_or_else(|| refused(Refusal::BrowserMismatch))?;
        if attempt.status != AttemptStatus::Open {
            return self.callback_outcome(&attempt.state_hash).await;
        }
        self.ensure_completable(
            &attempt,
            &invite,
            now,
            [Refusal::AttemptExpired, Refusal::AttemptUsed],
        )
        .await?;
        if let Some(issuer) = &cart.issuer {
            if req.params.get("iss") != Some(issuer) {
                return Err(refused(Refusal::IssuerMismatch));
            }
        }
        if let Some(error) = req.params.get(&cart.callback.error) {
            return Err(self.cart_error(&attempt, &invite, error).await?);
        }
        // The cart's own proofs (Shopify's HMAC…) and values, each checked before anything
        // is sent anywhere.
        let credentials = cart
            .credentials
            .as_ref()
            .ok_or_else(|| refused(Refusal::CartNotEnabled))?;
        for check in &cart.checks {
            (check.run)(&CheckInput {
                params: req.params,
                credentials,
                now,
            })
            .map_err(refused)?;
        }
        let mut vars = cart.input_vars(attempt.store.as_deref());
        if let Some(echo) = &cart.callback.input_echo {
            let expected = fill(&echo.expected, &vars).ok();
            if expected.is_none() || req.params.get(&echo.param) != expected.as_ref() {
                return Err(refused(Refusal::InputMismatch));
            }
        }
        for value in &cart.callback.vars {
            if let Some(given) = req.params.get(&value.param) {
                if !pattern_matches(&value.pattern, given) {
                    return Err(refused(Refusal::CallbackValueInvalid));
                }
                vars.insert(value.var.clone(), given.clone());
            }
        }
        let mut account = None;
        if let Some(value) = &cart.callback.account {
            if let Some(given) = req.params.get(&value.param) {
                if !pattern_matches(&value.pattern, given) {
                    return Err(refused(Refusal::AccountInvalid));
                }
                vars.insert(value.var.clone(), given.clone());
                account = Some(given.clone());
            }
        }
        let code = req
            .params
            .get(&cart.callback.code)
            .filter(|c| !c.is_empty() && c.len() <= 2048)
            .map(|c| Secret::new(c.as_str()))
            .ok_or_else(|| refused(Refusal::CodeMissing))?;
        let token_url = cart.endpoint(&cart.token_url, &vars).map_err(|e| {
            tracing::warn!(cart = %cart.id, error = %e, "token endpoint refused");
            refused(Refusal::TokenEndpointRefused)
        })?;
        if !self.claim(&attempt, now, 1).await? {
            return self.callback_outcome(&attempt.state_hash).await;
        }

        let verifier = cart
            .pkce
            .is_used()
            .then(|| PkceVerifier::derive(&binding, &state));
        let exchanged = self
            .oauth
            .exchange_code(CodeExchange {
                cart,
                credentials,
                token_url: &token_url,
                code: &code,
                redirect_uri: &attempt.redirect_uri,
                verifier: verifier.as_ref(),
                vars: &vars,
                now,
            })
            .await;
        let tokens = match exchanged {
            Ok(tokens) => tokens,
            Err(e) => {
                tracing::warn!(invite_id = %invite.id, cart = %cart.id, error = %e, reason = "exchange_failed", "code exchange failed");
                return Err(self
                    .failed_at_cart(&attempt, &invite, now, e.to_string())
                    .await);
            }
        };
        let finish_url = finish_url(cart, credentials, &tokens);
        let mut authorized = self
            .seal_and_commit(cart, &attempt, &invite, tokens, account, now)
            .await?;
        authorized.finish_url = finish_url;
        Ok(authorized)
    }

    /// Seals the tokens and commits connection, invite and attempt in one atomic step.
    pub(super) async fn seal_and_commit(
        &self,
        cart: &CartSpec,
        attempt: &GrantAttempt,
        invite: &Invite,
        mut tokens: TokenSet,
        account: Option<String>,
        now: Timestamp,
    ) -> Result<Authorized, CallbackError> {
        // An answer without an expiry, from a cart that documents one (Wix: five minutes).
        tokens.expires_at = tokens
            .expires_at
            .or_else(|| cart.refresh.documented_expiry(now));
        let id = ConnectionId::generate();
        let context = Connection::seal_context(&invite.warehouse.id, &id, &cart.id);
        let sealed = self.vault.seal(&context, &tokens.to_plaintext()).await?;
        let connection = Connection {
            id,
            invite_id: invite.id.clone(),
            warehouse_id: invite.warehouse.id.clone(),
            cart: cart.id.clone(),
            account: tokens
                .account
                .clone()
                .or(account)
                .or_else(|| invite.store.clone()),
            scopes: tokens
                .scope
                .as_deref()
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_else(|| {
                    cart.scopes_for_store(&invite.functions, invite.store.as_deref())
                }),
            tokens: sealed,
            token_expires_at: tokens.expires_at,
            created_at: now,
            version: 1,
            status: ConnectionStatus::Active,
        };
        // The claim is checked against the time of the commit, not of the request.
        match self
            .store
            .commit_authorization(&connection, &attempt.state_hash, self.clock.now())
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(what)) => {
                tracing::warn!(invite_id = %invite.id, conflict = what, "callback lost a race");
                let current = self.store.invite(&invite.id).await?;
                return Err(match current {
                    Some(i) if i.status.is_connected() => self.already_connected(&i).await?,
                    _ => refused(Refusal::CommitConflict),
                });
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(invite_id = %invite.id, connection_id = %connection.id, cart = %cart.id, "connection stored");
        self.events.invite_authorized(&invite.id).await;
        let mut invite = invite.clone();
        invite.status = InviteStatus::Authorized;
        invite.updated_at = now;
        Ok(Authorized {
            invite,
            connection,
            finish_url: None,
        })
    }

    /// Claims `attempt` for this request's `outbound_calls` calls to the cart, until
    /// [`claim_deadline`]; answers whether this request holds it. Called after every local
    /// check and before anything is sent to the cart.
    pub(super) async fn claim(
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

    /// The attempt `state` names and its invite, once no live claim is held on the attempt, or
    /// as they stand when [`OUTCOME_WAIT`] has passed. Reads only.
    pub(super) async fn attempt_outcome(
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
    async fn callback_outcome(&self, state: &TokenHash) -> Result<Authorized, CallbackError> {
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
    pub(super) async fn delivery_outcome(
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

    /// The attempt `state` names, which must be this cart's, and its invite. `unknown` is the
    /// refusal code for a state nobody issued (`state_unknown`, or `nonce_unknown` where the
    /// state travels as a one-time nonce).
    pub(super) async fn attempt_for(
        &self,
        cart: &CartSpec,
        state: &GrantState,
        unknown: Refusal,
    ) -> Result<(GrantAttempt, Invite), CallbackError> {
        let attempt = self
            .store
            .attempt(&state.hash())
            .await?
            .ok_or_else(|| refused(unknown))?;
        if attempt.cart != cart.id {
            return Err(refused(Refusal::CartMixUp));
        }
        let invite = self
            .store
            .invite(&attempt.invite_id)
            .await?
            .ok_or_else(|| refused(Refusal::InviteMissing))?;
        Ok((attempt, invite))
    }

    /// Whether an attempt may still complete: its invite is not connected (a replay answers
    /// when it was), not expired and granting, and the attempt is open and in time. `stale`
    /// are the refusal codes of an expired and a used attempt.
    pub(super) async fn ensure_completable(
        &self,
        attempt: &GrantAttempt,
        invite: &Invite,
        now: Timestamp,
        [expired, used]: [Refusal; 2],
    ) -> Result<(), CallbackError> {
        match invite.standing(now) {
            Standing::Connected => return Err(self.already_connected(invite).await?),
            Standing::Expired => {
                tracing::warn!(invite_id = %invite.id, reason = "invite_expired", "grant completion refused");
                return Err(CallbackError::Expired);
            }
            // A withdrawn invite, or one whose email bounced, is refused below: it is not
            // granting.
            Standing::Withdrawn | Standing::Closed | Standing::Grantable => {}
        }
        if !attempt.usable(now) {
            return Err(refused(if attempt.status == AttemptStatus::Open {
                expired
            } else {
                used
            }));
        }
        if invite.status != InviteStatus::Granting {
            return Err(refused(Refusal::InviteNotGranting));
        }
        Ok(())
    }

    pub(super) async fn already_connected(
        &self,
        invite: &Invite,
    ) -> Result<CallbackError, StoreError> {
        let at = self
            .store
            .connection_for_invite(&invite.id)
            .await?
            .map(|c| c.created_at)
            .unwrap_or(invite.updated_at);
        tracing::info!(invite_id = %invite.id, reason = "already_connected", "callback replayed");
        Ok(CallbackError::AlreadyConnected { at })
    }

    pub(super) async fn cart_error(
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
    pub(super) async fn failed_at_cart(
        &self,
        attempt: &GrantAttempt,
        invite: &Invite,
        now: Timestamp,
        reason: String,
    ) -> CallbackError {
        let closed = self.close_quietly(attempt, AttemptStatus::Failed).await;
        let retry_url = self.retry_url(invite, now).await;
        let emailed = closed && self.email_failure(invite, retry_url.as_deref()).await;
        CallbackError::CartFailed {
            reason,
            retry_url,
            emailed,
        }
    }

    /// Closes the attempt this request claimed; answers whether this call closed it.
    pub(super) async fn close_quietly(
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
    pub(super) async fn email_failure(&self, invite: &Invite, retry_url: Option<&str>) -> bool {
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
    pub(super) async fn retry_url(&self, invite: &Invite, now: Timestamp) -> Option<String> {
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

#[cfg(test)]
mod tests;
