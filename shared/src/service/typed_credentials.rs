//! The `credentials` flavour: the merchant types API credentials they created in their own
//! admin into the grant page. Each field is checked for its shape before anything is written
//! or called; then an attempt is opened and claimed (so the read call and the commit happen
//! once per submit), the credentials are checked with the entry's one read call, and only if
//! they work are they sealed and committed like any grant's tokens. Credentials are never
//! echoed, logged or stored in plain text; wrong ones store nothing but the attempt's outcome.

use std::collections::HashMap;

use super::callback::{Authorized, CallbackError};
use super::setup::SetupError;
use super::Services;
use crate::carts::{CartSpec, CredentialRole, Flavour};
use crate::domain::{AttemptStatus, BrowserBinding, GrantState, InviteEventKind, Secret, TokenSet};
use crate::oauth::OAuthError;
use crate::service::history::attempt_scope;
use crate::store::StoreError;

/// The `failed` event's reason when the cart refused typed credentials.
pub const CREDENTIALS_REFUSED: &str = "credentials_refused";
/// The `failed` event's reason when the store could not be reached to check them.
pub const STORE_UNREACHABLE: &str = "store_unreachable";

/// Why typed credentials were not connected.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The link does not open a grantable invite of a `credentials` cart.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// A field is missing or does not have its shape; nothing was written or called.
    #[error("a field does not have its shape")]
    Malformed {
        /// The field's label, as the merchant's admin names it.
        field: String,
    },
    /// The cart answered the check call with a refusal: nothing is stored.
    #[error("the cart refused the credentials")]
    Refused,
    /// The store could not be reached, or answered otherwise than yes or no.
    #[error("the store could not be reached")]
    Unreachable,
    /// Sealing or committing failed, or another submit connected the invite first.
    #[error(transparent)]
    Commit(#[from] CallbackError),
}

impl From<StoreError> for CredentialsError {
    fn from(e: StoreError) -> Self {
        CredentialsError::Setup(SetupError::Store(e))
    }
}

impl Services {
    /// Connects the invite of the link `raw_token` with the credentials `typed` (the form's
    /// fields by name), as the module says.
    pub async fn connect_with_credentials(
        &self,
        raw_token: &str,
        typed: &HashMap<String, String>,
    ) -> Result<Authorized, CredentialsError> {
        let view = self.open_link(raw_token).await?;
        let cart: &CartSpec = &view.cart;
        if cart.flavour != Flavour::Credentials {
            return Err(SetupError::CartUnavailable.into());
        }
        let (mut key, mut secret) = (None, None);
        for field in &cart.credential_fields {
            let value = field
                .accept(typed.get(&field.name).map(String::as_str))
                .ok_or_else(|| CredentialsError::Malformed {
                    field: field.label.clone(),
                })?;
            match field.role {
                CredentialRole::Key => key = Some(Secret::new(value)),
                CredentialRole::Secret => secret = Some(Secret::new(value)),
            }
        }
        let key = key.ok_or(SetupError::CartUnavailable)?;
        let check_url = cart
            .endpoint(
                &cart.token_url,
                &cart.input_vars(view.invite.store.as_deref()),
            )
            .map_err(|_| SetupError::CartUnavailable)?;
        let now = self.clock.now();
        let (state, binding) = (GrantState::generate(), BrowserBinding::generate());
        let attempt = self
            .begin_grant_attempt(&view, &state, &binding, String::new(), now)
            .await?;
        if !self.claim(&attempt, now, 1).await? {
            return Err(CallbackError::InProgress.into());
        }
        let password = secret.clone().unwrap_or_else(|| Secret::new(""));
        if let Err(e) = self
            .oauth
            .verify_keys(&check_url, cart.credential_check, &key, &password)
            .await
        {
            let (error, reason) = match e {
                OAuthError::Refused(_) => (CredentialsError::Refused, CREDENTIALS_REFUSED),
                _ => (CredentialsError::Unreachable, STORE_UNREACHABLE),
            };
            tracing::info!(invite_id = %view.invite.id, cart = %cart.id, reason, "typed credentials not connected");
            self.store
                .close_attempt(
                    &attempt.state_hash,
                    AttemptStatus::Exchanging,
                    AttemptStatus::Failed,
                )
                .await?;
            let scope = attempt_scope(&attempt.state_hash);
            self.record_invite_event(
                &view.invite.id,
                InviteEventKind::Failed,
                Some(scope),
                Some(reason),
            )
            .await;
            return Err(error);
        }
        let tokens = TokenSet {
            access_token: key,
            refresh_token: None,
            expires_at: None,
            issued_at: Some(now),
            scope: None,
            account: None,
            key_secret: secret,
            consumer_key: None,
            consumer_secret: None,
        };
        Ok(self
            .seal_and_commit(cart, &attempt, &view.invite, tokens, None, now)
            .await?)
    }
}

#[cfg(test)]
mod tests;
