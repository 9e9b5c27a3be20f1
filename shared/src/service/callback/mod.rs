//! The OAuth callback: every check first, then the claim of the attempt, the one code exchange
//! and one atomic commit. Any other request for the same attempt (a reload, a double click, a
//! second function instance) never calls the cart: it answers the claim holder's outcome.
//!
//! The steps live beside this file: the checks before anything is sent (`checks`), the claim
//! and the outcome of whoever holds it (`claim`), the exchange, sealing and commit (`redeem`),
//! and what a grant that failed at the cart does (`failure`). The key handshake and admin
//! integration flows share them.

mod account;
mod checks;
mod claim;
mod failure;
mod redeem;
mod renew;
mod scopes;

pub use scopes::{MissingGrant, FAILED_SCOPE_MISSING};

use std::collections::HashMap;
use std::time::Duration;

use super::Services;
use crate::carts::{CartId, CartSpec, StateReturn};
use crate::domain::{
    claim_deadline, AttemptStatus, Connection, GrantState, Invite, Refusal, Secret, Timestamp,
};
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
    /// reused state, another cart's callback path, another browser, a wrong `iss`, a cart's
    /// own check).
    #[error("callback refused: {reason}")]
    Refused {
        /// Why, with its stable code.
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
    /// The cart granted fewer scopes than the invite's functions need: nothing was stored,
    /// the attempt is closed as failed, and the merchant can try again.
    #[error("the cart granted fewer scopes than needed")]
    ScopeMissing {
        /// The functions whose scopes were not granted, with those scopes.
        missing: Vec<MissingGrant>,
        /// A fresh setup link to try again.
        retry_url: Option<String>,
        /// Whether the failure email went out.
        emailed: bool,
    },
    /// The store is connected to another warehouse through the same app, at a cart that keeps
    /// one active token per app and store: nothing was sent to the cart, so that warehouse's
    /// access stands, and the attempt is closed as failed.
    #[error("the store is connected to another warehouse through the same app")]
    StoreHeldElsewhere,
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

/// Logs a refusal and answers it.
pub(in crate::service) fn refused(reason: Refusal) -> CallbackError {
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
    /// A parameter the query carries more than once, if any: such a callback is refused.
    pub repeated: Option<&'a str>,
    /// The browser-binding cookie, if the browser sent one.
    pub binding_cookie: Option<&'a str>,
    /// The state cookie, if the browser sent one (carts whose callback carries no `state`).
    pub state_cookie: Option<&'a str>,
}

impl Services {
    /// Completes a grant. Before anything is sent anywhere it checks the cart, the state, the
    /// attempt, the browser binding, the invite, its expiry and the issuer, then the cart's own
    /// proofs and values. Then it claims the attempt, exchanges the code, seals the tokens and
    /// commits connection, invite and attempt in one atomic step. A request for an attempt that
    /// is claimed or ended (this browser's reload or second load) answers that attempt's
    /// outcome instead, without calling the cart.
    pub async fn complete_callback(
        &self,
        req: CallbackRequest<'_>,
    ) -> Result<Authorized, CallbackError> {
        let now = self.clock.now();
        let cart = self.callback_cart(req.cart)?;
        if req.repeated.is_some() {
            return Err(refused(Refusal::ParameterRepeated));
        }
        let state = callback_state(cart, &req)?;
        let attempt = self
            .attempt_of_cart(cart, &state, Refusal::StateUnknown)
            .await?;
        let binding = attempt
            .binding_from(req.binding_cookie)
            .ok_or_else(|| refused(Refusal::BrowserMismatch))?;
        if attempt.status != AttemptStatus::Open {
            return self.callback_outcome(&attempt.state_hash).await;
        }
        let cart_error = req.params.get(&cart.callback.error);
        if !attempt.usable(now) || cart_error.is_some() {
            // Nothing will be claimed: the invite is read to answer (or to offer a retry).
            let invite = self.invite_of(&attempt).await?;
            self.ensure_completable(&attempt, &invite, now, USED_ATTEMPT)
                .await?;
            check_issuer(cart, req.params)?;
            if let Some(error) = cart_error {
                return Err(self.cart_error(&attempt, &invite, error).await?);
            }
        }
        check_issuer(cart, req.params)?;
        let through = self.attempt_cart(cart, &attempt).await?;
        let cart: &CartSpec = &through;
        let checked = checks::cart_values(cart, &attempt, req.params, now)?;
        // The claim checks the invite itself, so the invite is read beside it, not before.
        let until = claim_deadline(now, self.config.http_timeout, 1);
        let (invite, claim) = tokio::join!(
            self.invite_of(&attempt),
            self.store
                .claim_granting_attempt(&attempt.state_hash, &attempt.invite_id, now, until),
        );
        match claim {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return self.unclaimed(&attempt, invite?).await,
            Err(e) => return Err(e.into()),
        }
        let invite = match invite {
            Ok(invite) => invite,
            Err(e) => {
                // Claimed, and nothing sent to the cart: the attempt ends so a retry from the
                // link starts afresh at once.
                self.close_quietly(&attempt, AttemptStatus::Failed).await;
                return Err(e);
            }
        };
        let store = checked.account.as_deref().or(attempt.store.as_deref());
        if let Some(store) = store {
            // Before the exchange: at a cart that keeps one token per app and store, the
            // exchange itself would end the other warehouse's access.
            let held = self
                .store_held_elsewhere(cart, store, attempt.app.as_ref(), &invite.warehouse.id)
                .await;
            if !matches!(held, Ok(false)) {
                self.close_quietly(&attempt, AttemptStatus::Failed).await;
                held?;
                tracing::warn!(invite_id = %invite.id, cart = %cart.id, "grant refused: the store is connected to another warehouse through the same app");
                return Err(CallbackError::StoreHeldElsewhere);
            }
        }
        self.redeem_code(cart, &attempt, &invite, checked, (&binding, &state), now)
            .await
    }

    /// The attempt's cart with the credentials of the app the attempt goes through (its
    /// secret opened: the checks and the exchange use it).
    async fn attempt_cart<'a>(
        &self,
        cart: &'a CartSpec,
        attempt: &crate::domain::GrantAttempt,
    ) -> Result<std::borrow::Cow<'a, CartSpec>, CallbackError> {
        use super::cart_apps::{AppUnavailable, SecretUse};
        self.cart_through(cart, attempt.app.as_ref(), SecretUse::Open)
            .await
            .map_err(|e| match e {
                AppUnavailable::Store(e) => CallbackError::Store(e),
                AppUnavailable::Vault(VaultError::Unavailable(e)) => {
                    CallbackError::Vault(VaultError::Unavailable(e))
                }
                AppUnavailable::Gone | AppUnavailable::NotEnabled | AppUnavailable::Vault(_) => {
                    refused(Refusal::CartNotEnabled)
                }
            })
    }

    /// The cart the callback's path names.
    fn callback_cart(&self, cart: &str) -> Result<&CartSpec, CallbackError> {
        CartId::parse(cart)
            .and_then(|id| self.catalog.get(&id))
            .ok_or_else(|| refused(Refusal::UnknownCart))
    }
}

/// The refusals of an expired and of a used attempt, for a callback.
const USED_ATTEMPT: [Refusal; 2] = [Refusal::AttemptExpired, Refusal::AttemptUsed];

/// The callback's `iss`, where its cart sends one: it must be the cart's issuer.
fn check_issuer(cart: &CartSpec, params: &HashMap<String, String>) -> Result<(), CallbackError> {
    match &cart.issuer {
        Some(issuer) if params.get("iss") != Some(issuer) => Err(refused(Refusal::IssuerMismatch)),
        _ => Ok(()),
    }
}

/// The `state` the callback carries, where its cart returns it (the query, or our state cookie
/// for carts whose callback has none).
fn callback_state(cart: &CartSpec, req: &CallbackRequest<'_>) -> Result<GrantState, CallbackError> {
    let raw = match cart.callback.state_return {
        StateReturn::Query => req.params.get(&cart.callback.state).map(String::as_str),
        StateReturn::Cookie => req.state_cookie,
    };
    raw.and_then(GrantState::parse)
        .ok_or_else(|| refused(Refusal::StateMissing))
}

#[cfg(test)]
mod round_trips;
#[cfg(test)]
mod tests;
