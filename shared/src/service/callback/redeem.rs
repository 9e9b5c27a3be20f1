//! The redemption of a claimed attempt: the one code exchange, then the tokens sealed and
//! connection, invite and attempt committed in one atomic step.

use super::checks::CheckedCallback;
use super::scopes;
use super::{refused, Authorized, CallbackError};
use crate::carts::{with_client_id, CartSpec, ClientCredentials, Vars};
use crate::domain::{
    BrowserBinding, Connection, ConnectionId, ConnectionStatus, GrantAttempt, GrantState, Invite,
    InviteEvent, InviteEventKind, PkceVerifier, Refusal, Secret, Shop, Timestamp, TokenSet,
};
use crate::oauth::CodeExchange;
use crate::service::history::step_key;
use crate::service::Services;
use crate::store::{AuthorizationCommit, StoreError};
use crate::vault::DataKey;

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
        // The data key does not depend on the cart's answer: it is asked for while the cart
        // answers, and only kept in memory, so a failed exchange drops it with nothing written.
        let (exchanged, sealing) = tokio::join!(
            self.oauth.exchange_code(CodeExchange {
                cart,
                credentials: checked.credentials,
                token_url: &checked.token_url,
                code: checked.code.as_ref(),
                redirect_uri: &attempt.redirect_uri,
                verifier: verifier.as_ref(),
                vars: &checked.vars,
                now,
            }),
            self.prepare_sealing(cart, invite),
        );
        let looked = match exchanged {
            Ok(tokens) => self.with_account(cart, checked.credentials, tokens).await,
            Err(e) => Err(e),
        };
        let (tokens, shops) = match looked {
            Ok(looked) => looked,
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
            .commit_sealed(
                cart,
                (attempt, invite),
                (tokens, checked.account, shops),
                sealing?,
                now,
            )
            .await?;
        authorized.finish_url = finish_url;
        Ok(authorized)
    }

    /// What sealing `invite`'s tokens needs before they exist: the connection's data key, and
    /// for a re-authorization the connection it renews (refused as
    /// [`Refusal::ConnectionGone`] if the warehouse disconnected it meanwhile).
    pub(in crate::service) async fn prepare_sealing(
        &self,
        cart: &CartSpec,
        invite: &Invite,
    ) -> Result<Sealing, CallbackError> {
        if let Some(renewed) = &invite.reconnects {
            let Some(current) = self.store.connection(renewed).await? else {
                tracing::warn!(invite_id = %invite.id, connection_id = %renewed, "reconnect granted for a connection that is gone; nothing stored");
                return Err(refused(Refusal::ConnectionGone));
            };
            let key = self.vault.data_key(&current.context()).await?;
            return Ok(Sealing::Renewal {
                current: Box::new(current),
                key,
            });
        }
        let id = ConnectionId::generate();
        let context = Connection::seal_context(&invite.warehouse.id, &id, &cart.id);
        let key = self.vault.data_key(&context).await?;
        Ok(Sealing::New { id, key })
    }

    /// Seals the tokens and commits connection, invite and attempt in one atomic step.
    pub(in crate::service) async fn seal_and_commit(
        &self,
        cart: &CartSpec,
        attempt: &GrantAttempt,
        invite: &Invite,
        tokens: TokenSet,
        account: Option<String>,
        now: Timestamp,
    ) -> Result<Authorized, CallbackError> {
        let sealing = self.prepare_sealing(cart, invite).await?;
        self.commit_sealed(
            cart,
            (attempt, invite),
            (tokens, account, Vec::new()),
            sealing,
            now,
        )
        .await
    }

    /// Seals the tokens with the prepared key and commits connection (with the shops the grant
    /// reaches), invite, attempt and the history's `authorized` in one atomic step. A
    /// re-authorization keeps the shops its connection recorded at its first grant.
    async fn commit_sealed(
        &self,
        cart: &CartSpec,
        (attempt, invite): (&GrantAttempt, &Invite),
        (mut tokens, account, shops): (TokenSet, Option<String>, Vec<Shop>),
        sealing: Sealing,
        now: Timestamp,
    ) -> Result<Authorized, CallbackError> {
        // An answer without an expiry, from a cart that documents one (Wix: five minutes).
        tokens.expires_at = tokens
            .expires_at
            .or_else(|| cart.refresh.documented_expiry(now));
        let (id, key) = match sealing {
            Sealing::Renewal { current, key } => {
                return self
                    .renew_and_commit(*current, key, attempt, invite, (tokens, account), now)
                    .await
            }
            Sealing::New { id, key } => (id, key),
        };
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
            tokens: key.seal(&tokens.to_plaintext()),
            token_expires_at: tokens.expires_at,
            created_at: now,
            version: 1,
            refreshed_at: None,
            status: ConnectionStatus::Active,
            granted_at: None,
            care_at: None,
            care_noticed: None,
            app: invite.app.clone(),
            subscribed_at: None,
            shops,
        }
        .scheduled(&cart.care_limits());
        let event = InviteEvent {
            kind: InviteEventKind::Authorized,
            at: self.clock.now(),
            reason: None,
        };
        let step = step_key(InviteEventKind::Authorized, None);
        // The claim is checked against the time of the commit, not of the request.
        let commit = AuthorizationCommit {
            connection: &connection,
            invite_created: invite.created_at,
            state: &attempt.state_hash,
            now: self.clock.now(),
            step: (&step, &event),
        };
        match self.store.commit_authorization(&commit).await {
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

/// What sealing a grant's tokens needs that does not depend on the cart's answer
/// ([`Services::prepare_sealing`]).
pub(in crate::service) enum Sealing {
    /// A first grant: the new connection's id and its data key.
    New {
        /// The new connection's id.
        id: ConnectionId,
        /// The data key under its context.
        key: DataKey,
    },
    /// A re-authorization: the connection it renews, as read, and the data key under its
    /// context.
    Renewal {
        /// The connection renewed.
        current: Box<Connection>,
        /// The data key under its context.
        key: DataKey,
    },
}
