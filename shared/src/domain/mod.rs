//! The domain: invites, grant attempts, connections, warehouses and the secrets they carry.
//! Nothing here knows about AWS, SQLite or HTTP.

pub mod access_code;
pub mod api_key;
pub mod attempt;
pub mod brand;
pub mod care;
pub mod cart_app;
pub mod cart_subscription;
pub mod connection;
pub mod disconnection;
pub mod event;
pub mod ids;
pub mod invite;
pub mod locale;
pub mod refusal;
pub mod sealed;
pub mod secrets;
pub mod tenant;
pub mod warehouse;
pub mod webhook;

pub use access_code::AccessCode;
pub use api_key::{KeyShape, MintedKey, API_KEY_PREFIX};
pub use attempt::{
    claim_deadline, AttemptStatus, GrantAttempt, ADMIN_INTEGRATION_ATTEMPT_TTL_SECS,
    ATTEMPT_TTL_SECS, CLAIM_MARGIN_SECS,
};
pub use brand::Brand;
pub use care::{CareLimits, REAUTH_NOTICE_SECS, REFRESH_LEAD_SECS};
pub use cart_app::{AppIdentity, CartApp, OwnApp};
pub use cart_subscription::CartSubscription;
pub use connection::{Connection, ConnectionStatus, Shop, TokenSet};
pub use disconnection::{DisconnectedBy, Disconnection, Revocation};
pub use event::{InviteEvent, InviteEventKind};
pub use ids::{CartId, ConnectionId, DeliveryId, EndpointId, InviteId, Timestamp, WarehouseId};
pub use invite::{Function, Invite, InviteStatus, Standing, WarehouseRef};
pub use locale::Locale;
pub use refusal::Refusal;
pub use sealed::{SealContext, SealedBlob};
pub use secrets::{
    BrowserBinding, GrantState, InviteToken, ManageToken, PkceVerifier, Secret, TokenHash,
};
pub use tenant::{Accent, AccentError, ApiKeyRecord, Branding, Tenant};
pub use warehouse::{Warehouse, WarehouseDirectory};
pub use webhook::{
    DeliveryStatus, DeliveryTry, EndpointSecret, RetrySchedule, WebhookDelivery, WebhookEndpoint,
    WebhookEventType, WebhookSecret,
};
