//! Fakes of the ports for unit tests: a recording mailer, a scripted token endpoint, vaults
//! that can be switched off or that count, and an events sink that counts.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use url::Url;

use crate::domain::{Secret, Timestamp, TokenSet};
use crate::events::AuthorizedEvents;
use crate::mailer::{MailError, Mailer, OutgoingEmail};
use crate::oauth::{
    CodeExchange, OAuth1Call, OAuth1Token, OAuthError, RefreshCall, RevokeCall, TokenEndpoint,
};
use crate::vault::{DataKey, SealContext, SealedBlob, Vault, VaultError};

/// A mailer that keeps what it is given, and can be told to fail.
#[derive(Default)]
pub struct RecordingMailer {
    /// Every message accepted.
    pub sent: Mutex<Vec<OutgoingEmail>>,
    /// When set, every send fails with this rejection.
    pub reject: Mutex<Option<String>>,
    /// When set, every send fails as if the mail service could not be reached.
    pub unavailable: Mutex<Option<String>>,
}

impl RecordingMailer {
    /// The messages accepted so far.
    pub fn messages(&self) -> Vec<OutgoingEmail> {
        self.sent.lock().expect("lock").clone()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        if let Some(reason) = self.reject.lock().expect("lock").clone() {
            return Err(MailError::Rejected(reason));
        }
        if let Some(reason) = self.unavailable.lock().expect("lock").clone() {
            return Err(MailError::Unavailable(reason));
        }
        let mut sent = self.sent.lock().expect("lock");
        sent.push(email.clone());
        Ok(format!("msg-{}", sent.len()))
    }
}

/// What a [`FakeTokenEndpoint`] was asked.
#[derive(Clone, Debug)]
pub struct SeenExchange {
    /// The code.
    pub code: String,
    /// The redirect URI.
    pub redirect_uri: String,
    /// The PKCE verifier.
    pub verifier: Option<String>,
    /// The client id the exchange was sent with.
    pub client_id: String,
    /// The client secret the exchange was sent with.
    pub client_secret: Option<String>,
}

/// A token endpoint that counts calls and answers as scripted.
#[derive(Default)]
pub struct FakeTokenEndpoint {
    /// Calls so far.
    pub calls: AtomicUsize,
    /// What it was asked.
    pub seen: Mutex<Vec<SeenExchange>>,
    /// When set, it refuses with this OAuth error.
    pub refuse: Mutex<Option<String>>,
    /// The OAuth 1.0a calls it was asked to make: URL, consumer key, request token (if any)
    /// and verifier (if any).
    pub oauth1_seen: Mutex<Vec<SeenOAuth1>>,
    /// Refreshes asked for so far.
    pub refreshes: AtomicUsize,
    /// The one refresh token it accepts (`None`: the first it hands out, `CANARY_RT`). It
    /// rotates on every use, and answers `invalid_grant` to any other token, as a strict cart
    /// with reuse detection does.
    pub live_refresh_token: Mutex<Option<String>>,
    /// When set, each refresh waits this long before answering (to widen races in tests).
    pub refresh_delay: Mutex<Option<std::time::Duration>>,
    /// When set, refreshes fail as if the cart could not be reached.
    pub refresh_unreachable: std::sync::atomic::AtomicBool,
    /// When set, each code exchange, key check and OAuth 1.0a call waits this long before
    /// answering (a slow cart, so concurrent requests overlap).
    pub exchange_delay: Mutex<Option<std::time::Duration>>,
    /// When set, refreshed access tokens live this many seconds from the call's `now`
    /// (otherwise they expire at 4_000_000_000).
    pub refreshed_ttl: Mutex<Option<i64>>,
    /// The revocations asked for: URL, token and hint.
    pub revoked: Mutex<Vec<(String, String, &'static str)>>,
    /// When set, revocations are refused with this OAuth error.
    pub refuse_revocation: Mutex<Option<String>>,
    /// When set, code exchanges name this account (as Square's `merchant_id` does).
    pub exchange_account: Mutex<Option<String>>,
    /// What `GET`s and `POST`s with a bearer token answer, by URL (any other URL is refused as a 404).
    pub json_answers: Mutex<std::collections::HashMap<String, serde_json::Value>>,
}

/// One OAuth 1.0a call a [`FakeTokenEndpoint`] was asked to make.
#[derive(Clone, Debug)]
pub struct SeenOAuth1 {
    /// The endpoint.
    pub url: String,
    /// The consumer key.
    pub consumer_key: String,
    /// The request token sent, if any.
    pub token: Option<String>,
    /// The verifier sent, if any.
    pub verifier: Option<String>,
}

/// The request token a [`FakeTokenEndpoint`] hands out.
pub const FAKE_REQUEST_TOKEN: &str = "fakerequesttoken";
/// The access token a [`FakeTokenEndpoint`] hands out for OAuth 1.0a.
pub const FAKE_OAUTH1_ACCESS_TOKEN: &str = "CANARY_OAUTH1_AT";
/// That access token's secret.
pub const FAKE_OAUTH1_TOKEN_SECRET: &str = "CANARY_OAUTH1_TS";

impl FakeTokenEndpoint {
    /// How many exchanges were attempted.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn slow_cart(&self) {
        // A real cart answers later: let concurrent callers run meanwhile.
        tokio::task::yield_now().await;
        let delay = *self.exchange_delay.lock().expect("lock");
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
    }
}

#[async_trait]
impl TokenEndpoint for FakeTokenEndpoint {
    async fn exchange_code(&self, x: CodeExchange<'_>) -> Result<TokenSet, OAuthError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let code = x.code.map(|c| c.expose().to_owned()).unwrap_or_default();
        self.seen.lock().expect("lock").push(SeenExchange {
            code: code.clone(),
            redirect_uri: x.redirect_uri.to_owned(),
            verifier: x.verifier.map(|v| v.expose().to_owned()),
            client_id: x.credentials.client_id.clone(),
            client_secret: x
                .credentials
                .client_secret
                .as_ref()
                .map(|s| s.expose().to_owned()),
        });
        self.slow_cart().await;
        if let Some(e) = self.refuse.lock().expect("lock").clone() {
            return Err(OAuthError::Refused(e));
        }
        Ok(TokenSet {
            access_token: Secret::new(format!("CANARY_AT_{code}")),
            refresh_token: Some(Secret::new("CANARY_RT")),
            expires_at: Some(Timestamp(2_000_000_000)),
            issued_at: Some(x.now),
            scope: None,
            account: self.exchange_account.lock().expect("lock").clone(),
            key_secret: None,
            consumer_key: None,
            consumer_secret: None,
        })
    }

    async fn verify_keys(
        &self,
        _url: &Url,
        _check: crate::carts::CredentialCheck,
        _key: &Secret,
        _secret: &Secret,
    ) -> Result<(), OAuthError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.slow_cart().await;
        match self.refuse.lock().expect("lock").clone() {
            Some(e) => Err(OAuthError::Refused(e)),
            None => Ok(()),
        }
    }

    async fn refresh(&self, r: RefreshCall<'_>) -> Result<TokenSet, OAuthError> {
        let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
        let delay = *self.refresh_delay.lock().expect("lock");
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        if self.refresh_unreachable.load(Ordering::SeqCst) {
            return Err(OAuthError::Unreachable("connection refused".into()));
        }
        let revoked = self
            .revoked
            .lock()
            .expect("lock")
            .iter()
            .any(|(_, token, _)| Some(token.as_str()) == r.refresh_token.map(Secret::expose));
        let mut live = self.live_refresh_token.lock().expect("lock");
        let expected = live.clone().unwrap_or_else(|| "CANARY_RT".into());
        // A revoked refresh token is refused, as RFC 7009 says.
        if revoked || r.refresh_token.map(Secret::expose) != Some(expected.as_str()) {
            return Err(OAuthError::Refused("invalid_grant".into()));
        }
        let next = format!("CANARY_RT_{n}");
        *live = Some(next.clone());
        let ttl = *self.refreshed_ttl.lock().expect("lock");
        Ok(TokenSet {
            access_token: Secret::new(format!("CANARY_AT_R{n}")),
            refresh_token: Some(Secret::new(next)),
            expires_at: Some(ttl.map_or(Timestamp(4_000_000_000), |t| r.now.plus_secs(t))),
            issued_at: Some(r.now),
            scope: None,
            account: None,
            key_secret: None,
            consumer_key: None,
            consumer_secret: None,
        })
    }

    async fn revoke(&self, call: RevokeCall<'_>) -> Result<(), OAuthError> {
        self.revoked.lock().expect("lock").push((
            call.url.to_string(),
            call.token.expose().to_owned(),
            call.token_type_hint,
        ));
        // A real cart answers later: let a concurrent disconnect run meanwhile.
        tokio::task::yield_now().await;
        match self.refuse_revocation.lock().expect("lock").clone() {
            Some(e) => Err(OAuthError::Refused(e)),
            None => Ok(()),
        }
    }

    async fn oauth1_token(&self, call: OAuth1Call<'_>) -> Result<OAuth1Token, OAuthError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.oauth1_seen.lock().expect("lock").push(SeenOAuth1 {
            url: call.url.to_string(),
            consumer_key: call.consumer_key.expose().to_owned(),
            token: call.token.map(|(t, _)| t.expose().to_owned()),
            verifier: call.verifier.map(|v| v.expose().to_owned()),
        });
        self.slow_cart().await;
        if let Some(e) = self.refuse.lock().expect("lock").clone() {
            return Err(OAuthError::Refused(e));
        }
        Ok(match call.token {
            None => OAuth1Token {
                token: Secret::new(FAKE_REQUEST_TOKEN),
                secret: Secret::new("fakerequestsecret"),
            },
            Some(_) => OAuth1Token {
                token: Secret::new(FAKE_OAUTH1_ACCESS_TOKEN),
                secret: Secret::new(FAKE_OAUTH1_TOKEN_SECRET),
            },
        })
    }

    async fn app_token(
        &self,
        _credentials: &crate::carts::ClientCredentials,
        _token_url: &Url,
        _scope: &str,
    ) -> Result<Secret, OAuthError> {
        Ok(Secret::new("CANARY_APP_TOKEN"))
    }

    async fn get_json(
        &self,
        url: &Url,
        _token: &Secret,
        _token_header: Option<&str>,
    ) -> Result<serde_json::Value, OAuthError> {
        let answers = self.json_answers.lock().expect("lock");
        answers
            .get(url.as_str())
            .cloned()
            .ok_or_else(|| OAuthError::Refused("http_404".into()))
    }

    async fn post_json(
        &self,
        url: &Url,
        _bearer: &Secret,
        _body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, OAuthError> {
        let answers = self.json_answers.lock().expect("lock");
        answers
            .get(url.as_str())
            .cloned()
            .ok_or_else(|| OAuthError::Refused("http_404".into()))
    }
}

/// A vault over another whose key service can be switched off, call by call: a switched-off
/// call fails as KMS does when the key is disabled or access is denied
/// ([`VaultError::Unavailable`]).
pub struct SwitchedVault {
    inner: Arc<dyn Vault>,
    /// When set, opening fails.
    pub open_off: AtomicBool,
    /// When set, making data keys (sealing) fails.
    pub seal_off: AtomicBool,
}

impl SwitchedVault {
    /// Over `inner`, both switches on.
    pub fn over(inner: Arc<dyn Vault>) -> Arc<Self> {
        Arc::new(SwitchedVault {
            inner,
            open_off: AtomicBool::new(false),
            seal_off: AtomicBool::new(false),
        })
    }
}

#[async_trait]
impl Vault for SwitchedVault {
    async fn data_key(&self, context: &SealContext) -> Result<DataKey, VaultError> {
        if self.seal_off.load(Ordering::SeqCst) {
            return Err(VaultError::Unavailable("DisabledException".into()));
        }
        self.inner.data_key(context).await
    }

    async fn open(
        &self,
        context: &SealContext,
        blob: &SealedBlob,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, VaultError> {
        if self.open_off.load(Ordering::SeqCst) {
            return Err(VaultError::Unavailable("AccessDeniedException".into()));
        }
        self.inner.open(context, blob).await
    }
}

/// Counts "invite authorized" events.
#[derive(Default)]
pub struct CountingEvents(pub Mutex<Vec<crate::domain::InviteId>>);

#[async_trait]
impl AuthorizedEvents for CountingEvents {
    async fn invite_authorized(&self, invite: &crate::domain::InviteId) {
        self.0.lock().expect("lock").push(invite.clone());
    }
}

/// A vault over another that counts how often sealed tokens are opened (decrypted), so a test
/// can hold a flow to the key-service calls it should make.
pub struct CountingVault {
    inner: Arc<dyn Vault>,
    /// Opens so far.
    pub opens: AtomicUsize,
}

impl CountingVault {
    /// Over `inner`, none counted yet.
    pub fn over(inner: Arc<dyn Vault>) -> Arc<Self> {
        Arc::new(CountingVault {
            inner,
            opens: AtomicUsize::new(0),
        })
    }

    /// How many times sealed tokens were opened.
    pub fn opened(&self) -> usize {
        self.opens.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Vault for CountingVault {
    async fn data_key(&self, context: &SealContext) -> Result<DataKey, VaultError> {
        self.inner.data_key(context).await
    }

    async fn open(
        &self,
        context: &SealContext,
        blob: &SealedBlob,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, VaultError> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        self.inner.open(context, blob).await
    }
}

/// One post a [`ScriptedSender`] saw: URL, headers, body.
pub type SeenPost = (String, Vec<(&'static str, String)>, String);

/// A webhook sender that records each post and answers from a script (then `200`).
#[derive(Default)]
pub struct ScriptedSender {
    /// The posts.
    pub posts: Mutex<Vec<SeenPost>>,
    /// What the next posts answer, in order; `200` once it is empty.
    pub script: Mutex<std::collections::VecDeque<crate::webhooks::PostOutcome>>,
}

impl ScriptedSender {
    /// Queues answers for the next posts.
    pub fn answer(&self, outcomes: impl IntoIterator<Item = crate::webhooks::PostOutcome>) {
        self.script.lock().unwrap().extend(outcomes);
    }

    /// How many posts were made.
    pub fn count(&self) -> usize {
        self.posts.lock().unwrap().len()
    }
}

#[async_trait]
impl crate::webhooks::WebhookSender for ScriptedSender {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &str,
    ) -> crate::webhooks::PostOutcome {
        self.posts
            .lock()
            .unwrap()
            .push((url.to_owned(), headers.to_vec(), body.to_owned()));
        // A post takes time: let other tasks run meanwhile, as a real one would.
        tokio::task::yield_now().await;
        self.script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(crate::webhooks::PostOutcome::Answered(200))
    }
}
