//! The scope check after a code exchange: where the cart's token answer reports the scopes it
//! granted ([`CartSpec::granted_scopes`]), a grant that covers less than the invite's functions
//! need is not stored. The attempt closes as failed (`scope_missing` in the history), the
//! merchant is told which permission is missing and gets a fresh link to try again.

use super::CallbackError;
use crate::carts::CartSpec;
use crate::domain::{Function, GrantAttempt, Invite, Timestamp, TokenSet};
use crate::service::Services;

/// The `failed` event's reason when the cart granted fewer scopes than the invite needs.
pub const FAILED_SCOPE_MISSING: &str = "scope_missing";

/// A function of the invite whose scopes the grant does not cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingGrant {
    /// The function.
    pub function: Function,
    /// Its scopes the grant does not cover, as the cart names them.
    pub scopes: Vec<String>,
}

/// The invite's functions whose scopes the answer does not cover, in the invite's order; empty
/// when all are covered or the cart does not report what it granted.
pub fn shortfall(cart: &CartSpec, invite: &Invite, tokens: &TokenSet) -> Vec<MissingGrant> {
    let Some(granted) = &cart.granted_scopes else {
        return Vec::new();
    };
    invite
        .functions
        .iter()
        .filter_map(|&function| {
            let needed = cart.scopes_for_store(&[function], invite.store.as_deref());
            let scopes = granted.missing(tokens.scope.as_deref(), &needed);
            (!scopes.is_empty()).then_some(MissingGrant { function, scopes })
        })
        .collect()
}

/// The scopes a connection records: the answer's, split as the cart writes them, else the
/// ones asked for.
pub fn recorded_scopes(cart: &CartSpec, invite: &Invite, tokens: &TokenSet) -> Vec<String> {
    match (&tokens.scope, &cart.granted_scopes) {
        (Some(reported), Some(granted)) => granted.parse(reported),
        (Some(reported), None) => reported.split_whitespace().map(str::to_owned).collect(),
        (None, _) => cart.scopes_for_store(&invite.functions, invite.store.as_deref()),
    }
}

impl Services {
    /// A grant narrower than the invite needs: closes this request's claim as failed (nothing
    /// is sealed), records `failed` with [`FAILED_SCOPE_MISSING`], mints a link to try again
    /// and emails it, once, like any failed grant.
    pub(super) async fn scope_missing(
        &self,
        attempt: &GrantAttempt,
        invite: &Invite,
        now: Timestamp,
        missing: Vec<MissingGrant>,
    ) -> CallbackError {
        let names: Vec<&str> = missing
            .iter()
            .flat_map(|m| m.scopes.iter().map(String::as_str))
            .collect();
        tracing::warn!(invite_id = %invite.id, cart = %invite.cart, reason = FAILED_SCOPE_MISSING, missing = ?names, "grant refused: scopes missing");
        let (retry_url, emailed) = self
            .close_as_failed(attempt, invite, now, FAILED_SCOPE_MISSING)
            .await;
        CallbackError::ScopeMissing {
            missing,
            retry_url,
            emailed,
        }
    }
}
