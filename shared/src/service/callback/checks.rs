//! The checks a grant-completing request passes before anything is sent anywhere: its attempt
//! (this cart's, known), the invite's standing, and the cart's own proofs and values.

use std::collections::HashMap;

use super::{refused, CallbackError};
use crate::carts::quirks::CheckInput;
use crate::carts::{fill, pattern_matches, CartSpec, ClientCredentials, Vars};
use crate::domain::{
    AttemptStatus, GrantAttempt, GrantState, Invite, InviteId, InviteStatus, Refusal, Secret,
    Standing, Timestamp,
};
use crate::service::Services;
use crate::store::StoreError;

/// The longest authorization code taken from a callback.
const MAX_CODE_LEN: usize = 2048;

/// What a callback's checks yield: everything the code exchange needs.
pub(super) struct CheckedCallback<'a> {
    /// The app's credentials at the cart.
    pub credentials: &'a ClientCredentials,
    /// The authorization code (none where the cart's callback carries none).
    pub code: Option<Secret>,
    /// The entry's variables, with the values the callback carried.
    pub vars: Vars,
    /// The merchant's account the callback named, if the cart names one there.
    pub account: Option<String>,
    /// The token endpoint, built for this store.
    pub token_url: url::Url,
}

/// The cart's own proofs (Shopify's HMAC…) and values, each checked before anything is sent
/// anywhere: the entry's hooks, the echo of our input, the values and account the cart returns
/// (each against its pattern), the code, and the token endpoint built with them.
pub(super) fn cart_values<'a>(
    cart: &'a CartSpec,
    attempt: &GrantAttempt,
    params: &HashMap<String, String>,
    now: Timestamp,
) -> Result<CheckedCallback<'a>, CallbackError> {
    let credentials = cart
        .credentials
        .as_ref()
        .ok_or_else(|| refused(Refusal::CartNotEnabled))?;
    for check in &cart.checks {
        (check.run)(&CheckInput {
            params,
            credentials,
            now,
        })
        .map_err(refused)?;
    }
    let mut vars = cart.input_vars(attempt.store.as_deref());
    if let Some(echo) = &cart.callback.input_echo {
        let expected = fill(&echo.expected, &vars).ok();
        if expected.is_none() || params.get(&echo.param) != expected.as_ref() {
            return Err(refused(Refusal::InputMismatch));
        }
    }
    for value in &cart.callback.vars {
        if let Some(given) = params.get(&value.param) {
            if !pattern_matches(&value.pattern, given) {
                return Err(refused(Refusal::CallbackValueInvalid));
            }
            vars.insert(value.var.clone(), given.clone());
        }
    }
    let account = returned_account(cart, params, &mut vars)?;
    let code = if cart.callback.without_code {
        // Without a code, the account is all the exchange is for.
        account
            .as_ref()
            .ok_or_else(|| refused(Refusal::AccountInvalid))?;
        None
    } else {
        let code = params
            .get(&cart.callback.code)
            .filter(|c| !c.is_empty() && c.len() <= MAX_CODE_LEN)
            .map(|c| Secret::new(c.as_str()))
            .ok_or_else(|| refused(Refusal::CodeMissing))?;
        Some(code)
    };
    let token_url = cart.endpoint(&cart.token_url, &vars).map_err(|e| {
        tracing::warn!(cart = %cart.id, error = %e, "token endpoint refused");
        refused(Refusal::TokenEndpointRefused)
    })?;
    Ok(CheckedCallback {
        credentials,
        code,
        vars,
        account,
        token_url,
    })
}

/// The merchant's account the callback names, where the cart names it there (checked against
/// its pattern, and kept among the variables).
fn returned_account(
    cart: &CartSpec,
    params: &HashMap<String, String>,
    vars: &mut Vars,
) -> Result<Option<String>, CallbackError> {
    let Some(value) = &cart.callback.account else {
        return Ok(None);
    };
    let Some(given) = params.get(&value.param) else {
        return Ok(None);
    };
    if !pattern_matches(&value.pattern, given) {
        return Err(refused(Refusal::AccountInvalid));
    }
    vars.insert(value.var.clone(), given.clone());
    Ok(Some(given.clone()))
}

impl Services {
    /// The attempt `state` names, which must be this cart's, and its invite. `unknown` is the
    /// refusal code for a state nobody issued (`state_unknown`, or `nonce_unknown` where the
    /// state travels as a one-time nonce).
    pub(in crate::service) async fn attempt_for(
        &self,
        cart: &CartSpec,
        state: &GrantState,
        unknown: Refusal,
    ) -> Result<(GrantAttempt, Invite), CallbackError> {
        let attempt = self.attempt_of_cart(cart, state, unknown).await?;
        let invite = self.invite_of(&attempt).await?;
        Ok((attempt, invite))
    }

    /// The attempt `state` names, which must be this cart's (see [`Services::attempt_for`]).
    pub(in crate::service) async fn attempt_of_cart(
        &self,
        cart: &CartSpec,
        state: &GrantState,
        unknown: Refusal,
    ) -> Result<GrantAttempt, CallbackError> {
        let attempt = self
            .store
            .attempt(&state.hash())
            .await?
            .ok_or_else(|| refused(unknown))?;
        if attempt.cart != cart.id {
            return Err(refused(Refusal::CartMixUp));
        }
        Ok(attempt)
    }

    /// The invite `attempt` is for.
    pub(in crate::service) async fn invite_of(
        &self,
        attempt: &GrantAttempt,
    ) -> Result<Invite, CallbackError> {
        self.store
            .invite(&attempt.invite_id)
            .await?
            .ok_or_else(|| refused(Refusal::InviteMissing))
    }

    /// Whether an attempt may still complete: its invite is not connected (a replay answers
    /// when it was), not expired and granting, and the attempt is open and in time.
    /// `[expired, used]` are the refusals of an expired and of a used attempt.
    pub(in crate::service) async fn ensure_completable(
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

    /// What follows a committed grant (first or renewal, whose history's `authorized` is
    /// recorded): the event the confirmations follow, and the answer.
    pub(in crate::service) async fn committed(
        &self,
        invite: &Invite,
        connection: crate::domain::Connection,
        now: Timestamp,
    ) -> super::Authorized {
        self.events.invite_authorized(&invite.id).await;
        let mut invite = invite.clone();
        invite.status = InviteStatus::Authorized;
        invite.updated_at = now;
        super::Authorized {
            invite,
            connection,
            finish_url: None,
        }
    }

    /// The answer to a callback whose commit found another state than it expected: the winner's
    /// outcome when the invite is connected now, else a refusal.
    pub(in crate::service) async fn lost_commit(
        &self,
        invite: &InviteId,
        what: &'static str,
    ) -> Result<CallbackError, StoreError> {
        tracing::warn!(invite_id = %invite, conflict = what, "callback lost a race");
        Ok(match self.store.invite(invite).await? {
            Some(i) if i.status.is_connected() => self.already_connected(&i).await?,
            _ => super::refused(Refusal::CommitConflict),
        })
    }

    /// The answer to a request for an invite that is connected already: when it was.
    pub(in crate::service) async fn already_connected(
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carts::builtin;
    use crate::domain::{CartId, InviteId, TokenHash};

    const INSTANCE: &str = "5f2a9a0e-1c1d-4b7e-9a55-0d3b8c8e7f10";

    /// A cart whose callback carries no code (Wix's entry), without its hook, so that only the
    /// shared rules of a code-free callback are at work.
    fn code_free_cart() -> CartSpec {
        let mut cart = builtin::get("wix").expect("the wix entry");
        assert!(cart.callback.without_code);
        cart.checks.clear();
        cart.credentials = Some(ClientCredentials::new("app", Some(Secret::new("shh"))));
        cart
    }

    fn attempt() -> GrantAttempt {
        GrantAttempt {
            app: None,
            state_hash: TokenHash::of("state"),
            invite_id: InviteId::generate(),
            cart: CartId::new("wix"),
            binding_hash: TokenHash::of("binding"),
            redirect_uri: "https://cartlink.test/oauth/callback/wix".into(),
            store: None,
            status: AttemptStatus::Open,
            created_at: Timestamp(0),
            expires_at: Timestamp(900),
            claim_until: None,
        }
    }

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_code_free_callback_takes_its_account_and_no_code() {
        // GIVEN a code-free cart's callback naming its instance
        let cart = code_free_cart();
        let given = params(&[("state", "s"), ("instanceId", INSTANCE)]);
        // WHEN its values are checked
        let checked = cart_values(&cart, &attempt(), &given, Timestamp(1)).unwrap_or_else(|_| {
            panic!("a code-free callback with its account passes");
        });
        // THEN there is no code, and the account is the exchange's variable
        assert!(checked.code.is_none());
        assert_eq!(checked.account.as_deref(), Some(INSTANCE));
        assert_eq!(
            checked.vars.get("instance_id").map(String::as_str),
            Some(INSTANCE)
        );
    }

    #[test]
    fn a_code_free_callback_without_its_account_is_refused() {
        // GIVEN a code-free cart's callback that names no instance (a code is no substitute)
        let cart = code_free_cart();
        let given = params(&[("state", "s"), ("code", "c0de")]);
        // WHEN its values are checked THEN it is refused: the exchange would be for nobody
        match cart_values(&cart, &attempt(), &given, Timestamp(1)) {
            Err(CallbackError::Refused { reason }) => {
                assert_eq!(reason, Refusal::AccountInvalid)
            }
            _ => panic!("refused"),
        }
    }
}
