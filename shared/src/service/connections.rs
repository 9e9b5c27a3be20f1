//! Using a stored connection: its tokens open only under its own context. A blob that does not
//! open (moved from another connection, tampered, or sealed under another key) is never served:
//! the connection is marked as needing re-authorization.

use super::Services;
use crate::domain::{Connection, ConnectionId, ConnectionStatus, TokenSet};
use crate::store::StoreError;
use crate::vault::VaultError;

/// Why a connection's tokens are not handed out.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// No such connection.
    #[error("no such connection")]
    NotFound,
    /// The connection is broken; the merchant must grant access again.
    #[error("the connection needs re-authorization")]
    NeedsReauthorization,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key service failed (the connection is not marked broken for that).
    #[error("the key service failed: {0}")]
    KeyService(String),
    /// The cart could not refresh the tokens now (unreachable, a bad answer, not configured);
    /// the stored tokens are unchanged and a later call may succeed. Carries no secret.
    #[error("the cart could not refresh the tokens: {0}")]
    CartUnavailable(String),
    /// Another process has been refreshing this connection for longer than a caller waits.
    #[error("a refresh of this connection is under way")]
    Busy,
}

/// A connection with its opened tokens.
#[derive(Debug)]
pub struct OpenConnection {
    /// The connection.
    pub connection: Connection,
    /// Its tokens.
    pub tokens: TokenSet,
}

impl Services {
    /// Opens a connection's tokens. A connection already marked broken is refused without a
    /// key call; a blob that does not open marks it broken.
    pub async fn open_connection(
        &self,
        id: &ConnectionId,
    ) -> Result<OpenConnection, ConnectionError> {
        let connection = self
            .store
            .connection(id)
            .await?
            .ok_or(ConnectionError::NotFound)?;
        self.open_stored(connection).await
    }

    /// Opens the tokens of a connection already read (see [`Services::open_connection`]).
    pub(super) async fn open_stored(
        &self,
        connection: Connection,
    ) -> Result<OpenConnection, ConnectionError> {
        let id = &connection.id;
        if connection.status == ConnectionStatus::NeedsReauth {
            return Err(ConnectionError::NeedsReauthorization);
        }
        let opened = self
            .vault
            .open(&connection.context(), &connection.tokens)
            .await;
        let tokens = match opened {
            Ok(plain) => TokenSet::from_plaintext(&plain),
            Err(VaultError::Refused) => None,
            Err(VaultError::Unavailable(e)) => return Err(ConnectionError::KeyService(e)),
        };
        match tokens {
            Some(tokens) => Ok(OpenConnection { connection, tokens }),
            None => {
                tracing::error!(connection_id = %id, warehouse_id = %connection.warehouse_id, reason = "decrypt_failed", "sealed tokens do not open under their connection; marked for re-authorization");
                match self
                    .store
                    .set_connection_status(id, ConnectionStatus::NeedsReauth, connection.version)
                    .await
                {
                    // Newer tokens were written meanwhile: they are not marked; this read's
                    // tokens still did not open, and the next ask reads the newer ones.
                    Ok(()) | Err(StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                Err(ConnectionError::NeedsReauthorization)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ConnectionStore;
    use crate::testing::TestKit;

    #[tokio::test]
    async fn a_good_connection_opens_to_its_tokens() {
        let kit = TestKit::new();
        let invite = kit.authorized().await;
        let conn = kit
            .store
            .connection_for_invite(&invite)
            .await
            .unwrap()
            .unwrap();
        let open = kit.services.open_connection(&conn.id).await.unwrap();
        assert_eq!(open.tokens.access_token.expose(), "CANARY_AT_C");
    }

    #[tokio::test]
    async fn an_envelope_copied_from_another_connection_is_refused_and_marks_it_broken() {
        // GIVEN two connections
        let kit = TestKit::new();
        let a = kit
            .store
            .connection_for_invite(&kit.authorized().await)
            .await
            .unwrap()
            .unwrap();
        let b = kit
            .store
            .connection_for_invite(&kit.authorized().await)
            .await
            .unwrap()
            .unwrap();
        // WHEN A's sealed tokens are written onto B
        kit.store
            .update_tokens(&b.id, &a.tokens, None, None, None, b.version)
            .await
            .unwrap();
        // THEN B is not served, and is marked as needing re-authorization
        let r = kit.services.open_connection(&b.id).await;
        assert!(
            matches!(r, Err(ConnectionError::NeedsReauthorization)),
            "{r:?}"
        );
        let b = kit.store.connection(&b.id).await.unwrap().unwrap();
        assert_eq!(b.status, ConnectionStatus::NeedsReauth);
        // AND A still opens
        assert!(kit.services.open_connection(&a.id).await.is_ok());
        // AND an unknown connection is not found
        let r = kit
            .services
            .open_connection(&ConnectionId::generate())
            .await;
        assert!(matches!(r, Err(ConnectionError::NotFound)));
    }

    #[tokio::test]
    async fn token_updates_are_conditional_on_the_version() {
        let kit = TestKit::new();
        let c = kit
            .store
            .connection_for_invite(&kit.authorized().await)
            .await
            .unwrap()
            .unwrap();
        let v2 = kit
            .store
            .update_tokens(&c.id, &c.tokens, None, None, None, c.version)
            .await
            .unwrap();
        assert_eq!(v2, c.version + 1);
        // a stale writer loses and changes nothing
        let r = kit
            .store
            .update_tokens(&c.id, &c.tokens, None, None, None, c.version)
            .await;
        assert!(matches!(r, Err(StoreError::Conflict(_))));
        assert_eq!(
            kit.store.connection(&c.id).await.unwrap().unwrap().version,
            v2
        );
    }
}
