//! The store port behind a [`FaultPlan`]: every method of every aggregate goes through it.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;

mod accounts;
mod care;
mod cart_apps;
mod cart_subscriptions;
mod change_watch;
mod tenants;

use super::{FaultPlan, Port};
use crate::domain::SealedBlob;
use crate::domain::{
    AttemptStatus, Connection, ConnectionId, ConnectionStatus, GrantAttempt, Invite, InviteEvent,
    InviteId, InviteStatus, Timestamp, TokenHash, WarehouseId,
};
use crate::store::{
    AttemptStore, AuthorizationCommit, ConnectionFilter, ConnectionStore, Counters, EmailKind,
    IdempotencyKeys, IdempotencyTake, InviteEvents, InviteFilter, InviteStore, Leases, Page,
    PageRequest, SendClaim, SendLedger, Store, StoreError, StoredAnswer,
};

/// The store port behind a [`FaultPlan`].
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    plan: Arc<FaultPlan>,
}

impl FaultyStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Store>, plan: Arc<FaultPlan>) -> Self {
        FaultyStore { inner, plan }
    }

    /// The wrapped store.
    pub(super) fn inner(&self) -> &dyn Store {
        self.inner.as_ref()
    }

    pub(super) async fn run<T>(
        &self,
        call: &'static str,
        op: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.plan
            .guard(Port::Store, call, op, |why| {
                StoreError::Unavailable(why.into())
            })
            .await
    }
}

#[async_trait]
impl InviteStore for FaultyStore {
    async fn insert_invite(&self, invite: &Invite, link: &TokenHash) -> Result<(), StoreError> {
        self.run("insert_invite", self.inner.insert_invite(invite, link))
            .await
    }

    async fn invite(&self, id: &InviteId) -> Result<Option<Invite>, StoreError> {
        self.run("invite", self.inner.invite(id)).await
    }

    async fn invite_by_link(&self, link: &TokenHash) -> Result<Option<Invite>, StoreError> {
        self.run("invite_by_link", self.inner.invite_by_link(link))
            .await
    }

    async fn invite_by_access_code(&self, code: &TokenHash) -> Result<Option<Invite>, StoreError> {
        self.run(
            "invite_by_access_code",
            self.inner.invite_by_access_code(code),
        )
        .await
    }

    async fn add_link(
        &self,
        invite: &InviteId,
        link: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.run("add_link", self.inner.add_link(invite, link, now))
            .await
    }

    async fn set_invite_status(
        &self,
        id: &InviteId,
        to: InviteStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            "set_invite_status",
            self.inner.set_invite_status(id, to, reason, now),
        )
        .await
    }

    async fn list_invites(
        &self,
        warehouse: &WarehouseId,
        filter: &InviteFilter,
        page: &PageRequest,
    ) -> Result<Page<Invite>, StoreError> {
        self.run(
            "list_invites",
            self.inner.list_invites(warehouse, filter, page),
        )
        .await
    }

    async fn authorized_invites(&self, limit: usize) -> Result<Vec<Invite>, StoreError> {
        self.run("authorized_invites", self.inner.authorized_invites(limit))
            .await
    }

    async fn replace_secrets(
        &self,
        id: &InviteId,
        expected_resends: u32,
        link: &TokenHash,
        code: &TokenHash,
        code_hint: &str,
        now: Timestamp,
    ) -> Result<u32, StoreError> {
        self.run(
            "replace_secrets",
            self.inner
                .replace_secrets(id, expected_resends, link, code, code_hint, now),
        )
        .await
    }
}

#[async_trait]
impl AttemptStore for FaultyStore {
    async fn begin_attempt(
        &self,
        attempt: &GrantAttempt,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.run("begin_attempt", self.inner.begin_attempt(attempt, now))
            .await
    }

    async fn attempt(&self, state: &TokenHash) -> Result<Option<GrantAttempt>, StoreError> {
        self.run("attempt", self.inner.attempt(state)).await
    }

    async fn latest_attempt(&self, invite: &InviteId) -> Result<Option<GrantAttempt>, StoreError> {
        self.run("latest_attempt", self.inner.latest_attempt(invite))
            .await
    }

    async fn claim_attempt(
        &self,
        state: &TokenHash,
        now: Timestamp,
        claim_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            "claim_attempt",
            self.inner.claim_attempt(state, now, claim_until),
        )
        .await
    }

    async fn claim_granting_attempt(
        &self,
        state: &TokenHash,
        invite: &InviteId,
        now: Timestamp,
        claim_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            "claim_granting_attempt",
            self.inner
                .claim_granting_attempt(state, invite, now, claim_until),
        )
        .await
    }

    async fn close_attempt(
        &self,
        state: &TokenHash,
        from: AttemptStatus,
        outcome: AttemptStatus,
    ) -> Result<(), StoreError> {
        self.run(
            "close_attempt",
            self.inner.close_attempt(state, from, outcome),
        )
        .await
    }
}

#[async_trait]
impl ConnectionStore for FaultyStore {
    async fn commit_authorization(
        &self,
        commit: &AuthorizationCommit<'_>,
    ) -> Result<(), StoreError> {
        self.run(
            "commit_authorization",
            self.inner.commit_authorization(commit),
        )
        .await
    }

    async fn commit_reconnect(
        &self,
        invite: &InviteId,
        renewed: &Connection,
        expected_version: u64,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            "commit_reconnect",
            self.inner
                .commit_reconnect(invite, renewed, expected_version, state, now),
        )
        .await
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        self.run("connection", self.inner.connection(id)).await
    }

    async fn connection_for_invite(
        &self,
        invite: &InviteId,
    ) -> Result<Option<Connection>, StoreError> {
        self.run(
            "connection_for_invite",
            self.inner.connection_for_invite(invite),
        )
        .await
    }

    async fn update_tokens(
        &self,
        id: &ConnectionId,
        tokens: &SealedBlob,
        token_expires_at: Option<Timestamp>,
        refreshed_at: Option<Timestamp>,
        care_at: Option<Timestamp>,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        self.run(
            "update_tokens",
            self.inner.update_tokens(
                id,
                tokens,
                token_expires_at,
                refreshed_at,
                care_at,
                expected_version,
            ),
        )
        .await
    }

    async fn list_connections(
        &self,
        warehouse: &WarehouseId,
        filter: &ConnectionFilter,
        page: &PageRequest,
    ) -> Result<Page<Connection>, StoreError> {
        self.run(
            "list_connections",
            self.inner.list_connections(warehouse, filter, page),
        )
        .await
    }

    async fn set_connection_status(
        &self,
        id: &ConnectionId,
        status: ConnectionStatus,
        read_version: u64,
    ) -> Result<(), StoreError> {
        self.run(
            "set_connection_status",
            self.inner.set_connection_status(id, status, read_version),
        )
        .await
    }
}

#[async_trait]
impl SendLedger for FaultyStore {
    async fn claim_send(
        &self,
        invite: &InviteId,
        kind: EmailKind,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<SendClaim, StoreError> {
        self.run(
            "claim_send",
            self.inner.claim_send(invite, kind, now, lease_secs),
        )
        .await
    }

    async fn finish_send(
        &self,
        invite: &InviteId,
        kind: EmailKind,
        message_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            "finish_send",
            self.inner.finish_send(invite, kind, message_id, now),
        )
        .await
    }

    async fn release_send(&self, invite: &InviteId, kind: EmailKind) -> Result<(), StoreError> {
        self.run("release_send", self.inner.release_send(invite, kind))
            .await
    }
}

#[async_trait]
impl Counters for FaultyStore {
    async fn count_hit_within(
        &self,
        key: &str,
        window_secs: i64,
        limit: u32,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.run(
            "count_hit_within",
            self.inner.count_hit_within(key, window_secs, limit, now),
        )
        .await
    }
}

#[async_trait]
impl Leases for FaultyStore {
    async fn take_lease(
        &self,
        key: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<bool, StoreError> {
        self.run(
            "take_lease",
            self.inner.take_lease(key, owner, now, lease_secs),
        )
        .await
    }

    async fn release_lease(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.run("release_lease", self.inner.release_lease(key, owner))
            .await
    }
}

#[async_trait]
impl IdempotencyKeys for FaultyStore {
    async fn take_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        owner: &str,
        now: Timestamp,
        lease_secs: i64,
        keep_secs: i64,
    ) -> Result<IdempotencyTake, StoreError> {
        self.run(
            "take_idempotency_key",
            self.inner
                .take_idempotency_key(key, request_hash, owner, now, lease_secs, keep_secs),
        )
        .await
    }

    async fn finish_idempotency_key(
        &self,
        key: &str,
        owner: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        self.run(
            "finish_idempotency_key",
            self.inner.finish_idempotency_key(key, owner, answer),
        )
        .await
    }

    async fn release_idempotency_key(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.run(
            "release_idempotency_key",
            self.inner.release_idempotency_key(key, owner),
        )
        .await
    }
}

#[async_trait]
impl crate::store::Disconnections for FaultyStore {
    async fn disconnect(
        &self,
        record: &crate::domain::Disconnection,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        self.run(
            "disconnect",
            self.inner.disconnect(record, expected_version),
        )
        .await
    }

    async fn disconnection(
        &self,
        id: &ConnectionId,
    ) -> Result<Option<crate::domain::Disconnection>, StoreError> {
        self.run("disconnection", self.inner.disconnection(id))
            .await
    }

    async fn settle_revocation(
        &self,
        id: &ConnectionId,
        outcome: crate::domain::Revocation,
    ) -> Result<(), StoreError> {
        self.run(
            "settle_revocation",
            self.inner.settle_revocation(id, outcome),
        )
        .await
    }
}

#[async_trait]
impl InviteEvents for FaultyStore {
    async fn record_event(
        &self,
        invite: &InviteId,
        key: &str,
        event: &InviteEvent,
    ) -> Result<bool, StoreError> {
        self.run("record_event", self.inner.record_event(invite, key, event))
            .await
    }

    async fn events_of(&self, invite: &InviteId) -> Result<Vec<InviteEvent>, StoreError> {
        self.run("events_of", self.inner.events_of(invite)).await
    }
}

#[async_trait]
impl crate::store::ManageLinks for FaultyStore {
    async fn add_manage_link(
        &self,
        link: &TokenHash,
        record: &crate::store::ManageLink,
    ) -> Result<(), StoreError> {
        self.run("add_manage_link", self.inner.add_manage_link(link, record))
            .await
    }

    async fn manage_link(
        &self,
        link: &TokenHash,
    ) -> Result<Option<crate::store::ManageLink>, StoreError> {
        self.run("manage_link", self.inner.manage_link(link)).await
    }

    async fn manage_links_for(
        &self,
        merchant: &TokenHash,
    ) -> Result<Vec<crate::store::ManageLink>, StoreError> {
        self.run("manage_links_for", self.inner.manage_links_for(merchant))
            .await
    }

    async fn record_token_fetch(&self, id: &ConnectionId, at: Timestamp) -> Result<(), StoreError> {
        self.run("record_token_fetch", self.inner.record_token_fetch(id, at))
            .await
    }

    async fn last_token_fetch(&self, id: &ConnectionId) -> Result<Option<Timestamp>, StoreError> {
        self.run("last_token_fetch", self.inner.last_token_fetch(id))
            .await
    }
}
