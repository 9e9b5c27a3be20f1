//! Adapters built on first use, once: a process pays at start only for the clients every
//! request needs. A Lambda function that never seals a token (grant-page) never builds a KMS
//! client; one that never sends mail never builds an SES client.

use std::sync::OnceLock;

use async_trait::async_trait;
use url::Url;
use zeroize::Zeroizing;

use crate::carts::{ClientCredentials, CredentialCheck};
use crate::domain::Timestamp;
use crate::domain::{Secret, TokenSet};
use crate::mailer::{MailError, Mailer, OutgoingEmail};
use crate::oauth::{
    CodeExchange, OAuth1Call, OAuth1Token, OAuthError, RefreshCall, RevokeCall, TokenEndpoint,
};
use crate::vault::{DataKey, SealContext, SealedBlob, Vault, VaultError};
use crate::webhooks::{DeliveryRef, PostOutcome, QueueError, WebhookQueue, WebhookSender};

/// An adapter (or a client) that is built the first time a call needs it, by `build`, and
/// then kept: concurrent first calls build it once. Each build logs `client built` at debug
/// level with the client's name, so what a process built can be read from its log.
pub(super) struct Lazy<T> {
    name: &'static str,
    cell: OnceLock<T>,
    build: Box<dyn Fn() -> T + Send + Sync>,
}

impl<T> Lazy<T> {
    /// A `name`d client `build` makes on first use.
    pub(super) fn new(name: &'static str, build: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Lazy {
            name,
            cell: OnceLock::new(),
            build: Box::new(build),
        }
    }

    /// The client, built now if this is the first call.
    pub(super) fn get(&self) -> &T {
        self.cell.get_or_init(|| {
            tracing::debug!(client = self.name, "client built");
            (self.build)()
        })
    }
}

#[async_trait]
impl<T: Vault> Vault for Lazy<T> {
    async fn data_key(&self, context: &SealContext) -> Result<DataKey, VaultError> {
        self.get().data_key(context).await
    }

    async fn seal(
        &self,
        context: &SealContext,
        plaintext: &[u8],
    ) -> Result<SealedBlob, VaultError> {
        self.get().seal(context, plaintext).await
    }

    async fn open(
        &self,
        context: &SealContext,
        blob: &SealedBlob,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.get().open(context, blob).await
    }
}

#[async_trait]
impl<T: Mailer> Mailer for Lazy<T> {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        self.get().send(email).await
    }
}

#[async_trait]
impl<T: TokenEndpoint> TokenEndpoint for Lazy<T> {
    async fn exchange_code(&self, exchange: CodeExchange<'_>) -> Result<TokenSet, OAuthError> {
        self.get().exchange_code(exchange).await
    }

    async fn verify_keys(
        &self,
        url: &Url,
        check: CredentialCheck,
        key: &Secret,
        secret: &Secret,
    ) -> Result<(), OAuthError> {
        self.get().verify_keys(url, check, key, secret).await
    }

    async fn oauth1_token(&self, call: OAuth1Call<'_>) -> Result<OAuth1Token, OAuthError> {
        self.get().oauth1_token(call).await
    }

    async fn refresh(&self, call: RefreshCall<'_>) -> Result<TokenSet, OAuthError> {
        self.get().refresh(call).await
    }

    async fn revoke(&self, call: RevokeCall<'_>) -> Result<(), OAuthError> {
        self.get().revoke(call).await
    }

    async fn app_token(
        &self,
        credentials: &ClientCredentials,
        token_url: &Url,
        scope: &str,
    ) -> Result<Secret, OAuthError> {
        self.get().app_token(credentials, token_url, scope).await
    }

    async fn get_json(
        &self,
        url: &Url,
        token: &Secret,
        token_header: Option<&str>,
    ) -> Result<serde_json::Value, OAuthError> {
        self.get().get_json(url, token, token_header).await
    }

    async fn post_json(
        &self,
        url: &Url,
        bearer: &Secret,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, OAuthError> {
        self.get().post_json(url, bearer, body).await
    }
}

#[async_trait]
impl<T: WebhookQueue> WebhookQueue for Lazy<T> {
    async fn schedule(
        &self,
        delivery: &DeliveryRef,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<(), QueueError> {
        self.get().schedule(delivery, at, now).await
    }

    async fn dead_letter(&self, delivery: &DeliveryRef) -> Result<(), QueueError> {
        self.get().dead_letter(delivery).await
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<DeliveryRef>, QueueError> {
        self.get().due(now, limit).await
    }

    async fn forget(&self, delivery: &DeliveryRef) -> Result<(), QueueError> {
        self.get().forget(delivery).await
    }
}

#[async_trait]
impl<T: WebhookSender> WebhookSender for Lazy<T> {
    async fn post(&self, url: &str, headers: &[(&'static str, String)], body: &str) -> PostOutcome {
        self.get().post(url, headers, body).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::Lazy;

    #[test]
    fn nothing_is_built_before_the_first_use() {
        // GIVEN a lazy client whose builds are counted
        let builds = Arc::new(AtomicUsize::new(0));
        let counted = builds.clone();
        let _lazy = Lazy::new("counted", move || counted.fetch_add(1, Ordering::SeqCst));
        // THEN making it built nothing
        assert_eq!(builds.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn twenty_concurrent_first_uses_build_it_once() {
        // GIVEN a lazy client whose builds are counted and take a while
        let builds = Arc::new(AtomicUsize::new(0));
        let counted = builds.clone();
        let lazy = Lazy::new("counted", move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            counted.fetch_add(1, Ordering::SeqCst)
        });
        // WHEN 20 threads use it at once
        std::thread::scope(|s| {
            for _ in 0..20 {
                s.spawn(|| *lazy.get());
            }
        });
        // THEN it was built once, and every later use gets that one
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert_eq!(*lazy.get(), 0);
    }
}
