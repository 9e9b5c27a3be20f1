//! The commit of a granted re-authorization invite: the connection it renews gets the new
//! tokens, in one atomic step with the invite and the attempt (`ConnectionStore::commit_reconnect`).

use super::{refused, Authorized, CallbackError};
use crate::domain::{
    Connection, ConnectionStatus, GrantAttempt, Invite, InviteEventKind, Refusal, Timestamp,
    TokenSet,
};
use crate::service::Services;
use crate::store::StoreError;
use crate::vault::DataKey;

impl Services {
    /// Seals `tokens` with `key` (taken under the renewed connection's own context) and
    /// commits them onto `current`, the connection renewed as read: same id, `active`, the
    /// next version. A grant for another account than the connection's where the cart names
    /// one ([`Refusal::AccountMismatch`]) is refused before anything is sealed or stored.
    pub(super) async fn renew_and_commit(
        &self,
        current: Connection,
        key: DataKey,
        attempt: &GrantAttempt,
        invite: &Invite,
        (tokens, account): (TokenSet, Option<String>),
        now: Timestamp,
    ) -> Result<Authorized, CallbackError> {
        let renewed = &current.id;
        let granted = tokens.account.clone().or(account);
        if let (Some(granted), Some(held)) = (&granted, &current.account) {
            if granted != held {
                tracing::warn!(invite_id = %invite.id, connection_id = %renewed, "reconnect granted for another account; nothing stored");
                return Err(refused(Refusal::AccountMismatch));
            }
        }
        let connection = Connection {
            tokens: key.seal(&tokens.to_plaintext()),
            token_expires_at: tokens.expires_at,
            refreshed_at: Some(now),
            status: ConnectionStatus::Active,
            version: current.version + 1,
            granted_at: Some(now),
            ..current.clone()
        }
        .scheduled(&self.care_limits(&current.cart));
        // The claim is checked against the time of the commit, not of the request.
        match self
            .store
            .commit_reconnect(
                &invite.id,
                &connection,
                current.version,
                &attempt.state_hash,
                self.clock.now(),
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(what)) => {
                return Err(self.lost_commit(&invite.id, what).await?)
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(invite_id = %invite.id, connection_id = %connection.id, "connection renewed");
        self.record_invite_event(&invite.id, InviteEventKind::Authorized, None, None)
            .await;
        Ok(self.committed(invite, connection, now).await)
    }
}
