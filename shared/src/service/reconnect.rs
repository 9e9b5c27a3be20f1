//! Reconnect: a re-authorization invite for an existing connection, for the same warehouse,
//! cart, store and functions as the connection's original invite, emailed to the same merchant
//! with wording that says it renews that connection. Granting it gives the same connection new
//! tokens (`ConnectionStore::commit_reconnect`), not a new connection.
//!
//! A connection has at most one open (unexpired, grantable) reconnect invite at a time: their
//! ids are derived from the connection's id, its version and a round number
//! ([`reconnect_invite_id`]), and an invite is stored only if absent. A request finds the first
//! round that is either open (it is answered again, with a fresh setup link, and nothing is
//! sent) or absent (a new invite is made there and emailed); closed rounds (expired, withdrawn,
//! undeliverable) are passed over. So a retried or concurrent request, and a refresh failure
//! that starts a reconnect by itself (`reconnect_by_itself`), all end at the same invite.
//! Granting it moves the connection's version, so the next reconnect starts afresh.
//!
//! A process that dies after storing the invite and before emailing it leaves it open and not
//! emailed: the next request answers it again (with a working link), and the warehouse may have
//! it resent.

use sha2::{Digest, Sha256};

use super::confirm::SendOnce;
use super::limits::{LimitError, RateLimited};
use super::Services;
use crate::domain::invite::DEFAULT_EXPIRY_HOURS;
use crate::domain::{
    AccessCode, Connection, ConnectionId, Invite, InviteEventKind, InviteId, InviteStatus,
    InviteToken, Timestamp, WarehouseId,
};
use crate::email::reconnect_invite_email;
use crate::mailer::MailError;
use crate::store::{EmailKind, StoreError};

/// How many reconnect invites one connection version may have (each closed one passed over
/// costs a read): after that, the warehouse is told to wait for the open one to be granted.
pub const MAX_ROUNDS: u32 = 16;

/// Why no reconnect invite was answered.
#[derive(Debug, thiserror::Error)]
pub enum ReconnectError {
    /// No such connection of this warehouse (another warehouse's is alike).
    #[error("no such connection")]
    NotFound,
    /// The warehouse disconnected it: there is nothing to renew.
    #[error("the connection was disconnected")]
    Disconnected,
    /// Every round of this connection version is used (closed).
    #[error("too many reconnect invites for this connection")]
    TooMany,
    /// The merchant's address reached its daily email limit.
    #[error("rate limited")]
    RateLimited(RateLimited),
    /// The mail service did not take the email; the invite stays `pending`.
    #[error("the mail service is unavailable")]
    MailUnavailable,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<LimitError> for ReconnectError {
    fn from(e: LimitError) -> Self {
        match e {
            LimitError::Limited(limited) => ReconnectError::RateLimited(limited),
            LimitError::Store(e) => ReconnectError::Store(e),
        }
    }
}

/// A reconnect invite as answered.
#[derive(Debug)]
pub struct ReconnectInvite {
    /// The invite (its `reconnects` names the connection).
    pub invite: Invite,
    /// A setup link for it (a secret, for the merchant only).
    pub setup_url: String,
    /// Whether this request made it (and emailed it); `false` when an open one was answered
    /// again.
    pub made: bool,
}

/// The id of `connection`'s reconnect invite for its `version` in `round`: the same for every
/// request, so two requests that race store one invite.
pub fn reconnect_invite_id(connection: &ConnectionId, version: u64, round: u32) -> InviteId {
    derived_invite_id(&[
        b"reconnect#",
        connection.as_str().as_bytes(),
        &version.to_be_bytes(),
        &round.to_be_bytes(),
    ])
}

/// An invite id derived from `seed` (its parts hashed in order): the same seed gives the same
/// id, so requests that race for it store one invite.
pub(super) fn derived_invite_id(seed: &[&[u8]]) -> InviteId {
    const LOWER_BASE32: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut h = Sha256::new();
    for part in seed {
        h.update(part);
    }
    let digest = h.finalize();
    let symbols: String = digest[..26]
        .iter()
        .map(|b| char::from(LOWER_BASE32[usize::from(b & 31)]))
        .collect();
    InviteId::parse(&format!("inv-{symbols}")).expect("a derived id is an opaque id")
}

/// Where the reconnect rounds of a connection version stand.
enum Round {
    /// This round's invite is open: answer it.
    Open(Box<Invite>),
    /// This round is free: make the invite here.
    Free(InviteId),
}

impl Services {
    /// `POST /v1/connections/{id}/reconnect`: answers the connection's open reconnect invite,
    /// or makes one (counted against the merchant address's daily emails) and emails it.
    pub async fn request_reconnect(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<ReconnectInvite, ReconnectError> {
        let connection = self.reconnectable(warehouse, raw_id).await?;
        let original = self
            .store
            .invite(&connection.invite_id)
            .await?
            .ok_or(ReconnectError::NotFound)?;
        // A request that loses the race for a round answers the winner's invite.
        for _ in 0..2 {
            let id = match self.round_of(&connection).await? {
                Round::Open(open) => return self.answer_again(*open).await,
                Round::Free(id) => id,
            };
            self.admit_merchant_email(&original.merchant_email).await?;
            match self
                .make_reconnect_invite(&original, &connection, id, None)
                .await
            {
                Err(ReconnectError::Store(StoreError::Conflict(_))) => continue,
                other => return other,
            }
        }
        Err(ReconnectError::TooMany)
    }

    /// After the cart refused `connection`'s refresh token: makes and emails its reconnect
    /// invite unless one is open already (so repeated or concurrent failures make one). Not
    /// counted against the address's limit: a cart, not a key holder, starts it, once per
    /// connection version. Failures are logged; the warehouse is told as ever.
    pub(super) async fn reconnect_by_itself(&self, connection: &Connection) {
        let made = async {
            let Round::Free(id) = self.round_of(connection).await? else {
                return Ok(None);
            };
            let original = self
                .store
                .invite(&connection.invite_id)
                .await?
                .ok_or(ReconnectError::NotFound)?;
            match self
                .make_reconnect_invite(&original, connection, id, None)
                .await
            {
                Ok(made) => Ok(Some(made.invite.id)),
                Err(ReconnectError::Store(StoreError::Conflict(_))) => Ok(None),
                Err(e) => Err(e),
            }
        };
        match made.await {
            Ok(Some(id)) => {
                tracing::info!(connection_id = %connection.id, invite_id = %id, "reconnect invite made after a refused refresh");
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(connection_id = %connection.id, error = %e, "reconnect invite not made after a refused refresh");
            }
        }
    }

    /// The warehouse's connection `raw_id`, if it may be renewed: another warehouse's and a
    /// missing one are alike ([`ReconnectError::NotFound`]).
    async fn reconnectable(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<Connection, ReconnectError> {
        let id = ConnectionId::parse(raw_id).ok_or(ReconnectError::NotFound)?;
        match self.store.connection(&id).await? {
            Some(c) if c.warehouse_id == *warehouse => return Ok(c),
            Some(_) => return Err(ReconnectError::NotFound),
            None => {}
        }
        match self.store.disconnection(&id).await? {
            Some(d) if d.warehouse_id == *warehouse => Err(ReconnectError::Disconnected),
            _ => Err(ReconnectError::NotFound),
        }
    }

    /// The first round of `connection`'s version that is open or free.
    async fn round_of(&self, connection: &Connection) -> Result<Round, ReconnectError> {
        let now = self.clock.now();
        for round in 0..MAX_ROUNDS {
            let id = reconnect_invite_id(&connection.id, connection.version, round);
            match self.store.invite(&id).await? {
                None => return Ok(Round::Free(id)),
                Some(open) if open.accepts_grant(now) => return Ok(Round::Open(Box::new(open))),
                Some(_) => {}
            }
        }
        Err(ReconnectError::TooMany)
    }

    /// An open reconnect invite, with a fresh setup link (the first one is known only by its
    /// hash); nothing is sent.
    async fn answer_again(&self, invite: Invite) -> Result<ReconnectInvite, ReconnectError> {
        let token = InviteToken::generate();
        self.store
            .add_link(&invite.id, &token.hash(), self.clock.now())
            .await?;
        let setup_url = self
            .config
            .public_url(&format!("/setup/{}", token.expose()));
        Ok(ReconnectInvite {
            invite,
            setup_url,
            made: false,
        })
    }

    /// Stores the reconnect invite `id` of `connection` (only if absent: a
    /// [`StoreError::Conflict`] says another request stored it), records the request in the
    /// original invite's history, and emails it through its send record (saying, with
    /// `deadline`, that the grant ends then).
    pub(super) async fn make_reconnect_invite(
        &self,
        original: &Invite,
        connection: &Connection,
        id: InviteId,
        deadline: Option<Timestamp>,
    ) -> Result<ReconnectInvite, ReconnectError> {
        let now = self.clock.now();
        let token = InviteToken::generate();
        let code = AccessCode::generate();
        let invite = Invite {
            id,
            status: InviteStatus::Pending,
            status_reason: None,
            access_code_hash: code.hash(),
            access_code_hint: code.hint(),
            resends: 0,
            reconnects: Some(connection.id.clone()),
            // The grant renews the connection, so it goes through the connection's app.
            app: connection.app.clone(),
            created_at: now,
            updated_at: now,
            expires_at: now.plus_secs(i64::from(DEFAULT_EXPIRY_HOURS) * 3600),
            ..original.clone()
        };
        self.store.insert_invite(&invite, &token.hash()).await?;
        tracing::info!(invite_id = %invite.id, connection_id = %connection.id, "reconnect invite stored");
        self.record_invite_event(
            &original.id,
            InviteEventKind::ReconnectRequested,
            Some(invite.id.as_str()),
            None,
        )
        .await;
        self.email_reconnect_invite(
            invite,
            (&token, &code),
            EmailKind::ReconnectInvite,
            deadline,
        )
        .await
    }

    /// Emails a stored reconnect invite with its setup link and access code, once (the send
    /// record of `kind`: the invite's first email, or one with replaced secrets), and records
    /// what became of the email.
    pub(super) async fn email_reconnect_invite(
        &self,
        mut invite: Invite,
        (token, code): (&InviteToken, &AccessCode),
        kind: EmailKind,
        deadline: Option<Timestamp>,
    ) -> Result<ReconnectInvite, ReconnectError> {
        let setup_url = self
            .config
            .public_url(&format!("/setup/{}", token.expose()));
        let cart_name = self.catalog.display_name(&invite.cart);
        let setup_page = self.config.public_url("/setup");
        let email =
            || reconnect_invite_email(&invite, &cart_name, &setup_url, &setup_page, code, deadline);
        let (status, reason) = match self.send_once(&invite.id, kind, email).await? {
            SendOnce::Sent | SendOnce::SentBefore | SendOnce::Busy => (InviteStatus::Emailed, None),
            SendOnce::Failed(MailError::Unavailable(_)) => {
                tracing::warn!(invite_id = %invite.id, "reconnect email not sent: the mail service is unavailable; left pending");
                return Err(ReconnectError::MailUnavailable);
            }
            SendOnce::Failed(e) => {
                tracing::warn!(invite_id = %invite.id, error = %e, "reconnect email not sent");
                (InviteStatus::EmailFailed, Some(e.to_string()))
            }
        };
        self.settle_invite_email(&mut invite, status, reason)
            .await?;
        Ok(ReconnectInvite {
            invite,
            setup_url,
            made: true,
        })
    }
}

#[cfg(test)]
mod tests;
