//! Key handshakes (WooCommerce's `/wc-auth/v1/authorize`): the store posts API keys to us,
//! unsigned, server to server. The `user_id` we sent is the grant attempt's one-time `state`,
//! so keys are accepted only for a pending attempt, and only after they work against the store
//! URL the attempt was started for. The browser's return only reports.

use std::collections::HashMap;

use serde::Deserialize;

use super::callback::{refused, Authorized, CallbackError};
use super::Services;
use crate::carts::{CartId, CartSpec, Flavour};
use crate::domain::{AttemptStatus, GrantAttempt, GrantState, Invite, Refusal, Secret, TokenSet};

/// The JSON WooCommerce posts to `callback_url`.
#[derive(Deserialize)]
struct KeyDelivery {
    user_id: serde_json::Value,
    consumer_key: String,
    consumer_secret: String,
    #[serde(default)]
    key_permissions: Option<String>,
}

fn key_shaped(value: &str, prefix: &str) -> bool {
    value.starts_with(prefix)
        && (8..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Where a merchant's return from a key handshake stands.
#[derive(Debug)]
pub enum KeyReturn {
    /// The keys arrived and were stored.
    Connected(Box<Invite>),
    /// The store has not delivered (or we have not finished checking) the keys yet.
    Pending,
}

impl Services {
    fn key_cart(&self, cart: &str) -> Result<&CartSpec, CallbackError> {
        CartId::parse(cart)
            .and_then(|id| self.catalog.get(&id))
            .filter(|c| c.flavour == Flavour::KeyHandshake)
            .ok_or_else(|| refused(Refusal::UnknownCart))
    }

    async fn pending_attempt(
        &self,
        cart: &CartSpec,
        nonce: &str,
    ) -> Result<(GrantAttempt, Invite), CallbackError> {
        let state = GrantState::parse(nonce).ok_or_else(|| refused(Refusal::NonceUnknown))?;
        self.attempt_for(cart, &state, Refusal::NonceUnknown).await
    }

    /// Receives keys posted by the store. Checks, in order: the cart does key handshakes, the
    /// body is a key delivery, its `user_id` names a pending attempt for this cart whose invite
    /// is still granting, the permissions are what we asked; then claims the attempt, calls the
    /// attempt's store with the keys, and only if they work seals them and commits. A delivery
    /// for an attempt another delivery has claimed calls nothing: it answers that delivery's
    /// outcome as a later repeat would be answered (already connected, or used), or
    /// [`CallbackError::InProgress`] if it is still undecided after a short wait.
    pub async fn receive_keys(&self, cart: &str, body: &[u8]) -> Result<Authorized, CallbackError> {
        let now = self.clock.now();
        let cart = self.key_cart(cart)?;
        let delivery: KeyDelivery =
            serde_json::from_slice(body).map_err(|_| refused(Refusal::KeysMalformed))?;
        let nonce = match &delivery.user_id {
            serde_json::Value::String(s) => s.clone(),
            _ => return Err(refused(Refusal::NonceUnknown)),
        };
        if !key_shaped(&delivery.consumer_key, "ck_")
            || !key_shaped(&delivery.consumer_secret, "cs_")
        {
            return Err(refused(Refusal::KeysMalformed));
        }
        let (attempt, invite) = self.pending_attempt(cart, &nonce).await?;
        let stale = [Refusal::NonceExpired, Refusal::NonceUsed];
        if attempt.status == AttemptStatus::Exchanging {
            return Err(self.delivery_outcome(&attempt.state_hash, stale).await);
        }
        self.ensure_completable(&attempt, &invite, now, stale)
            .await?;
        if delivery.key_permissions.as_deref() != Some("read_write") {
            return Err(refused(Refusal::KeysPermissions));
        }
        let vars = cart.input_vars(attempt.store.as_deref());
        let verify_url = cart.endpoint(&cart.token_url, &vars).map_err(|e| {
            tracing::warn!(cart = %cart.id, error = %e, "key verification endpoint refused");
            refused(Refusal::VerifyEndpointRefused)
        })?;
        let key = Secret::new(delivery.consumer_key);
        let secret = Secret::new(delivery.consumer_secret);
        if !self.claim(&attempt, now, 1).await? {
            return Err(self.delivery_outcome(&attempt.state_hash, stale).await);
        }
        if let Err(e) = self
            .oauth
            .verify_keys(&verify_url, cart.credential_check, &key, &secret)
            .await
        {
            tracing::warn!(invite_id = %invite.id, cart = %cart.id, error = %e, reason = "keys_not_verified", "key verification failed");
            return Err(self
                .failed_at_cart(&attempt, &invite, now, e.to_string())
                .await);
        }
        let tokens = TokenSet {
            access_token: key,
            refresh_token: None,
            expires_at: None,
            issued_at: None,
            scope: Some("read_write".into()),
            account: None,
            key_secret: Some(secret),
            consumer_key: None,
            consumer_secret: None,
        };
        self.seal_and_commit(cart, &attempt, &invite, tokens, None, now)
            .await
    }

    /// The merchant's browser back from the store (`return_url?success=…&user_id=…`): only
    /// the browser that started the attempt may read it, and it changes nothing unless the
    /// merchant declined (`success=0`), which closes the attempt.
    pub async fn key_return(
        &self,
        cart: &str,
        params: &HashMap<String, String>,
        binding_cookie: Option<&str>,
    ) -> Result<KeyReturn, CallbackError> {
        let cart = self.key_cart(cart)?;
        let nonce = params
            .get("user_id")
            .ok_or_else(|| refused(Refusal::NonceUnknown))?;
        let (attempt, invite) = self.pending_attempt(cart, nonce).await?;
        attempt
            .binding_from(binding_cookie)
            .ok_or_else(|| refused(Refusal::BrowserMismatch))?;
        if invite.status.is_connected() {
            return Ok(KeyReturn::Connected(Box::new(invite)));
        }
        if params.get("success").map(String::as_str) == Some("0")
            && attempt.usable(self.clock.now())
        {
            return Err(self.cart_error(&attempt, &invite, "access_denied").await?);
        }
        match attempt.effective_status(self.clock.now()) {
            AttemptStatus::Failed => Err(CallbackError::CartFailed {
                reason: "the store's keys did not work".into(),
                retry_url: self.retry_url(&invite, self.clock.now()).await,
                emailed: false,
            }),
            AttemptStatus::Declined => Err(CallbackError::Declined { retry_url: None }),
            _ => Ok(KeyReturn::Pending),
        }
    }
}
