//! The store port: where invites, setup links, grant attempts, connections, send records,
//! rate-limit counters and leases live.
//!
//! The port is split along its contract's seams, one trait per aggregate: [`InviteStore`] (invites
//! with their links and access codes), [`AttemptStore`] (grant attempts), [`ConnectionStore`]
//! (connections and the callback's commit), [`SendLedger`] (one send record per invite and email
//! kind), [`Counters`], [`Leases`], [`IdempotencyKeys`] (the warehouse API's `Idempotency-Key`
//! records), [`Disconnections`] (what a dropped connection leaves in place of its sealed tokens),
//! [`InviteEvents`] (invites' histories), [`Tenants`] (warehouses kept as data, their branding and
//! API keys), [`ManageLinks`] (the merchant's manage links and the last token fetch of each
//! connection), [`WebhookStore`] (webhook endpoints and deliveries), [`CartApps`] (a warehouse's
//! own app credentials at carts), [`CartSubscriptions`] (the lifecycle subscriptions cartlink
//! holds at merchants' sites) and [`ChangeWatch`] (whether anything was committed since a read,
//! so that what was made from it may be reused). [`Store`] is all of them, so the services hold
//! one `Arc<dyn Store>`; code that needs one part may ask for that part only.
//!
//! A step that changes more than one aggregate at once lives with the record it creates:
//! [`AttemptStore::begin_attempt`] (moves the invite into `granting`, stores the attempt) and
//! [`ConnectionStore::commit_authorization`] (stores the connection, moves the invite into
//! `authorized` and the attempt into `completed`).
//!
//! Every state change is conditional on the state it expects, and the callback's commit is one
//! atomic step. Nothing secret is stored: links, access codes and `state` by hash only, tokens
//! sealed by the vault.

mod accounts;
mod care;
mod cart_apps;
mod cart_subscriptions;
#[cfg(feature = "aws")]
pub mod dynamo;
mod email_kind;
mod idempotency;
mod leases;
pub mod listing;
pub mod manage;
#[cfg(any(feature = "aws", feature = "embedded"))]
pub(crate) mod record;
#[cfg(feature = "embedded")]
pub mod sqlite;
mod tenants;
mod webhooks;

use async_trait::async_trait;

use crate::domain::{
    AttemptStatus, Connection, ConnectionId, ConnectionStatus, Disconnection, GrantAttempt, Invite,
    InviteEvent, InviteId, InviteStatus, Revocation, Timestamp, TokenHash, WarehouseId,
};
use crate::vault::SealedBlob;

#[cfg(feature = "aws")]
pub use dynamo::DynamoStore;
pub use listing::{ConnectionFilter, InviteFilter, Page, PageRequest, Position};
#[cfg(feature = "embedded")]
pub use sqlite::SqliteStore;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write found another state than it expected; nothing was written.
    #[error("the record is not in the expected state ({0})")]
    Conflict(&'static str),
    /// The record to change does not exist.
    #[error("no such record ({0})")]
    Missing(&'static str),
    /// The store could not be reached or failed; the operation may be retried.
    #[error("the store failed: {0}")]
    Unavailable(String),
    /// A stored record could not be read back.
    #[error("a stored record is unreadable: {0}")]
    Corrupt(String),
}

/// The outcome of trying to take a send record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendClaim {
    /// This caller holds the lease and must send, then finish or release.
    Claimed,
    /// The email went out already (with this message id): do nothing.
    AlreadySent(String),
    /// Another sender holds an unexpired lease: try again later.
    Busy,
}

/// Invites, with the setup links and the access code that open them.
#[async_trait]
pub trait InviteStore: Send + Sync {
    /// Stores a new invite and its first setup link (by hash), both only if absent.
    async fn insert_invite(&self, invite: &Invite, link: &TokenHash) -> Result<(), StoreError>;

    /// The invite with this id.
    async fn invite(&self, id: &InviteId) -> Result<Option<Invite>, StoreError>;

    /// The invite a setup link (by hash) opens.
    async fn invite_by_link(&self, link: &TokenHash) -> Result<Option<Invite>, StoreError>;

    /// The invite an access code (by hash) belongs to.
    async fn invite_by_access_code(&self, code: &TokenHash) -> Result<Option<Invite>, StoreError>;

    /// Adds another setup link to an existing invite (after an access code was typed, or to
    /// retry after a decline).
    async fn add_link(
        &self,
        invite: &InviteId,
        link: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Moves an invite to `to`, only from a state the state machine allows; `reason` replaces
    /// the stored reason. [`StoreError::Conflict`] if the invite is in another state.
    async fn set_invite_status(
        &self,
        id: &InviteId,
        to: InviteStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// One page of a warehouse's invites that `filter` keeps, newest first (see [`listing`]):
    /// `page.limit` of them whenever more match, each invite on exactly one page.
    async fn list_invites(
        &self,
        warehouse: &WarehouseId,
        filter: &InviteFilter,
        page: &PageRequest,
    ) -> Result<Page<Invite>, StoreError>;

    /// Up to `limit` invites in `authorized`, the oldest authorization first: the invites whose
    /// confirmations are still owed (the confirmation moves an invite to `confirmed` once both
    /// send records are sent). One indexed query.
    async fn authorized_invites(&self, limit: usize) -> Result<Vec<Invite>, StoreError>;

    /// Replaces an invite's link and access code, in one conditional write: only while its
    /// status takes a resend ([`InviteStatus::takes_resend`]) and its `resends` is still
    /// `expected_resends`, it gets the access code (by hash, with its hint) and the one setup
    /// link given here, `resends` goes up by one (answered), and from then on every earlier
    /// link and the earlier access code open nothing. Of concurrent replacements from the same
    /// `expected_resends` exactly one succeeds; the others are [`StoreError::Conflict`] and
    /// change nothing.
    #[allow(clippy::too_many_arguments)]
    async fn replace_secrets(
        &self,
        id: &InviteId,
        expected_resends: u32,
        link: &TokenHash,
        code: &TokenHash,
        code_hint: &str,
        now: Timestamp,
    ) -> Result<u32, StoreError>;
}

/// Invites' histories, kept apart from the invites: recording an event never changes an invite
/// (so a GET that records one, such as the first view of a link, stays safe).
#[async_trait]
pub trait InviteEvents: Send + Sync {
    /// Stores `event` of `invite` once under `key` (the step it belongs to, such as
    /// `grant_started:<attempt>`): a repeat of the same key, at once or later, stores nothing
    /// and answers `false`; the first answers `true`.
    async fn record_event(
        &self,
        invite: &InviteId,
        key: &str,
        event: &InviteEvent,
    ) -> Result<bool, StoreError>;

    /// Every stored event of `invite`, oldest first (within a second, in flow order).
    async fn events_of(&self, invite: &InviteId) -> Result<Vec<InviteEvent>, StoreError>;
}

/// Grant attempts: one per trip to the cart, found by the hash of its `state`.
#[async_trait]
pub trait AttemptStore: Send + Sync {
    /// Atomically moves the invite into `granting` (if it may) and stores the new attempt.
    async fn begin_attempt(&self, attempt: &GrantAttempt, now: Timestamp)
        -> Result<(), StoreError>;

    /// The attempt whose `state` has this hash.
    async fn attempt(&self, state: &TokenHash) -> Result<Option<GrantAttempt>, StoreError>;

    /// The most recent attempt for an invite.
    async fn latest_attempt(&self, invite: &InviteId) -> Result<Option<GrantAttempt>, StoreError>;

    /// Claims an attempt for the one request that calls the cart, in one conditional write:
    /// from `open` and unexpired at `now` to `exchanging` until `claim_until`. Conflict if it
    /// is in any other state or has expired; of concurrent claims exactly one succeeds.
    async fn claim_attempt(
        &self,
        state: &TokenHash,
        now: Timestamp,
        claim_until: Timestamp,
    ) -> Result<(), StoreError>;

    /// Claims like [`AttemptStore::claim_attempt`], in the same one write also requiring the
    /// attempt's invite `invite` to be `granting` and unexpired at `now`: a callback claims
    /// while it reads the invite, so a claim never holds an attempt whose invite cannot
    /// complete. Conflict, with nothing written, if either condition fails.
    async fn claim_granting_attempt(
        &self,
        state: &TokenHash,
        invite: &InviteId,
        now: Timestamp,
        claim_until: Timestamp,
    ) -> Result<(), StoreError>;

    /// Closes an attempt that is in state `from` with `outcome` (declined or failed): `open`
    /// for an answer of the cart that needs no call to it (a decline), `exchanging` for the
    /// claim holder's failure. Conflict if it is not in `from`.
    async fn close_attempt(
        &self,
        state: &TokenHash,
        from: AttemptStatus,
        outcome: AttemptStatus,
    ) -> Result<(), StoreError>;
}

/// What [`ConnectionStore::commit_authorization`] writes, all in one step.
pub struct AuthorizationCommit<'a> {
    /// The new connection.
    pub connection: &'a Connection,
    /// When its invite was created, which the invite's lists are ordered by: the caller has
    /// read the invite, so the commit does not read it again.
    pub invite_created: Timestamp,
    /// The hash of the claimed attempt's `state`.
    pub state: &'a TokenHash,
    /// The time the claim is checked against.
    pub now: Timestamp,
    /// The invite's history step (its key and event) that the commit records.
    pub step: (&'a str, &'a InviteEvent),
}

/// Connections: what a completed grant leaves, with its sealed tokens.
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// The callback's commit, all or nothing: the connection is stored if the invite has none,
    /// the invite moves from `granting` to `authorized`, the attempt from `exchanging`, under a
    /// claim that has not lapsed at `now`, to `completed`, and the history step is recorded
    /// (as [`InviteEvents::record_event`] records one). Conflict, with nothing written, if any
    /// condition fails or the step is recorded already.
    async fn commit_authorization(
        &self,
        commit: &AuthorizationCommit<'_>,
    ) -> Result<(), StoreError>;

    /// The callback's commit for a re-authorization invite (one whose `reconnects` names
    /// `renewed.id`), all or nothing: the stored connection `renewed.id`, only while its
    /// version is still `expected_version` (so not disconnected, and not changed since it was
    /// read), gets `renewed`'s sealed tokens, token expiry, `refreshed_at`, `granted_at`,
    /// `care_at` and `care_noticed`, status `active`
    /// and version `expected_version + 1` (every other attribute stays); `invite` moves from
    /// `granting`, unexpired at `now`, to `authorized` (and then leads to that connection:
    /// [`ConnectionStore::connection_for_invite`]); the attempt from `exchanging`, under a
    /// claim that has not lapsed at `now`, to `completed`. [`StoreError::Conflict`] if any
    /// condition fails; nothing is written then. Of concurrent commits exactly one succeeds.
    async fn commit_reconnect(
        &self,
        invite: &InviteId,
        renewed: &Connection,
        expected_version: u64,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// The connection with this id.
    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError>;

    /// The connection an invite led to: the one it made, or for an authorized
    /// re-authorization invite the one it renewed.
    async fn connection_for_invite(
        &self,
        invite: &InviteId,
    ) -> Result<Option<Connection>, StoreError>;

    /// Replaces a connection's tokens, only if its version is still `expected_version`; answers
    /// the new version. Only the token attributes, the version and (when given: the time of the
    /// refresh that produced these tokens) `refreshed_at` and (when given: the care time those
    /// tokens lead to, [`CareSchedule`]) `care_at` are written.
    async fn update_tokens(
        &self,
        id: &ConnectionId,
        tokens: &SealedBlob,
        token_expires_at: Option<Timestamp>,
        refreshed_at: Option<Timestamp>,
        care_at: Option<Timestamp>,
        expected_version: u64,
    ) -> Result<u64, StoreError>;

    /// One page of a warehouse's connections that `filter` keeps, newest first (see
    /// [`listing`]): `page.limit` of them whenever more match, each on exactly one page.
    async fn list_connections(
        &self,
        warehouse: &WarehouseId,
        filter: &ConnectionFilter,
        page: &PageRequest,
    ) -> Result<Page<Connection>, StoreError>;

    /// Sets a connection's status (only that attribute, and for any status but `active` its
    /// removal from the care schedule: a connection waiting for its merchant has nothing care
    /// could do) if its tokens are still at `read_version`: a status judged from tokens a refresh has replaced since no longer holds,
    /// so that write is [`StoreError::Conflict`] and changes nothing;
    /// [`StoreError::Missing`] if the connection is gone.
    async fn set_connection_status(
        &self,
        id: &ConnectionId,
        status: ConnectionStatus,
        read_version: u64,
    ) -> Result<(), StoreError>;
}

/// One send record per invite and email kind, so each email goes out once: claimed for a
/// lease, then finished (sent) or released.
#[async_trait]
pub trait SendLedger: Send + Sync {
    /// Takes the send record of (`invite`, `kind`) for `lease_secs`, unless it is sent or leased.
    async fn claim_send(
        &self,
        invite: &InviteId,
        kind: EmailKind,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<SendClaim, StoreError>;

    /// Marks a claimed send record sent, with the mailer's message id.
    async fn finish_send(
        &self,
        invite: &InviteId,
        kind: EmailKind,
        message_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Gives a claimed send record back after a failed send, so a retry may take it.
    async fn release_send(&self, invite: &InviteId, kind: EmailKind) -> Result<(), StoreError>;
}

/// Rate-limit counters in fixed windows.
#[async_trait]
pub trait Counters: Send + Sync {
    /// Counts one event under `key` in the current fixed window of `window_secs` (windows start
    /// at multiples of `window_secs` since the epoch), only if fewer than `limit` were counted
    /// in it: answers whether it was counted. One conditional write, so concurrent callers
    /// never count past `limit`; an event that is not counted leaves the count as it was.
    async fn count_hit_within(
        &self,
        key: &str,
        window_secs: i64,
        limit: u32,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
}

/// Disconnections: a dropped connection's record, stored in place of the connection.
#[async_trait]
pub trait Disconnections: Send + Sync {
    /// Drops a connection, all or nothing: the connection (with its sealed tokens) is deleted,
    /// only while its version is still `expected_version`, and `record` is stored in its place.
    /// [`StoreError::Conflict`] if the connection is gone or changed (a refresh wrote new
    /// tokens, another disconnect won); nothing is written then.
    async fn disconnect(
        &self,
        record: &Disconnection,
        expected_version: u64,
    ) -> Result<(), StoreError>;

    /// The record of a dropped connection.
    async fn disconnection(&self, id: &ConnectionId) -> Result<Option<Disconnection>, StoreError>;

    /// Records the cart's answer to the revocation, only over `pending`: [`StoreError::Conflict`]
    /// if it was settled already, [`StoreError::Missing`] if there is no record.
    async fn settle_revocation(
        &self,
        id: &ConnectionId,
        outcome: Revocation,
    ) -> Result<(), StoreError>;
}

pub use accounts::AccountConnections;
pub use care::CareSchedule;
pub use cart_apps::CartApps;
pub use cart_subscriptions::CartSubscriptions;
pub use email_kind::EmailKind;
pub use idempotency::{IdempotencyKeys, IdempotencyRecord, IdempotencyTake, StoredAnswer};
pub use leases::Leases;
pub use manage::{ManageLink, ManageLinks};
pub use tenants::Tenants;
pub use webhooks::{DeliveryFilter, DeliveryRead, WebhookStore};

/// Whether anything was committed to the store since a read: what lets a process answer again
/// with what it made from that read (the local server's grant pages) without reading it again.
#[async_trait]
pub trait ChangeWatch: Send + Sync {
    /// A mark that moves whenever anything was committed to the store, by this process or by
    /// another, since it was last asked for. Taken before a read, it stays the same later only
    /// if nothing committed after the read could have changed it. `None` (the default) where
    /// the store cannot tell: DynamoDB, which every other Lambda writes too; nothing read from
    /// such a store is reused.
    async fn change_mark(&self) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }
}

/// The whole store port: every part, as the services hold it (`Arc<dyn Store>`). Any type that
/// implements every part is a `Store`.
pub trait Store:
    InviteStore
    + AttemptStore
    + ConnectionStore
    + SendLedger
    + Counters
    + Leases
    + IdempotencyKeys
    + Disconnections
    + InviteEvents
    + WebhookStore
    + Tenants
    + ManageLinks
    + AccountConnections
    + CareSchedule
    + CartApps
    + CartSubscriptions
    + ChangeWatch
{
}

impl<T> Store for T where
    T: InviteStore
        + AttemptStore
        + ConnectionStore
        + SendLedger
        + Counters
        + Leases
        + IdempotencyKeys
        + Disconnections
        + InviteEvents
        + WebhookStore
        + Tenants
        + ManageLinks
        + AccountConnections
        + CareSchedule
        + CartApps
        + CartSubscriptions
        + ChangeWatch
        + ?Sized
{
}
