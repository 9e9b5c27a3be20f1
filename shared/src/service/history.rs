//! Invites' histories: recording each step where it happens, and reading them back.
//!
//! A history write never fails the step it records: the step's state change is committed
//! first, then the event is recorded; a store failure then is logged and the event is lost (see
//! docs/guarantees.md). Where the committed records already say what happened, the event is
//! derived when read instead of written: `confirmed` (the invite's final status and the time
//! it was set), `created` and `withdrawn` for invites made before those steps were recorded, `expired` (its expiry
//! passed before the store was connected), and `authorized` (the connection's creation) when
//! no recorded one is found. Each recorded step has a key, so a retry or a concurrent duplicate
//! of the same step stores it once.

use super::Services;
use crate::domain::{InviteEvent, InviteEventKind, InviteId, InviteStatus, TokenHash, WarehouseId};
use crate::store::StoreError;

/// The key of one step: the kind, and what tells two steps of that kind apart (the attempt's
/// state hash for `grant_started`, `declined` and `failed`; nothing for a step an invite takes
/// once).
pub fn step_key(kind: InviteEventKind, scope: Option<&str>) -> String {
    match scope {
        Some(scope) => format!("{}:{scope}", kind.as_str()),
        None => kind.as_str().to_owned(),
    }
}

/// The scope of a step of one grant attempt: a prefix of its state's hash (a hash, so nothing
/// secret is stored).
pub fn attempt_scope(state_hash: &TokenHash) -> &str {
    &state_hash.as_str()[..32]
}

impl Services {
    /// Records that `invite` took the step `kind` (told apart from other steps of that kind by
    /// `scope`), now, with an optional stable `reason` code. Once per step: a repeat stores
    /// nothing. Never fails the caller: the step happened whether or not its event is stored.
    /// This is what every flow calls, including resend (`Resent`, scoped by its round, the
    /// invite's `resends`), reconnect (`ReconnectRequested`, scoped by the reconnect invite's id) and
    /// disconnect (`Disconnected`, once).
    pub async fn record_invite_event(
        &self,
        invite: &InviteId,
        kind: InviteEventKind,
        scope: Option<&str>,
        reason: Option<&str>,
    ) {
        let event = InviteEvent {
            kind,
            at: self.clock.now(),
            reason: reason.map(str::to_owned),
        };
        let key = step_key(kind, scope);
        if let Err(e) = self.store.record_event(invite, &key, &event).await {
            tracing::warn!(invite_id = %invite, event = kind.as_str(), error = %e, "invite event not recorded");
        }
    }

    /// The grant page of the link `raw_token` was shown in a browser that ran its script: records
    /// `opened` the first time for its invite (later opens store nothing). Changes nothing of
    /// the invite; an unknown link is ignored. Answers whether the link is known.
    pub async fn link_opened(&self, raw_token: &str) -> Result<bool, StoreError> {
        let Some(invite) = self.store.invite_by_link(&TokenHash::of(raw_token)).await? else {
            return Ok(false);
        };
        self.record_invite_event(&invite.id, InviteEventKind::Opened, None, None)
            .await;
        Ok(true)
    }

    /// The grant page of the link `raw_token` could not open its popup (the browser blocked
    /// it): counted in the `PopupsBlocked` metric, nothing stored. An unknown link is not
    /// counted. Answers whether the link is known.
    pub async fn popup_blocked(&self, raw_token: &str) -> Result<bool, StoreError> {
        let known = self
            .store
            .invite_by_link(&TokenHash::of(raw_token))
            .await?
            .is_some();
        if known {
            crate::telemetry::metric::popup_blocked();
        }
        Ok(known)
    }

    /// A warehouse's own invite's history, oldest first: the recorded events and the derived
    /// ones. `None` as for [`Services::warehouse_invite`].
    pub async fn invite_history(
        &self,
        warehouse: &WarehouseId,
        raw_id: &str,
    ) -> Result<Option<Vec<InviteEvent>>, StoreError> {
        let Some(state) = self.warehouse_invite(warehouse, raw_id).await? else {
            return Ok(None);
        };
        let invite = &state.invite;
        let mut events = self.store.events_of(&invite.id).await?;
        let derived = |kind, at| InviteEvent {
            kind,
            at,
            reason: None,
        };
        let recorded = |kind| events.iter().any(|e: &InviteEvent| e.kind == kind);
        // Invites made (or withdrawn) before these steps were recorded have them derived.
        let created = (!recorded(InviteEventKind::Created))
            .then(|| derived(InviteEventKind::Created, invite.created_at));
        let authorized = match &state.connection {
            Some(c) if !recorded(InviteEventKind::Authorized) => {
                Some(derived(InviteEventKind::Authorized, c.created_at))
            }
            _ => None,
        };
        let settled = match invite.status {
            InviteStatus::Confirmed => Some(InviteEventKind::Confirmed),
            InviteStatus::Revoked if !recorded(InviteEventKind::Withdrawn) => {
                Some(InviteEventKind::Withdrawn)
            }
            _ => None,
        };
        let expired = !invite.status.is_connected()
            && !matches!(invite.status, InviteStatus::Revoked)
            && invite.is_expired(self.clock.now());
        events.extend(created);
        events.extend(authorized);
        events.extend(settled.map(|kind| derived(kind, invite.updated_at)));
        if expired {
            events.push(derived(InviteEventKind::Expired, invite.expires_at));
        }
        InviteEvent::sort(&mut events);
        Ok(Some(events))
    }
}
