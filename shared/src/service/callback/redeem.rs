//! The redemption of a claimed attempt: the one code exchange, then the tokens sealed and
//! connection, invite and attempt committed in one atomic step.

use super::checks::CheckedCallback;
use super::scopes;
use super::{Authorized, CallbackError};
use crate::carts::{with_client_id, CartSpec, ClientCredentials, Vars};
use crate::domain::{
    BrowserBinding, Connection, ConnectionId, ConnectionStatus, GrantAttempt, GrantState, Invite,
    PkceVerifier, Secret, Timestamp, TokenSet,
};
use crate::oauth::CodeExchange;
use crate::service::Services;
use crate::store::StoreError;

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

impl Services {
    /// Exchanges the callback's code (with the PKCE verifier derived from the browser's binding
    /// and the state, where the cart uses PKCE), then seals and commits. A failed exchange
    /// closes the claimed attempt as failed and emails the merchant a link to try again.
    pub(super) async fn redeem_code(
        &self,
        cart: &CartSpec,
        attempt: &GrantAttempt,
        invite: &Invite,
        checked: CheckedCallback<'_>,
        (binding, state): (&BrowserBinding, &GrantState),
        now: Timestamp,
    ) -> Result<Authorized, CallbackError> {
        let verifier = cart
            .pkce
            .is_used()
            .then(|| PkceVerifier::derive(binding, state));
        let exchanged = self
            .oauth
            .exchange_code(CodeExchange {
                cart,
                credentials: checked.credentials,
                token_url: &checked.token_url,
                code: &checked.code,
                redirect_uri: &attempt.redirect_uri,
                verifier: verifier.as_ref(),
                vars: &checked.vars,
                now,
            })
            .await;
        let tokens = match exchanged {
            Ok(tokens) => tokens,
            Err(e) => {
                tracing::warn!(invite_id = %invite.id, cart = %cart.id, error = %e, reason = "exchange_failed", "code exchange failed");
                return Err(self
                    .failed_at_cart(attempt, invite, now, e.to_string())
                    .await);
            }
        };
        let missing = scopes::shortfall(cart, invite, &tokens);
        if !missing.is_empty() {
            return Err(self.scope_missing(attempt, invite, now, missing).await);
        }
        let finish_url = finish_url(cart, checked.credentials, &tokens);
        let mut authorized = self
            .seal_and_commit(cart, attempt, invite, tokens, checked.account, now)
            .await?;
        authorized.finish_url = finish_url;
        Ok(authorized)
    }

    /// Seals the tokens and commits connection, invite and attempt in one atomic step.
    pub(in crate::service) async fn seal_and_commit(
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
        if let Some(renewed) = &invite.reconnects {
            return self
                .renew_and_commit(renewed, attempt, invite, (tokens, account), now)
                .await;
        }
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
            scopes: scopes::recorded_scopes(cart, invite, &tokens),
            tokens: sealed,
            token_expires_at: tokens.expires_at,
            created_at: now,
            version: 1,
            refreshed_at: None,
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
                return Err(self.lost_commit(&invite.id, what).await?)
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(invite_id = %invite.id, connection_id = %connection.id, cart = %cart.id, "connection stored");
        Ok(self.committed(invite, connection, now).await)
    }
}
