//! Fresh access tokens. A connection whose tokens are due ([`refresh_due`], the refresh rule)
//! is refreshed first, one refresh at a time per connection: in this process behind a
//! per-connection lock, across processes behind a store lease, and after either the connection
//! is read again, so a refresh another worker already made is used, not repeated (a rotating
//! cart would refuse the second one). Reading again compares versions: the sealed tokens are
//! opened again only when another worker wrote new ones, so a refresh costs one decrypt beyond
//! the first read at most. The data key that will seal the rotated tokens is taken
//! before the cart is asked, so a key service that cannot seal stops the refresh before the cart
//! retires anything. The rotated tokens are sealed and written with one version-conditional
//! update (tried again a few times if the store fails) before anyone gets them; if that write
//! still fails the new tokens are dropped (fail closed). A refused refresh token
//! (`invalid_grant`) marks the connection as needing re-authorization, tells the warehouse
//! once and emails the merchant a reconnect invite once (`service::reconnect`), unless the
//! connection changed meanwhile (a race another refresh won).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use url::Url;

use super::cart_apps::{AppUnavailable, SecretUse};
use super::confirm::SendOnce;
use super::connections::{ConnectionError, OpenConnection};
use super::Services;
use crate::carts::{CartSpec, ClientCredentials, TokenRequest, Vars};
use crate::domain::secrets::random_token;
use crate::domain::{
    Connection, ConnectionId, ConnectionStatus, Secret, Timestamp, TokenSet, WarehouseId,
};
use crate::email::reauthorization_needed;
use crate::oauth::RefreshCall;
use crate::store::{EmailKind, StoreError};
use crate::vault::VaultError;

mod rule;
pub(in crate::service) use rule::RefreshWhy;
pub use rule::{refresh_due, refresh_margin, REFRESH_MARGIN_LIFETIME_PARTS, REFRESH_MARGIN_SECS};

/// How many times rotated tokens are written when the store fails, and how long the first pause
/// between tries is (it doubles).
const ROTATION_WRITE_TRIES: u32 = 3;
const ROTATION_WRITE_PAUSE: Duration = Duration::from_millis(200);
/// How long a refresh lease is held at most (a refresh takes one token call, which times out
/// sooner).
pub const REFRESH_LEASE_SECS: i64 = 30;
/// How often a caller waiting for another process's refresh looks again, and how many times.
const LEASE_POLL: Duration = Duration::from_millis(250);
const LEASE_POLLS: u32 = 40;

/// This process's per-connection refresh locks (built with the services, borrowed by each
/// request; no global state).
#[derive(Default)]
pub struct RefreshFlights {
    locks: Mutex<HashMap<ConnectionId, Arc<tokio::sync::Mutex<()>>>>,
}

impl RefreshFlights {
    fn lock_for(&self, id: &ConnectionId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        // Locks nobody else holds a handle to are dropped, so the map stays as small as the
        // number of refreshes under way.
        locks.retain(|_, l| Arc::strong_count(l) > 1);
        locks.entry(id.clone()).or_default().clone()
    }
}

/// A refresh as it will be sent ([`Services::refresh_call`]).
struct RefreshRequest<'a> {
    /// The cart, with the credentials of the app the connection went through.
    cart: Cow<'a, CartSpec>,
    vars: Vars,
    token_url: Url,
    refresh_token: Option<Secret>,
}

impl RefreshRequest<'_> {
    /// The app's credentials the refresh is sent with.
    fn credentials(&self) -> Result<&ClientCredentials, ConnectionError> {
        self.cart
            .credentials
            .as_ref()
            .ok_or_else(|| ConnectionError::CartUnavailable("the cart has no credentials".into()))
    }

    /// The cart's answer completed with what it leaves out: a cart that keeps its refresh token
    /// sends none back, an answer without an expiry takes the cart's documented one, and the
    /// scope and account stay as they were.
    fn complete(&self, mut fresh: TokenSet, old: TokenSet, now: Timestamp) -> TokenSet {
        fresh.refresh_token = fresh.refresh_token.or_else(|| self.refresh_token.clone());
        fresh.expires_at = fresh
            .expires_at
            .or_else(|| self.cart.refresh.documented_expiry(now));
        fresh.scope = fresh.scope.or(old.scope);
        fresh.account = fresh.account.or(old.account);
        fresh
    }
}

impl Services {
    /// A connection with an access token that is not due for a refresh ([`refresh_due`]),
    /// refreshing it first when it is.
    pub async fn fresh_connection(
        &self,
        id: &ConnectionId,
    ) -> Result<OpenConnection, ConnectionError> {
        let open = self.open_connection(id).await?;
        self.freshen(open, RefreshWhy::Expiry).await
    }

    /// `open` as it is when it is not due, else refreshed (or as another caller refreshed it).
    /// The connection is read again after each wait, but its tokens are opened again only when
    /// its version changed: a refresh opens them at most once beyond the first read.
    pub(super) async fn freshen(
        &self,
        open: OpenConnection,
        why: RefreshWhy,
    ) -> Result<OpenConnection, ConnectionError> {
        if !self.must_refresh(&open, None, why) {
            return Ok(open);
        }
        // From here on, tokens written since this read are someone else's refresh: they are
        // used, not refreshed again (even when they too expire soon).
        let (id, seen) = (open.connection.id.clone(), open.connection.version);
        let lock = self.refreshing.lock_for(&id);
        let _one_here = lock.lock().await;
        let mut open = self.read_again(open).await?;
        if !self.must_refresh(&open, Some(seen), why) {
            return Ok(open);
        }
        let lease = format!("refresh:{id}");
        let owner = random_token();
        let mut polls = 0;
        while !self
            .store
            .take_lease(&lease, &owner, self.clock.now(), REFRESH_LEASE_SECS)
            .await?
        {
            polls += 1;
            if polls > LEASE_POLLS {
                tracing::warn!(connection_id = %id, "refresh lease still held elsewhere");
                return Err(ConnectionError::Busy);
            }
            tokio::time::sleep(LEASE_POLL).await;
            open = self.read_again(open).await?;
            if !self.must_refresh(&open, Some(seen), why) {
                return Ok(open);
            }
        }
        let refreshed = self.refresh_under_lease(open, seen, why).await;
        if let Err(e) = self.store.release_lease(&lease, &owner).await {
            // It expires on its own.
            tracing::warn!(connection_id = %id, error = %e, "refresh lease not released");
        }
        refreshed
    }

    /// The connection of `open` as it is stored now. Its tokens are opened again only when its
    /// version changed (another caller wrote them); otherwise the ones already open are kept.
    async fn read_again(&self, open: OpenConnection) -> Result<OpenConnection, ConnectionError> {
        let current = self
            .store
            .connection(&open.connection.id)
            .await?
            .ok_or(ConnectionError::NotFound)?;
        if current.version != open.connection.version {
            return self.open_stored(current).await;
        }
        if current.status == ConnectionStatus::NeedsReauth {
            return Err(ConnectionError::NeedsReauthorization);
        }
        Ok(OpenConnection {
            connection: current,
            tokens: open.tokens,
        })
    }

    /// A warehouse's own connection, with fresh tokens ([`Services::fresh_connection`]). An id
    /// that does not parse, an unknown connection and another warehouse's connection are all
    /// [`ConnectionError::NotFound`]: nobody learns which connections exist.
    pub async fn warehouse_connection(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<OpenConnection, ConnectionError> {
        let id = ConnectionId::parse(raw_id).ok_or(ConnectionError::NotFound)?;
        let connection = self
            .store
            .connection(&id)
            .await?
            .ok_or(ConnectionError::NotFound)?;
        if &connection.warehouse_id != warehouse {
            tracing::warn!(connection_id = %id, warehouse_id = %warehouse, "another warehouse's connection asked for");
            return Err(ConnectionError::NotFound);
        }
        let open = self.open_stored(connection).await?;
        let fresh = self.freshen(open, RefreshWhy::Expiry).await?;
        self.note_token_fetch(&fresh.connection).await;
        Ok(fresh)
    }

    /// Whether this caller refreshes `open` now: the cart refreshes, there is a refresh token
    /// (or the cart mints tokens again without one), and the tokens are due by [`refresh_due`]. `seen` is the version of the caller's first
    /// read, once it has read again (tokens written since are someone else's refresh).
    fn must_refresh(&self, open: &OpenConnection, seen: Option<u64>, why: RefreshWhy) -> bool {
        let Some(cart) = self.catalog.get(&open.connection.cart) else {
            return false;
        };
        let refreshes = matches!(
            cart.refresh_request,
            TokenRequest::Standard | TokenRequest::Described(_)
        );
        let now = self.clock.now();
        let written_since_read = seen.is_some_and(|v| v != open.connection.version);
        let care_due = why == RefreshWhy::Care
            && (open.connection.refresh_care_at(&cart.care_limits())).is_some_and(|at| at <= now);
        refreshes
            && (open.tokens.refresh_token.is_some() || cart.refresh.remints())
            && (care_due || refresh_due(&open.tokens, now, written_since_read))
    }

    /// Refreshes `open` under this caller's lease, unless another process refreshed it before
    /// the lease was taken: the data key is taken first, then the cart is asked, then the
    /// rotated tokens are sealed and written, with the care time they lead to, under the
    /// version condition.
    async fn refresh_under_lease(
        &self,
        open: OpenConnection,
        seen: u64,
        why: RefreshWhy,
    ) -> Result<OpenConnection, ConnectionError> {
        // Another process may have refreshed before this one took the lease.
        let open = self.read_again(open).await?;
        if !self.must_refresh(&open, Some(seen), why) {
            return Ok(open);
        }
        let OpenConnection { connection, tokens } = open;
        let id = &connection.id;
        let call = self.refresh_call(&connection, &tokens).await?;
        let cart: &CartSpec = &call.cart;
        if cart.refresh.remints() && call.refresh_token.is_some() {
            // Granted by a code flow the entry no longer runs (legacy Wix): its account was never
            // proven, so nothing is minted for it; the merchant reconnects.
            tracing::warn!(connection_id = %connection.id, cart = %cart.id, "a code-flow grant of a minting cart; nothing minted");
            return self.refresh_refused(&connection).await;
        }
        let credentials = call.credentials()?;
        // Before the cart is asked: once it answers, the old refresh token is retired, and
        // rotated tokens that cannot be sealed would be lost.
        let sealer = self
            .vault
            .data_key(&connection.context())
            .await
            .map_err(|e| match e {
                VaultError::Refused => ConnectionError::KeyService("sealing refused".into()),
                VaultError::Unavailable(e) => ConnectionError::KeyService(e),
            })?;
        let now = self.clock.now();
        let answered = self
            .oauth
            .refresh(RefreshCall {
                cart,
                credentials,
                token_url: &call.token_url,
                refresh_token: call.refresh_token.as_ref(),
                scopes: &connection.scopes,
                vars: &call.vars,
                now,
            })
            .await;
        crate::telemetry::metric::refresh(refresh_outcome(&answered));
        let fresh = match answered {
            Ok(fresh) => call.complete(fresh, tokens, now),
            Err(e) if e.is_invalid_grant() => return self.refresh_refused(&connection).await,
            Err(e) => {
                tracing::warn!(connection_id = %id, cart = %cart.id, error = %e, "refresh failed; tokens unchanged");
                return Err(ConnectionError::CartUnavailable(e.to_string()));
            }
        };
        let sealed = sealer.seal(&fresh.to_plaintext());
        let refreshed = Connection {
            refreshed_at: Some(now),
            ..connection
        }
        .scheduled(&cart.care_limits());
        self.keep_rotation(refreshed, sealed, fresh).await
    }

    /// Writes the rotated tokens (with the care time they lead to) and answers the connection
    /// that holds them: these, or the newer ones another writer stored first.
    async fn keep_rotation(
        &self,
        refreshed: Connection,
        sealed: crate::vault::SealedBlob,
        fresh: TokenSet,
    ) -> Result<OpenConnection, ConnectionError> {
        match self
            .store_rotation(&refreshed, &sealed, fresh.expires_at)
            .await
        {
            Ok(version) => {
                tracing::info!(connection_id = %refreshed.id, cart = %refreshed.cart, version, "tokens refreshed");
                Ok(OpenConnection {
                    connection: Connection {
                        tokens: sealed,
                        token_expires_at: fresh.expires_at,
                        version,
                        ..refreshed.clone()
                    },
                    tokens: fresh,
                })
            }
            // Someone else wrote newer tokens (theirs are the ones the cart now honours), or an
            // earlier try of this write landed although the store reported a failure.
            Err(StoreError::Conflict(_)) => {
                tracing::warn!(connection_id = %refreshed.id, "refreshed tokens lost a race; using the stored ones");
                let stored = self.open_connection(&refreshed.id).await;
                if matches!(stored, Err(ConnectionError::NotFound)) {
                    self.revoke_unkept(&refreshed, &fresh).await;
                }
                stored
            }
            Err(e) => {
                tracing::error!(connection_id = %refreshed.id, error = %e, "refreshed tokens could not be stored; not used");
                Err(e.into())
            }
        }
    }

    /// Rotated tokens of a connection dropped while the cart was rotating them: nobody will
    /// ever hold them, so the cart is asked to revoke them (the disconnect revoked the tokens it
    /// read, which the rotation had already retired). Best effort: a failure is logged.
    async fn revoke_unkept(&self, connection: &Connection, fresh: &TokenSet) {
        if let Err(why) = self.call_revocation(connection, fresh).await {
            tracing::warn!(connection_id = %connection.id, reason = %why, "rotated tokens of a dropped connection not revoked");
        } else {
            tracing::info!(connection_id = %connection.id, "rotated tokens of a dropped connection revoked");
        }
    }

    /// What the refresh of `connection` sends: its cart and credentials, the token endpoint
    /// built for its store and account, and its refresh token (none where the cart mints again).
    async fn refresh_call<'a>(
        &'a self,
        connection: &Connection,
        tokens: &TokenSet,
    ) -> Result<RefreshRequest<'a>, ConnectionError> {
        let cart = self
            .catalog
            .get(&connection.cart)
            .ok_or_else(|| ConnectionError::CartUnavailable("the cart is not configured".into()))?;
        let cart = self
            .cart_through(cart, connection.app.as_ref(), SecretUse::Open)
            .await
            .map_err(|e| match e {
                AppUnavailable::Store(e) => ConnectionError::Store(e),
                AppUnavailable::Vault(VaultError::Unavailable(e)) => ConnectionError::KeyService(e),
                other => ConnectionError::CartUnavailable(other.to_string()),
            })?;
        let store_value = self
            .store
            .invite(&connection.invite_id)
            .await?
            .and_then(|i| i.store);
        let vars = cart.connection_vars(store_value.as_deref(), connection.account.as_deref());
        let token_url = cart.endpoint(&cart.token_url, &vars).map_err(|e| {
            tracing::warn!(connection_id = %connection.id, cart = %cart.id, error = %e, "refresh endpoint refused");
            ConnectionError::CartUnavailable("the token endpoint cannot be built".into())
        })?;
        let refresh_token = tokens.refresh_token.clone();
        if refresh_token.is_none() && !cart.refresh.remints() {
            return Err(ConnectionError::CartUnavailable("no refresh token".into()));
        }
        Ok(RefreshRequest {
            cart,
            vars,
            token_url,
            refresh_token,
        })
    }

    /// Writes rotated tokens, with `refreshed`'s care time, under the version condition of
    /// `refreshed` (the version read). The cart has retired the old refresh token by now, so a
    /// store failure is tried again a few times before the tokens are given up.
    async fn store_rotation(
        &self,
        refreshed: &Connection,
        sealed: &crate::vault::SealedBlob,
        expires_at: Option<Timestamp>,
    ) -> Result<u64, StoreError> {
        let (mut tries, mut pause) = (1, ROTATION_WRITE_PAUSE);
        let now = self.clock.now();
        let (id, care_at, expected) = (&refreshed.id, refreshed.care_at, refreshed.version);
        loop {
            match self
                .store
                .update_tokens(id, sealed, expires_at, Some(now), care_at, expected)
                .await
            {
                Err(StoreError::Unavailable(_)) if tries < ROTATION_WRITE_TRIES => {
                    tracing::warn!(connection_id = %id, tries, "rotated tokens not stored yet; trying again");
                    tokio::time::sleep(pause).await;
                    tries += 1;
                    pause *= 2;
                }
                written => return written,
            }
        }
    }

    /// The cart refused the refresh token. If the connection changed since it was read, another
    /// refresh won a race and its tokens are current; otherwise the grant is gone: the
    /// connection is marked, and the warehouse is told once.
    async fn refresh_refused(&self, read: &Connection) -> Result<OpenConnection, ConnectionError> {
        let current = self
            .store
            .connection(&read.id)
            .await?
            .ok_or(ConnectionError::NotFound)?;
        if current.version != read.version {
            tracing::info!(connection_id = %read.id, "refresh token refused after a newer refresh; using the newer tokens");
            return self.open_stored(current).await;
        }
        // Marked only while its tokens are still the refused ones: a refresh that lands between
        // the read above and this write makes it a conflict, and those newer tokens are served.
        match self
            .store
            .set_connection_status(&read.id, ConnectionStatus::NeedsReauth, read.version)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                let newer = self
                    .store
                    .connection(&read.id)
                    .await?
                    .ok_or(ConnectionError::NotFound)?;
                tracing::info!(connection_id = %read.id, "refresh token refused while a newer refresh landed; using the newer tokens");
                return self.open_stored(newer).await;
            }
            Err(e) => return Err(e.into()),
        }
        tracing::warn!(connection_id = %read.id, cart = %read.cart, reason = "invalid_grant", "refresh token refused; connection needs re-authorization");
        // Scoped by the version refused: a renewed connection can lose its grant again.
        let version = read.version.to_string();
        self.record_invite_event(
            &read.invite_id,
            crate::domain::InviteEventKind::NeedsReauth,
            Some(&version),
            None,
        )
        .await;
        self.tell_warehouse_reauth(read).await;
        self.reconnect_by_itself(read).await;
        Err(ConnectionError::NeedsReauthorization)
    }

    /// The "needs re-authorization" email to the warehouse, at most once per invite (a send
    /// record guards it); a mail failure is logged and released for a later attempt.
    async fn tell_warehouse_reauth(&self, connection: &Connection) {
        let invite = match self.store.invite(&connection.invite_id).await {
            Ok(Some(invite)) => invite,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "re-authorization email: invite not read");
                return;
            }
        };
        let cart_name = self.catalog.display_name(&connection.cart);
        let email = || reauthorization_needed(&invite, &cart_name, connection.id.as_str());
        match self
            .send_once(&invite.id, EmailKind::ReauthorizationNeeded, email)
            .await
        {
            Ok(SendOnce::Sent | SendOnce::SentBefore | SendOnce::Busy) => {}
            Ok(SendOnce::Failed(e)) => {
                tracing::warn!(invite_id = %invite.id, error = %e, "re-authorization email not sent");
            }
            Err(e) => {
                tracing::warn!(invite_id = %invite.id, error = %e, "re-authorization send record not updated");
            }
        }
    }
}

/// What the cart answered a refresh, as the `Refreshes` metric counts it.
fn refresh_outcome<T>(answered: &Result<T, crate::oauth::OAuthError>) -> &'static str {
    match answered {
        Ok(_) => "refreshed",
        Err(e) if e.is_invalid_grant() => "refused",
        Err(_) => "failed",
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_interleave;
