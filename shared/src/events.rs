//! The "invite authorized" event port. On AWS the DynamoDB stream carries the event to the
//! confirmation function, so publishing is a no-op there; the local server delivers it in
//! process after the callback commits.

use async_trait::async_trait;

use crate::domain::InviteId;

/// Where "invite authorized" goes after the callback commits.
#[async_trait]
pub trait AuthorizedEvents: Send + Sync {
    /// Tells the confirmation step that `invite` was authorized.
    async fn invite_authorized(&self, invite: &InviteId);
}

/// For deployments where the store's change stream delivers the event.
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamDelivered;

#[async_trait]
impl AuthorizedEvents for StreamDelivered {
    async fn invite_authorized(&self, _invite: &InviteId) {}
}

/// Delivers events over an in-process channel (the local server).
#[derive(Clone, Debug)]
pub struct InProcess(pub tokio::sync::mpsc::UnboundedSender<InviteId>);

#[async_trait]
impl AuthorizedEvents for InProcess {
    async fn invite_authorized(&self, invite: &InviteId) {
        if self.0.send(invite.clone()).is_err() {
            tracing::warn!(invite_id = %invite, "confirmation worker is gone; event dropped");
        }
    }
}
