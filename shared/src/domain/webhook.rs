//! Webhooks: a warehouse's endpoints, the events they hear, and each message's deliveries.
//!
//! Messages are signed to the Standard Webhooks specification
//! (<https://www.standardwebhooks.com/>): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` (`v1,` + base64 of HMAC-SHA256 over `id.timestamp.body`), with secrets
//! written `whsec_` + base64.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::event::InviteEventKind;
use super::ids::{opaque_from, DeliveryId, EndpointId, InviteId, Timestamp, WarehouseId};
use super::sealed::{SealContext, SealedBlob};
use super::secrets::random_bytes;

/// What a webhook tells: the type names a receiver subscribes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WebhookEventType {
    /// An invite was made.
    #[serde(rename = "invite.created")]
    InviteCreated,
    /// The invite email went out.
    #[serde(rename = "invite.emailed")]
    InviteEmailed,
    /// The mail service refused the invite email.
    #[serde(rename = "invite.email_failed")]
    InviteEmailFailed,
    /// The invite email bounced for good.
    #[serde(rename = "invite.undeliverable")]
    InviteUndeliverable,
    /// The merchant opened the setup link.
    #[serde(rename = "invite.opened")]
    InviteOpened,
    /// The warehouse withdrew the invite.
    #[serde(rename = "invite.withdrawn")]
    InviteWithdrawn,
    /// The merchant granted access: the connection is stored.
    #[serde(rename = "connection.authorized")]
    ConnectionAuthorized,
    /// The cart refused the connection's grant; the merchant must authorize again.
    #[serde(rename = "connection.needs_reauth")]
    ConnectionNeedsReauth,
    /// The merchant authorized again through a reconnect invite; the connection is renewed.
    #[serde(rename = "connection.reconnected")]
    ConnectionReconnected,
    /// The connection was dropped.
    #[serde(rename = "connection.disconnected")]
    ConnectionDisconnected,
    /// The merchant removed the app at the cart; the connection's tokens are deleted here.
    #[serde(rename = "connection.revoked")]
    ConnectionRevoked,
    /// The cart's hard re-authorization deadline is within 30 days: the merchant was emailed a
    /// reconnect invite (proactive care); the connection works until the deadline.
    #[serde(rename = "connection.reauthorization_due")]
    ConnectionReauthorizationDue,
    /// A test message the warehouse asked for (`POST /v1/webhooks/test`).
    #[serde(rename = "webhook.test")]
    Test,
}

impl WebhookEventType {
    /// Every type.
    pub const ALL: [WebhookEventType; 13] = [
        WebhookEventType::InviteCreated,
        WebhookEventType::InviteEmailed,
        WebhookEventType::InviteEmailFailed,
        WebhookEventType::InviteUndeliverable,
        WebhookEventType::InviteOpened,
        WebhookEventType::InviteWithdrawn,
        WebhookEventType::ConnectionAuthorized,
        WebhookEventType::ConnectionNeedsReauth,
        WebhookEventType::ConnectionReconnected,
        WebhookEventType::ConnectionDisconnected,
        WebhookEventType::ConnectionRevoked,
        WebhookEventType::ConnectionReauthorizationDue,
        WebhookEventType::Test,
    ];

    /// The wire name (`invite.created`).
    pub fn as_str(self) -> &'static str {
        use WebhookEventType::*;
        match self {
            InviteCreated => "invite.created",
            InviteEmailed => "invite.emailed",
            InviteEmailFailed => "invite.email_failed",
            InviteUndeliverable => "invite.undeliverable",
            InviteOpened => "invite.opened",
            InviteWithdrawn => "invite.withdrawn",
            ConnectionAuthorized => "connection.authorized",
            ConnectionNeedsReauth => "connection.needs_reauth",
            ConnectionReconnected => "connection.reconnected",
            ConnectionDisconnected => "connection.disconnected",
            ConnectionRevoked => "connection.revoked",
            ConnectionReauthorizationDue => "connection.reauthorization_due",
            Test => "webhook.test",
        }
    }

    /// Reads a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        WebhookEventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the message's `data` is a connection (else an invite).
    pub fn is_about_connection(self) -> bool {
        self.as_str().starts_with("connection.")
    }

    /// The webhook an invite's history step makes, if any: `reconnect` says whether the invite
    /// renews an existing connection (its authorization is then `connection.reconnected`).
    pub fn of_step(kind: InviteEventKind, reconnect: bool) -> Option<Self> {
        use InviteEventKind as K;
        Some(match kind {
            K::Created => WebhookEventType::InviteCreated,
            K::Emailed => WebhookEventType::InviteEmailed,
            K::EmailFailed => WebhookEventType::InviteEmailFailed,
            K::Undeliverable => WebhookEventType::InviteUndeliverable,
            K::Opened => WebhookEventType::InviteOpened,
            K::Withdrawn => WebhookEventType::InviteWithdrawn,
            K::Authorized if reconnect => WebhookEventType::ConnectionReconnected,
            K::Authorized => WebhookEventType::ConnectionAuthorized,
            K::NeedsReauth => WebhookEventType::ConnectionNeedsReauth,
            K::Disconnected => WebhookEventType::ConnectionDisconnected,
            K::RevokedAtCart => WebhookEventType::ConnectionRevoked,
            K::ReauthorizationDue => WebhookEventType::ConnectionReauthorizationDue,
            K::Resent
            | K::GrantStarted
            | K::Declined
            | K::Failed
            | K::Confirmed
            | K::Expired
            | K::ReconnectRequested => return None,
        })
    }
}

/// The `webhook-id` of the message an invite's step makes: the same however often the step is
/// seen, so a receiver can drop a repeat.
pub fn message_id_of_step(invite: &InviteId, step_key: &str) -> String {
    let digest = Sha256::digest(format!("{invite}\n{step_key}").as_bytes());
    let mut bytes = [0u8; 26];
    bytes.copy_from_slice(&digest[..26]);
    format!("msg_{}", &opaque_from("m", &bytes)[2..])
}

impl DeliveryId {
    /// The delivery of message `message_id` to `endpoint`: the same id from the same pair.
    pub fn of(message_id: &str, endpoint: &EndpointId) -> DeliveryId {
        let digest = Sha256::digest(format!("{message_id}\n{endpoint}").as_bytes());
        let mut bytes = [0u8; 26];
        bytes.copy_from_slice(&digest[..26]);
        DeliveryId::parse(&opaque_from("dlv", &bytes)).expect("an opaque id is always valid")
    }
}

/// An endpoint's signing secret: 32 random bytes, written `whsec_` + base64.
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

/// The prefix of a written secret.
pub const SECRET_PREFIX: &str = "whsec_";

impl WebhookSecret {
    /// A new random secret.
    pub fn generate() -> Self {
        WebhookSecret(Zeroizing::new(random_bytes::<32>().to_vec()))
    }

    /// The secret from its key bytes (as opened from the vault).
    pub fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Self {
        WebhookSecret(bytes)
    }

    /// The key bytes (what is sealed).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// `whsec_` + base64: what the warehouse is shown once and gives its verifier.
    pub fn written(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{SECRET_PREFIX}{}", STANDARD.encode(&*self.0)))
    }

    /// The signature of one message: `v1,` + base64 of HMAC-SHA256 over `id.timestamp.body`.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{message_id}.{timestamp}.").as_bytes());
        mac.update(body.as_bytes());
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(redacted)")
    }
}

/// One sealed signing secret of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSecret {
    /// The secret, sealed under [`WebhookEndpoint::seal_context`].
    pub sealed: SealedBlob,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it stops signing (set when a newer secret replaces it), if it does.
    pub retires_at: Option<Timestamp>,
}

/// Why an endpoint no longer gets messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disabled {
    /// When.
    pub at: Timestamp,
    /// A stable code: `gone` (the endpoint answered 410 Gone).
    pub reason: String,
}

/// A warehouse's webhook endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: EndpointId,
    /// Whose.
    pub warehouse: WarehouseId,
    /// Where messages are posted.
    pub url: String,
    /// The types it hears; empty hears every type.
    pub events: Vec<WebhookEventType>,
    /// Its signing secrets, oldest first: every one not yet retired signs each message.
    pub secrets: Vec<EndpointSecret>,
    /// Set when it stopped getting messages.
    pub disabled: Option<Disabled>,
    /// When it was made.
    pub created_at: Timestamp,
    /// Counts its changes: every change is conditional on the revision it read.
    pub revision: u64,
}

/// How many signing secrets an endpoint keeps: the current one and the one it replaced.
pub const SECRETS_KEPT: usize = 2;

impl WebhookEndpoint {
    /// The context its secrets are sealed under (bound to the warehouse and the endpoint).
    pub fn seal_context(warehouse: &WarehouseId, id: &EndpointId) -> SealContext {
        SealContext::new([
            ("kind", "webhook-secret"),
            ("warehouse", warehouse.as_str()),
            ("endpoint", id.as_str()),
        ])
    }

    /// Whether it gets messages of type `t` (a test message goes to every enabled endpoint).
    pub fn hears(&self, t: WebhookEventType) -> bool {
        self.disabled.is_none()
            && (t == WebhookEventType::Test || self.events.is_empty() || self.events.contains(&t))
    }

    /// The secrets that sign a message sent at `now`.
    pub fn signing_secrets(&self, now: Timestamp) -> impl Iterator<Item = &EndpointSecret> {
        self.secrets
            .iter()
            .filter(move |s| s.retires_at.is_none_or(|r| r > now))
    }

    /// Adds `secret` as the current one: the one before keeps signing until `retire_at`, and
    /// only [`SECRETS_KEPT`] are kept.
    pub fn rotate(&mut self, secret: EndpointSecret, retire_at: Timestamp) {
        for old in self.secrets.iter_mut().filter(|s| s.retires_at.is_none()) {
            old.retires_at = Some(retire_at);
        }
        self.secrets.push(secret);
        let extra = self.secrets.len().saturating_sub(SECRETS_KEPT);
        self.secrets.drain(..extra);
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Tries are still owed.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every try of the schedule failed (or the endpoint is gone): a retry must be asked for.
    Failed,
}

impl DeliveryStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One try of a delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryTry {
    /// When it started.
    pub at: Timestamp,
    /// The endpoint's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// How long it took, in milliseconds.
    pub latency_ms: u64,
    /// A stable code when it got no answer (`timeout`, `connect`, `refused_address`, …).
    pub error: Option<String>,
}

impl DeliveryTry {
    /// Whether the endpoint took the message (2xx).
    pub fn delivered(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// One message to one endpoint, with every try so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Its id.
    pub id: DeliveryId,
    /// Whose.
    pub warehouse: WarehouseId,
    /// To which endpoint.
    pub endpoint: EndpointId,
    /// The `webhook-id`, the same on every try (and for every endpoint of one event).
    pub message_id: String,
    /// What it tells.
    pub event_type: WebhookEventType,
    /// The exact body posted on every try (`{type, id, timestamp, data}`).
    pub payload: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Every try, oldest first.
    pub tries: Vec<DeliveryTry>,
    /// When the next try is due (while pending).
    pub next_try_at: Timestamp,
    /// When it was made.
    pub created_at: Timestamp,
}

/// How long to wait after each failed try: after the last wait's try, the delivery fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<u64>);

impl Default for RetrySchedule {
    /// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight tries over 27 h 35 min.
    fn default() -> Self {
        RetrySchedule(vec![5, 300, 1800, 7200, 18_000, 36_000, 36_000])
    }
}

impl RetrySchedule {
    /// Reads `5,300,1800` (seconds); at least one wait.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let waits = raw
            .split(',')
            .map(|w| w.trim().parse::<u64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "must be a comma-separated list of seconds, such as 5,300,1800")?;
        if waits.is_empty() || waits.iter().any(|w| *w > 86_400) {
            return Err("must list at least one wait, each at most 86400 seconds".into());
        }
        Ok(RetrySchedule(waits))
    }

    /// How many tries a delivery gets in all.
    pub fn tries(&self) -> usize {
        self.0.len() + 1
    }

    /// The wait after try number `done` (1-based) failed, with up to 10 % jitter drawn from
    /// `jitter` (0..=1000 per mille); `None` when that was the last try.
    pub fn wait_after(&self, done: usize, jitter: u16) -> Option<u64> {
        let base = *self.0.get(done.checked_sub(1)?)?;
        Some(base + base * u64::from(jitter.min(1000)) / 10_000)
    }
}

#[cfg(test)]
mod tests;
